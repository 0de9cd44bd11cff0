import { describe, expect, it } from 'vitest';
import { AccessDeniedError, compilePolicy, definePolicy, PolicyError } from '@phiguard/core';
import { Plan } from '../src/policy/plan.js';
import { ctx, SECRET } from './helpers.js';

const policy = definePolicy({
  roles: ['clinician', 'billing', 'coder', 'patient'],
  resources: {
    LabResult: {
      subject: 'patient.id',
      fields: {
        'patient.id': 'direct-identifier',
        'patient.mrn': 'direct-identifier',
        'patient.name': 'direct-identifier',
        'results[].code': 'clinical',
        'results[].value': 'clinical',
        'results[].comment': 'free-text',
      },
      disclose: {
        clinician: { TREAT: { '*': 'send' } },
        billing: {
          HPAYMT: { 'patient.mrn': { op: 'partial', keep: 4 }, 'patient.name': 'redact', 'results[].code': 'send' },
        },
        coder: {
          HPAYMT: { 'patient.mrn': 'redact', 'patient.name': 'initials', 'results[].comment': 'send' },
          HOPERAT: { 'results[].code': 'send' },
        },
        patient: { PATRQT: { '*': 'send', 'results[].comment': 'redact' } },
      },
    },
  },
});

const compiled = compilePolicy(policy, { secret: SECRET, mode: 'production' });

const doc = {
  patient: { id: 1001, mrn: 'MRN-00424821', name: 'Maria Lopez' },
  results: [{ code: '2345-7', value: 5.4, comment: 'fasting' }],
};

