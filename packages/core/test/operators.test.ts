import { describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { compilePolicy, type CompileOptions, type OperatorSpec } from '@phiguard/core';
import { RESTRICTED_ZIP3, RESTRICTED_ZIP3_2000 } from '@phiguard/core/policy';
import { applyOperator, ctx, SECRET } from './helpers.js';

/** The value an operator produces for `input` (`undefined` when the field is omitted). */
function op(spec: OperatorSpec, input: unknown, options?: CompileOptions): unknown {
  const out = applyOperator(spec, input, options);
  return Object.hasOwn(out, 'v') ? out.v : undefined;
}

function omits(spec: OperatorSpec, input: unknown, options?: CompileOptions): boolean {
  return !Object.hasOwn(applyOperator(spec, input, options), 'v');
}

describe('redact, deny, null and replace', () => {
  function disclosureOf(spec: OperatorSpec) {
    const policy = compilePolicy(
      { roles: ['r'], resources: { R: { fields: { v: 'direct-identifier' }, disclose: { r: { TREAT: { v: spec } } } } } },
      { mode: 'production' },
    );
    return policy.protect({ v: 'Maria Lopez' }, ctx(['r'], 'TREAT'), 'R').disclosure;
  }

  it('redact omits the field and records it as withheld on purpose', () => {
    expect(omits('redact', 'Maria Lopez')).toBe(true);
    expect(disclosureOf('redact')).toMatchObject({ disclosed: [], transforms: { v: 'redact' } });
  });

  it('deny omits the field and records nothing', () => {
    expect(omits('deny', 'Maria Lopez')).toBe(true);
    expect(disclosureOf('deny')).toMatchObject({ disclosed: [], transforms: {} });
  });

  it('null sends null in place of the value, whatever its type', () => {
    for (const v of ['Maria', 42, { a: 1 }, [1], true]) expect(op('null', v)).toBeNull();
  });

  it('replace sends "[REDACTED]" by default', () => {
    expect(op('replace', 'Maria Lopez')).toBe('[REDACTED]');
    expect(op('replace', { nested: 'Maria' })).toBe('[REDACTED]');
  });

  it('replace sends a custom marker given by "with"', () => {
    expect(op({ op: 'replace', with: '<withheld>' }, 'Maria Lopez')).toBe('<withheld>');
  });
});

describe('partial', () => {
  it('keeps the last 4 characters behind "****" by default', () => {
    expect(op('partial', '123-45-6789')).toBe('****6789');
    expect(op({ op: 'partial' }, 'MRN-00424821')).toBe('****4821');
  });

  it('honours keep and mask', () => {
    expect(op({ op: 'partial', keep: 2 }, '555-0177')).toBe('****77');
    expect(op({ op: 'partial', keep: 4, mask: '#' }, '4111111111111111')).toBe('#1111');
  });

  it('masks a value no longer than what would be kept entirely', () => {
    expect(op('partial', '4821')).toBe('****');
    expect(op('partial', 'abc')).toBe('****');
    expect(op('partial', '')).toBe('****');
    expect(op({ op: 'partial', keep: 0 }, '123-45-6789')).toBe('****');
  });

  it('masks numbers like their decimal string', () => {
    expect(op('partial', 12345678)).toBe('****5678');
    expect(op('partial', 123)).toBe('****');
  });

  it('omits values it cannot mask (objects, booleans, NaN) and keeps null', () => {
    for (const v of [{ a: '12345678' }, ['12345678'], true, Number.NaN, Infinity]) expect(omits('partial', v)).toBe(true);
    expect(op('partial', null)).toBeNull();
  });

  it('never reveals more than the last `keep` characters', () => {
    const policy = compilePolicy(
      { roles: ['r'], resources: { R: { fields: { v: 'direct-identifier' }, disclose: { r: { TREAT: { v: { op: 'partial', keep: 3 } } } } } } },
      { mode: 'production' },
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (s) => {
        const out = policy.protect<{ v: string }>({ v: s }, ctx(['r'], 'TREAT'), 'R').value.v;
        expect(out.startsWith('****')).toBe(true);
        const revealed = out.slice(4);
        expect(revealed.length).toBeLessThanOrEqual(3);
        expect(s.endsWith(revealed)).toBe(true);
        if (s.length <= 3) expect(revealed).toBe('');
      }),
      { seed: 424242, numRuns: 200 },
    );
  });
});

