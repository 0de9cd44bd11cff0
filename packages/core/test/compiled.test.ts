/**
 * Compiled plans against the interpreter: for random policies (every built-in operator, custom
 * operators with odd results, wildcards, arrays, sensitive elements, prototype-named and
 * hostile keys) and random documents (unicode, toJSON objects, Dates, deep and large values,
 * type mismatches), `plan.serialize` writes exactly the text JSON.stringify writes for
 * `plan.apply`, with the same disclosure record, and fails with the same error where the
 * interpreter fails.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  AccessDeniedError,
  compilePolicy,
  type AccessContext,
  type FieldClass,
  type OperatorSpec,
  type PolicyDefinition,
} from '@phiguard/core';
import { type Plan } from '@phiguard/core/policy';
import { SECRET } from './helpers.js';

const CLASSES: readonly FieldClass[] = ['direct-identifier', 'quasi-identifier', 'clinical', 'free-text', 'sensitive', 'non-phi'];
/** Policy keys: ordinary, prototype-named, array-index-like, unicode, quote- and code-like. */
const KEYS = ['a', 'b', 'id', 'name', '__proto__', 'constructor', 'toString', 'hasOwnProperty', '0', '7', '10', 'naïve', '日本', 'x"y', 'back\\slash', '"+eval("pwn=1")+"', '`${pwn}`', "'});pwn=1;//", '</script>'];
const OPS: readonly OperatorSpec[] = [
  'send',
  'deny',
  'redact',
  'null',
  'partial',
  'initials',
  'year',
  'zip3',
  'age90',
  'token',
  { op: 'replace', with: 'ü"\\' },
  { op: 'partial', keep: 2 },
  { custom: 'odd' },
];
const ROLES = ['r1', 'r2'] as const;
const PURPOSES = ['TREAT', 'HPAYMT'] as const;

/** A custom operator whose results JSON.stringify treats in every way it can. */
function odd(value: unknown): unknown {
  const kind = typeof value === 'string' ? value.length % 6 : typeof value === 'number' ? Math.abs(Math.trunc(value)) % 6 : 6;
  switch (kind) {
    case 0:
      return () => 1; // omitted in an object, null in an array
    case 1:
      return Number.NaN; // null
    case 2:
      return { nested: [value, { deep: true }] };
    case 3:
      return undefined;
    case 4:
      return new Date(Date.UTC(2020, 0, 1));
    case 5:
      return `«${String(value)}»`;
    default:
      return value;
  }
}

const spell = (segments: readonly string[]): string => {
  let out = '';
  for (const s of segments) out += s === '[]' ? '[]' : out.length === 0 ? s : `.${s}`;
  return out;
};

interface Field {
  segments: string[];
  path: string;
  cls: FieldClass;
}

const segmentArb = fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...KEYS) }, { weight: 1, arbitrary: fc.constant('*') }, { weight: 2, arbitrary: fc.constant('[]') });

/** Fields whose paths never overlap (no path is a prefix of another). */
const fieldsArb = fc
  .array(fc.tuple(fc.array(segmentArb, { minLength: 1, maxLength: 4 }), fc.constantFrom(...CLASSES)), { minLength: 1, maxLength: 10 })
  .map((candidates) => {
    const accepted: Field[] = [];
    const isPrefix = (p: readonly string[], q: readonly string[]) => p.length <= q.length && p.every((s, i) => s === q[i]);
    for (const [segments, cls] of candidates) {
      if (accepted.some((f) => isPrefix(f.segments, segments) || isPrefix(segments, f.segments))) continue;
      accepted.push({ segments, path: spell(segments), cls });
    }
    return accepted;
  });

const ruleSetArb = (fields: readonly Field[]) =>
  fc
    .array(fc.tuple(fc.constantFrom(...fields.map((f) => f.path), ...CLASSES.map((c) => `@${c}`), '*'), fc.constantFrom(...OPS)), { maxLength: 8 })
    .map((entries) => Object.fromEntries(entries));

const rulesArb = (fields: readonly Field[]) => {
  const perRole = fc.record({ TREAT: ruleSetArb(fields), HPAYMT: fc.option(ruleSetArb(fields), { nil: undefined }) }).map((r) =>
    Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)),
  );
  return fc.record({ r1: perRole, r2: perRole });
};

