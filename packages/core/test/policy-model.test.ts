/**
 * The policy model's checks that close silent leaks: sensitive-category caps that fail closed,
 * codes matched however they are spaced or cased, route patterns that can answer one request
 * for two resources, and subject / id / subjectParam that name nothing.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { match } from 'path-to-regexp';
import { StepUpRequiredError, compilePolicy, type AccessContext, type PolicyDefinition } from '@phiguard/core';
import { compileUnchecked, problemsOf, SECRET } from './helpers.js';

const HIV = '20447-9';
const BENIGN = ['718-7', '2345-7', '2160-0', '6690-2', '777-3'];

const sensitivePolicy = compilePolicy(
  {
    roles: ['provider', 'billing'],
    resources: {
      Labs: {
        fields: { 'obs[].code': 'clinical', 'obs[].tags': 'clinical', 'obs[].value': 'clinical' },
        sensitive: [
          {
            elements: 'obs[]',
            codes: 'code[].code',
            tags: 'tags[]',
            mask: ['value'],
            categories: { HIV: { codes: [HIV], tags: ['HIV'], reveal: { provider: ['TREAT'] }, stepUp: true } },
          },
        ],
        disclose: { provider: { TREAT: { '*': 'send' } }, billing: { HPAYMT: { '*': 'send' } } },
      },
    },
  } as unknown as PolicyDefinition,
  { mode: 'production' },
);

const billing: AccessContext = { principal: { id: 'b' }, roles: ['billing'], purposeOfUse: 'HPAYMT' };
const providerNoMfa: AccessContext = { principal: { id: 'p' }, roles: ['provider'], purposeOfUse: 'TREAT' };
const providerMfa: AccessContext = { ...providerNoMfa, authentication: { methods: ['otp'], time: Math.floor(Date.now() / 1000) } };

/** One observation with `count` codings, the HIV code at `at` (or nowhere when at < 0). */
function element(count: number, at: number, spell: (code: string) => string = (c) => c) {
  const code = Array.from({ length: count }, (_, i) => ({ code: i === at ? spell(HIV) : BENIGN[i % BENIGN.length]! }));
  return { obs: [{ code, tags: [], value: 'reactive' }] };
}

const valueOf = (context: AccessContext, doc: unknown) =>
  (sensitivePolicy.protect<{ obs: { value?: string }[] }>(doc, context, 'Labs').value.obs[0] ?? {}).value;

describe('sensitive-category detection fails closed at its caps', () => {
  it('masks the element for an unrevealed caller wherever the code sits, positions 0..200', () => {
    for (let at = 0; at <= 200; at++) {
      expect({ at, value: valueOf(billing, element(201, at)) }).toEqual({ at, value: undefined });
    }
  });

  it('for a revealed caller without a second factor: step-up within the cap, masked past it, never sent', () => {
    for (let at = 0; at <= 200; at++) {
      for (const count of [at + 1, 64, 65, 201].filter((n) => n > at)) {
        let outcome: string;
        try {
          outcome = valueOf(providerNoMfa, element(count, at)) === undefined ? 'masked' : 'sent';
        } catch (err) {
          outcome = err instanceof StepUpRequiredError ? 'step-up' : 'error';
        }
        expect({ at, count, outcome }).toEqual({ at, count, outcome: count <= 64 ? 'step-up' : 'masked' });
      }
    }
  });

  it('an element with more codes than are read is masked even when none is sensitive', () => {
    expect(valueOf(billing, element(64, -1))).toBe('reactive');
    expect(valueOf(billing, element(65, -1))).toBeUndefined();
    expect(valueOf(providerMfa, element(65, -1))).toBeUndefined();
  });

  it('a revealed caller with a second factor sees the element within the cap', () => {
    for (const at of [0, 31, 63]) expect(valueOf(providerMfa, element(64, at))).toBe('reactive');
  });

  it('matches codes and tags with surrounding spaces or another case', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('', ' ', '  ', '\t', '\n', '\u00a0'),
        fc.constantFrom('', ' ', '\t', '\r\n'),
        fc.nat(8),
        (before, after, at) => {
          expect(valueOf(billing, element(9, at, (c) => `${before}${c}${after}`))).toBeUndefined();
        },
      ),
    );
    for (const tag of ['HIV', 'hiv', ' HIV', 'Hiv\t']) {
      expect(valueOf(billing, { obs: [{ code: [], tags: [tag], value: 'reactive' }] })).toBeUndefined();
    }
  });

  it('deep or huge code structures cannot run past the walk budget unmasked', () => {
    const wide = { obs: [{ code: Array.from({ length: 5000 }, () => ({ other: 1 })), tags: [], value: 'reactive' }] };
    expect(valueOf(billing, wide)).toBeUndefined();
  });
});