describe('initials', () => {
  it('reduces a name to its initials', () => {
    expect(op('initials', 'Maria G. Lopez')).toBe('M.G.L.');
    expect(op('initials', 'maria lopez')).toBe('M.L.');
    expect(op('initials', 'Lopez, Maria')).toBe('L.M.');
  });

  it('handles letters outside ASCII', () => {
    expect(op('initials', 'Élodie Ñúñez')).toBe('É.Ñ.');
  });

  it('returns a FHIR HumanName as a HumanName of initials, keeping its use and dropping titles and periods', () => {
    expect(op('initials', { given: ['Maria', 'Guadalupe'], family: 'Lopez', use: 'official' })).toEqual({ use: 'official', family: 'L.', given: ['M.', 'G.'] });
    expect(op('initials', { text: 'Maria Lopez' })).toEqual({ text: 'M.L.' });
    expect(op('initials', { prefix: ['Dr.'], given: ['Ann'], family: 'de la Cruz', suffix: ['III'], period: { start: '1990-01-01' } })).toEqual({ family: 'D.L.C.', given: ['A.'] });
    // A `use` that is not a HumanName use code could be anything the app put there.
    expect(op('initials', { use: 'Maria', family: 'Lopez' })).toEqual({ family: 'L.' });
  });

  it('returns a HumanName array as an array of the same names, each as initials', () => {
    expect(op('initials', [{ given: ['Maria'], family: 'Lopez' }, { use: 'maiden', family: 'Garcia' }])).toEqual([
      { family: 'L.', given: ['M.'] },
      { use: 'maiden', family: 'G.' },
    ]);
    expect(op('initials', ['Maria Lopez', 'M. Garcia'])).toEqual(['M.L.', 'M.G.']);
    // Elements holding no name are left out; nothing left omits the field.
    expect(op('initials', [{ use: 'official' }, 7, [{ family: 'Lopez' }], { family: 'Lopez' }])).toEqual([{ family: 'L.' }]);
    expect(omits('initials', [{ use: 'official' }, 7, []])).toBe(true);
  });

  it('keeps the shape of any HumanName and sends no more than one letter of any name part (property)', () => {
    const part = fc.string({ minLength: 1, maxLength: 12 });
    const humanName = fc.record(
      {
        use: fc.constantFrom('usual', 'official', 'maiden', 'nickname'),
        text: part,
        family: part,
        given: fc.array(part, { maxLength: 4 }),
        prefix: fc.array(part, { maxLength: 2 }),
        suffix: fc.array(part, { maxLength: 2 }),
      },
      { requiredKeys: [] },
    );
    const initialsOnly = /^(?:\p{L}\.)+$/u;
    fc.assert(
      fc.property(fc.oneof(humanName, fc.array(humanName, { maxLength: 4 })), (input) => {
        const out = op('initials', input);
        const names = Array.isArray(input) ? input : [input];
        const outs = out === undefined ? [] : Array.isArray(out) ? out : [out];
        expect(Array.isArray(out)).toBe(Array.isArray(input) && out !== undefined);
        expect(outs.length).toBeLessThanOrEqual(names.length);
        for (const o of outs as Record<string, unknown>[]) {
          expect(Object.keys(o).every((k) => ['use', 'text', 'family', 'given'].includes(k))).toBe(true);
          for (const s of [o.text, o.family, ...((o.given as unknown[] | undefined) ?? [])]) if (s !== undefined) expect(s).toMatch(initialsOnly);
          if (o.given !== undefined) expect(Array.isArray(o.given)).toBe(true);
        }
      }),
      { seed: 2101, numRuns: 300 },
    );
  });

  it('omits what holds no name, and never sends the name itself', () => {
    for (const v of ['', '   ', 42, {}, [], { given: [7] }]) expect(omits('initials', v)).toBe(true);
    expect(op('initials', null)).toBeNull();
    expect(op('initials', 'Maria Lopez')).not.toContain('aria');
  });
});

