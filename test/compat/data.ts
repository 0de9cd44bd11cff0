/**
 * The patients the compat apps are seeded with (generated, so every run checks other values),
 * what each role must receive of them (written from the policy's intent, not by running
 * phiguard), and tokens for the apps' own JWT authentication.
 */
import fc from 'fast-check';
import { SignJWT } from 'jose';

export interface Row {
  id: string;
  mrn: string;
  ssn: string;
  given: string;
  family: string;
  birthDate: string;
  gender: 'female' | 'male' | 'other' | 'unknown';
  postalCode: string;
  city: string;
  phone: string;
}

export interface Seeded {
  readonly rows: readonly Row[];
  /** Values that identify a patient and must never appear where the caller may not see them. */
  readonly ssns: readonly string[];
}

const letters = (min: number, max: number) =>
  fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz'), minLength: min, maxLength: max }).map((s) => s[0]!.toUpperCase() + s.slice(1));
const digits = (n: number) => fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: n, maxLength: n });

/** `count` patients with distinct ids, MRNs and SSNs (SSN area 100–665: the shape issued numbers have). */
export function seedPatients(count: number, seed: number): Seeded {
  const row = fc.record({
    mrn: digits(8).map((d) => `MRN${d}`),
    ssnArea: fc.integer({ min: 100, max: 665 }),
    ssnGroup: fc.integer({ min: 10, max: 99 }),
    ssnSerial: fc.integer({ min: 1000, max: 9999 }),
    given: letters(3, 9),
    family: letters(3, 12),
    birthDate: fc.date({ min: new Date('1925-01-01'), max: new Date('2015-12-31'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10)),
    gender: fc.constantFrom('female', 'male', 'other', 'unknown') as fc.Arbitrary<Row['gender']>,
    postalCode: digits(5),
    city: letters(4, 10),
    phone: digits(4).map((d) => `617-555-${d}`),
  });
  const generated = fc.sample(row, { numRuns: count * 3, seed });
  const rows: Row[] = [];
  const seen = new Set<string>();
  for (const g of generated) {
    const ssn = `${g.ssnArea}-${g.ssnGroup}-${g.ssnSerial}`;
    if (seen.has(ssn) || seen.has(g.mrn)) continue;
    seen.add(ssn).add(g.mrn);
    const { ssnArea: _a, ssnGroup: _g, ssnSerial: _s, ...rest } = g;
    rows.push({ id: `p${String(rows.length + 1).padStart(4, '0')}`, ssn, ...rest });
    if (rows.length === count) break;
  }
  return { rows, ssns: rows.map((r) => r.ssn) };
}

export type Role = 'clinician' | 'billing' | 'researcher';
export const PURPOSE: Record<Role, string> = { clinician: 'TREAT', billing: 'HPAYMT', researcher: 'HRESCH' };

export async function tokenFor(secret: string, role: Role | 'unknown-role', sub = `${role}-user`): Promise<string> {
  return new SignJWT({ roles: [role] })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(Buffer.from(secret, 'utf8'));
}

const MRN_SYSTEM = 'urn:oid:2.16.840.1.113883.19.5';
const initial = (s: string) => `${s[0]!.toUpperCase()}.`;
/** Safe Harbor: prefixes of 20,000 people or fewer (2020 Census ZCTAs summed by ZIP3) are reported as 000. */
const SPARSE_ZIP3 = '036 059 102 202 203 204 205 369 556 692 753 772 821 823 878 879 884 893'.split(' ');
/** Safe Harbor: a birth year 90 or more years back implies an age over 89, so it is withheld. */
const birthYear = (date: string): { birthDate?: string } => (new Date().getUTCFullYear() - Number(date.slice(0, 4)) >= 90 ? {} : { birthDate: date.slice(0, 4) });
const zip3 = (zip: string) => (SPARSE_ZIP3.includes(zip.slice(0, 3)) ? '000' : zip.slice(0, 3));

/** The FHIR Patient the apps build from a row (what the handler returns, before phiguard). */
export function fhirPatient(r: Row) {
  return {
    resourceType: 'Patient',
    id: r.id,
    identifier: [{ system: MRN_SYSTEM, value: r.mrn }],
    name: [{ use: 'official', family: r.family, given: [r.given] }],
    telecom: [{ system: 'phone', value: r.phone }],
    gender: r.gender,
    birthDate: r.birthDate,
    address: [{ city: r.city, postalCode: r.postalCode }],
  };
}

/** What each role receives of a FHIR Patient (tokens are checked by shape). */
export function expectedPatient(role: Role, r: Row): Record<string, unknown> {
  switch (role) {
    case 'clinician':
      return fhirPatient(r);
    case 'billing':
      return {
        resourceType: 'Patient',
        id: r.id,
        identifier: [{ system: MRN_SYSTEM, value: `****${r.mrn.slice(-4)}` }],
        name: [{ use: 'official', family: initial(r.family), given: [initial(r.given)] }],
      };
    case 'researcher':
      return {
        resourceType: 'Patient',
        id: expectTokenLike,
        identifier: [{ system: MRN_SYSTEM }],
        gender: r.gender,
        ...birthYear(r.birthDate),
        address: [{ postalCode: zip3(r.postalCode) }],
      };
  }
}

/** What each role receives of a row of the paginated list. */
export function expectedItem(role: Role, r: Row): Record<string, unknown> {
  const { ssn: _ssn, ...withoutSsn } = r;
  switch (role) {
    case 'clinician':
      return withoutSsn;
    case 'billing':
      return { id: r.id, mrn: `****${r.mrn.slice(-4)}`, given: initial(r.given), family: initial(r.family) };
    case 'researcher':
      return { id: expectTokenLike, gender: r.gender, ...birthYear(r.birthDate), postalCode: zip3(r.postalCode) };
  }
}

/** Placeholder in expectations, replaced by a token matcher in the checks. */
export const expectTokenLike = Symbol('token');
