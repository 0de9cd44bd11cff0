import { describe, expect, it } from 'vitest';
import { compilePolicy, definePolicy, PhiGuardError, PolicyError } from '@phiguard/core';
import { compileUnchecked, problemsOf, SECRET } from './helpers.js';

/** A valid policy to derive broken ones from. */
function base() {
  return {
    roles: ['clinician', 'billing'],
    resources: {
      LabResult: {
        subject: 'patient.id',
        routes: ['GET /patients/:id/results'],
        fields: {
          'patient.id': 'direct-identifier',
          'patient.mrn': 'direct-identifier',
          'results[].code': 'clinical',
          'results[].value': 'clinical',
        },
        disclose: {
          clinician: { TREAT: { '*': 'send' } },
          billing: { HPAYMT: { 'patient.mrn': { op: 'partial', keep: 4 }, 'results[].code': 'send' } },
        },
      },
    },
  } as Record<string, any>;
}

function resourceOf(policy: Record<string, any>) {
  return policy.resources.LabResult as Record<string, any>;
}

/** The single problem a broken policy reports, checked against `pattern`. */
function expectProblem(policy: unknown, pattern: RegExp, options: unknown = { secret: SECRET }) {
  const problems = problemsOf(() => compileUnchecked(policy, options));
  expect(problems.some((p) => pattern.test(p)), `no problem matches ${pattern}: ${JSON.stringify(problems)}`).toBe(true);
  return problems;
}

describe('compilePolicy accepts a valid policy', () => {
  it('compiles the base policy with its roles, resources, routes and subject', () => {
    const compiled = compileUnchecked(base(), { secret: SECRET });
    expect([...compiled.roles].sort()).toEqual(['billing', 'clinician']);
    const lab = compiled.resources.get('LabResult');
    expect(lab?.routes).toEqual([{ method: 'GET', path: '/patients/:id/results' }]);
    expect(lab?.subjectPath).toEqual(['patient', 'id']);
    expect(lab?.rawBody).toBe('deny');
  });

  it('definePolicy returns the definition unchanged', () => {
    const def = { roles: ['r'], resources: { R: { fields: { a: 'clinical' }, disclose: { r: { TREAT: { a: 'send' } } } } } } as const;
    expect(definePolicy(def)).toBe(def);
  });

  it('accepts a secret of exactly 32 bytes, as a string or as bytes', () => {
    expect(() => compileUnchecked(base(), { secret: 'x'.repeat(32) })).not.toThrow();
    expect(() => compileUnchecked(base(), { secret: new Uint8Array(32).fill(7) })).not.toThrow();
  });
});

describe('compilePolicy rejects unknown keys with a suggestion', () => {
  it('an unknown top-level key is reported with "did you mean"', () => {
    const p = base();
    p.rolse = [];
    expectProblem(p, /policy: unknown key "rolse"; did you mean "roles"\?/);
  });

  it('an unknown resource key is reported with "did you mean"', () => {
    const p = base();
    resourceOf(p).subjekt = 'patient.id';
    expectProblem(p, /resource "LabResult": unknown key "subjekt"; did you mean "subject"\?/);
  });

  it('an unknown option key is reported with "did you mean"', () => {
    expectProblem(base(), /options: unknown key "secrett"; did you mean "secret"\?/, { secret: SECRET, secrett: SECRET });
  });

  it('an unknown limits key is reported with "did you mean" instead of being ignored', () => {
    expectProblem(base(), /options\.limits: unknown key "maxDeph"; did you mean "maxDepth"\?/, { secret: SECRET, limits: { maxDeph: 8 } });
  });

  it('a limit that is not a positive integer is reported', () => {
    expectProblem(base(), /options\.limits\.maxNodes must be a positive integer/, { secret: SECRET, limits: { maxNodes: 0 } });
  });
});

