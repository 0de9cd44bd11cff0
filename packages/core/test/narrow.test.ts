/**
 * Per-handler narrowing in core: a handler takes fields away from what the policy grants, never
 * adds or unmasks; validated at start-up with problems that name the field.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { PolicyError, compilePolicy, type AccessContext } from '@phiguard/core';
import { compileNarrowing, type NarrowingRules } from '@phiguard/core/adapter';
import { SECRET } from './helpers.js';

const policy = compilePolicy(
  {
    roles: ['clinician', 'billing'],
    resources: {
      Labs: {
        id: 'id',
        subject: 'patient.id',
        fields: {
          id: 'non-phi',
          'patient.id': 'direct-identifier',
          'patient.name': 'direct-identifier',
          'patient.birthDate': 'quasi-identifier',
          'results[].code': 'clinical',
          'results[].value': 'clinical',
          'results[].note': 'free-text',
        },
        disclose: {
          clinician: { TREAT: { '*': 'send', 'patient.birthDate': 'year' } },
          billing: { HPAYMT: { 'results[].code': 'send', 'patient.id': { op: 'partial', keep: 2 } } },
        },
      },
    },
  },
  { secret: SECRET, mode: 'production' },
);
const clinician: AccessContext = { principal: { id: 'c' }, roles: ['clinician'], purposeOfUse: 'TREAT' };
const billing: AccessContext = { principal: { id: 'b' }, roles: ['billing'], purposeOfUse: 'HPAYMT' };

const doc = () => ({
  id: 'v-1',
  patient: { id: 'P1001', name: 'Avery Quinn', birthDate: '1980-02-03' },
  results: [
    { code: '718-7', value: 13.2, note: 'call Avery at 555-0100' },
    { code: '2345-7', value: 94 },
  ],
});

/** Declared paths present in a value (for comparison), `results[].code` style. */
function pathsIn(value: unknown, prefix = ''): string[] {
  if (Array.isArray(value)) return [...new Set(value.flatMap((v) => pathsIn(v, `${prefix}[]`)))];
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => pathsIn(v, prefix === '' ? k : `${prefix}.${k}`));
  }
  return [prefix];
}

const run = (rules: NarrowingRules, context: AccessContext) => {
  const n = compileNarrowing(policy, 'Labs', rules);
  const plan = policy.decide(context, 'Labs');
  if (plan.effect !== 'allow') throw new Error('expected allow');
  const input = doc();
  const { value, disclosure } = plan.plan.apply(n.before(input), context);
  expect(input).toEqual(doc()); // never mutated
  return { value: n.after(value), disclosure };
};

describe('compileNarrowing', () => {
  it('sends only what the handler names, through the caller\'s plan (masks stay)', () => {
    const { value } = run({ 'patient.birthDate': 'send', 'results[].code': 'send' }, clinician);
    expect(value).toEqual({ id: 'v-1', results: [{ code: '718-7' }, { code: '2345-7' }] , patient: { birthDate: '1980' } });
  });

  it('keeps the id and subject for audit while the plan runs, and removes them after when not sent', () => {
    const n = compileNarrowing(policy, 'Labs', { '@clinical': 'send', id: 'deny' });
    const before = n.before(doc()) as ReturnType<typeof doc>;
    expect(before.patient).toEqual({ id: 'P1001' });
    expect(before.id).toBe('v-1');
    const { value } = run({ '@clinical': 'send', id: 'deny' }, clinician);
    expect(value).toEqual({ results: [{ code: '718-7', value: 13.2 }, { code: '2345-7', value: 94 }] });
  });

  it('can never add to what the plan discloses (property over random narrowings and callers)', () => {
    const selectors = ['*', '@clinical', '@direct-identifier', '@free-text', '@quasi-identifier', 'id', 'patient.id', 'patient.name', 'results[].value', 'results[].note'];
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...selectors), fc.constantFrom('send' as const, 'deny' as const)), fc.constantFrom(clinician, billing), (rules, context) => {
        const n = compileNarrowing(policy, 'Labs', rules);
        const plain = policy.protect(doc(), context, 'Labs').value;
        const { value } = run(rules, context);
        const got = pathsIn(value);
        // Every path sent is sent by the plan alone, and is one the handler sends.
        for (const p of got) {
          expect(pathsIn(plain)).toContain(p);
          expect(n.sends.has(p)).toBe(true);
        }
        // And every path the plan sends that the handler sends is still there.
        for (const p of pathsIn(plain)) if (n.sends.has(p)) expect(got).toContain(p);
      }),
    );
  });

  it('rejects unknown fields and operators other than send and deny, naming the field', () => {
    let err: unknown;
    try {
      compileNarrowing(policy, 'Labs', { 'patient.nmae': 'send', 'results[].value': 'partial' } as unknown as NarrowingRules, 'ResultsController.find');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PolicyError);
    expect((err as PolicyError).problems).toEqual([
      expect.stringMatching(/^ResultsController\.find: "patient\.nmae" is not a declared field of Labs.*did you mean "patient\.name"\?/),
      expect.stringMatching(/^ResultsController\.find: "results\[\]\.value" uses "partial"; a handler can only narrow/),
    ]);
    expect(() => compileNarrowing(policy, 'Lab', {})).toThrow(/unknown resource "Lab"; did you mean "Labs"\?/);
  });
});