describe('access decisions', () => {
  it('a request without a purpose of use is denied with purpose_required', () => {
    for (const purpose of [undefined, null, '']) {
      expect(compiled.decide(ctx(['clinician'], purpose), 'LabResult')).toEqual({ effect: 'deny', reason: 'purpose_required' });
    }
  });

  it('a purpose that is not a known HL7 PurposeOfUse code is denied with purpose_unknown', () => {
    expect(compiled.decide(ctx(['clinician'], 'TREATMENT'), 'LabResult')).toEqual({ effect: 'deny', reason: 'purpose_unknown' });
    expect(compiled.decide(ctx(['clinician'], 'treat'), 'LabResult')).toEqual({ effect: 'deny', reason: 'purpose_unknown' });
  });

  it('a caller with no role the policy knows is denied with role_unknown', () => {
    expect(compiled.decide(ctx(['admin', 'nurse'], 'TREAT'), 'LabResult')).toEqual({ effect: 'deny', reason: 'role_unknown' });
    expect(compiled.decide(ctx([], 'TREAT'), 'LabResult')).toEqual({ effect: 'deny', reason: 'role_unknown' });
  });

  it('a known role without a rule for the purpose is denied with purpose_not_permitted', () => {
    expect(compiled.decide(ctx(['billing'], 'TREAT'), 'LabResult')).toEqual({ effect: 'deny', reason: 'purpose_not_permitted' });
    // A valid code the policy never grants to anyone is still "not permitted", not "unknown".
    expect(compiled.decide(ctx(['clinician'], 'HLEGAL'), 'LabResult')).toEqual({ effect: 'deny', reason: 'purpose_not_permitted' });
  });

  it('an allowed request gets the plan of its resource, purpose and roles', () => {
    const decision = compiled.decide(ctx(['billing'], 'HPAYMT'), 'LabResult');
    expect(decision.effect).toBe('allow');
    if (decision.effect !== 'allow') return;
    expect(decision.plan).toBeInstanceOf(Plan);
    expect(decision.plan.resource).toBe('LabResult');
    expect(decision.plan.purposeOfUse).toBe('HPAYMT');
    expect(decision.plan.roles).toEqual(['billing']);
    expect(decision.plan.apply(doc, ctx(['billing'], 'HPAYMT')).value).toEqual({
      patient: { mrn: '****4821' },
      results: [{ code: '2345-7' }],
    });
  });

  it('roles the policy does not know are ignored next to a known one', () => {
    const decision = compiled.decide(ctx(['superuser', 'billing'], 'HPAYMT'), 'LabResult');
    expect(decision.effect).toBe('allow');
    if (decision.effect === 'allow') expect(decision.plan.roles).toEqual(['billing']);
  });

  it('deciding is pure: the same request twice gets the same decision', () => {
    const a = compiled.decide(ctx(['billing'], 'HPAYMT'), 'LabResult');
    const b = compiled.decide(ctx(['billing'], 'HPAYMT'), 'LabResult');
    expect(a).toEqual(b);
  });

  it('an unknown resource name is a programming error (PolicyError with a suggestion)', () => {
    expect(() => compiled.decide(ctx(['billing'], 'HPAYMT'), 'LabResults')).toThrow(PolicyError);
    expect(() => compiled.decide(ctx(['billing'], 'HPAYMT'), 'LabResults')).toThrow(/did you mean "LabResult"/);
  });

  it('protect throws AccessDeniedError (403) with the reason when denied', () => {
    let error: unknown;
    try {
      compiled.protect(doc, ctx(['billing'], 'TREAT'), 'LabResult');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(AccessDeniedError);
    expect((error as AccessDeniedError).reason).toBe('purpose_not_permitted');
    expect((error as AccessDeniedError).status).toBe(403);
    expect((error as AccessDeniedError).code).toBe('access_denied');
  });
});

describe('several roles merge to the strongest operator per field', () => {
  it('send beats partial, partial beats redact', () => {
    // billing: mrn partial, name redact, code send.  coder: mrn redact, name initials, comment send.
    const { value, disclosure } = compiled.protect(doc, ctx(['billing', 'coder'], 'HPAYMT'), 'LabResult');
    expect(value).toEqual({
      patient: { mrn: '****4821', name: 'M.L.' },
      results: [{ code: '2345-7', comment: 'fasting' }],
    });
    expect(disclosure.transforms).toEqual({ 'patient.mrn': 'partial', 'patient.name': 'initials' });
  });

  it('a role whose rule sends a field wins over another role that redacts it', () => {
    const p = compilePolicy(
      {
        roles: ['a', 'b'],
        resources: {
          R: {
            fields: { x: 'clinical', y: 'clinical', z: 'clinical' },
            disclose: {
              a: { TREAT: { x: 'redact', y: { op: 'partial' }, z: 'deny' } },
              b: { TREAT: { x: 'send', y: 'redact', z: 'redact' } },
            },
          },
        },
      },
      { mode: 'production' },
    );
    const { value, disclosure } = p.protect({ x: 'xx', y: 'yyyyyy', z: 'zz' }, ctx(['a', 'b'], 'TREAT'), 'R');
    expect(value).toEqual({ x: 'xx', y: '****yyyy' });
    // redact beats deny: z is withheld, and recorded as withheld on purpose.
    expect(disclosure.transforms).toEqual({ y: 'partial', z: 'redact' });
  });

  it('the order of the roles does not matter', () => {
    const ab = compiled.protect(doc, ctx(['billing', 'coder'], 'HPAYMT'), 'LabResult');
    const ba = compiled.protect(doc, ctx(['coder', 'billing'], 'HPAYMT'), 'LabResult');
    const dup = compiled.protect(doc, ctx(['coder', 'billing', 'coder'], 'HPAYMT'), 'LabResult');
    expect(ba.value).toEqual(ab.value);
    expect(ba.disclosure).toEqual(ab.disclosure);
    expect(dup.value).toEqual(ab.value);
  });

  it('a role without a rule for the purpose adds nothing to the one that has it', () => {
    const alone = compiled.protect(doc, ctx(['coder'], 'HOPERAT'), 'LabResult');
    const withBilling = compiled.protect(doc, ctx(['coder', 'billing'], 'HOPERAT'), 'LabResult');
    expect(withBilling.value).toEqual(alone.value);
    expect(alone.value).toEqual({ results: [{ code: '2345-7' }] });
  });
});

describe('patient requests (PATRQT) are limited to the patient\'s own record', () => {
  it('a patient reads their own record', () => {
    const { value } = compiled.protect(doc, ctx(['patient'], 'PATRQT', '1001'), 'LabResult');
    expect(value).toEqual({
      patient: { id: 1001, mrn: 'MRN-00424821', name: 'Maria Lopez' },
      results: [{ code: '2345-7', value: 5.4 }],
    });
  });

  it('a numeric patientId matches the same id in the record', () => {
    expect(() => compiled.protect(doc, ctx(['patient'], 'PATRQT', 1001), 'LabResult')).not.toThrow();
  });

  it('another patient\'s record is denied with not_own_record', () => {
    expect(() => compiled.protect(doc, ctx(['patient'], 'PATRQT', '1002'), 'LabResult')).toThrow(
      expect.objectContaining({ name: 'AccessDeniedError', reason: 'not_own_record' }),
    );
  });

  it('a caller without a patientId is denied', () => {
    for (const patientId of [undefined, null]) {
      expect(() =>
        compiled.protect(doc, { principal: { id: 'u', patientId }, roles: ['patient'], purposeOfUse: 'PATRQT' }, 'LabResult'),
      ).toThrow(expect.objectContaining({ reason: 'not_own_record' }));
    }
  });

  it('a record without the subject field is denied', () => {
    const { patient: _patient, ...noPatient } = doc;
    expect(() => compiled.protect(noPatient, ctx(['patient'], 'PATRQT', '1001'), 'LabResult')).toThrow(
      expect.objectContaining({ reason: 'not_own_record' }),
    );
  });

  it('a subject that is not a plain id (object or array) never matches', () => {
    for (const id of [{}, ['1001'], [1001]]) {
      const odd = { ...doc, patient: { ...doc.patient, id } };
      expect(() => compiled.protect(odd, ctx(['patient'], 'PATRQT', String(id)), 'LabResult')).toThrow(
        expect.objectContaining({ reason: 'not_own_record' }),
      );
    }
  });
});

describe('patient requests decided before the handler', () => {
  it('a PATRQT caller asking for another patient id is denied not_own_record without seeing any value', () => {
    expect(compiled.decide(ctx(['patient'], 'PATRQT', 1001), 'LabResult', '1002')).toEqual({ effect: 'deny', reason: 'not_own_record' });
    expect(compiled.decide(ctx(['patient'], 'PATRQT'), 'LabResult', '1001')).toEqual({ effect: 'deny', reason: 'not_own_record' });
  });

  it('a PATRQT caller asking for their own id is allowed (numbers and strings compare alike)', () => {
    expect(compiled.decide(ctx(['patient'], 'PATRQT', 1001), 'LabResult', '1001').effect).toBe('allow');
  });

  it('the subject id does not restrict other purposes', () => {
    expect(compiled.decide(ctx(['clinician'], 'TREAT'), 'LabResult', '1002').effect).toBe('allow');
  });
});
