import { afterEach, describe, expect, it, vi } from 'vitest';
import { compilePolicy, type CompileOptions, type FieldDeclarations, type RuleSet } from '@phiguard/core';
import { ctx, deepFreeze } from './helpers.js';

/** One resource `R`, one role `r` reading for TREAT under `rules`. */
function project(fields: FieldDeclarations, rules: RuleSet, value: unknown, options: CompileOptions = { mode: 'production' }) {
  const policy = compilePolicy({ roles: ['r'], resources: { R: { fields, disclose: { r: { TREAT: rules } } } } }, options);
  return policy.protect<any>(value, ctx(['r'], 'TREAT'), 'R');
}

describe('projection follows the declared shape', () => {
  it('nested objects keep only the sent fields', () => {
    const { value } = project(
      { 'patient.name.family': 'direct-identifier', 'patient.name.given': 'direct-identifier', 'patient.birthDate': 'quasi-identifier' },
      { 'patient.name.family': 'send' },
      { patient: { name: { family: 'Lopez', given: 'Maria' }, birthDate: '1957-03-04' } },
    );
    expect(value).toEqual({ patient: { name: { family: 'Lopez' } } });
  });

  it('[] applies a field to every element of an array of objects, in order', () => {
    const { value } = project(
      { 'results[].code': 'clinical', 'results[].comment': 'free-text' },
      { 'results[].code': 'send' },
      { results: [{ code: 'a', comment: 'x' }, { code: 'b' }, { comment: 'only' }] },
    );
    // An element with nothing to send stays an (empty) object, so positions are preserved.
    expect(value).toEqual({ results: [{ code: 'a' }, { code: 'b' }, {}] });
  });

  it('[] on an array of primitives transforms each element', () => {
    const { value } = project({ 'phones[]': 'direct-identifier' }, { 'phones[]': { op: 'partial', keep: 2 } }, { phones: ['555-0101', '555-0177'] });
    expect(value).toEqual({ phones: ['****01', '****77'] });
  });

  it('a top-level [] path projects a response that is an array', () => {
    const { value } = project({ '[].id': 'non-phi', '[].ssn': 'direct-identifier' }, {}, [
      { id: 'a', ssn: '123-45-6789' },
      { id: 'b', ssn: '987-65-4321' },
    ]);
    expect(value).toEqual([{ id: 'a' }, { id: 'b' }]);
  });

  it('arrays of arrays are walked with [][]', () => {
    const { value } = project({ 'grid[][].v': 'clinical', 'grid[][].who': 'direct-identifier' }, { '@clinical': 'send' }, {
      grid: [[{ v: 1, who: 'Ann' }], [{ v: 2, who: 'Bob' }, { v: 3 }]],
    });
    expect(value).toEqual({ grid: [[{ v: 1 }], [{ v: 2 }, { v: 3 }]] });
  });

  it('an array where the policy declares an object, or an object where it declares an array, is not sent', () => {
    const { value } = project({ 'results[].code': 'clinical', 'patient.id': 'non-phi' }, { '*': 'send' }, {
      results: { code: 'a' },
      patient: [{ id: 1 }],
    });
    expect(value).toEqual({});
  });

  it('* matches any key, and an exact key takes precedence over it', () => {
    const { value } = project(
      { 'meta.*': 'non-phi', 'meta.note': 'free-text' },
      {},
      { meta: { version: 3, source: 'lis', note: 'pt called about HIV result' } },
    );
    expect(value).toEqual({ meta: { version: 3, source: 'lis' } });
  });

  it('a sent field is sent whole: plain JSON data by reference, anything else as a sanitized copy', () => {
    const input = { extension: [{ url: 'u', value: { nested: [1, 2] } }] };
    const { value } = project({ extension: 'non-phi' }, {}, input);
    expect(value).toEqual(input);
    expect(value.extension).toBe(input.extension);

    class Coded {
      code = 'x';
      secret = (): string => 'not data';
    }
    const odd = { extension: { when: new Date(0), big: 10n, coded: new Coded(), nan: Number.NaN } };
    const { value: copied } = project({ extension: 'non-phi' }, {}, odd);
    expect(copied.extension).not.toBe(odd.extension);
    expect(copied.extension).toEqual({ when: new Date(0), big: '10', coded: { code: 'x' }, nan: Number.NaN });
  });
});