describe('routes of two resources that can match one request are a policy error', () => {
  const withRoutes = (a: readonly string[], b: readonly string[]) => ({
    roles: ['r'],
    resources: {
      A: { routes: a, fields: { x: 'clinical' }, disclose: { r: { TREAT: { '*': 'send' } } } },
      B: { routes: b, fields: { x: 'clinical' }, disclose: { r: { TREAT: { '*': 'send' } } } },
    },
  });
  const overlapProblems = (a: readonly string[], b: readonly string[]) => {
    try {
      compileUnchecked(withRoutes(a, b));
      return [];
    } catch (err) {
      return ((err as { problems?: string[] }).problems ?? []).filter((p) => /route/.test(p));
    }
  };

  it.each([
    ['GET /patients/:id', 'GET /patients/:pid'],
    ['GET /Patients', 'GET /patients'],
    ['GET /a/', 'GET /a'],
    ['GET /a/*rest', 'GET /a/b/c'],
    ['GET /a{/:id}', 'GET /a'],
    ['GET /a{/:id}', 'GET /a/7'],
    ['GET /a/:x/b', 'GET /a/b/:y'],
    ['GET /a/:x.csv', 'GET /a/:y.csv'],
  ])('%s and %s overlap with neither more specific: an error', (a, b) => {
    expect(overlapProblems([a], [b])).toEqual([expect.stringMatching(/with neither more specific, so it would be claimed by A and B/)]);
  });

  it.each([
    ['GET /patients/:id/results', 'GET /patients/:id/:kind'],
    ['GET /a/:x.csv', 'GET /a/report.csv'],
    ['ALL /a', 'POST /a'],
    ['GET /a', 'HEAD /a'],
    ['GET /items/:id', 'GET /items/summary'],
  ])('%s and %s overlap, one strictly more specific: an explicit order, allowed', (a, b) => {
    expect(overlapProblems([a], [b])).toEqual([]);
    expect(overlapProblems([b], [a])).toEqual([]);
  });

  // Express 5's own matcher is the judge: a path both patterns match must have been reported,
  // unless one pattern is more specific, which the oracle then confirms on every sampled path.
  it('never misses an overlap that Express would route, and never calls a pattern more specific wrongly (path-to-regexp as the oracle)', () => {
    const segment = fc.constantFrom('a', 'b', 'results', 'results.csv', ':p', ':p.csv', '{/:o}', '*rest');
    const pattern = fc.array(segment, { minLength: 1, maxLength: 3 }).map((s) => `/${s.join('/')}`.replace(/\/\{/g, '{'));
    const concrete = fc.array(fc.constantFrom('a', 'b', 'results', 'results.csv', 'x.csv', '1001'), { minLength: 1, maxLength: 4 }).map((s) => `/${s.join('/')}`);
    let overlaps = 0;
    fc.assert(
      fc.property(pattern, pattern, fc.array(concrete, { minLength: 40, maxLength: 40 }), (a, b, paths) => {
        let matchA: ReturnType<typeof match>;
        let matchB: ReturnType<typeof match>;
        try {
          matchA = match(a, { sensitive: false, end: true, trailing: true });
          matchB = match(b, { sensitive: false, end: true, trailing: true });
        } catch {
          return; // not a pattern Express accepts
        }
        const both = paths.find((p) => matchA(p) !== false && matchB(p) !== false);
        if (both === undefined) return;
        overlaps++;
        if (overlapProblems([`GET ${a}`], [`GET ${b}`]).length > 0) return;
        // Allowed: one is more specific, so every sampled path it matches the other matches too.
        const aInB = paths.every((p) => matchA(p) === false || matchB(p) !== false);
        const bInA = paths.every((p) => matchB(p) === false || matchA(p) !== false);
        expect({ a, b, both, ordered: aInB || bInA }).toEqual({ a, b, both, ordered: true });
      }),
      { numRuns: 600 },
    );
    expect(overlaps).toBeGreaterThan(20);
  });
});

describe('subject, id and subjectParam must name something that exists', () => {
  const base = () => ({
    roles: ['r'],
    resources: {
      R: {
        routes: ['GET /patients/:id/results'],
        subject: 'patient.id',
        subjectParam: 'id',
        id: 'viewId',
        fields: { 'patient.id': 'direct-identifier', viewId: 'non-phi', 'patient.name': 'direct-identifier' },
        disclose: { r: { TREAT: { '*': 'send' } } },
      },
    },
  });
  const resource = (p: ReturnType<typeof base>) => p.resources.R as Record<string, unknown>;

  it('the valid base compiles', () => {
    expect(() => compileUnchecked(base(), { secret: SECRET })).not.toThrow();
  });

  it('a subject that is no declared field is reported with a suggestion', () => {
    const p = base();
    resource(p).subject = 'patient.ids';
    expect(problemsOf(() => compileUnchecked(p, { secret: SECRET }))).toEqual([
      expect.stringMatching(/subject "patient\.ids" is not a declared field; did you mean "patient\.id"\?/),
    ]);
  });

  it('an id that is no declared field is reported', () => {
    const p = base();
    resource(p).id = 'view_id';
    expect(problemsOf(() => compileUnchecked(p, { secret: SECRET }))).toEqual([expect.stringMatching(/id "view_id" is not a declared field/)]);
  });

  it('a subject inside a declared object field is covered by it', () => {
    const p = base();
    resource(p).fields = { patient: 'direct-identifier', viewId: 'non-phi' };
    expect(() => compileUnchecked(p, { secret: SECRET })).not.toThrow();
  });

  it('a subjectParam no route has is reported with a suggestion', () => {
    const p = base();
    resource(p).subjectParam = 'patientId';
    // (the routes only have :id)
    expect(problemsOf(() => compileUnchecked(p, { secret: SECRET }))).toEqual([
      expect.stringMatching(/subjectParam "patientId" is not a parameter of any of its routes/),
    ]);
  });
});
