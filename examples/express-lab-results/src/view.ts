import type {
  CodeableConcept,
  ContactPoint,
  HumanName,
  Meta,
  PatientRecord,
  Quantity,
  Reference,
  ReferenceRange,
} from './data.js';

/**
 * The document `GET /patients/:id/results` returns: one JSON view assembled from FHIR pieces
 * (HumanName, Address, ContactPoint, CodeableConcept, Quantity...) and laid out so that every
 * field has one path a policy can name (`patient.address.postalCode`,
 * `reports[].observations[].valueQuantity`). The handler always builds the full view; what a
 * caller receives is decided by the policy, not by the handler.
 */
export interface LabResultsView {
  resourceType: 'LabResultsView';
  /** Opaque id of this view, recorded in audit as resource.id. Not the patient id. */
  id: string;
  patient: {
    id: string;
    mrn: string;
    ssn: string;
    name: HumanName;
    birthDate: string;
    gender: string;
    /** Age in whole years on the day of the request. */
    age: number;
    address: { line: string[]; city: string; state: string; postalCode: string };
    telecom: ContactPoint[];
  };
  reports: ReportView[];
}

export interface ReportView {
  id: string;
  meta?: Meta;
  status: string;
  code: CodeableConcept;
  effectiveDateTime: string;
  issued: string;
  performer: Reference[];
  specimen: Reference[];
  conclusion?: string;
  observations: ObservationView[];
}

export interface ObservationView {
  id: string;
  meta?: Meta;
  status: string;
  category: CodeableConcept[];
  code: CodeableConcept;
  effectiveDateTime: string;
  valueQuantity?: Quantity;
  valueCodeableConcept?: CodeableConcept;
  referenceRange?: ReferenceRange[];
  interpretation: CodeableConcept[];
  note?: { text: string }[];
}

/** Whole years between a FHIR date (YYYY-MM-DD) and `on`. */
export function ageOn(birthDate: string, on: Date): number {
  const [y, m, d] = birthDate.split('-').map(Number) as [number, number, number];
  let age = on.getUTCFullYear() - y;
  const month = on.getUTCMonth() + 1;
  if (month < m || (month === m && on.getUTCDate() < d)) age--;
  return age;
}

const identifier = (record: PatientRecord, system: string): string =>
  record.patient.identifier.find((i) => i.system.endsWith(system))?.value ?? '';

/** Assembles the lab-results view of one patient, as of `asOf` (for the age). */
export function labResultsView(record: PatientRecord, asOf: Date = new Date()): LabResultsView {
  const { patient } = record;
  const [name] = patient.name;
  const [address] = patient.address;
  return {
    resourceType: 'LabResultsView',
    id: record.viewId,
    patient: {
      id: patient.id,
      mrn: identifier(record, '/mrn'),
      ssn: identifier(record, '/us-ssn'),
      name: name!,
      birthDate: patient.birthDate,
      gender: patient.gender,
      age: ageOn(patient.birthDate, asOf),
      address: { line: address!.line, city: address!.city, state: address!.state, postalCode: address!.postalCode },
      telecom: patient.telecom,
    },
    reports: record.reports.map((r) => ({
      id: r.id,
      ...(r.meta ? { meta: r.meta } : {}),
      status: r.status,
      code: r.code,
      effectiveDateTime: r.effectiveDateTime,
      issued: r.issued,
      performer: r.performer,
      specimen: r.specimen,
      ...(r.conclusion ? { conclusion: r.conclusion } : {}),
      observations: r.result.map(({ reference }) => {
        const o = record.observations.get(reference!.slice('Observation/'.length))!;
        return {
          id: o.id,
          ...(o.meta ? { meta: o.meta } : {}),
          status: o.status,
          category: o.category,
          code: o.code,
          effectiveDateTime: o.effectiveDateTime,
          ...(o.valueQuantity ? { valueQuantity: o.valueQuantity } : {}),
          ...(o.valueCodeableConcept ? { valueCodeableConcept: o.valueCodeableConcept } : {}),
          ...(o.referenceRange ? { referenceRange: o.referenceRange } : {}),
          interpretation: o.interpretation,
          ...(o.note ? { note: o.note } : {}),
        };
      }),
    })),
  };
}