describe('rule selectors: field path > @class > *', () => {
  const fields: FieldDeclarations = { mrn: 'direct-identifier', name: 'direct-identifier', code: 'clinical', dob: 'quasi-identifier' };
  const input = { mrn: 'MRN-00424821', name: 'Maria Lopez', code: '2345-7', dob: '1957-03-04' };

  it('a field path rule beats a class rule, which beats *', () => {
    const { value } = project(fields, { '*': 'send', '@direct-identifier': 'redact', mrn: { op: 'partial' } }, input);
    expect(value).toEqual({ mrn: '****4821', code: '2345-7', dob: '1957-03-04' });
  });

  it('* applies to every field no more specific rule names', () => {
    const { value } = project(fields, { '*': { op: 'replace', with: 'x' }, code: 'send' }, input);
    expect(value).toEqual({ mrn: 'x', name: 'x', code: '2345-7', dob: 'x' });
  });

  it('a field no rule mentions is not sent', () => {
    const { value } = project(fields, { code: 'send' }, input);
    expect(value).toEqual({ code: '2345-7' });
  });

  it('non-PHI fields are sent by default, unless a rule says otherwise', () => {
    const f: FieldDeclarations = { status: 'non-phi', mrn: 'direct-identifier' };
    expect(project(f, {}, { status: 'final', mrn: 'M1' }).value).toEqual({ status: 'final' });
    expect(project(f, { status: 'redact' }, { status: 'final', mrn: 'M1' }).value).toEqual({});
    expect(project(f, { '*': 'deny' }, { status: 'final', mrn: 'M1' }).value).toEqual({});
  });
});

describe('unclassified fields are denied by default', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('a field the policy does not declare is not sent', () => {
    const { value } = project({ code: 'clinical' }, { code: 'send' }, { code: 'a', ssn: '123-45-6789', extra: { x: 1 } });
    expect(value).toEqual({ code: 'a' });
  });

  it('development mode warns once per unclassified path, with paths and never values', () => {
    const warn = vi.fn<(message: string) => void>();
    const policy = compilePolicy(
      { roles: ['r'], resources: { R: { fields: { code: 'clinical', 'results[].v': 'clinical' }, disclose: { r: { TREAT: { '@clinical': 'send' } } } } } },
      { mode: 'development', warn },
    );
    const doc = { code: 'a', ssn: '123-45-6789', results: [{ v: 1, note: 'Maria Lopez has HIV' }] };
    policy.protect(doc, ctx(['r'], 'TREAT'), 'R');
    policy.protect(doc, ctx(['r'], 'TREAT'), 'R');
    expect(warn).toHaveBeenCalledTimes(1);
    const message = warn.mock.calls[0]![0];
    expect(message).toContain('ssn');
    expect(message).toContain('results[].note');
    expect(message).not.toContain('123-45-6789');
    expect(message).not.toContain('Maria');

    // A new unclassified path is reported on its own; known ones are not repeated.
    policy.protect({ ...doc, fax: '555-0100' }, ctx(['r'], 'TREAT'), 'R');
    expect(warn).toHaveBeenCalledTimes(2);
    const second = warn.mock.calls[1]![0];
    expect(second).toContain('fax');
    expect(second).not.toContain('ssn');
    expect(second).not.toContain('555-0100');
  });

  it('keys that look like data are shown as [?], not spelled out', () => {
    const warn = vi.fn<(message: string) => void>();
    const policy = compilePolicy(
      { roles: ['r'], resources: { R: { fields: { 'byId.known': 'clinical' }, disclose: { r: { TREAT: { '*': 'send' } } } } } },
      { mode: 'development', warn },
    );
    policy.protect({ byId: { '123-45-6789': 1, 'maria.lopez@example.com': 2, 'Maria Lopez': 3 } }, ctx(['r'], 'TREAT'), 'R');
    expect(warn).toHaveBeenCalledTimes(1);
    const message = warn.mock.calls[0]![0];
    expect(message).toContain('byId.[?]');
    for (const secret of ['123-45-6789', 'maria.lopez', 'Maria Lopez']) expect(message).not.toContain(secret);
  });

  it('production mode does not warn', () => {
    const warn = vi.fn<(message: string) => void>();
    const { value } = project({ code: 'clinical' }, { code: 'send' }, { code: 'a', ssn: '1' }, { mode: 'production', warn });
    expect(value).toEqual({ code: 'a' });
    expect(warn).not.toHaveBeenCalled();
  });

  it('NODE_ENV=production selects production mode by default', () => {
    vi.stubEnv('NODE_ENV', 'production');
    const warn = vi.fn<(message: string) => void>();
    project({ code: 'clinical' }, { code: 'send' }, { code: 'a', ssn: '1' }, { warn });
    expect(warn).not.toHaveBeenCalled();
  });

  it('outside production the default mode is development', () => {
    vi.stubEnv('NODE_ENV', 'test');
    const warn = vi.fn<(message: string) => void>();
    project({ code: 'clinical' }, { code: 'send' }, { code: 'a', ssn: '1' }, { warn });
    expect(warn).toHaveBeenCalledTimes(1);
  });
});