/** A value a model hides behind toJSON: its own enumerable keys are not what it serializes to. */
class Model {
  readonly dataValues: unknown;
  readonly _secret = 'internal';
  constructor(value: unknown) {
    this.dataValues = value;
  }
  toJSON(): unknown {
    return this.dataValues;
  }
}

const stringArb = fc.oneof(fc.string({ maxLength: 8 }), fc.string({ unit: 'grapheme', maxLength: 6 }), fc.string({ unit: 'binary', maxLength: 6 }), fc.constantFrom('20447-9', 'HIV', '1957-03-04', '02139', '95', ''));
const scalarArb = fc.oneof(stringArb, fc.integer({ min: -200, max: 200 }), fc.double(), fc.boolean(), fc.constant(null), fc.constant(undefined));
const dynamicKeyArb = fc.oneof(fc.constantFrom(...KEYS, 'ssn', '\u2028', 'a b', 'a.b', '[]'), fc.string({ minLength: 1, maxLength: 4 }));

function objectOf(entries: readonly (readonly [string, unknown])[]): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const [k, v] of entries) Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  return o;
}

/** Wraps some values the way applications hand them over: ORM instances, Dates, null-prototype objects. */
const wrapped = (arb: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> =>
  fc.oneof(
    { weight: 8, arbitrary: arb },
    { weight: 1, arbitrary: arb.map((v) => new Model(v)) },
    { weight: 1, arbitrary: arb.map((v) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.assign(Object.create(null) as object, v) : v)) },
    { weight: 1, arbitrary: fc.date({ noInvalidDate: false }) },
    { weight: 1, arbitrary: stringArb.map((v) => Buffer.from(v)) },
  );

const { json: jsonArb } = fc.letrec<{ json: unknown; arr: unknown[]; obj: Record<string, unknown> }>((tie) => ({
  json: wrapped(fc.oneof({ depthSize: 'small', maxDepth: 3 }, scalarArb, tie('arr'), tie('obj'))),
  arr: fc.array(tie('json'), { maxLength: 4 }),
  obj: fc.array(fc.tuple(dynamicKeyArb, tie('json')), { maxLength: 4 }).map(objectOf),
}));

interface Trie {
  keys: Map<string, Trie>;
  any: Trie | null;
  elem: Trie | null;
  field: boolean;
}

function trieOf(fields: readonly Field[]): Trie {
  const fresh = (): Trie => ({ keys: new Map(), any: null, elem: null, field: false });
  const root = fresh();
  for (const f of fields) {
    let node = root;
    for (const s of f.segments) {
      if (s === '[]') node = node.elem ??= fresh();
      else if (s === '*') node = node.any ??= fresh();
      else {
        if (!node.keys.has(s)) node.keys.set(s, fresh());
        node = node.keys.get(s)!;
      }
    }
    node.field = true;
  }
  return root;
}

/** A document shaped like the policy, with undeclared keys and mismatched types mixed in. */
function docArb(node: Trie): fc.Arbitrary<unknown> {
  if (node.field) return jsonArb;
  const options: fc.Arbitrary<unknown>[] = [];
  if (node.keys.size > 0 || node.any) {
    const declared = [...node.keys].map(([k, child]) => fc.option(docArb(child).map((v) => [k, v] as const), { nil: undefined }));
    const wild = node.any ? fc.array(fc.tuple(dynamicKeyArb, docArb(node.any)), { maxLength: 3 }) : fc.constant([]);
    const junk = fc.array(fc.tuple(dynamicKeyArb, jsonArb), { maxLength: 2 });
    options.push(
      fc.tuple(fc.tuple(...declared), wild, junk, fc.boolean()).map(([d, w, j, reverse]) => {
        const entries = [...d.filter((e): e is readonly [string, unknown] => e !== undefined), ...w, ...j];
        return objectOf(reverse ? entries.reverse() : entries);
      }),
    );
  }
  if (node.elem) options.push(fc.array(docArb(node.elem), { maxLength: 4 }));
  options.push(jsonArb);
  return wrapped(fc.oneof(...options));
}

type Outcome = { json: string; disclosure: unknown } | { error: string; code: unknown; limit: unknown; message: string };

function outcome(run: () => { json: string; disclosure: unknown }): Outcome {
  try {
    return run();
  } catch (err) {
    const e = err as Error & { code?: unknown; limit?: unknown };
    return { error: e.constructor.name, code: e.code, limit: e.limit, message: e.message };
  }
}