describe('compilePolicy validates fields', () => {
  it('an unknown field class is reported with "did you mean"', () => {
    const p = base();
    resourceOf(p).fields['patient.name'] = 'direct-identifer';
    expectProblem(p, /field "patient\.name" has unknown class "direct-identifer"; did you mean "direct-identifier"\?/);
  });

  it('an unknown field class in the object form is reported too', () => {
    const p = base();
    resourceOf(p).fields['patient.name'] = { class: 'clinicl' };
    expectProblem(p, /field "patient\.name" has unknown class "clinicl"; did you mean "clinical"\?/);
  });

  it.each(['', 'a..b', 'a.', 'a[0]', 'a b', 'results[].', 'x.[]y'])('the invalid path %j is reported', (path) => {
    const p = base();
    resourceOf(p).fields[path] = 'clinical';
    const problems = problemsOf(() => compileUnchecked(p, { secret: SECRET }));
    expect(problems.some((m) => /path|non-empty/.test(m))).toBe(true);
  });

  it('a path that is both a field and the parent of another field is an overlap', () => {
    const p = base();
    resourceOf(p).fields.patient = 'direct-identifier';
    expectProblem(p, /field "(patient|patient\.id|patient\.mrn)" overlaps another declared field/);
  });

  it('an overlap is detected whichever of the two is declared first', () => {
    const parentFirst = { roles: ['r'], resources: { R: { fields: { a: 'clinical', 'a.b': 'clinical' }, disclose: { r: { TREAT: {} } } } } };
    const childFirst = { roles: ['r'], resources: { R: { fields: { 'a.b': 'clinical', a: 'clinical' }, disclose: { r: { TREAT: {} } } } } };
    expectProblem(parentFirst, /overlaps another declared field/);
    expectProblem(childFirst, /overlaps another declared field/);
  });

  it('a wildcard next to an exact key and an array next to keys are not overlaps', () => {
    const p = {
      roles: ['r'],
      resources: {
        R: { fields: { 'meta.*': 'non-phi', 'meta.note': 'free-text', '[].id': 'non-phi', 'rows[][]': 'clinical' }, disclose: { r: { TREAT: {} } } },
      },
    };
    expect(() => compileUnchecked(p)).not.toThrow();
  });

  it('a resource without fields is reported', () => {
    const p = base();
    resourceOf(p).fields = {};
    expectProblem(p, /resource "LabResult": declare at least one field/);
  });
});

describe('compilePolicy validates rules', () => {
  it('a rule naming an undeclared field is reported with "did you mean"', () => {
    const p = base();
    resourceOf(p).disclose.billing.HPAYMT['patient.mnr'] = 'send';
    expectProblem(p, /rule names undeclared field "patient\.mnr"; did you mean "patient\.mrn"\?/);
  });

  it('an unknown class selector is reported', () => {
    const p = base();
    resourceOf(p).disclose.billing.HPAYMT['@clinicl'] = 'send';
    expectProblem(p, /unknown field class selector "@clinicl"; did you mean "@clinical"\?/);
  });

  it('an unknown operator is reported with "did you mean"', () => {
    const p = base();
    resourceOf(p).disclose.billing.HPAYMT['results[].value'] = 'partail';
    expectProblem(p, /unknown operator "partail"; did you mean "partial"\?/);
  });

  it('an unknown operator in the object form is reported', () => {
    const p = base();
    resourceOf(p).disclose.billing.HPAYMT['results[].value'] = { op: 'hash' };
    expectProblem(p, /unknown operator "hash"/);
  });

  it('an operator of the wrong shape is reported', () => {
    const p = base();
    resourceOf(p).disclose.billing.HPAYMT['results[].value'] = 42;
    expectProblem(p, /operator must be a name, \{ op, …args \} or \{ custom, args \}/);
  });

  it('a custom operator that is not registered is reported', () => {
    const p = base();
    resourceOf(p).disclose.billing.HPAYMT['results[].value'] = { custom: 'bucket' };
    expectProblem(p, /custom operator "bucket" is not registered/);
  });

  it('a custom operator may not shadow a built-in one', () => {
    expectProblem(base(), /options\.operators\.partial would shadow the built-in operator "partial"/, {
      secret: SECRET,
      operators: { partial: () => 'x' },
    });
  });

  it('a custom operator must be a function', () => {
    expectProblem(base(), /options\.operators\.bucket must be a function/, { secret: SECRET, operators: { bucket: 'nope' } });
  });

  it.each([
    [{ op: 'partial', keep: 9 }, /partial: "keep" must be an integer from 0 to 8/],
    [{ op: 'partial', keep: -1 }, /partial: "keep" must be an integer from 0 to 8/],
    [{ op: 'partial', keep: 2.5 }, /partial: "keep" must be an integer from 0 to 8/],
    [{ op: 'partial', mask: '*'.repeat(17) }, /partial: "mask" must be a string of at most 16 characters/],
    [{ op: 'replace', with: 7 }, /replace: "with" must be a string/],
    [{ op: 'token', prefix: 'p'.repeat(17) }, /token: "prefix" must be a string of at most 16 characters/],
  ])('bad operator arguments %j are reported', (spec, pattern) => {
    const p = base();
    resourceOf(p).disclose.billing.HPAYMT['patient.mrn'] = spec;
    expectProblem(p, pattern);
  });

  it('a misspelled operator argument is reported instead of silently using the default', () => {
    const p = base();
    // `kep: 0` meant "mask everything"; ignoring it would reveal the last 4 characters.
    resourceOf(p).disclose.billing.HPAYMT['patient.mrn'] = { op: 'partial', kep: 0 };
    expectProblem(p, /partial: unknown argument "kep"; did you mean "keep"\?/);
  });

  it('an operator that takes no arguments rejects any', () => {
    const p = base();
    resourceOf(p).disclose.billing.HPAYMT['patient.mrn'] = { op: 'year', format: 'YY' };
    expectProblem(p, /year: unknown argument "format"/);
  });

  it('token without a secret is reported', () => {
    const p = base();
    delete resourceOf(p).subject;
    resourceOf(p).disclose.billing.HPAYMT['patient.mrn'] = 'token';
    expectProblem(p, /token: needs a secret/, {});
  });

  it('a secret shorter than 32 bytes is reported, as a string or as bytes', () => {
    expectProblem(base(), /options\.secret must be at least 32 bytes/, { secret: 'x'.repeat(31) });
    expectProblem(base(), /options\.secret must be at least 32 bytes/, { secret: new Uint8Array(16) });
  });

  it('a resource with a subject needs a secret for its patient references', () => {
    expectProblem(base(), /declares a subject, so audit needs a keyed patient reference; pass options\.secret/, {});
  });

  it('a subject with * (or ending in []) or an id with [] or * is reported', () => {
    const p = base();
    resourceOf(p).subject = 'patient.*';
    resourceOf(p).id = 'meta.*';
    const problems = expectProblem(p, /subject "patient\.\*" must be a dotted path, through arrays with \[\] for a list/);
    expect(problems.some((m) => /id "meta\.\*" must be a plain dotted path/.test(m))).toBe(true);
  });
});