describe('the disclosure record', () => {
  const fields: FieldDeclarations = {
    mrn: 'direct-identifier',
    name: 'direct-identifier',
    ssn: 'direct-identifier',
    code: 'clinical',
    'results[].value': 'clinical',
    status: 'non-phi',
  };
  const rules: RuleSet = { mrn: { op: 'partial' }, name: 'redact', code: 'send', 'results[].value': 'send' };
  const input = { mrn: 'MRN-00424821', name: 'Maria Lopez', ssn: '123-45-6789', code: '2345-7', results: [{ value: 1 }, { value: 2 }], status: 'final' };

  it('lists the sent paths in policy spelling, and each non-send operator', () => {
    const { disclosure } = project(fields, rules, input);
    expect([...disclosure.disclosed].sort()).toEqual(['code', 'mrn', 'results[].value', 'status']);
    // redact is recorded (withheld on purpose); deny (ssn, the default) is not.
    expect(disclosure.transforms).toEqual({ mrn: 'partial', name: 'redact' });
    expect(disclosure.resource).toBe('R');
    expect(disclosure.purposeOfUse).toBe('TREAT');
    expect(disclosure.roles).toEqual(['r']);
  });

  it('only lists fields present in the value', () => {
    const { disclosure } = project(fields, rules, { code: '2345-7' });
    expect(disclosure.disclosed).toEqual(['code']);
    expect(disclosure.transforms).toEqual({});
  });

  it('carries paths, never values', () => {
    const { disclosure } = project(fields, rules, input);
    const serialized = JSON.stringify(disclosure);
    for (const phi of ['MRN-00424821', '4821', 'Maria', '123-45-6789', '2345-7']) expect(serialized).not.toContain(phi);
  });

  it('changes when a later value discloses different fields', () => {
    const policy = compilePolicy({ roles: ['r'], resources: { R: { fields, disclose: { r: { TREAT: rules } } } } }, { mode: 'production' });
    const first = policy.protect(input, ctx(['r'], 'TREAT'), 'R').disclosure;
    const second = policy.protect({ status: 'final' }, ctx(['r'], 'TREAT'), 'R').disclosure;
    const third = policy.protect(input, ctx(['r'], 'TREAT'), 'R').disclosure;
    expect(second.disclosed).toEqual(['status']);
    expect(third).toEqual(first);
  });
});

describe('protect never mutates its input', () => {
  it('a deep-frozen input is projected and left exactly as it was', () => {
    const input = {
      patient: { id: 1001, mrn: 'MRN-00424821', name: [{ given: ['Maria'], family: 'Lopez' }] },
      results: [{ code: '2345-7', value: 5.4, tags: ['a', 'b'], extra: { x: 1 } }],
      meta: { version: 3, when: '2024-01-02' },
    };
    const before = structuredClone(input);
    deepFreeze(input);
    const { value } = project(
      {
        'patient.id': 'direct-identifier',
        'patient.mrn': 'direct-identifier',
        'patient.name': 'direct-identifier',
        'results[].code': 'clinical',
        'results[].value': 'clinical',
        'results[].tags[]': 'clinical',
        'meta.*': 'non-phi',
      },
      { 'patient.mrn': 'token', 'patient.name': 'initials', '@clinical': 'send', 'patient.id': 'redact' },
      input,
      { mode: 'development', warn: () => undefined, secret: 'k'.repeat(32) },
    );
    expect(input).toEqual(before);
    expect(value.patient.name).toEqual([{ family: 'L.', given: ['M.'] }]); // a HumanName[] stays one, as initials
    // The output is a new, mutable structure: changing it cannot reach the input.
    value.results[0].tags.push('c');
    value.meta.version = 4;
    expect(input).toEqual(before);
  });
});
