import { describe, expect, it } from 'vitest';
import {
  LimitExceededError,
  OptionsError,
  compilePolicy,
  createScanner,
  definePolicy,
  type CompiledPolicy,
  type PolicyDefinition,
} from '@phiguard/core';
import { createSafeHarbor, inferQuasiIdentifierRule, type SafeHarborEntry, type SafeHarborOptions } from '@phiguard/core/deid';

/** One record through a de-identifier built for it (most cases here need one call). */
const safeHarbor = <T>(record: T, options: SafeHarborOptions) => createSafeHarbor(options)(record);

const SECRET = 'safe-harbor-test-secret-0123456789abcdef';
const NOW = new Date('2026-06-01T00:00:00Z');

const policy = compilePolicy(
  definePolicy({
    roles: ['researcher'],
    resources: {
      Encounter: {
        fields: {
          resourceType: 'non-phi',
          'patient.id': 'direct-identifier',
          'patient.mrn': 'direct-identifier',
          'patient.ssn': 'direct-identifier',
          'patient.name': 'direct-identifier',
          'patient.telecom': 'direct-identifier',
          'patient.photo': 'direct-identifier',
          'patient.address.line': 'direct-identifier',
          'patient.address.city': 'direct-identifier',
          'patient.address.state': 'quasi-identifier',
          'patient.address.postalCode': 'quasi-identifier',
          'patient.birthDate': 'quasi-identifier',
          'patient.deceasedDateTime': 'quasi-identifier',
          'patient.age': 'quasi-identifier',
          'patient.gender': 'quasi-identifier',
          'encounter.period': 'quasi-identifier',
          'encounter.ip': 'direct-identifier',
          'encounter.device': 'direct-identifier',
          'encounter.reason': 'free-text',
          'results[].code': 'clinical',
          'results[].valueQuantity': 'clinical',
          'results[].effectiveDateTime': 'quasi-identifier',
          'results[].issued': 'quasi-identifier',
          'results[].note': 'free-text',
          'results[].hiv': { class: 'sensitive', category: 'HIV' },
          'extensions.*': 'clinical',
        },
        disclose: { researcher: { HRESCH: { '*': 'send' } } },
      },
    },
  }),
  { secret: SECRET },
);

function encounter(overrides: { birthDate?: string; age?: number; postalCode?: string } = {}) {
  return {
    resourceType: 'Encounter',
    patient: {
      id: '1001',
      mrn: 'MRN00037731',
      ssn: '912-48-3571',
      name: { use: 'official', family: 'Sampleton', given: ['Avery', 'Quinn'] },
      telecom: [
        { system: 'phone', value: '413-555-0112', use: 'mobile' },
        { system: 'email', value: 'avery.sampleton@example.org' },
      ],
      photo: { contentType: 'image/jpeg', data: 'aGVsbG8=' },
      address: { line: ['12 Example Lane'], city: 'Springfield', state: 'MA', postalCode: overrides.postalCode ?? '01103-2207' },
      birthDate: overrides.birthDate ?? '1967-04-12',
      deceasedDateTime: '2026-01-02T10:00:00Z',
      age: overrides.age ?? 59,
      gender: 'female',
    },
    encounter: {
      period: { start: '2025-03-04T08:15:00-05:00', end: '2025-03-05T11:00:00-05:00' },
      ip: '203.0.113.7',
      device: 'SN-44AX-99812',
      reason: 'Avery Sampleton (DOB 04/12/1967) called from 413-555-0112 about fatigue; SSN 912-48-3571 on file, spouse SSN 536-22-1873.',
    },
    results: [
      {
        code: { coding: [{ system: 'http://loinc.org', code: '2345-7', display: 'Glucose' }] },
        valueQuantity: { value: 182, unit: 'mg/dL' },
        effectiveDateTime: '2025-03-04T08:15:00-05:00',
        issued: '3/5/2025',
        note: [{ text: 'Pt Sampleton confirmed 10 h fast; email avery.sampleton@example.org.' }],
        hiv: { value: 'not detected' },
      },
      {
        code: { coding: [{ system: 'http://loinc.org', code: '718-7', display: 'Hemoglobin' }] },
        valueQuantity: { value: 10.9, unit: 'g/dL' },
        effectiveDateTime: '2025-04-01',
        issued: 'not a date',
        note: 'Quinn reports feeling well.',
      },
    ],
    extensions: { fasting: true, panel: 'CMP' },
    billingAccount: 'ACCT-889123',
  };
}

