/**
 * Sensitive categories declared once for the policy apply to every resource that carries coded
 * elements, and to Safe Harbor for the caller it de-identifies for.
 */
import { describe, expect, it } from 'vitest';
import { StepUpRequiredError, compilePolicy, type AccessContext, type PolicyDefinition } from '@phiguard/core';
import { createSafeHarbor } from '@phiguard/core/deid';
import { compileUnchecked, problemsOf, SECRET } from './helpers.js';

const HIV = '20447-9';
const categories = { HIV: { codes: [HIV], tags: ['HIV'], reveal: { provider: ['TREAT'] }, stepUp: true } };
const definition = (extra: Record<string, unknown> = {}) =>
  ({
    roles: ['provider', 'researcher'],
    categories,
    resources: {
      Results: {
        fields: { 'patient.name': 'direct-identifier', 'obs[].code': 'clinical', 'obs[].value': 'clinical', 'obs[].note': 'free-text' },
        sensitive: [{ elements: 'obs[]', codes: 'code', mask: ['value', 'note'] }],
        disclose: { provider: { TREAT: { '*': 'send' } }, researcher: { HRESCH: { '@clinical': 'send' } } },
      },
      Rows: {
        fields: { '[].test': 'clinical', '[].value': 'clinical' },
        sensitive: [{ elements: '[]', codes: 'test', mask: ['value'] }],
        disclose: { provider: { TREAT: { '*': 'send' } }, researcher: { HRESCH: { '*': 'send' } } },
      },
      ...extra,
    },
  }) as unknown as PolicyDefinition;

const now = () => Math.floor(Date.now() / 1000);
const provider = (mfa: boolean): AccessContext => ({
  principal: { id: 'p' },
  roles: ['provider'],
  purposeOfUse: 'TREAT',
  authentication: { methods: mfa ? ['pwd', 'otp'] : ['pwd'], time: now() },
});
const researcher: AccessContext = { principal: { id: 'r' }, roles: ['researcher'], purposeOfUse: 'HRESCH' };
const record = () => ({ patient: { name: 'Avery Quinn' }, obs: [{ code: HIV, value: 48, note: 'call Avery' }, { code: '718-7', value: 13.2 }] });

describe('categories declared once apply to every resource', () => {
  const policy = compilePolicy(definition(), { mode: 'production' });

  it('a list of rows masks or asks the second factor exactly as the nested view does', () => {
    const rows = [{ test: HIV, value: '48' }, { test: '718-7', value: '13.2' }];
    expect(policy.protect(rows, researcher, 'Rows').value).toEqual([{ test: HIV }, { test: '718-7', value: '13.2' }]);
    expect(() => policy.protect(rows, provider(false), 'Rows')).toThrow(StepUpRequiredError);
    expect(() => policy.protect(record(), provider(false), 'Results')).toThrow(StepUpRequiredError);
    expect(policy.protect(rows, provider(true), 'Rows').value).toEqual(rows);
  });

  it('a resource with coded fields and no sensitive elements does not compile; sensitive: [] says it carries none', () => {
    const uncovered = { Export: { fields: { '[].test': 'clinical', '[].value': 'clinical' }, disclose: { provider: { TREAT: { '*': 'send' } } } } };
    expect(problemsOf(() => compileUnchecked(definition(uncovered)))).toEqual([
      expect.stringMatching(/resource "Export": carries coded fields \(\[\]\.test\) but declares no sensitive elements/),
    ]);
    expect(() => compileUnchecked(definition({ Export: { ...uncovered.Export, sensitive: [] } }))).not.toThrow();
    // Coded fields outside every declared element are reported too.
    const partly = { Export: { ...uncovered.Export, fields: { ...uncovered.Export.fields, 'meta.security': 'clinical' }, sensitive: [{ elements: '[]', codes: 'test', mask: ['value'] }] } };
    expect(problemsOf(() => compileUnchecked(definition(partly)))).toEqual([expect.stringMatching(/coded fields outside every sensitive element: meta\.security/)]);
  });

  it('a raw-body resource of PHI must say how its sensitive elements are handled', () => {
    const raw = { Extract: { rawBody: 'allow', fields: { records: 'clinical' }, disclose: { researcher: { HRESCH: { '*': 'send' } } } } };
    expect(problemsOf(() => compileUnchecked(definition(raw)))).toEqual([expect.stringMatching(/resource "Extract": sends raw bodies of PHI, which no plan can mask/)]);
    expect(() => compileUnchecked(definition({ Extract: { ...raw.Extract, sensitive: [] } }))).not.toThrow();
    expect(() => compileUnchecked(definition({ Extract: { ...raw.Extract, fields: { count: 'non-phi' } } }))).not.toThrow();
  });

  it('a sensitive entry without categories of its own needs the policy\'s', () => {
    const d = definition() as unknown as { categories?: unknown };
    delete d.categories;
    expect(problemsOf(() => compileUnchecked(d))).toContainEqual(expect.stringMatching(/give its categories, or declare them once in the policy's `categories`/));
  });
});

describe('Safe Harbor applies the reveal and step-up rules for its caller', () => {
  const policy = compilePolicy(definition(), { secret: SECRET, mode: 'production' });
  const run = createSafeHarbor({ resource: 'Results', policy });

  it('without a context, or for a caller the category is not revealed to, the masked fields are removed', () => {
    for (const context of [undefined, researcher]) {
      const { value, report } = run(record(), context === undefined ? undefined : { context });
      expect(value).toEqual({ patient: {}, obs: [{ code: HIV }, { code: '718-7', value: 13.2 }] });
      expect(report.entries.filter((e) => e.action === 'removed:sensitive-category').map((e) => [e.path, e.count])).toEqual([
        ['obs[].note', 1],
        ['obs[].value', 1],
      ]);
    }
  });

  it('a revealed caller needs the second factor, and then keeps the values', () => {
    expect(() => run(record(), { context: provider(false) })).toThrow(StepUpRequiredError);
    const { value } = run(record(), { context: provider(true) });
    const [first] = (value as { obs: { note: string }[] }).obs;
    // The name is scrubbed either as the record's own identifier or by the scanner's name lexicon.
    expect(first).toEqual({ code: HIV, value: 48, note: expect.stringMatching(/^call \[(IDENTIFIER|PERSON_NAME)\]$/) });
  });

  it('never mutates the input, and an element past the code caps is withheld', () => {
    const input = record();
    run(input, { context: researcher });
    expect(input).toEqual(record());
    const many = { obs: [{ code: Array.from({ length: 65 }, () => '718-7'), value: 1 }] };
    const p = compilePolicy(definition(), { mode: 'production' });
    expect(createSafeHarbor({ resource: 'Results', policy: p })(many, { context: provider(true) }).value).toEqual({ obs: [{ code: many.obs[0]!.code }] });
  });
});