/**
 * An ORM-like instance (Sequelize, Mongoose): columns behind `dataValues`, internals alongside,
 * and `toJSON()` returning what the model serializes. Nested at several depths.
 */
class Model {
  readonly _previousDataValues: Record<string, unknown>;
  readonly sequelize = { connection: 'postgres://internal', password: 'not-a-field' };
  constructor(readonly dataValues: Record<string, unknown>) {
    this._previousDataValues = { ...dataValues };
  }
  toJSON(): Record<string, unknown> {
    return { ...this.dataValues };
  }
}

const ormDoc = () =>
  new Model({
    id: 'v-1',
    patient: new Model({ id: 'P1001', name: 'Avery Quinn', birthDate: '1980-02-03' }),
    results: [new Model({ code: '718-7', value: 13.2, note: 'call Avery at 555-0100' }), new Model({ code: '2345-7', value: 94 })],
  });

describe('compileNarrowing reads values through toJSON, as the plan does', () => {
  const selectors = ['*', '@clinical', '@direct-identifier', '@free-text', '@quasi-identifier', 'id', 'patient.id', 'patient.name', 'results[].value', 'results[].note'];

  it('narrows an ORM instance (toJSON at the root, in objects and in array elements) exactly as its JSON (property)', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...selectors), fc.constantFrom('send' as const, 'deny' as const)), fc.constantFrom(clinician, billing), (rules, context) => {
        const n = compileNarrowing(policy, 'Labs', rules);
        const decided = policy.decide(context, 'Labs');
        if (decided.effect !== 'allow') throw new Error('expected allow');
        const fromModel = n.after(decided.plan.apply(n.before(ormDoc()), context).value);
        const fromJson = n.after(decided.plan.apply(n.before(JSON.parse(JSON.stringify(ormDoc()))), context).value);
        expect(fromModel).toEqual(fromJson);
        // Internals of the model (connection, previous values) never reach the output.
        expect(JSON.stringify(fromModel) ?? '').not.toMatch(/internal|not-a-field|dataValues|_previous/);
      }),
    );
  });

  it('drops a field the handler does not send from inside a nested model, keeping the rest', () => {
    const n = compileNarrowing(policy, 'Labs', { '@clinical': 'send', 'patient.name': 'send' });
    const before = n.before(ormDoc()) as unknown;
    // The subject is kept for the audit while the plan runs; the note (free-text) is gone already.
    expect(JSON.parse(JSON.stringify(before))).toEqual({
      id: 'v-1',
      patient: { id: 'P1001', name: 'Avery Quinn' },
      results: [{ code: '718-7', value: 13.2 }, { code: '2345-7', value: 94 }],
    });
    const { value } = policy.protect(before, clinician, 'Labs');
    expect(n.after(value)).toEqual({ id: 'v-1', patient: { name: 'Avery Quinn' }, results: [{ code: '718-7', value: 13.2 }, { code: '2345-7', value: 94 }] });
  });

  it('leaves an ORM instance whose narrowing drops nothing untouched (the plan reads its toJSON)', () => {
    const n = compileNarrowing(policy, 'Labs', { '*': 'send' });
    const model = ormDoc();
    expect(n.before(model)).toBe(model);
  });
});
