/**
 * The BALP checker and the FHIR schema themselves: each rule the suites rely on must reject the
 * violation it names. Valid events are mapped from generated audit events; each mutation breaks
 * one rule of one profile.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type AuditEvent } from '@phiguard/core';
import { toFhirAuditEvent, type AuditAction } from '@phiguard/core/audit';
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
  const mutations: [string, () => J, RegExp][] = [
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