const IDENTIFIER_TYPES = [
  'PERSON_NAME',
  'STREET_ADDRESS',
  'ZIP_CODE',
  'DATE',
  'AGE_OVER_89',
  'PHONE',
  'FAX',
  'EMAIL',
  'SSN',
  'MRN',
  'HEALTH_PLAN_ID',
  'ACCOUNT_NUMBER',
  'LICENSE_NUMBER',
  'VEHICLE_ID',
  'DEVICE_ID',
  'URL',
  'IP_ADDRESS',
  'CREDIT_CARD',
] as const;

/** Every string of a JSON value. */
function strings(v: unknown, out: string[] = []): string[] {
  if (typeof v === 'string') out.push(v);
  else if (v !== null && typeof v === 'object') for (const c of Object.values(v)) strings(c, out);
  return out;
}

const DATE_FINER_THAN_YEAR = /\b\d{4}-\d{2}(?:-\d{2})?\b|\b\d{1,2}\/\d{1,2}\/\d{2,4}\b/;

/** The Safe Harbor checks every output must pass, whatever the record. */
function assertDeidentified(value: unknown, identifiers: readonly string[]) {
  const json = JSON.stringify(value);
  for (const id of identifiers) expect(json).not.toContain(id);
  // "90+" is the Safe Harbor category itself, which the scanner reads as an age over 89.
  const findings = createScanner()
    .scan(json)
    .filter((f) => (IDENTIFIER_TYPES as readonly string[]).includes(f.type))
    .filter((f) => !(f.type === 'AGE_OVER_89' && json.slice(f.start - 1, f.end + 2) === '"90+"'));
  expect(findings.map((f) => `${f.type}:${json.slice(f.start, f.end)}`)).toEqual([]);
  for (const s of strings(value)) expect(s).not.toMatch(DATE_FINER_THAN_YEAR);
}

const entry = (entries: readonly SafeHarborEntry[], path: string, action: string) =>
  entries.find((e) => e.path === path && e.action === action);

