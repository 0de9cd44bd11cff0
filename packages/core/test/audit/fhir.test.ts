import type { AuditEvent as R4AuditEvent } from 'fhir/r4.js';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { AuditAction, AuditEvent } from '../../src/audit/event.js';
import { toFhirAuditEvent, type FhirAuditEventR4 } from '../../src/audit/fhir.js';
import { sampleEvent } from './fixtures.js';

const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const REST = { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest', display: 'Restful Operation' };
const restful = (code: string) => ({ system: 'http://hl7.org/fhir/restful-interaction', code, display: code });

describe('toFhirAuditEvent', () => {
  it('produces a FHIR R4 AuditEvent (assignable to the fhir/r4 typings)', () => {
    expectTypeOf<FhirAuditEventR4>().toExtend<R4AuditEvent>();
    const r4: R4AuditEvent = toFhirAuditEvent(sampleEvent(0));
    expect(r4.resourceType).toBe('AuditEvent');
  });

  it('maps a successful read with a patient to BALP PatientRead', () => {
    const e = sampleEvent(0);
    const f = toFhirAuditEvent(e, { observer: 'lab-api', site: 'hospital-a' });
    expect(f).toEqual({
      resourceType: 'AuditEvent',
      id: e.id,
      meta: { profile: ['https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit.PatientRead'] },
      type: REST,
      subtype: [restful('read')],
      action: 'R',
      recorded: e.time,
      outcome: '0',
      agent: [
        {
          type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP', display: 'information recipient' }] },
          who: { identifier: { value: 'user-0' } },
          role: [{ text: 'clinician' }],
          network: { address: '10.0.0.1', type: '2' },
          purposeOfUse: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-PurposeOfUse', code: 'TREAT' }] }],
          requestor: true,
        },
        {
          type: { coding: [{ system: DCM, code: '110152', display: 'Destination Role ID' }] },
          who: { display: 'lab-api' },
          requestor: false,
        },
      ],
      source: {
        site: 'hospital-a',
        observer: { display: 'lab-api' },
        type: [{ system: 'http://terminology.hl7.org/CodeSystem/security-source-type', code: '4', display: 'Application Server' }],
      },
      entity: [
        {
          what: { identifier: { system: 'urn:phiguard:patient-ref', value: e.patient!.ref } },
          type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '1', display: 'Person' },
          role: { system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '1', display: 'Patient' },
        },
        {
          what: { identifier: { system: 'urn:phiguard:resource:labResults', value: '5000' }, display: 'labResults' },
          type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '2', display: 'System Object' },
          role: { system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '4', display: 'Domain Resource' },
          detail: [
            { type: 'disclosed', valueString: 'patient.id,results[].code,results[].value' },
            { type: 'transforms', valueString: '{"patient.birthDate":"year"}' },
          ],
        },
        {
          what: { identifier: { value: 'req-0' } },
          type: { system: 'https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType', code: 'XrequestId', display: 'Request Id' },
        },
      ],
    });
  });

  const cases: [AuditAction, string, object, object[] | undefined, string | undefined][] = [
    ['read', 'R', REST, [restful('read')], 'PatientRead'],
    ['create', 'C', REST, [restful('create')], 'PatientCreate'],
    ['update', 'U', REST, [restful('update')], 'PatientUpdate'],
    ['delete', 'D', REST, [restful('delete')], 'PatientDelete'],
    ['export', 'R', { system: DCM, code: '110106', display: 'Export' }, [{ system: 'http://terminology.hl7.org/CodeSystem/iso-21089-lifecycle', code: 'extract', display: 'Extract Record Lifecycle Event' }], undefined],
    [
      'disclose',
      'R',
      { system: DCM, code: '110106', display: 'Export' },
      [{ system: 'http://terminology.hl7.org/CodeSystem/iso-21089-lifecycle', code: 'disclose', display: 'Disclose Record Lifecycle Event' }, restful('read')],
      undefined,
    ],
    ['break-glass', 'E', { system: DCM, code: '110113', display: 'Security Alert' }, [{ system: DCM, code: '110127', display: 'Emergency Override Started' }], undefined],
    ['login', 'E', { system: DCM, code: '110114', display: 'User Authentication' }, [{ system: DCM, code: '110122', display: 'Login' }], undefined],
  ];
  it.each(cases)('maps action %s to action %s with its BALP type and subtype', (action, code, type, subtype, profile) => {
    const f = toFhirAuditEvent(sampleEvent(0, { action }));
    expect(f.action).toBe(code);
    expect(f.type).toEqual(type);
    expect(f.subtype).toEqual(subtype);
    expect(f.meta?.profile).toEqual(profile === undefined ? undefined : [`https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit.${profile}`]);
  });

  it('uses the non-patient BALP profile without a patient, and Patient Record outside HTTP', () => {
    const noPatient = toFhirAuditEvent(sampleEvent(0, { patient: undefined }));
    expect(noPatient.meta?.profile).toEqual(['https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit.Read']);
    expect(noPatient.entity?.some((x) => x.role?.code === '1')).toBe(false);
    const job = toFhirAuditEvent(sampleEvent(0, { request: undefined }));
    expect(job.type).toEqual({ system: DCM, code: '110110', display: 'Patient Record' });
    expect(job.entity?.some((x) => x.type?.code === 'XrequestId')).toBe(false);
  });

  const outcomes: [Partial<AuditEvent>, string, string | undefined][] = [
    [{ outcome: 'success' }, '0', undefined],
    [{ action: 'deny', outcome: 'denied', attemptedAction: 'update', reason: 'purpose_not_permitted' }, '4', 'purpose_not_permitted'],
    [{ outcome: 'error', reason: 'limit_exceeded' }, '8', 'limit_exceeded'],
    [{ outcome: 'error', reason: 'key_unavailable' }, '12', 'key_unavailable'],
    [{ outcome: 'error', reason: 'audit_unavailable' }, '12', 'audit_unavailable'],
  ];
  it.each(outcomes)('maps outcome %o to %s with the reason code as outcomeDesc', (over, outcome, desc) => {
    const f = toFhirAuditEvent(sampleEvent(0, over));
    expect(f.outcome).toBe(outcome);
    expect(f.outcomeDesc).toBe(desc);
    if (outcome !== '0') expect(f.meta).toBeUndefined();
  });

  it('maps a denial by the attempted action', () => {
    const f = toFhirAuditEvent(sampleEvent(0, { action: 'deny', outcome: 'denied', attemptedAction: 'delete', reason: 'role_unknown' }));
    expect(f).toMatchObject({ action: 'D', type: REST, subtype: [restful('delete')], outcome: '4' });
  });

  it('maps an action it does not know (prototype names included) as a Patient Record event', () => {
    for (const action of ['constructor', '__proto__', 'archive']) {
      const f = toFhirAuditEvent(sampleEvent(0, { action: action as AuditAction }));
      expect(f.type).toEqual({ system: DCM, code: '110110', display: 'Patient Record' });
      expect(f.action).toBe('R');
    }
  });

  it('handles an anonymous caller without purpose, roles or network', () => {
    const f = toFhirAuditEvent(sampleEvent(0, { actor: { id: null, roles: [] }, purposeOfUse: null }));
    expect(f.agent[0]).toEqual({
      type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP', display: 'information recipient' }] },
      requestor: true,
    });
  });

  it('takes the purpose-of-use code system as an option and rejects unknown options', () => {
    const sys = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';
    expect(toFhirAuditEvent(sampleEvent(0), { purposeOfUseSystem: sys }).agent[0]!.purposeOfUse).toEqual([{ coding: [{ system: sys, code: 'TREAT' }] }]);
    expect(() => toFhirAuditEvent(sampleEvent(0), { observor: 'x' } as never)).toThrow(/did you mean "observer"/);
  });

  it('carries no value the event does not carry (no PHI is added)', () => {
    const e = sampleEvent(3);
    const leaves: string[] = [];
    const walk = (v: unknown): void => {
      if (typeof v === 'string') leaves.push(v);
      else if (v !== null && typeof v === 'object') for (const x of Object.values(v)) walk(x);
    };
    walk(toFhirAuditEvent(e));
    const fixed = ['AuditEvent', 'Restful Operation', 'information recipient', 'Destination Role ID', 'phiguard', 'Application Server', 'Person', 'Patient', 'System Object', 'Domain Resource', 'disclosed', 'transforms', 'XrequestId', 'Request Id', 'IRCP', 'rest', 'read', 'update', 'delete', 'create', 'R', '0', '1', '2', '4', '110152'];
    const fromEvent = JSON.stringify(e);
    for (const v of leaves) {
      if (/^(https?:|urn:)/.test(v) || fixed.includes(v)) continue;
      for (const part of v.split(/[,{}":]+/).filter(Boolean)) expect(fromEvent, `"${part}" comes from nowhere`).toContain(part);
    }
  });
});
