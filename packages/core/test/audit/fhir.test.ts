import type { AuditEvent as R4AuditEvent } from 'fhir/r4.js';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { AuditAction, AuditEvent } from '../../src/audit/event.js';
import { toFhirAuditEvent, type FhirAuditEventAgent, type FhirAuditEventR4 } from '../../src/audit/fhir.js';
import { sampleEvent } from './fixtures.js';

const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const REST = { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest', display: 'Restful Operation' };
const restful = (code: string) => ({ system: 'http://hl7.org/fhir/restful-interaction', code, display: code });
const PROFILE = 'https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit.';
const OPTS = { observer: 'lab-api', serverAddress: 'lab.example.org' };
/** The agent whose type has this code. */
const agent = (f: FhirAuditEventR4, code: string): FhirAuditEventAgent | undefined => f.agent.find((a) => a.type?.coding?.some((c) => c.code === code));

describe('toFhirAuditEvent', () => {
  it('produces a FHIR R4 AuditEvent (assignable to the fhir/r4 typings)', () => {
    expectTypeOf<FhirAuditEventR4>().toExtend<R4AuditEvent>();
    const r4: R4AuditEvent = toFhirAuditEvent(sampleEvent(0));
    expect(r4.resourceType).toBe('AuditEvent');
  });

  it('maps a successful read with a patient to BALP PatientRead: client 110152 with network, server 110153 with network, user IRCP without network', () => {
    const e = sampleEvent(0);
    const f = toFhirAuditEvent(e, { ...OPTS, site: 'hospital-a' });
    expect(f.meta).toEqual({ profile: [`${PROFILE}PatientRead`] });
    expect(f).toMatchObject({ type: REST, subtype: [restful('read')], action: 'R', outcome: '0', recorded: e.time, source: { site: 'hospital-a', observer: { display: 'lab-api' } } });
    expect(agent(f, '110152')).toEqual({ type: { coding: [{ system: DCM, code: '110152', display: 'Destination Role ID' }] }, who: { display: 'test/1.0' }, requestor: false, network: { address: '10.0.0.1', type: '2' } });
    expect(agent(f, '110153')).toEqual({ type: { coding: [{ system: DCM, code: '110153', display: 'Source Role ID' }] }, who: { display: 'lab-api' }, requestor: false, network: { address: 'lab.example.org', type: '1' } });
    const user = agent(f, 'IRCP')!;
    expect(user).toMatchObject({ who: { identifier: { value: 'user-0' } }, requestor: true, role: [{ text: 'clinician' }] });
    expect(user.network).toBeUndefined();
    expect(f.purposeOfEvent).toEqual([{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-PurposeOfUse', code: 'TREAT' }] }]);
    expect(f.entity![0]).toEqual({
      what: { type: 'Patient', identifier: { system: 'urn:phiguard:patient-ref', value: e.patient!.ref } },
      type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '1', display: 'Person' },
      role: { system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '1', display: 'Patient' },
    });
    expect(f.entity!.find((x) => x.type?.code === 'XrequestId')).toEqual({
      what: { identifier: { value: 'req-0' } },
      type: { system: 'https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType', code: 'XrequestId', display: 'transport specific unique identifier where http X-Request-Id is used' },
    });
  });

  // [action, FHIR action, client type, server type, user type, profile]
  const rest: [AuditAction, string, string, string, string, string][] = [
    ['read', 'R', '110152', '110153', 'IRCP', 'Read'],
    ['create', 'C', '110153', '110152', 'AUT', 'Create'],
    ['update', 'U', '110153', '110152', 'AUT', 'Update'],
    ['delete', 'D', '110150', 'custodian', 'AUT', 'Delete'],
  ];
  it.each(rest)('types the agents of a %s as the BALP profile does (action %s, client %s, server %s, user %s)', (action, code, clientType, serverType, userType, profile) => {
    for (const patient of [true, false]) {
      const f = toFhirAuditEvent(sampleEvent(0, { action, ...(patient ? {} : { patient: undefined }) }), OPTS);
      expect(f.action).toBe(code);
      expect(f.subtype).toEqual([restful(action)]);
      expect(agent(f, clientType)?.network?.address).toBe('10.0.0.1');
      expect(agent(f, serverType)).toMatchObject({ who: { display: 'lab-api' }, network: { address: 'lab.example.org' }, requestor: false });
      expect(agent(f, userType)).toMatchObject({ requestor: true });
      expect(agent(f, userType)!.network).toBeUndefined();
      expect(f.meta?.profile).toEqual([`${PROFILE}${patient ? 'Patient' : ''}${profile}`]);
    }
  });

  it('claims no profile for an event the profile cannot describe: outside HTTP, without a client address, or not a success', () => {
    const job = toFhirAuditEvent(sampleEvent(0, { request: undefined }));
    expect(job.type).toEqual({ system: DCM, code: '110110', display: 'Patient Record' });
    expect(job.meta).toBeUndefined();
    expect(toFhirAuditEvent(sampleEvent(0, { actor: { id: 'u', roles: [] } })).meta).toBeUndefined();
    expect(toFhirAuditEvent(sampleEvent(0, { outcome: 'error', reason: 'limit_exceeded' })).meta).toBeUndefined();
    // A DLP report on a request body is not the create itself (that has its own event).
    const dlp = toFhirAuditEvent(sampleEvent(0, { action: 'create', dlp: { action: 'redact', counts: { SSN: 1 } } }));
    expect(dlp.meta).toBeUndefined();
    expect(dlp.entity?.find((x) => x.type?.code === '2')?.detail).toContainEqual({ type: 'dlp', valueString: '{"action":"redact","counts":{"SSN":1}}' });
  });

  it('maps a disclosure to PrivacyDisclosure.Source: this server as source (= observer), the requesting client as recipient, purposeOfEvent', () => {
    const f = toFhirAuditEvent(sampleEvent(0, { action: 'disclose', purposeOfUse: 'PATRQT' }), OPTS);
    expect(f.meta).toEqual({ profile: [`${PROFILE}PrivacyDisclosure.Source`] });
    expect(f).toMatchObject({ type: { system: DCM, code: '110106' }, action: 'R' });
    expect(f.subtype).toContainEqual({ system: 'http://terminology.hl7.org/CodeSystem/iso-21089-lifecycle', code: 'disclose', display: 'Disclose Record Lifecycle Event' });
    expect(agent(f, '110153')!.who).toEqual(f.source.observer);
    expect(agent(f, '110152')).toMatchObject({ network: { address: '10.0.0.1' } });
    expect(f.purposeOfEvent?.[0]?.coding?.[0]?.code).toBe('PATRQT');
  });

  it('names the external recipient of a disclosure as the recipient agent when the event carries one', () => {
    const e = { ...sampleEvent(0, { action: 'disclose', purposeOfUse: 'HLEGAL' }), recipient: { type: 'organization', id: 'org-77', name: 'Counsel LLP' } };
    const f = toFhirAuditEvent(e, OPTS);
    expect(agent(f, '110152')).toMatchObject({ who: { identifier: { system: 'urn:phiguard:recipient:organization', value: 'org-77' }, display: 'Counsel LLP' } });
    // The staff member who released it stays as the requesting user.
    expect(agent(f, 'IRCP')).toMatchObject({ who: { identifier: { value: 'user-0' } }, requestor: true });
    // A malformed recipient is ignored, not echoed.
    const bad = toFhirAuditEvent({ ...sampleEvent(0, { action: 'disclose' }), recipient: { type: 3, id: {} } } as never, OPTS);
    expect(JSON.stringify(bad)).not.toContain('urn:phiguard:recipient');
  });

  const overrides: [string, object, object | undefined][] = [
    ['granted', { system: DCM, code: '110113', display: 'Security Alert' }, { system: DCM, code: '110127', display: 'Emergency Override Started' }],
    ['revoked', { system: DCM, code: '110113', display: 'Security Alert' }, { system: DCM, code: '110138', display: 'Emergency Override Stopped' }],
    ['reviewed:appropriate', { system: DCM, code: '110101', display: 'Audit Log Used' }, undefined],
    ['reviewed:inappropriate', { system: DCM, code: '110101', display: 'Audit Log Used' }, undefined],
  ];
  it.each(overrides)('maps break-glass %s to its own type and subtype (a review is not an override)', (kind, type, subtype) => {
    const grant = { reason: 'unconscious', grantId: '8d5c3e0a-1111-4222-8333-944455556666', expiresAt: '2026-01-01T10:00:00.000Z' };
    const f = toFhirAuditEvent(sampleEvent(0, { action: 'break-glass', reason: kind, breakGlass: grant, purposeOfUse: 'ETREAT' }), OPTS);
    expect(f.type).toEqual(type);
    expect(f.subtype).toEqual(subtype === undefined ? undefined : [subtype]);
    expect(f.entity!.find((x) => x.role?.code === '13')?.what?.identifier?.value).toBe(grant.grantId);
  });

  it('marks a read under a break-glass grant: purpose BTG and the grant as an entity', () => {
    const grant = { reason: 'unconscious', grantId: '8d5c3e0a-1111-4222-8333-944455556666', expiresAt: '2026-01-01T10:00:00.000Z' };
    const f = toFhirAuditEvent(sampleEvent(0, { breakGlass: grant }), OPTS);
    expect(f.purposeOfEvent?.map((p) => p.coding?.[0]?.code)).toEqual(['TREAT', 'BTG']);
    expect(f.entity!.find((x) => x.role?.code === '13')).toMatchObject({ what: { identifier: { value: grant.grantId } }, type: { code: '4' } });
    expect(toFhirAuditEvent(sampleEvent(0), OPTS).purposeOfEvent).toHaveLength(1);
  });

  it('maps a denial to an authorization decision (Security Alert, AuthZ-Role) with the attempted action kept', () => {
    const f = toFhirAuditEvent(sampleEvent(0, { action: 'deny', outcome: 'denied', attemptedAction: 'delete', reason: 'role_unknown' }), OPTS);
    expect(f).toMatchObject({ action: 'E', outcome: '4', outcomeDesc: 'role_unknown', type: { code: '110113' } });
    expect(f.subtype).toEqual([{ system: 'https://profiles.ihe.net/ITI/BALP/CodeSystem/AuthZsubType', code: 'AuthZ-Role', display: 'Authorization Decision using only Roles' }]);
    expect(agent(f, 'authserver')).toEqual({ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/extra-security-role-type', code: 'authserver', display: 'authorization server' }] }, who: f.source.observer, requestor: false });
    expect(agent(f, '110150')?.network?.address).toBe('10.0.0.1');
    expect(f.entity!.find((x) => x.type?.code === '2')?.detail).toContainEqual({ type: 'attemptedAction', valueString: 'delete' });
    expect(f.meta).toBeUndefined();
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

  it('maps an action it does not know (prototype names included) as a Patient Record event', () => {
    for (const action of ['constructor', '__proto__', 'archive']) {
      const f = toFhirAuditEvent(sampleEvent(0, { action: action as AuditAction }));
      expect(f.type).toEqual({ system: DCM, code: '110110', display: 'Patient Record' });
      expect(f.meta).toBeUndefined();
    }
  });

  it('handles an anonymous caller without purpose, roles or network: no user agent, no client agent, no profile', () => {
    const f = toFhirAuditEvent(sampleEvent(0, { actor: { id: null, roles: [] }, purposeOfUse: null }), OPTS);
    expect(f.agent.some((a) => a.requestor)).toBe(false);
    expect(f.agent.length).toBeGreaterThan(0);
    expect(f.purposeOfEvent).toBeUndefined();
    expect(f.meta).toBeUndefined();
  });

  it('takes the purpose-of-use code system as an option and rejects unknown options', () => {
    const sys = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';
    expect(agent(toFhirAuditEvent(sampleEvent(0), { purposeOfUseSystem: sys }), 'IRCP')!.purposeOfUse).toEqual([{ coding: [{ system: sys, code: 'TREAT' }] }]);
    expect(() => toFhirAuditEvent(sampleEvent(0), { observor: 'x' } as never)).toThrow(/did you mean "observer"/);
  });

  it('carries no value the event does not carry (no PHI is added)', () => {
    const e = sampleEvent(3);
    const leaves: string[] = [];
    const walk = (v: unknown, key = ''): void => {
      if (typeof v === 'string' && key !== 'display' && key !== 'code' && key !== 'system') leaves.push(v);
      else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, k);
    };
    walk(toFhirAuditEvent(e, OPTS));
    const fixed = ['AuditEvent', 'Patient', 'lab-api', 'lab.example.org', 'disclosed', 'transforms', 'R', 'U', 'C', 'D', 'E', '0', '1', '2'];
    const fromEvent = JSON.stringify(e);
    for (const v of leaves) {
      if (/^(https?:|urn:)/.test(v) || fixed.includes(v)) continue;
      for (const part of v.split(/[,{}":]+/).filter(Boolean)) expect(fromEvent, `"${part}" comes from nowhere`).toContain(part);
    }
  });
});