describe('safeHarbor on a FHIR-like record', () => {
  const record = encounter();
  const before = structuredClone(record);
  const { value, report } = safeHarbor(record, { resource: 'Encounter', policy, now: NOW });
  const out = value as unknown as Record<string, Record<string, unknown>>;

  it('removes every direct identifier field', () => {
    const patient = out['patient']!;
    for (const k of ['id', 'mrn', 'ssn', 'name', 'telecom', 'photo']) expect(patient).not.toHaveProperty(k);
    expect(patient['address']).toEqual({ state: 'MA', postalCode: '011' });
    expect(out['encounter']).not.toHaveProperty('ip');
    expect(out['encounter']).not.toHaveProperty('device');
  });

  it('leaves no identifier for the DLP scanner to find, no date finer than a year', () => {
    assertDeidentified(value, ['Sampleton', 'Avery', 'Quinn', '912-48-3571', '413-555-0112', 'MRN00037731', 'Springfield', '12 Example Lane', '203.0.113.7']);
  });

  it('generalizes dates to the year, ZIP to ZIP3, keeps state, sex and a young age', () => {
    const patient = out['patient']!;
    expect(patient['birthDate']).toBe('1967');
    expect(patient['deceasedDateTime']).toBe('2026');
    expect(patient['age']).toBe(59);
    expect(patient['gender']).toBe('female');
    expect(out['encounter']!['period']).toEqual({ start: '2025', end: '2025' });
    const results = out['results'] as unknown as Record<string, unknown>[];
    expect(results.map((r) => r['effectiveDateTime'])).toEqual(['2025', '2025']);
    expect(results[0]!['issued']).toBe('2025'); // M/D/YYYY
    expect(results[1]).not.toHaveProperty('issued'); // unreadable date: removed, not passed through
  });

  it('keeps clinical, non-PHI and sensitive values unchanged', () => {
    const results = out['results'] as unknown as Record<string, unknown>[];
    expect(results[0]!['code']).toEqual(record.results[0]!.code);
    expect(results[1]!['valueQuantity']).toEqual({ value: 10.9, unit: 'g/dL' });
    expect(results[0]!['hiv']).toEqual({ value: 'not detected' });
    expect(out['resourceType']).toBe('Encounter');
    expect(out['extensions']).toEqual({ fasting: true, panel: 'CMP' });
  });

  it('scrubs free text of what the scanner finds and of the record’s own identifiers', () => {
    const reason = out['encounter']!['reason'] as string;
    expect(reason).toContain('spouse SSN [SSN]'); // found by the scanner
    expect(reason).toContain('[PHONE]');
    expect(reason).toMatch(/^(?:\[IDENTIFIER\] \[IDENTIFIER\]|\[PERSON_NAME\]) /); // the record's own name (the scanner's name lexicon may find it first)
    expect(reason).not.toContain('912-48-3571'); // an SSN the scanner rejects (9xx area), known from the record
    expect(reason).toMatch(/about fatigue/);
    const notes = (out['results'] as unknown as Record<string, unknown>[]).map((r) => r['note']);
    expect(JSON.stringify(notes)).not.toMatch(/Sampleton|Quinn|example\.org/);
    // The record's own name, or the scanner's (a known given name before a person verb).
    expect(notes[1]).toMatch(/^\[(?:IDENTIFIER|PERSON_NAME)\] reports feeling well\.$/);
  });

  it('removes fields the policy does not classify', () => {
    expect(out).not.toHaveProperty('billingAccount');
    expect(entry(report.entries, 'billingAccount', 'removed:unclassified')).toEqual({ path: 'billingAccount', action: 'removed:unclassified', count: 1 });
  });

  it('reports paths, actions and counts only, never a value', () => {
    expect(report.resource).toBe('Encounter');
    expect(entry(report.entries, 'patient.ssn', 'removed:direct-identifier')?.count).toBe(1);
    expect(entry(report.entries, 'patient.address.postalCode', 'generalized:zip3')?.count).toBe(1);
    expect(entry(report.entries, 'patient.birthDate', 'generalized:year')?.count).toBe(1);
    expect(entry(report.entries, 'results[].effectiveDateTime', 'generalized:year')?.count).toBe(2);
    expect(entry(report.entries, 'results[].issued', 'removed:quasi-identifier')?.count).toBe(1);
    expect(entry(report.entries, 'patient.address.state', 'kept:quasi-identifier')?.count).toBe(1);
    const scrubbed = entry(report.entries, 'encounter.reason', 'scrubbed');
    expect(scrubbed?.findings).toMatchObject({ SSN: 1, PHONE: 1, DATE: 1 });
    // The 9xx-area SSN only the record knows, and the name unless the scanner found it first.
    expect(scrubbed?.findings?.KNOWN_IDENTIFIER).toBeGreaterThanOrEqual(scrubbed?.findings?.PERSON_NAME ? 1 : 3);
    expect(entry(report.entries, 'results[].note', 'scrubbed')?.count).toBe(2);
    const json = JSON.stringify(report);
    for (const s of ['Sampleton', 'Avery', '912-48', '413-555', '01103', '1967', 'ACCT', 'example.org']) expect(json).not.toContain(s);
    const paths = report.entries.map((e) => `${e.path} ${e.action}`);
    expect(paths).toEqual([...paths].sort());
  });

  it('never mutates its input', () => {
    expect(record).toEqual(before);
  });
});

