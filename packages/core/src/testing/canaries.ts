/**
 * Canary PHI: synthetic patients whose identifiers look real to software but are reserved for
 * testing, so that finding one anywhere it should not be proves a leak.
 */

/** One identifying value of a canary patient, by field name (`ssn`, `mrn`, `email`…). */
export interface Canary {
  readonly field: string;
  readonly value: string;
}

/** A canary patient as FHIR-shaped JSON, with its free-text note and its identifying values. */
export interface CanaryPatient {
  readonly id: string;
  readonly resource: {
    readonly resourceType: 'Patient';
    readonly id: string;
    readonly identifier: readonly { readonly system: string; readonly value: string }[];
    readonly name: readonly { readonly family: string; readonly given: readonly string[] }[];
    readonly telecom: readonly { readonly system: 'phone' | 'email'; readonly value: string }[];
    readonly birthDate: string;
    readonly address: readonly { readonly line: readonly string[]; readonly city: string; readonly state: string; readonly postalCode: string }[];
  };
  readonly observation: {
    readonly resourceType: 'Observation';
    readonly id: string;
    readonly subject: { readonly reference: string };
    readonly code: { readonly coding: readonly { readonly system: string; readonly code: string }[] };
    readonly valueQuantity: { readonly value: number; readonly unit: string };
    readonly note: readonly { readonly text: string }[];
  };
  /** A clinician's note quoting the identifiers, as free text does. */
  readonly text: string;
  /** Every identifying value, for leak searches. */
  readonly canaries: readonly Canary[];
  readonly ssn: string;
  readonly mrn: string;
  readonly npi: string;
  readonly phone: string;
  readonly email: string;
  readonly card: string;
}

/** The MRN prefix that marks a canary. */
export const CANARY_MRN_PREFIX = 'CNRY';

const GIVEN = ['Zebulon', 'Quilla', 'Ferdinanda', 'Oswin', 'Marisol', 'Thaddeus', 'Perpetua', 'Anselm', 'Ysolde', 'Cassius'];
const FAMILY = ['Quartermaine', 'Thistlewood', 'Brackenbury', 'Nightingale-Voss', 'Oakenshield', 'Fairweather', 'Underhill', 'Ashdown'];
const STREETS = ['Canary Lane', 'Kestrel Court', 'Linnet Road', 'Siskin Avenue'];

/**
 * A seeded random number generator (mulberry32: small, fast, deterministic) giving numbers in
 * [0, 1): a seed reproduces the same canaries, or the same generated test case.
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Luhn check digit of `digits`, for test identifiers that must pass the scanner's validation. */
export function luhnCheckDigit(digits: string): string {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return String((10 - (sum % 10)) % 10);
}

/**
 * Deterministic canary patients. Their SSNs use area numbers 900–999, which the Social Security
 * Administration never issues (the scanner flags them only with {@link canaryDetectors}); phone
 * numbers are in the fictional 555-01xx block; e-mail addresses are at example.org; card numbers
 * are Luhn-valid on the 4000 00 test range; NPIs are Luhn-valid with the 80840 prefix and start
 * `1999`; MRNs start with `CNRY`.
 */
export function createCanaries(options: { readonly seed?: number; readonly count?: number } = {}): CanaryPatient[] {
  const next = seededRandom(options.seed ?? 1);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
  const digits = (n: number) => Array.from({ length: n }, () => Math.floor(next() * 10)).join('');
  const out: CanaryPatient[] = [];
  for (let i = 0; i < (options.count ?? 3); i++) {
    const id = `cnry-${String(i + 1).padStart(3, '0')}`;
    const given = pick(GIVEN);
    const family = pick(FAMILY);
    const ssn = `9${digits(2)}-${String(10 + Math.floor(next() * 89))}-${String(1000 + Math.floor(next() * 8999))}`;
    const mrn = `${CANARY_MRN_PREFIX}${digits(7)}`;
    const npiBody = `1999${digits(5)}`;
    const npi = npiBody + luhnCheckDigit(`80840${npiBody}`);
    const phone = `(617) 555-01${digits(2)}`;
    const email = `${given.toLowerCase()}.${family.toLowerCase().replace(/[^a-z]/g, '')}.${i + 1}@example.org`;
    const cardBody = `400000${digits(9)}`;
    const card = cardBody + luhnCheckDigit(cardBody);
    const year = 1930 + Math.floor(next() * 70);
    const birthDate = `${year}-${String(1 + Math.floor(next() * 12)).padStart(2, '0')}-${String(1 + Math.floor(next() * 28)).padStart(2, '0')}`;
    const street = `${100 + Math.floor(next() * 899)} ${pick(STREETS)}`;
    const zip = `021${digits(2)}`;
    const text =
      `Called ${given} ${family} (MRN ${mrn}) at ${phone} re: results; DOB ${birthDate}. ` +
      `Patient confirmed SSN ${ssn} and e-mail ${email}. Lives at ${street}, Boston MA ${zip}.`;
    out.push({
      id,
      ssn,
      mrn,
      npi,
      phone,
      email,
      card,
      text,
      resource: {
        resourceType: 'Patient',
        id,
        identifier: [
          { system: 'http://hospital.example.org/fhir/sid/mrn', value: mrn },
          { system: 'http://hl7.org/fhir/sid/us-ssn', value: ssn },
        ],
        name: [{ family, given: [given] }],
        telecom: [
          { system: 'phone', value: phone },
          { system: 'email', value: email },
        ],
        birthDate,
        address: [{ line: [street], city: 'Boston', state: 'MA', postalCode: zip }],
      },
      observation: {
        resourceType: 'Observation',
        id: `${id}-obs-1`,
        subject: { reference: `Patient/${id}` },
        code: { coding: [{ system: 'http://loinc.org', code: '2345-7' }] },
        valueQuantity: { value: 70 + Math.floor(next() * 60), unit: 'mg/dL' },
        note: [{ text }],
      },
      canaries: [
        { field: 'name', value: `${given} ${family}` },
        { field: 'family', value: family },
        { field: 'ssn', value: ssn },
        { field: 'ssn', value: ssn.replace(/-/g, '') },
        { field: 'mrn', value: mrn },
        { field: 'npi', value: npi },
        { field: 'phone', value: phone },
        { field: 'phone', value: phone.replace(/\D/g, '') },
        { field: 'email', value: email },
        { field: 'card', value: card },
        { field: 'birthDate', value: birthDate },
        { field: 'address', value: street },
      ],
    });
  }
  return out;
}

/**
 * Canaries from values you already have (the identifiers of your own fixture patients):
 * `canariesFrom({ ssn: ['900-12-3456'], name: ['Jane Roe'] })`.
 */
export function canariesFrom(values: Readonly<Record<string, readonly string[]>>): Canary[] {
  const out: Canary[] = [];
  for (const [field, list] of Object.entries(values)) {
    for (const value of list) if (typeof value === 'string' && value.length >= 4) out.push({ field, value });
  }
  return out;
}

/**
 * Custom DLP detectors for test mode: SSNs in the never-issued 900–999 area, which the
 * production scanner rightly ignores, and canary MRNs. Pass to `createScanner({ detectors })`.
 */
export const canaryDetectors = Object.freeze([
  { type: 'SSN' as const, pattern: /\b9\d{2}-\d{2}-\d{4}\b/, confidence: 0.99 },
  { type: 'MRN' as const, pattern: /\bCNRY\d{7}\b/, confidence: 0.99 },
]);