/** The reference: the interpreter's projection, serialized by JSON.stringify as an adapter would. */
const interpreted = (plan: Plan, doc: unknown, context: Pick<AccessContext, 'principal'>) =>
  outcome(() => {
    const r = plan.apply(doc, context);
    return { json: JSON.stringify(r.value) ?? 'null', disclosure: r.disclosure };
  });
const compiled = (plan: Plan, doc: unknown, context: Pick<AccessContext, 'principal'>) =>
  outcome(() => {
    const r = plan.serialize(doc, context);
    return { json: r.json, disclosure: r.disclosure };
  });

const limitsArb = fc.option(
  fc.record({ maxDepth: fc.integer({ min: 1, max: 6 }), maxNodes: fc.integer({ min: 1, max: 80 }), maxChars: fc.integer({ min: 1, max: 120 }) }),
  { nil: undefined, freq: 3 },
);

const scenarioArb = fieldsArb.chain((fields) =>
  fc.record({
    fields: fc.constant(fields),
    rules: rulesArb(fields),
    limits: limitsArb,
    requests: fc.array(fc.record({ roles: fc.shuffledSubarray([...ROLES], { minLength: 1 }), purpose: fc.constantFrom(...PURPOSES), doc: docArb(trieOf(fields)) }), {
      minLength: 1,
      maxLength: 4,
    }),
  }),
);

const policyOf = (fields: readonly Field[], rules: unknown): PolicyDefinition => ({
  roles: [...ROLES],
  resources: { R: { fields: Object.fromEntries(fields.map((f) => [f.path, f.cls])), disclose: rules as never } },
});

