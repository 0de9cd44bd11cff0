/** Fixture facts both example suites assert with: full views, identifying values, deep lookups. */
import { expect } from 'vitest';
import { PATIENTS, type PatientRecord } from '../../examples/express-lab-results/src/data.js';
import { labResultsView, type LabResultsView } from '../../examples/express-lab-results/src/view.js';

/** The full view of a patient as the handler builds it (JSON round trip: what a client parses). */
export const fullView = (id: string): LabResultsView => JSON.parse(JSON.stringify(labResultsView(PATIENTS.get(id)!))) as LabResultsView;

/** Every identifying string of the fixture: names, MRNs, SSNs, phones, e-mails, birth dates, street and city. */
function identifiersOf(r: PatientRecord): string[] {
  const p = r.patient;
  const [y, m, d] = p.birthDate.split('-');
  const name = p.name[0]!;
  return [
    ...name.given,
    name.family,
    ...p.identifier.map((i) => i.value),
    ...p.identifier.filter((i) => i.system.endsWith('us-ssn')).map((i) => i.value.replace(/-/g, '')),
    ...p.telecom.map((t) => t.value),
    p.birthDate,
    `${m}/${d}/${y}`,
    ...p.address[0]!.line,
    p.address[0]!.city,
  ];
}
export const ALL_IDENTIFIERS = [...PATIENTS.values()].flatMap(identifiersOf);

export function expectNoIdentifiers(text: string, identifiers: readonly string[] = ALL_IDENTIFIERS): void {
  for (const value of identifiers) expect(text, `must not contain "${value}"`).not.toContain(value);
}

/** Every value at a key named `key`, anywhere in `value`. */
export function valuesAt(value: unknown, key: string): unknown[] {
  if (value === null || typeof value !== 'object') return [];
  if (Array.isArray(value)) return value.flatMap((v) => valuesAt(v, key));
  return Object.entries(value).flatMap(([k, v]) => (k === key ? [v, ...valuesAt(v, key)] : valuesAt(v, key)));
}