describe('compilePolicy validates roles and purposes', () => {
  it('a rule for an unknown role is reported with "did you mean"', () => {
    const p = base();
    resourceOf(p).disclose.clinican = { TREAT: { '*': 'send' } };
    expectProblem(p, /disclose names unknown role "clinican"; did you mean "clinician"\?/);
  });

  it('an unknown purpose of use is reported with "did you mean"', () => {
    const p = base();
    resourceOf(p).disclose.billing.HPAYMNT = { '*': 'send' };
    expectProblem(p, /role "billing": unknown purpose of use "HPAYMNT"; did you mean "HPAYMT"\?/);
  });

  it('a role with no purpose of use on any resource is reported', () => {
    const p = base();
    p.roles.push('auditor');
    expectProblem(p, /role "auditor" has no purpose of use on any resource/);
  });

  it('a role listed twice is reported', () => {
    const p = base();
    p.roles.push('billing');
    expectProblem(p, /role "billing" is listed twice/);
  });

  it('a policy without roles or resources is reported', () => {
    const problems = problemsOf(() => compileUnchecked({ roles: [], resources: {} }));
    expect(problems).toEqual(expect.arrayContaining([
      'policy.roles must list at least one role',
      'policy.resources must declare at least one resource',
    ]));
  });

  it('a patient-request (PATRQT) rule on a resource without subject is reported', () => {
    const p = base();
    delete resourceOf(p).subject;
    p.roles.push('patient');
    resourceOf(p).disclose.patient = { PATRQT: { '*': 'send' } };
    expectProblem(p, /purpose PATRQT: patient requests are limited to the patient's own record, so the resource must declare "subject"/);
  });
});

describe('compilePolicy validates routes', () => {
  it('the same route claimed by two resources is reported', () => {
    const p = base();
    p.resources.Other = {
      routes: ['GET /patients/:id/results'],
      fields: { a: 'clinical' },
      disclose: { clinician: { TREAT: { a: 'send' } } },
    };
    expectProblem(p, /route "GET \/patients\/:id\/results" is claimed by both "LabResult" and "Other"/);
  });

  it.each(['get /patients', 'GET patients', 'FETCH /patients', 'GET', '/patients'])('the route %j is reported as bad syntax', (route) => {
    const p = base();
    resourceOf(p).routes = [route];
    expectProblem(p, /must look like "GET \/patients\/:id\/results"/);
  });

  it('rawBody must be "allow" or "deny"', () => {
    const p = base();
    resourceOf(p).rawBody = 'yes';
    expectProblem(p, /rawBody must be "allow" or "deny"/);
  });

  it.each([
    ['yes', /query must be true or \{ params/],
    [{ params: 'from' }, /query must be true or \{ params/],
    [{ params: ['from', 'jane doe'] }, /query\.params has "jane doe", not a parameter name/],
    [{ params: ['1001'] }, /query\.params has "1001"/],
    [{ params: ['from'], values: true }, /query.*unknown/i],
  ])('query %j is refused: its names go into audit as written', (query, message) => {
    const p = base();
    resourceOf(p).query = query;
    expectProblem(p, message);
  });

  it('query: true and query.params compile to the names audit may record', () => {
    const p = base();
    resourceOf(p).query = { params: ['from', 'to', 'from', '_count', 'code:text'] };
    const compiled = compilePolicy(p as never, { secret: SECRET });
    const r = [...compiled.resources.values()][0]!;
    expect(r.query).toEqual({ params: ['from', 'to', '_count', 'code:text'] });
    resourceOf(p).query = true;
    expect([...compilePolicy(p as never, { secret: SECRET }).resources.values()][0]!.query).toEqual({ params: [] });
    delete resourceOf(p).query;
    expect([...compilePolicy(p as never, { secret: SECRET }).resources.values()][0]!.query).toBeNull();
  });
});

describe('compilePolicy reports every problem at once', () => {
  it('collects all problems of a broken policy in one PolicyError', () => {
    const p = base();
    p.rolse = [];
    p.roles.push('auditor');
    const lab = resourceOf(p);
    lab.subjekt = 'x';
    lab.fields['patient.name'] = 'direct-identifer';
    lab.fields['a..b'] = 'clinical';
    lab.routes = ['get /x'];
    lab.disclose.billing.HPAYMT['patient.mnr'] = 'send';
    lab.disclose.billing.HPAYMT['results[].value'] = 'partail';
    lab.disclose.clinican = { TREAT: {} };
    lab.disclose.clinician.HPAYMNT = {};
    let error: unknown;
    try {
      compileUnchecked(p, { secret: 'short' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(PolicyError);
    expect(error).toBeInstanceOf(PhiGuardError);
    const { problems, message } = error as PolicyError;
    const expected = [
      /unknown key "rolse"/,
      /unknown key "subjekt"/,
      /unknown class "direct-identifer"/,
      /path "a\.\.b"/,
      /route "get \/x"/,
      /undeclared field "patient\.mnr"/,
      /unknown operator "partail"/,
      /unknown role "clinican"/,
      /unknown purpose of use "HPAYMNT"/,
      /role "auditor" has no purpose/,
      /secret must be at least 32 bytes/,
    ];
    for (const pattern of expected) expect(problems.some((m) => pattern.test(m)), String(pattern)).toBe(true);
    expect(message).toContain(`(${problems.length} problems)`);
    for (const problem of problems) expect(message).toContain(problem);
  });

  it('a policy that is not an object is refused', () => {
    expect(problemsOf(() => compileUnchecked(null))).toHaveLength(1);
  });
});

describe('compiled policies are usable as typed', () => {
  it('definePolicy + compilePolicy type-check a realistic policy and compile it', () => {
    const policy = definePolicy({
      roles: ['billing'],
      resources: {
        LabResult: {
          fields: { mrn: 'direct-identifier', 'tests[].code': 'clinical' },
          disclose: { billing: { HPAYMT: { mrn: { op: 'partial', keep: 4 }, '@clinical': 'send' } } },
        },
      },
    });
    const compiled = compilePolicy(policy, { mode: 'production' });
    expect(compiled.resources.get('LabResult')?.fields.get('mrn')).toEqual({ class: 'direct-identifier' });
  });
});
