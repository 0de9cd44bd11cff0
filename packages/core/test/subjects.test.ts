/**
 * Subjects of lists and references: every patient of a list response is audited, a patient
 * request (PATRQT) on a list is answered only when every element is the caller's, `Patient/{id}`
 * references read as the id, and a patient's research token does not depend on where the id sits.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { AccessDeniedError, createPhiGuard, type AccessContext, type AuditEvent, type PolicyDefinition } from '@phiguard/core';
import { SECRET, compileUnchecked } from './helpers.js';

const definition = {
  roles: ['patient', 'researcher', 'clinician'],
  resources: {
    Patient: {
      subject: 'id',
      fields: { id: 'direct-identifier', name: 'direct-identifier' },
      disclose: { patient: { PATRQT: { '*': 'send' } }, researcher: { HRESCH: { id: 'token' } } },
    },
    Observations: {
      subject: '[].subject.reference',
      subjectFormat: 'Patient/{id}',
      fields: { '[].subject.reference': 'direct-identifier', '[].value': 'clinical' },
      disclose: {
        patient: { PATRQT: { '*': 'send' } },
        researcher: { HRESCH: { '[].subject.reference': 'token', '[].value': 'send' } },
        clinician: { TREAT: { '*': 'send' } },
      },
    },
    SearchSet: {
      subject: 'entry[].resource.id',
      fields: { 'entry[].resource.id': 'direct-identifier', 'entry[].resource.name': 'direct-identifier', total: 'non-phi' },
      disclose: { patient: { PATRQT: { '*': 'send' } }, researcher: { HRESCH: { 'entry[].resource.id': 'token' } }, clinician: { TREAT: { '*': 'send' } } },
    },
  },
} as unknown as PolicyDefinition;
const policy = compileUnchecked(definition, { secret: SECRET, mode: 'production' });
const patient = (id: string): AccessContext => ({ principal: { id: `u${id}`, patientId: id }, roles: ['patient'], purposeOfUse: 'PATRQT' });
const researcher: AccessContext = { principal: { id: 'r' }, roles: ['researcher'], purposeOfUse: 'HRESCH' };
const clinician: AccessContext = { principal: { id: 'c' }, roles: ['clinician'], purposeOfUse: 'TREAT' };
const obs = (...ids: string[]) => ids.map((id, i) => ({ subject: { reference: `Patient/${id}` }, value: i }));

describe('a subject through arrays names every patient of a list', () => {
  it('PATRQT answers a list only when every element is the caller\'s (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('1001', '1002'), { maxLength: 6 }), (ids) => {
        const own = ids.every((id) => id === '1001');
        const run = () => policy.protect(obs(...ids), patient('1001'), 'Observations');
        if (own) expect(run().value).toEqual(obs(...ids));
        else expect(run).toThrow(AccessDeniedError);
      }),
    );
  });

  it('an element without a subject, or with a non-id subject, refuses the list for PATRQT', () => {
    expect(() => policy.protect([...obs('1001'), { value: 1 }], patient('1001'), 'Observations')).toThrow(AccessDeniedError);
    expect(() => policy.protect([{ subject: { reference: { toString: () => 'Patient/1001' } } }], patient('1001'), 'Observations')).toThrow(AccessDeniedError);
    expect(() => policy.protect({ entry: [{ resource: { id: '1001' } }, { resource: { id: '1002' } }] }, patient('1001'), 'SearchSet')).toThrow(AccessDeniedError);
    expect(policy.protect({ entry: [{ resource: { id: '1001', name: 'A' } }], total: 1 }, patient('1001'), 'SearchSet').value).toEqual({
      entry: [{ resource: { id: '1001', name: 'A' } }],
      total: 1,
    });
  });

  it('audits every patient of the list (first one as patient.ref, all in patients)', async () => {
    const events: AuditEvent[] = [];
    const guard = createPhiGuard({ policy: definition, audit: { write: (e) => void events.push(e) }, secret: SECRET, mode: 'production' });
    const decision = guard.authorize(clinician, 'Observations', 'read');
    if (decision.effect !== 'allow') throw new Error('expected allow');
    guard.release(decision.plan, obs('1001', '1002', '1001', '1003'), clinician, 'read');
    const read = events.find((e) => e.action === 'read')!;
    const refs = ['1001', '1002', '1003'].map((id) => guard.policy.patientRef(id));
    expect(read.patient).toEqual({ ref: refs[0] });
    expect(read.patients).toEqual(refs);
    expect(JSON.stringify(read)).not.toMatch(/100[123]/);
    // One patient: no list.
    guard.release(decision.plan, obs('1002'), clinician, 'read');
    expect(events.at(-1)!.patients).toBeUndefined();
    expect(events.at(-1)!.patient).toEqual({ ref: refs[1] });
  });
});

describe('subjectFormat reads references as ids', () => {
  it('Patient/1001 and 1001 are one patient: one audit reference, one PATRQT check', () => {
    expect(policy.resources.get('Observations')!.subjectsOf(obs('1001')).ids).toEqual(['1001']);
    expect(() => policy.protect(obs('1001'), patient('1001'), 'Observations')).not.toThrow();
    // A value not in the form is read as it is, never as someone else.
    expect(policy.resources.get('Observations')!.subjectsOf([{ subject: { reference: 'Patient/1001/_history/2' } }]).ids).toEqual(['1001/_history/2']);
  });

  it('rejects formats without exactly one {id}', () => {
    for (const bad of ['Patient/', '{id}', 'Patient/{id}/{id}', 7]) {
      const d = structuredClone(definition) as unknown as { resources: { Observations: Record<string, unknown> } };
      d.resources.Observations.subjectFormat = bad;
      expect(() => compileUnchecked(d, { secret: SECRET })).toThrow(/subjectFormat must contain "\{id\}" once/);
    }
  });
});

describe('the research token of a patient id is keyed by the identity, not the path', () => {
  it('one patient gets one token from a Patient, a list of Observations and a search Bundle', () => {
    const a = policy.protect<{ id: string }>({ id: '1001', name: 'A' }, researcher, 'Patient').value.id;
    const b = policy.protect<{ subject: { reference: string } }[]>(obs('1001'), researcher, 'Observations').value[0]!.subject.reference;
    const c = policy.protect<{ entry: { resource: { id: string } }[] }>({ entry: [{ resource: { id: '1001' } }] }, researcher, 'SearchSet').value.entry[0]!.resource.id;
    expect(a).toMatch(/^tok_/);
    // `Patient/1001` is read through subjectFormat: the same patient, the same token.
    expect(new Set([a, b, c]).size).toBe(1);
    const other = policy.protect<{ id: string }>({ id: '1002' }, researcher, 'Patient').value.id;
    expect(other).not.toBe(a);
  });
});