describe('safeHarbor: ages over 89 (45 CFR 164.514(b)(2)(i)(C))', () => {
  it('turns ages over 89 into "90+" and withholds a birth year indicative of such an age', () => {
    const { value, report } = safeHarbor(encounter({ birthDate: '1931-08-05', age: 94 }), { resource: 'Encounter', policy, now: NOW });
    const patient = (value as unknown as { patient: Record<string, unknown> }).patient;
    expect(patient['age']).toBe('90+');
    expect(patient).not.toHaveProperty('birthDate');
    expect(entry(report.entries, 'patient.age', 'generalized:age90')?.count).toBe(1);
    expect(entry(report.entries, 'patient.birthDate', 'removed:birth-year-over-89')?.count).toBe(1);
    assertDeidentified(value, ['1931']);
  });

  it('withholds the birth year when the person may already be 90 this year, keeps it at 89', () => {
    const run = createSafeHarbor({ resource: 'Encounter', policy, now: NOW });
    expect((run(encounter({ birthDate: '1936-12-31', age: 89 })).value as { patient: object }).patient).not.toHaveProperty('birthDate');
    expect((run(encounter({ birthDate: '1937-01-01', age: 89 })).value as { patient: { birthDate?: string } }).patient.birthDate).toBe('1937');
    expect((run(encounter({ age: 89 })).value as { patient: { age: unknown } }).patient.age).toBe(89);
    expect((run(encounter({ age: 90 })).value as { patient: { age: unknown } }).patient.age).toBe('90+');
  });

  it('uses `now` when given as a function', () => {
    const run = createSafeHarbor({ resource: 'Encounter', policy, now: () => new Date('2030-01-01T00:00:00Z') });
    expect((run(encounter({ birthDate: '1940-02-02' })).value as { patient: object }).patient).not.toHaveProperty('birthDate');
  });
});

describe('safeHarbor: ZIP codes (45 CFR 164.514(b)(2)(i)(B))', () => {
  it('reports the restricted three-digit prefixes as 000', () => {
    // The 2020 Census list (RESTRICTED_ZIP3): 890 and 063 are no longer restricted, 202-205 and 369 are.
    for (const zip of ['03601', '05901', '10201', '20201', '36901', '69201', '75301', '89301-1234']) {
      const { value, report } = safeHarbor(encounter({ postalCode: zip }), { resource: 'Encounter', policy, now: NOW });
      expect((value as { patient: { address: { postalCode: string } } }).patient.address.postalCode).toBe('000');
      expect(entry(report.entries, 'patient.address.postalCode', 'generalized:zip3-restricted')?.count).toBe(1);
    }
  });

  it('removes a postal code it cannot read as a US ZIP', () => {
    const { value } = safeHarbor(encounter({ postalCode: 'K1A 0B1' }), { resource: 'Encounter', policy, now: NOW });
    expect((value as { patient: { address: object } }).patient.address).not.toHaveProperty('postalCode');
  });
});