describe('year', () => {
  it('keeps only the year of ISO and FHIR dates and dateTimes', () => {
    expect(op('year', '1957-03-04')).toBe('1957');
    expect(op('year', '1957-03')).toBe('1957');
    expect(op('year', '1957')).toBe('1957');
    expect(op('year', '1957-03-04T10:20:30Z')).toBe('1957');
    expect(op('year', '1957-03-04T10:20:30.123-05:00')).toBe('1957');
  });

  it('understands US M/D/YYYY dates', () => {
    expect(op('year', '3/4/1957')).toBe('1957');
    expect(op('year', '12/31/2001')).toBe('2001');
  });

  it('keeps the UTC year of a Date object', () => {
    expect(op('year', new Date(Date.UTC(1957, 2, 4)))).toBe('1957');
  });

  it('omits invalid dates instead of sending them', () => {
    for (const v of ['not a date', '57', '04.03.1957', 'March 4, 1957', 1957, { y: 1957 }]) {
      expect(omits('year', v)).toBe(true);
    }
    expect(op('year', null)).toBeNull();
    // An invalid Date is projected as JSON.stringify writes it: null.
    expect(op('year', new Date(Number.NaN))).toBeNull();
  });
});

describe('zip3', () => {
  // 45 CFR 164.514(b)(2)(i)(B): HHS list of three-digit ZIP areas with 20,000 or fewer people.
  // The 2020 Census list (test/standards/restricted-zip3.test.ts recomputes it from the ZCTA aggregate).
  const RESTRICTED = ['036', '059', '102', '202', '203', '204', '205', '369', '556', '692', '753', '772', '821', '823', '878', '879', '884', '893'];
  const HHS_2000 = ['036', '059', '063', '102', '203', '556', '692', '790', '821', '823', '830', '831', '878', '879', '884', '890', '893'];

  it('keeps the first three digits of a 5-digit ZIP', () => {
    expect(op('zip3', '94110')).toBe('941');
    expect(op('zip3', ' 10001 ')).toBe('100');
  });

  it('keeps the first three digits of a ZIP+4', () => {
    expect(op('zip3', '94110-1234')).toBe('941');
    expect(op('zip3', '941101234')).toBe('941');
  });

  it('reads numbers with their leading zeros restored', () => {
    expect(op('zip3', 2134)).toBe('021');
    expect(op('zip3', 94110)).toBe('941');
  });

  it.each(RESTRICTED)('the restricted prefix %s becomes "000"', (prefix) => {
    expect(op('zip3', `${prefix}42`)).toBe('000');
    expect(op('zip3', `${prefix}42-1234`)).toBe('000');
    expect(op('zip3', Number(`${prefix}42`))).toBe('000');
  });

  it('exports the 18 prefixes of the 2020 Census, and the 17 of HHS\'s 2000 list by name', () => {
    expect([...RESTRICTED_ZIP3].sort()).toEqual(RESTRICTED);
    expect([...RESTRICTED_ZIP3_2000].sort()).toEqual(HHS_2000);
  });

  it('omits what is not a ZIP code', () => {
    for (const v of ['9411', 'ABCDE', '94110-12', '94110 extra', 94110.5, { zip: '94110' }]) expect(omits('zip3', v)).toBe(true);
    expect(op('zip3', null)).toBeNull();
  });
});