describe('compiled plans agree with the interpreter', () => {
  it('same JSON text, same disclosure record and same errors on random policies and documents', () => {
    let compared = 0;
    let errors = 0;
    fc.assert(
      fc.property(scenarioArb, ({ fields, rules, limits, requests }) => {
        const policy = compilePolicy(policyOf(fields, rules), { secret: SECRET, operators: { odd }, mode: 'production', ...(limits ? { limits } : {}) });
        for (const { roles, purpose, doc } of requests) {
          const context = { principal: { id: 'u' }, roles, purposeOfUse: purpose };
          const decision = policy.decide(context, 'R');
          if (decision.effect !== 'allow') continue;
          // Twice: the second call runs the already generated code and the memoised disclosure.
          for (let i = 0; i < 2; i++) {
            const expected = interpreted(decision.plan, doc, context);
            expect(compiled(decision.plan, doc, context)).toEqual(expected);
            compared++;
            if ('error' in expected) errors++;
          }
        }
      }),
      { seed: 18, numRuns: 600 },
    );
    expect(compared).toBeGreaterThan(1000);
    // Limits and odd operator results must be exercised, not only the happy path.
    expect(errors).toBeGreaterThan(50);
  });

  it('agrees on sensitive elements for every caller (masked, revealed, step-up)', () => {
    const policy = compilePolicy(
      {
        roles: ['doctor', 'nurse'],
        stepUp: { maxAgeSeconds: 600 },
        resources: {
          R: {
            fields: { id: 'non-phi', 'obs[].code': 'clinical', 'obs[].tags[]': 'clinical', 'obs[].value': 'clinical', 'obs[].note': 'free-text', 'obs[].extra.*': 'clinical' },
            sensitive: [
              {
                elements: 'obs[]',
                codes: 'code',
                tags: 'tags[]',
                mask: ['value', 'note', 'extra.*'],
                categories: { HIV: { codes: ['20447-9'], tags: ['HIV'], reveal: { doctor: ['TREAT'] }, stepUp: true }, genetic: { tags: ['GDIS'], reveal: { doctor: ['TREAT'] } } },
              },
            ],
            disclose: { doctor: { TREAT: { '*': 'send' } }, nurse: { TREAT: { '*': 'send', 'obs[].note': 'initials' } } },
          },
        },
      },
      { mode: 'production' },
    );
    const obsArb = fc.record(
      {
        code: fc.oneof(fc.constantFrom('20447-9', '2345-7'), stringArb),
        tags: fc.array(fc.constantFrom('HIV', 'GDIS', 'x'), { maxLength: 3 }),
        value: jsonArb,
        note: stringArb,
        extra: fc.array(fc.tuple(dynamicKeyArb, jsonArb), { maxLength: 3 }).map(objectOf),
      },
      { requiredKeys: [] },
    );
    const now = Math.floor(Date.now() / 1000);
    const contexts = [
      { principal: { id: 'd' }, roles: ['doctor'], purposeOfUse: 'TREAT', authentication: { methods: ['pwd', 'otp'], time: now } },
      { principal: { id: 'd' }, roles: ['doctor'], purposeOfUse: 'TREAT', authentication: { methods: ['pwd'], time: now } },
      { principal: { id: 'n' }, roles: ['nurse'], purposeOfUse: 'TREAT' },
    ];
    fc.assert(
      fc.property(fc.record({ id: fc.string(), obs: fc.array(wrapped(obsArb), { maxLength: 5 }) }), (doc) => {
        for (const context of contexts) {
          const decision = policy.decide(context, 'R');
          if (decision.effect !== 'allow') throw new Error('expected allow');
          expect(compiled(decision.plan, doc, context)).toEqual(interpreted(decision.plan, doc, context));
        }
      }),
      { seed: 1618, numRuns: 300 },
    );
  });

  it('agrees in development mode too (serialize runs the interpreter and reports the same paths)', () => {
    const warnings: string[][] = [[], []];
    let which = 0;
    const policy = compilePolicy(
      { roles: ['r'], resources: { R: { fields: { a: 'clinical', 'b[].c': 'direct-identifier' }, disclose: { r: { TREAT: { a: 'send', 'b[].c': 'partial' } } } } } },
      { mode: 'development', warn: (m) => warnings[which]!.push(m) },
    );
    const context = { principal: { id: 'u' }, roles: ['r'], purposeOfUse: 'TREAT' };
    const plan = (policy.decide(context, 'R') as { plan: Plan }).plan;
    const doc = { a: new Model({ x: 1 }), b: [{ c: '123456', d: 'undeclared' }], e: 1 };
    const expected = interpreted(plan, doc, context);
    which = 1;
    expect(compiled(plan, doc, context)).toEqual(expected);
    expect(warnings[0]!.length).toBe(1);
  });

  it('large and deep documents: same text at 10,000 rows, same refusal past the limits', () => {
    const policy = compilePolicy(
      {
        roles: ['r'],
        resources: { R: { fields: { '[].id': 'non-phi', '[].name': 'direct-identifier', '[].mrn': 'direct-identifier', '[].extension': 'non-phi' }, disclose: { r: { TREAT: { '[].name': 'initials', '[].mrn': 'token' } } } } },
      },
      { secret: SECRET, mode: 'production' },
    );
    const context = { principal: { id: 'u' }, roles: ['r'], purposeOfUse: 'TREAT' };
    const plan = (policy.decide(context, 'R') as { plan: Plan }).plan;
    const rows = Array.from({ length: 10_000 }, (_, i) => ({ id: i, name: `Ana María ${i}`, mrn: `MRN-${i}`, extension: { note: 'ñ'.repeat(i % 7), list: [i, { at: new Date(i) }] } }));
    const expected = interpreted(plan, rows, context);
    expect('json' in expected).toBe(true);
    expect(compiled(plan, rows, context)).toEqual(expected);

    let deep: unknown = 'end';
    for (let i = 0; i < 200; i++) deep = { extension: [deep] };
    const circular: Record<string, unknown> = { id: 1 };
    circular.extension = circular;
    for (const doc of [[{ id: 1, extension: deep }], [circular]]) {
      const refused = interpreted(plan, doc, context);
      expect(refused).toMatchObject({ error: 'LimitExceededError', limit: 'maxDepth' });
      expect(compiled(plan, doc, context)).toEqual(refused);
    }
  });
});