describe('safeHarbor: options', () => {
  it('removes free text under freeText: "remove"', () => {
    const { value, report } = safeHarbor(encounter(), { resource: 'Encounter', policy, now: NOW, freeText: 'remove' });
    expect((value as { encounter: object }).encounter).not.toHaveProperty('reason');
    expect(entry(report.entries, 'results[].note', 'removed:free-text')?.count).toBe(2);
  });

  it('removes sensitive categories under sensitive: "remove"', () => {
    const { value } = safeHarbor(encounter(), { resource: 'Encounter', policy, now: NOW, sensitive: 'remove' });
    expect(JSON.stringify(value)).not.toContain('hiv');
  });

  it('applies explicit quasi-identifier rules over the inferred ones', () => {
    const { value } = safeHarbor(encounter(), {
      resource: 'Encounter',
      policy,
      now: NOW,
      quasiIdentifiers: { 'patient.gender': 'remove', 'patient.address.state': 'remove' },
    });
    const patient = (value as { patient: { address: object } }).patient;
    expect(patient).not.toHaveProperty('gender');
    expect(patient.address).not.toHaveProperty('state');
  });

  it('removes the declared paths listed in `remove`, whatever their class', () => {
    const { value, report } = safeHarbor(encounter(), { resource: 'Encounter', policy, now: NOW, remove: ['extensions.*', 'resourceType'] });
    expect(value).not.toHaveProperty('extensions.panel');
    expect(value).not.toHaveProperty('resourceType');
    expect(entry(report.entries, 'extensions.*', 'removed:by-option')?.count).toBe(2);
  });

  it('removes the resource id unless keepResourceId', () => {
    const withId = compilePolicy(
      definePolicy({
        roles: ['r'],
        resources: { Doc: { id: 'id', fields: { id: 'non-phi', 'lab.value': 'clinical' }, disclose: { r: { HRESCH: { '*': 'send' } } } } },
      }),
    );
    const doc = { id: 'lrv-5c2e9a71', lab: { value: 3 } };
    expect(safeHarbor(doc, { resource: 'Doc', policy: withId }).value).toEqual({ lab: { value: 3 } });
    expect(safeHarbor(doc, { resource: 'Doc', policy: withId, keepResourceId: true }).value).toEqual(doc);
  });

  it('infers rules from path names', () => {
    expect(inferQuasiIdentifierRule('patient.birthDate')).toBe('birth-year');
    expect(inferQuasiIdentifierRule('patient.address.postalCode')).toBe('zip3');
    expect(inferQuasiIdentifierRule('member.zip')).toBe('zip3');
    expect(inferQuasiIdentifierRule('patient.age')).toBe('age90');
    expect(inferQuasiIdentifierRule('patient.ageAtDeath')).toBe('age90');
    expect(inferQuasiIdentifierRule('tumor.stage')).toBe('year'); // not an age: treated as a date, removed unless it is one
    expect(inferQuasiIdentifierRule('patient.address.state')).toBe('keep');
    expect(inferQuasiIdentifierRule('reports[].issued')).toBe('year');
  });

  it('refuses unknown options, resources and quasi-identifier paths at creation', () => {
    expect(() => createSafeHarbor({ resource: 'Encounter', policy, freetext: 'remove' } as never)).toThrow(/unknown createSafeHarbor option "freetext"; did you mean "freeText"/);
    expect(() => createSafeHarbor({ resource: 'Encountr', policy })).toThrow(/unknown resource "Encountr"; did you mean "Encounter"/);
    expect(() => createSafeHarbor({ resource: 'Encounter', policy: {} as CompiledPolicy })).toThrow(OptionsError);
    expect(() => createSafeHarbor({ resource: 'Encounter', policy, quasiIdentifiers: { 'patient.ssn': 'year' } })).toThrow(/not a quasi-identifier/);
    expect(() => createSafeHarbor({ resource: 'Encounter', policy, quasiIdentifiers: { 'patient.age': 'round' as never } })).toThrow(/must be one of/);
    expect(() => createSafeHarbor({ resource: 'Encounter', policy, freeText: 'keep' as never })).toThrow(/freeText/);
    expect(() => createSafeHarbor({ resource: 'Encounter', policy, remove: ['patient.nam'] })).toThrow(/did you mean "patient.name"/);
  });
});

describe('safeHarbor: hostile input', () => {
  it('treats prototype-named keys as ordinary (unclassified) keys', () => {
    const record = JSON.parse('{"resourceType":"Encounter","__proto__":{"polluted":1},"constructor":"x","patient":{"gender":"male"}}') as unknown;
    const { value, report } = safeHarbor(record, { resource: 'Encounter', policy, now: NOW });
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.keys(value as object)).toEqual(['resourceType', 'patient']);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(entry(report.entries, '__proto__', 'removed:unclassified')?.count).toBe(1);
    expect(entry(report.entries, 'constructor', 'removed:unclassified')?.count).toBe(1);
  });

  it('fails closed on circular references (LimitExceededError)', () => {
    const record = encounter() as Record<string, unknown>;
    const loop: Record<string, unknown> = {};
    loop['self'] = loop;
    (record['extensions'] as Record<string, unknown>)['loop'] = loop;
    expect(() => safeHarbor(record, { resource: 'Encounter', policy, now: NOW })).toThrow(LimitExceededError);
  });

  it('removes a value whose shape differs from the declared one', () => {
    const { value, report } = safeHarbor({ patient: 'Avery Sampleton', results: { code: 'x' } }, { resource: 'Encounter', policy, now: NOW });
    expect(value).toEqual({});
    expect(entry(report.entries, 'patient', 'removed:unclassified')?.count).toBe(1);
    expect(entry(report.entries, 'results', 'removed:unclassified')?.count).toBe(1);
  });
});