describe('age90', () => {
  it('keeps ages up to 89 unchanged', () => {
    expect(op('age90', 0)).toBe(0);
    expect(op('age90', 45)).toBe(45);
    expect(op('age90', 89)).toBe(89);
    expect(op('age90', '89')).toBe('89');
  });

  it('aggregates ages over 89 into the top code of the input’s own type: 90 for numbers, "90+" for strings', () => {
    for (const v of [90, 104, 89.5, 150]) expect(op('age90', v)).toBe(90);
    for (const v of ['90', '117', ' 95 ']) expect(op('age90', v)).toBe('90+');
  });

  it('never mixes types in a column: numbers stay numbers, strings stay strings (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 130 }), { minLength: 1, maxLength: 50 }), (ages) => {
        const asNumbers = ages.map((a) => op('age90', a));
        const asStrings = ages.map((a) => op('age90', String(a)));
        expect(asNumbers.every((v) => typeof v === 'number')).toBe(true);
        expect(asStrings.every((v) => typeof v === 'string')).toBe(true);
        expect(asNumbers).toEqual(ages.map((a) => Math.min(a, 90)));
        expect(asStrings).toEqual(ages.map((a) => (a >= 90 ? '90+' : String(a))));
      }),
      { seed: 90, numRuns: 200 },
    );
  });

  it('omits what is not an age', () => {
    for (const v of [-1, 'old', '1000', Number.NaN, { age: 95 }]) expect(omits('age90', v)).toBe(true);
    expect(op('age90', null)).toBeNull();
  });
});

describe('token', () => {
  const TOKEN = /^tok_[A-Za-z0-9_-]{22}$/;

  function tokens(specs: Record<string, OperatorSpec>, value: Record<string, unknown>, secret: string | Uint8Array = SECRET) {
    const fields = Object.fromEntries(Object.keys(specs).map((k) => [k, 'direct-identifier' as const]));
    const policy = compilePolicy({ roles: ['r'], resources: { R: { fields, disclose: { r: { TREAT: specs } } } } }, { secret, mode: 'production' });
    return policy.protect<Record<string, string>>(value, ctx(['r'], 'TREAT'), 'R').value;
  }

  it('is "tok_" and 22 base64url characters, and does not contain the value', () => {
    const t = op('token', 'MRN-00424821') as string;
    expect(t).toMatch(TOKEN);
    expect(t).not.toContain('424821');
  });

  it('uses a custom prefix', () => {
    expect(op({ op: 'token', prefix: 'mrn_' }, 'MRN-00424821')).toMatch(/^mrn_[A-Za-z0-9_-]{22}$/);
  });

  it('is deterministic for the same secret, field and value, across compilations', () => {
    const a = tokens({ mrn: 'token' }, { mrn: 'MRN-00424821' });
    const b = tokens({ mrn: 'token' }, { mrn: 'MRN-00424821' });
    expect(a.mrn).toBe(b.mrn);
  });

  it('differs between values', () => {
    expect(op('token', 'MRN-00424821')).not.toBe(op('token', 'MRN-00424822'));
  });

  it('differs between secrets', () => {
    const a = tokens({ mrn: 'token' }, { mrn: 'MRN-00424821' }, 'a'.repeat(32));
    const b = tokens({ mrn: 'token' }, { mrn: 'MRN-00424821' }, 'b'.repeat(32));
    expect(a.mrn).toMatch(TOKEN);
    expect(a.mrn).not.toBe(b.mrn);
  });

  it('differs between fields by default: the field path is the domain', () => {
    const out = tokens({ mrn: 'token', accountNo: 'token' }, { mrn: '00424821', accountNo: '00424821' });
    expect(out.mrn).not.toBe(out.accountNo);
  });

  it('differs between domains, and is equal for fields sharing a domain', () => {
    const out = tokens(
      { a: { op: 'token', domain: 'mrn' }, b: { op: 'token', domain: 'mrn' }, c: { op: 'token', domain: 'account' } },
      { a: '00424821', b: '00424821', c: '00424821' },
    );
    expect(out.a).toBe(out.b);
    expect(out.a).not.toBe(out.c);
  });

  it('normalizes Unicode: composed and decomposed spellings get the same token', () => {
    const composed = 'Jos\u00e9 Pe\u00f1a';
    const decomposed = 'Jose\u0301 Pen\u0303a';
    expect(composed).not.toBe(decomposed);
    expect(op('token', composed)).toBe(op('token', decomposed));
  });

  it('omits values that are not strings or numbers, and keeps null', () => {
    for (const v of [{ a: 1 }, [1], true]) expect(omits('token', v)).toBe(true);
    expect(op('token', null)).toBeNull();
  });
});