describe('generated code', () => {
  it('hostile field names are data: they project as the interpreter projects them and run no code', () => {
    const hostile = ['"+eval("pwn=1")+"', "'+eval('pwn=1')+'", '`${eval("pwn=1")}`', '*/eval("pwn=1")/*', '\\";eval("pwn=1");//', '\u0000', '</script><script>pwn=1</script>', '__proto__', 'constructor'];
    const fields = Object.fromEntries(hostile.map((k, i) => [`${k}`, i % 2 ? 'non-phi' : 'direct-identifier'] as const));
    const nested = Object.fromEntries(hostile.map((k) => [`o.${k}`, 'non-phi'] as const));
    const policy = compilePolicy(
      { roles: ['r'], resources: { R: { fields: { ...fields, ...nested }, disclose: { r: { TREAT: { '@direct-identifier': 'partial' } } } } } },
      { mode: 'production' },
    );
    const context = { principal: { id: 'u' }, roles: ['r'], purposeOfUse: 'TREAT' };
    const plan = (policy.decide(context, 'R') as { plan: Plan }).plan;
    const doc = JSON.parse(JSON.stringify({ ...Object.fromEntries(hostile.map((k) => [k, `v-${k}`])), o: Object.fromEntries(hostile.map((k) => [k, k])) })) as unknown;
    const expected = interpreted(plan, doc, context);
    expect(compiled(plan, doc, context)).toEqual(expected);
    expect((globalThis as { pwn?: unknown }).pwn).toBeUndefined();
    const out = JSON.parse((expected as { json: string }).json) as Record<string, unknown>;
    expect(Object.keys(out).sort()).toEqual([...hostile, 'o'].sort());
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
  });

  it('the generated source holds field names as JSON literals and never a field value', () => {
    const policy = compilePolicy(
      { roles: ['r'], resources: { R: { fields: { 'p.name': 'direct-identifier', 'p.ssn': 'direct-identifier', 'p.x"y': 'non-phi', 'rows[].v': 'clinical', 'm.*': 'clinical' }, disclose: { r: { TREAT: { 'p.name': 'initials', '@clinical': 'send' } } } } } },
      { mode: 'production' },
    );
    const context = { principal: { id: 'u' }, roles: ['r'], purposeOfUse: 'TREAT' };
    const plan = (policy.decide(context, 'R') as { plan: Plan }).plan;
    const marker = 'Zebulon-Quartz-7731';
    plan.serialize({ p: { name: marker, ssn: `${marker}-ssn`, 'x"y': marker }, rows: [{ v: marker }], m: { [marker]: marker } }, context);
    const source = (plan as unknown as { compiled: { source: string } }).compiled.source;
    expect(source).not.toContain('Zebulon');
    expect(source).toContain(JSON.stringify('x"y'));
    // A name appears only inside string literals: removing them leaves no trace of the names.
    const withoutLiterals = source.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""');
    for (const name of ['name', 'ssn', 'rows']) expect(withoutLiterals).not.toMatch(new RegExp(`\\b${name}\\b`));
  });
});

