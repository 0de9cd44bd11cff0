import type { PatientRecord } from './data.js';

/** One CSV row of a patient's results (`GET /patients/:id/results.csv`), the shape `ResultsExport` declares. */
export interface ResultRow {
  readonly patientId: string;
  /** LOINC code: the policy's sensitive categories read it (HIV and genetic rows). */
  readonly test: string;
  readonly name: string;
  readonly value: string;
  readonly unit: string;
  readonly date: string;
}

/** The CSV columns (the patient id is in the rows for the policy's subject, not in the file). */
export const RESULT_COLUMNS: readonly string[] = ['test', 'name', 'value', 'unit', 'date'];

/** The rows of one patient's results, before the policy filters them for the caller. */
export function resultRows(record: PatientRecord): ResultRow[] {
  return [...record.observations.values()].map((o) => ({
    patientId: record.patient.id,
    test: o.code.coding[0]!.code,
    name: o.code.text ?? o.code.coding[0]!.display ?? '',
    value: o.valueQuantity ? String(o.valueQuantity.value) : (o.valueCodeableConcept?.text ?? ''),
    unit: o.valueQuantity?.unit ?? '',
    date: o.effectiveDateTime.slice(0, 10),
  }));
}