describe('custom operators', () => {
  it('receive the value and the rule\'s args', () => {
    const bucket = vi.fn((value: unknown, args: Readonly<Record<string, unknown>>) => Math.floor(Number(value) / Number(args.size)) * Number(args.size));
    const out = applyOperator({ custom: 'bucket', args: { size: 10 } }, 47, { operators: { bucket } });
    expect(out.v).toBe(40);
    expect(bucket).toHaveBeenCalledWith(47, { size: 10 });
  });

  it('receive empty args when the rule gives none', () => {
    const seen: unknown[] = [];
    applyOperator({ custom: 'spy' }, 'x', { operators: { spy: (_v, args) => seen.push(args) } });
    expect(seen).toEqual([{}]);
  });

  it('a custom operator that throws omits the field instead of crashing the response', () => {
    const policy = compilePolicy(
      {
        roles: ['r'],
        resources: { R: { fields: { a: 'clinical', b: 'clinical' }, disclose: { r: { TREAT: { a: { custom: 'boom' }, b: 'send' } } } } },
      },
      {
        mode: 'production',
        operators: {
          boom: () => {
            throw new Error('operator failed on Maria Lopez');
          },
        },
      },
    );
    const { value, disclosure } = policy.protect({ a: 'Maria Lopez', b: 2 }, ctx(['r'], 'TREAT'), 'R');
    expect(value).toEqual({ b: 2 });
    expect(disclosure.disclosed).toEqual(['b']);
  });

  it('a custom operator returning undefined omits the field', () => {
    expect(Object.hasOwn(applyOperator({ custom: 'none' }, 'x', { operators: { none: () => undefined } }), 'v')).toBe(false);
  });
});

describe('scrub', () => {
  const note = 'Jane called from 617-555-0143 about SSN 123-45-6789; glucose 105 mg/dL.';
  it('replaces the identifiers the DLP scanner finds, keeping the rest of the text', () => {
    // "Jane" starts the sentence before a person verb and is a known given name: a name.
    expect(applyOperator('scrub', note).v).toBe('[PERSON_NAME] called from [PHONE] about SSN [SSN]; glucose 105 mg/dL.');
  });
  it('takes types and a mask style', () => {
    expect(applyOperator({ op: 'scrub', types: ['SSN'] }, note).v).toBe('Jane called from 617-555-0143 about SSN [SSN]; glucose 105 mg/dL.');
    expect(applyOperator({ op: 'scrub', types: ['SSN'], style: 'mask' }, note).v).toBe('Jane called from 617-555-0143 about SSN ***********; glucose 105 mg/dL.');
  });
  it('omits non-strings and rejects bad arguments at compile time', () => {
    expect(applyOperator('scrub', { text: 'x' })).toEqual({});
    expect(applyOperator('scrub', null).v).toBeNull();
    expect(() => applyOperator({ op: 'scrub', types: ['SNN'] } as never, note)).toThrow(/"types" must be a list/);
    expect(() => applyOperator({ op: 'scrub', style: 'blur' } as never, note)).toThrow(/"style"/);
  });
});