describe('toJSON', () => {
  const policy = compilePolicy(
    {
      roles: ['billing', 'clerk'],
      resources: {
        R: {
          fields: { '[].id': 'non-phi', '[].name': 'direct-identifier', '[].ssn': 'direct-identifier', '[].dob': 'quasi-identifier', '[].visits[].at': 'quasi-identifier', '[].meta': 'non-phi' },
          disclose: { billing: { HPAYMT: { '[].name': 'send', '[].dob': 'year', '[].visits[].at': 'year' } }, clerk: { HOPERAT: { '*': 'send' } } },
        },
      },
    },
    { mode: 'production' },
  );
  const billing = { principal: { id: 'b' }, roles: ['billing'], purposeOfUse: 'HPAYMT' };
  const clerk = { principal: { id: 'c' }, roles: ['clerk'], purposeOfUse: 'HOPERAT' };
  const both = (value: unknown, context: typeof billing) => {
    const plan = (policy.decide(context, 'R') as { plan: Plan }).plan;
    const a = JSON.stringify(plan.apply(value, context).value);
    const b = plan.serialize(value, context).json;
    expect(b).toBe(a);
    return JSON.parse(b) as unknown;
  };

  /** Shaped like a Sequelize model instance: columns in dataValues, exposed by getters on the prototype. */
  class Row {
    dataValues: Record<string, unknown>;
    _previousDataValues: Record<string, unknown>;
    isNewRecord = false;
    constructor(values: Record<string, unknown>) {
      this.dataValues = { ...values };
      this._previousDataValues = { ...values };
    }
    get(): Record<string, unknown> {
      return { ...this.dataValues };
    }
    toJSON(): Record<string, unknown> {
      return this.get();
    }
  }
  for (const key of ['id', 'name', 'ssn', 'dob']) {
    Object.defineProperty(Row.prototype, key, { get(this: Row) { return this.dataValues[key]; }, enumerable: false });
  }

  it('ORM-shaped instances are projected on their toJSON(): never {}, never their internals', () => {
    const rows = [new Row({ id: 1, name: 'Ana', ssn: '123-45-6789', dob: '1957-03-04' }), new Row({ id: 2, name: 'Bo', ssn: '987-65-4320', dob: new Date('1990-05-06T00:00:00Z') })];
    expect(both(rows, billing)).toEqual([
      { id: 1, name: 'Ana', dob: '1957' },
      { id: 2, name: 'Bo', dob: '1990' },
    ]);
    const all = both(rows, clerk) as Record<string, unknown>[];
    expect(all[0]).toEqual({ id: 1, name: 'Ana', ssn: '123-45-6789', dob: '1957-03-04' });
    expect(JSON.stringify(all)).not.toMatch(/dataValues|_previous|isNewRecord/);
  });

  it('fields a model hides through toJSON stay hidden, also under a field sent whole', () => {
    class Meta {
      readonly audit = 'ssn 123-45-6789 looked up';
      readonly shown = 'ok';
      toJSON() {
        return { shown: this.shown };
      }
    }
    const out = both([{ id: 1, meta: { list: [new Meta()], one: new Meta() } }], clerk);
    expect(out).toEqual([{ id: 1, meta: { list: [{ shown: 'ok' }], one: { shown: 'ok' } } }]);
  });

  it('Dates anywhere are their ISO text, as JSON.stringify writes them', () => {
    const at = new Date('2021-07-08T09:10:11Z');
    expect(both([{ id: 1, visits: [{ at }], meta: { at } }], clerk)).toEqual([{ id: 1, visits: [{ at: at.toISOString() }], meta: { at: at.toISOString() } }]);
    expect(both([{ id: 1, visits: [{ at }] }], billing)).toEqual([{ id: 1, visits: [{ at: '2021' }] }]);
  });

  it("a patient's own record is recognised through toJSON, another patient's refused (PATRQT)", () => {
    const own = compilePolicy(
      { roles: ['patient'], resources: { R: { subject: 'patient.id', fields: { 'patient.id': 'direct-identifier', 'patient.name': 'direct-identifier' }, disclose: { patient: { PATRQT: { '*': 'send' } } } } } },
      { secret: SECRET, mode: 'production' },
    );
    const me = { principal: { id: 'p', patientId: '1001' }, roles: ['patient'], purposeOfUse: 'PATRQT' };
    const plan = (own.decide(me, 'R') as { plan: Plan }).plan;
    const record = (id: string) => ({ patient: new Row({ id, name: 'Ana' }) });
    expect(JSON.parse(plan.serialize(record('1001'), me).json)).toEqual({ patient: { id: '1001', name: 'Ana' } });
    expect(plan.apply(record('1001'), me).value).toEqual({ patient: { id: '1001', name: 'Ana' } });
    expect(() => plan.serialize(record('1002'), me)).toThrow(/not_own_record|own record/);
    expect(() => plan.apply(record('1002'), me)).toThrow(AccessDeniedError);
  });

  it('development warnings name the columns a model serializes, never its internals', () => {
    const warnings: string[] = [];
    const dev = compilePolicy(
      { roles: ['r'], resources: { R: { fields: { '[].id': 'non-phi' }, disclose: { r: { TREAT: { '*': 'send' } } } } } },
      { mode: 'development', warn: (m) => warnings.push(m) },
    );
    const context = { principal: { id: 'u' }, roles: ['r'], purposeOfUse: 'TREAT' };
    expect(dev.protect([new Row({ id: 1, ssn: '123-45-6789' })], context, 'R').value).toEqual([{ id: 1 }]);
    expect(warnings.join('\n')).toContain('[].ssn');
    expect(warnings.join('\n')).not.toMatch(/dataValues|_previous|isNewRecord|123-45/);
  });

  it('toJSON gets the key JSON.stringify would pass, and a throwing toJSON refuses the value', () => {
    const keys: string[] = [];
    const spy = { toJSON: (key: string) => (keys.push(key), 'x') };
    both([{ id: 1, meta: spy }], clerk);
    expect(keys).toEqual(['meta', 'meta']);
    const plan = (policy.decide(clerk, 'R') as { plan: Plan }).plan;
    const boom = [{ meta: { toJSON: () => { throw new Error('boom'); } } }];
    expect(() => plan.serialize(boom, clerk)).toThrow('boom');
    expect(() => plan.apply(boom, clerk)).toThrow('boom');
  });
});