describe('createSafeHarbor(…).all', () => {
  it('streams an async iterable, in order, validating the options before the first record', async () => {
    async function* source() {
      yield encounter({ age: 40 });
      yield encounter({ age: 95, birthDate: '1930-01-01' });
    }
    const ages: unknown[] = [];
    for await (const { value } of createSafeHarbor({ resource: 'Encounter', policy, now: NOW }).all(source())) {
      ages.push((value as { patient: { age: unknown } }).patient.age);
      assertDeidentified(value, ['Sampleton', '912-48-3571']);
    }
    expect(ages).toEqual([40, '90+']);
    expect(() => createSafeHarbor({ resource: 'Nope', policy })).toThrow(OptionsError);
  });

  it('accepts a plain iterable', async () => {
    const out = [];
    for await (const r of createSafeHarbor({ resource: 'Encounter', policy, now: NOW }).all([encounter(), encounter()])) out.push(r);
    expect(out).toHaveLength(2);
  });
});

describe('safeHarbor on the Express example’s lab results (policy and data of examples/express-lab-results)', () => {
  it('de-identifies every patient of the example', async () => {
    // Loaded at run time: the example lives outside this package's TypeScript project.
    const base = '../../../../examples/express-lab-results/src/';
    const { policy: examplePolicy, operators } = (await import(/* @vite-ignore */ `${base}policy.js`)) as {
      policy: PolicyDefinition;
      operators: Record<string, (value: unknown, args: Readonly<Record<string, unknown>>) => unknown>;
    };
    const { PATIENTS } = (await import(/* @vite-ignore */ `${base}data.js`)) as { PATIENTS: ReadonlyMap<string, unknown> };
    const { labResultsView } = (await import(/* @vite-ignore */ `${base}view.js`)) as { labResultsView: (r: unknown, asOf: Date) => unknown };
    const compiled = compilePolicy(examplePolicy, { secret: SECRET, operators });
    const run = createSafeHarbor({ resource: 'PatientResults', policy: compiled, now: NOW });
    expect(PATIENTS.size).toBe(5);
    for (const record of PATIENTS.values()) {
      const view = labResultsView(record, NOW) as { patient: Record<string, unknown> & { name: { family: string; given: string[] }; ssn: string; mrn: string } };
      const { value, report } = run(view);
      const p = view.patient;
      assertDeidentified(value, [p.name.family, ...p.name.given, p.ssn, p.mrn, String(p['id'])]);
      const out = value as { patient: Record<string, unknown> };
      for (const k of ['id', 'mrn', 'ssn', 'name', 'telecom']) expect(out.patient).not.toHaveProperty(k);
      const age = out.patient['age'];
      expect(age === '90+' || (typeof age === 'number' && age <= 89)).toBe(true);
      if (age === '90+') expect(out.patient).not.toHaveProperty('birthDate');
      expect(['000', ...['011', '021', '100', '972', '054', '055', '056', '057']]).toContain((out.patient['address'] as { postalCode: string }).postalCode.slice(0, 3));
      // Free text is scrubbed; under an HIV or genetic element it is removed with the category's other fields.
      expect(report.entries.some((e) => e.action === 'scrubbed' || e.action === 'removed:sensitive-category')).toBe(true);
      // The view id is unique per patient: removed unless keepResourceId.
      expect(value).not.toHaveProperty('id');
      expect(entry(report.entries, 'id', 'removed:record-id')?.count).toBe(1);
    }
  });
});
