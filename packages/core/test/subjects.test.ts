/**
 * Subjects of lists and references: every patient of a list response is audited, a patient
 * request (PATRQT) on a list is answered only when every element is the caller's, `Patient/{id}`
 * references read as the id, and a patient's research token does not depend on where the id sits.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  AccessDeniedError,
  createPhiGuard,
  type AccessContext,
  type AuditEvent,
  type PolicyDefinition,
} from '@phiguard/core';
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

describe('a resource declared once is applied inside a FHIR Bundle or a page wrapper', () => {
  const enveloped = {
    roles: ['clinician', 'patient', 'billing'],
    resources: {
      Observation: {
        envelope: { bundle: 'Observation' },
        subject: 'subject.reference',
        subjectFormat: 'Patient/{id}',
        fields: {
          resourceType: 'non-phi',
          id: 'direct-identifier',
          'subject.reference': 'direct-identifier',
          'code.coding[].code': 'clinical',
          valueQuantity: 'clinical',
          note: 'free-text',
        },
        disclose: {
          clinician: { TREAT: { '*': 'send', note: 'deny' } },
          patient: { PATRQT: { '*': 'send' } },
          billing: { HPAYMT: { 'code.coding[].code': 'send' } },
        },
      },
      Page: {
        envelope: { items: 'data[]', fields: { total: 'non-phi', next: 'non-phi' } },
        subject: 'patientId',
        fields: { patientId: 'direct-identifier', value: 'clinical' },
        disclose: { clinician: { TREAT: { '*': 'send' } }, patient: { PATRQT: { '*': 'send' } } },
      },
    },
  } as unknown as PolicyDefinition;
  const p = compileUnchecked(enveloped, { secret: SECRET, mode: 'production' });
  const observation = (id: string, patientId: string) => ({
    resourceType: 'Observation',
    id,
    subject: { reference: `Patient/${patientId}` },
    code: { coding: [{ code: '718-7', display: 'Hemoglobin' }] },
    valueQuantity: { value: 13.2, unit: 'g/dL' },
    note: 'Avery Quinn called',
  });
  const bundle = (...entries: unknown[]) => ({
    resourceType: 'Bundle',
    type: 'searchset',
    total: entries.length,
    link: [{ relation: 'self', url: 'https://fhir.example/Observation?patient.identifier=219-09-9999' }],
    entry: entries.map((resource) => ({ fullUrl: `https://fhir.example/${(resource as { resourceType: string }).resourceType}/${(resource as { id: string }).id}`, resource, search: { mode: 'match' } })),
  });
  const patientEntry = { resourceType: 'Patient', id: '1001', name: [{ family: 'Quinn', given: ['Avery'] }] };

  it('projects every entry with the resource\'s rules, leaves out entries of other types and the search URL', () => {
    const { value, disclosure } = p.protect(bundle(observation('o1', '1001'), patientEntry, observation('o2', '1002')), clinician, 'Observation');
    const out = value as { entry: { fullUrl?: string; resource: Record<string, unknown> }[]; link: { relation: string; url?: string }[]; total: number };
    expect(out.entry.map((e) => e.resource.id)).toEqual(['o1', 'o2']);
    expect(out.entry.every((e) => !('note' in e.resource) && e.fullUrl !== undefined)).toBe(true);
    expect(out.link).toEqual([{ relation: 'self' }]);
    expect(JSON.stringify(value)).not.toMatch(/Quinn|Avery|219-09-9999/);
    expect(disclosure.disclosed).toContain('entry[].resource.valueQuantity');
    // The bare resource still works.
    expect(p.protect(observation('o3', '1001'), clinician, 'Observation').value).not.toHaveProperty('note');
  });

  it('billing gets the codes of each entry and no id, reference or full URL', () => {
    const { value } = p.protect(bundle(observation('o1', '1001')), billing(), 'Observation');
    expect(value).toEqual({ resourceType: 'Bundle', type: 'searchset', total: 1, link: [{ relation: 'self' }], entry: [{ resource: { resourceType: 'Observation', code: { coding: [{ code: '718-7' }] } }, search: { mode: 'match' } }] });
  });

  it('audits every patient of a Bundle and answers PATRQT only when every entry is the caller\'s', () => {
    const mixed = bundle(observation('o1', '1001'), observation('o2', '1002'));
    expect(p.resources.get('Observation')!.subjectsOf(mixed).ids).toEqual(['1001', '1002']);
    expect(() => p.protect(mixed, patient('1001'), 'Observation')).toThrow(AccessDeniedError);
    expect(() => p.protect(bundle(observation('o1', '1001'), patientEntry), patient('1001'), 'Observation')).not.toThrow();
  });

  it('a page wrapper: items projected, wrapper fields declared once, every patient checked', () => {
    const page = { data: [{ patientId: '1001', value: 1, secret: 'x' }], total: 1, next: '/page/2', debug: 'dropped' };
    expect(p.protect(page, clinician, 'Page').value).toEqual({ data: [{ patientId: '1001', value: 1 }], total: 1, next: '/page/2' });
    expect(() => p.protect({ data: [{ patientId: '1002', value: 1 }] }, patient('1001'), 'Page')).toThrow(AccessDeniedError);
    expect(p.protect({ patientId: '1001', value: 3 }, patient('1001'), 'Page').value).toEqual({ patientId: '1001', value: 3 });
  });

  it('refuses envelopes it cannot apply safely', () => {
    const bad = (envelope: unknown, fields: Record<string, unknown> = { x: 'clinical' }) => () =>
      compileUnchecked({ roles: ['r'], resources: { R: { envelope, id: Object.keys(fields).includes('id') ? 'id' : undefined, fields, disclose: { r: { TREAT: { '*': 'send' } } } } } }, { secret: SECRET });
    expect(bad({ items: 'data' })).toThrow(/items must be a key path ending in \[\]/);
    expect(bad({ bundle: 'X', items: 'data[]' })).toThrow(/envelope must be/);
    expect(bad({ items: 'data[]' }, { 'data.x': 'clinical' })).toThrow(/declares "data" itself/);
    expect(bad({ bundle: 'X' }, { id: 'non-phi', ssn: { class: 'direct-identifier', encrypt: true } })).toThrow(/encrypted fields/);
  });
});

function billing(): AccessContext {
  return { principal: { id: 'b' }, roles: ['billing'], purposeOfUse: 'HPAYMT' };
}
