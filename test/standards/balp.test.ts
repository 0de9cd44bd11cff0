/**
 * The BALP checker and the FHIR schema themselves: each rule the suites rely on must reject the
 * violation it names. Valid events are mapped from generated audit events; each mutation breaks
 * one rule of one profile.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type AuditEvent } from '@phiguard/core';
import { toFhirAuditEvent, toFhirAuditEvents, type AuditAction } from '@phiguard/core/audit';
import { balpErrors } from './balp.js';
import { fhirSchemaErrors } from './validators.js';

const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
type J = Record<string, any>;

const eventArb = fc.record({
  action: fc.constantFrom<AuditAction>('read', 'create', 'update', 'delete', 'disclose'),
  actor: fc.record({ id: fc.stringMatching(/^[a-z][a-z0-9.-]{1,12}$/), roles: fc.array(fc.constantFrom('clinician', 'billing', 'patient'), { maxLength: 2 }), ip: fc.ipV4(), userAgent: fc.constantFrom('curl/8', 'app/1.2') }),
  purposeOfUse: fc.constantFrom('TREAT', 'HPAYMT', 'PATRQT'),
  patient: fc.option(fc.stringMatching(/^pt_[A-Za-z0-9_-]{22}$/).map((ref) => ({ ref })), { nil: undefined }),
  requestId: fc.uuid(),
});
type Generated = { action: AuditAction; actor: { id: string; roles: string[]; ip: string; userAgent: string }; purposeOfUse: string; patient: { ref: string } | undefined; requestId: string };
const toEvent = (g: Generated): AuditEvent => ({
  id: '5f0c6b9e-2a34-4e8b-9a8e-0c1d2e3f4a5b',
  time: '2026-01-01T09:00:00.000Z',
  action: g.action,
  outcome: 'success',
  actor: g.actor,
  purposeOfUse: g.purposeOfUse,
  patient: g.patient ?? (g.action === 'disclose' ? { ref: 'pt_0000000000000000000000' } : undefined),
  resource: { type: 'PatientResults', id: 'rv-7' },
  disclosed: ['patient.mrn'],
  request: { method: 'GET', route: '/patients/:id/results', requestId: g.requestId },
});
const fhir = (e: AuditEvent) => JSON.parse(JSON.stringify(toFhirAuditEvent(e, { observer: 'lab-api', serverAddress: 'lab.example.org' }))) as J;
const agentTyped = (f: J, code: string) => (f.agent as J[]).find((a) => a.type?.coding?.some((c: J) => c.code === code))!;

describe('the BALP checker and the FHIR R4 schema', () => {
  it('accept every generated successful event, and each claims its profile', () => {
    fc.assert(
      fc.property(eventArb, (g) => {
        const f = fhir(toEvent(g));
        expect(balpErrors(f)).toEqual([]);
        expect(fhirSchemaErrors(f)).toEqual([]);
        expect(f.meta?.profile).toHaveLength(1);
      }),
      { numRuns: 30 },
    );
  });

  const read = () => fhir(toEvent({ action: 'read', actor: { id: 'u-1', roles: [], ip: '10.0.0.1', userAgent: 'curl/8' }, purposeOfUse: 'TREAT', patient: { ref: 'pt_x' }, requestId: 'r-1' }));
  const disclosure = () => fhir(toEvent({ action: 'disclose', actor: { id: 'u-1', roles: [], ip: '10.0.0.1', userAgent: 'curl/8' }, purposeOfUse: 'PATRQT', patient: { ref: 'pt_x' }, requestId: 'r-1' }));
  const query = (patient = true) =>
    fhir({ ...toEvent({ action: 'read', actor: { id: 'u-1', roles: [], ip: '10.0.0.1', userAgent: 'curl/8' }, purposeOfUse: 'TREAT', patient: patient ? { ref: 'pt_x' } : undefined, requestId: 'r-1' }), request: { method: 'GET', route: '/patients/:id/labs', requestId: 'r-1' }, query: { params: ['code', 'date'] } });
  const queryEntity = (f: J) => (f.entity as J[]).find((x) => x.role?.code === '24')!;
  const mutations: [string, () => J, RegExp][] = [
    ['query with the Read agent typing (server as Source Role ID)', () => { const f = query(); agentTyped(f, '110152').type.coding[0].code = '110153'; return f; }, /agent\[server\] \(110152\) is required|max 1/],
    ['query with action R', () => { const f = query(); f.action = 'R'; return f; }, /action = #E/],
    ['query entity naming a resource', () => { const f = query(); queryEntity(f).what = { display: 'Lab' }; return f; }, /entity\[query\]\.what 0\.\.0/],
    ['query entity without the query', () => { const f = query(); delete queryEntity(f).query; return f; }, /entity\[query\]\.query 1\.\.1/],
    ['query entity query not base64', () => { const f = query(); queryEntity(f).query = 'GET /labs?code'; return f; }, /base64Binary/],
    ['query entity with detail', () => { const f = query(false); queryEntity(f).detail = [{ type: 'q', valueString: 'x' }]; return f; }, /detail 0\.\.0/],
    ['query with a second System Object entity', () => { const f = query(); f.entity.push({ type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '2' }, role: { system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '4' }, what: { display: 'x' } }); return f; }, /entity\[query\] 1\.\.1/],
    ['patient query without the patient', () => { const f = query(); f.entity = f.entity.filter((x: J) => x.role?.code !== '1'); return f; }, /PatientQuery: entity\[patient\] 1\.\.1/],
    ['server agent without network', () => { const f = read(); delete agentTyped(f, '110153').network; return f; }, /agent\[server\]\.network 1\.\.1/],
    ['server typed as the client', () => { const f = read(); agentTyped(f, '110153').type.coding[0].code = '110152'; return f; }, /agent\[server\] \(110153\) is required|max 1/],
    ['user with a network', () => { const f = read(); agentTyped(f, 'IRCP').network = { address: '10.0.0.1', type: '2' }; return f; }, /network 0\.\.0/],
    ['user typed IRCP on a create', () => { const f = fhir({ ...toEvent({ action: 'create', actor: { id: 'u', roles: [], ip: '10.0.0.1', userAgent: 'x' }, purposeOfUse: 'TREAT', patient: { ref: 'pt_x' }, requestId: 'r' }) }); agentTyped(f, 'AUT').type.coding[0].code = 'IRCP'; return f; }, /AUT\/INF\/CST/],
    ['patient reference without a type', () => { const f = read(); delete f.entity[0].what.type; return f; }, /only Reference\(Patient\)/],
    ['request id with another display', () => { const f = read(); f.entity.at(-1).type.display = 'Request Id'; return f; }, /XrequestId/],
    ['read with action C', () => { const f = read(); f.action = 'C'; return f; }, /action = #R/],
    ['failure claiming the profile', () => { const f = read(); f.outcome = '4'; return f; }, /outcome = #0/],
    ['disclosure without a purpose', () => { const f = disclosure(); delete f.purposeOfEvent; return f; }, /purposeOfEvent/],
    ['disclosure source that is not the observer', () => { const f = disclosure(); agentTyped(f, '110153').who = { display: 'elsewhere' }; return f; }, /val-audit-source/],
    ['disclosure without a recipient', () => { const f = disclosure(); f.agent = f.agent.filter((a: J) => a.type.coding[0].code !== '110152'); return f; }, /agent\[recipient\]/],
    ['override stop coded with a wrong display', () => { const f = read(); f.type = { system: DCM, code: '110113', display: 'Security Alert' }; f.subtype = [{ system: DCM, code: '110138', display: 'Emergency Override Started' }]; delete f.meta; return f; }, /display of DCM#110138/],
    ['authorization decision without an authorizer', () => { const f = read(); f.type = { system: DCM, code: '110113', display: 'Security Alert' }; f.subtype = [{ system: 'https://profiles.ihe.net/ITI/BALP/CodeSystem/AuthZsubType', code: 'AuthZ-Role' }]; f.action = 'E'; delete f.meta; return f; }, /agent\[authorizer\]/],
  ];
  it.each(mutations)('the checker rejects: %s', (_name, make, message) => {
    expect(balpErrors(make()).join('\n')).toMatch(message);
  });

  it('queries: PatientQuery with a patient, Query without; one PatientQuery per patient of a multi-patient answer; values never in the query entity', () => {
    for (const [f, profile] of [[query(), 'PatientQuery'], [query(false), 'Query']] as const) {
      expect(balpErrors(f)).toEqual([]);
      expect(fhirSchemaErrors(f)).toEqual([]);
      expect(f.meta.profile).toEqual([`https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit.${profile}`]);
      expect(queryEntity(f).description).toBe('GET /patients/:id/labs?code&date');
    }
    const refs = ['pt_aaaaaaaaaaaaaaaaaaaaaa', 'pt_bbbbbbbbbbbbbbbbbbbbbb', 'pt_cccccccccccccccccccccc'];
    const several: AuditEvent = { ...toEvent({ action: 'read', actor: { id: 'u-1', roles: [], ip: '10.0.0.1', userAgent: 'curl/8' }, purposeOfUse: 'TREAT', patient: { ref: refs[0]! }, requestId: 'r-1' }), patients: refs, query: { params: [], other: 2 } };
    // One resource cannot be a PatientQuery about three patients: no profile claimed, the split claims each.
    expect(toFhirAuditEvent(several).meta).toBeUndefined();
    const split = toFhirAuditEvents(several, { observer: 'lab-api', serverAddress: 'lab.example.org' });
    expect(split.map((f) => f.entity!.find((x) => x.role?.code === '1')!.what!.identifier!.value)).toEqual(refs);
    expect(new Set(split.map((f) => f.id)).size).toBe(3);
    for (const f of split) {
      expect(balpErrors(JSON.parse(JSON.stringify(f)))).toEqual([]);
      expect(fhirSchemaErrors(JSON.parse(JSON.stringify(f)))).toEqual([]);
      expect(f.meta?.profile?.[0]).toMatch(/PatientQuery$/);
      expect(f.entity!.find((x) => x.role?.code === '24')!.description).toBe('GET /patients/:id/results?(2 other)');
    }
    // Not a query: one event, as toFhirAuditEvent maps it.
    expect(toFhirAuditEvents({ ...several, query: undefined })).toHaveLength(1);
  });

  it('the FHIR schema rejects what R4 does not allow', () => {
    const bad = [
      (f: J) => (f.agent[0].network.type = '9'),
      (f: J) => (f.recorded = 'yesterday'),
      (f: J) => (f.agent[0].requestor = 'yes'),
      (f: J) => (f.entity[0].what.identfier = { value: 'x' }),
      (f: J) => delete f.source,
    ];
    for (const mutate of bad) {
      const f = read();
      mutate(f);
      expect(fhirSchemaErrors(f).length).toBeGreaterThan(0);
    }
  });
});
