import { describe, expect, it } from 'vitest';
import { type AuditEvent } from '@phiguard/core';
import {
  createMemoryAnomalyStore,
  createAnomalySink,
  breakGlassRule,
  newNetworkRule,
  nonClinicalResultsRule,
  populationAccessRule,
  type AnomalyAlert,
  type AnomalyRule,
} from '@phiguard/core/audit';
import { sampleEvent } from '../audit/fixtures.js';

const T0 = Date.parse('2026-03-02T10:00:00.000Z');
const ev = (minute: number, over: Partial<AuditEvent>): AuditEvent => sampleEvent(0, { time: new Date(T0 + minute * 60_000).toISOString(), action: 'read', ...over });
async function run(rules: AnomalyRule[], events: AuditEvent[]): Promise<AnomalyAlert[]> {
  const alerts: AnomalyAlert[] = [];
  const sink = createAnomalySink({ rules, onAlert: (a) => void alerts.push(a), store: createMemoryAnomalyStore(() => T0), breakGlassAlerts: false });
  for (const e of events) sink.write(e);
  await sink.idle();
  return alerts;
}
const noPatient = (minute: number, over: Partial<AuditEvent> = {}) => {
  const e = ev(minute, { action: 'export', actor: { id: 'res-1', roles: ['researcher'] }, ...over });
  const { patient: _p, ...rest } = e;
  return rest as AuditEvent;
};

describe('population-level access (events without a patient reference)', () => {
  it('fifty whole-population extracts in a row raise one alert, at the first over the limit', async () => {
    const alerts = await run([populationAccessRule({ maxEvents: 10, windowMs: 3_600_000 })], Array.from({ length: 50 }, (_, i) => noPatient(i)));
    expect(alerts.map((a) => [a.rule, a.actorId, a.count])).toEqual([['population-access', 'res-1', 11]]);
    expect(alerts[0]!.patientRef).toBeUndefined();
  });
  it('per-patient events, denials and other actors do not count; a new window starts over', async () => {
    const events = [
      ...Array.from({ length: 10 }, (_, i) => noPatient(i)),
      ev(11, { action: 'export', actor: { id: 'res-1', roles: [] } }), // has a patient
      noPatient(12, { outcome: 'denied', action: 'deny' }),
      noPatient(13, { actor: { id: 'res-2', roles: [] } }),
      ...Array.from({ length: 10 }, (_, i) => noPatient(61 + i)),
    ];
    expect(await run([populationAccessRule({ maxEvents: 10, windowMs: 3_600_000 })], events)).toEqual([]);
    expect(() => populationAccessRule({ maxEvents: 0, windowMs: 1 })).toThrow(/positive/);
  });
});

describe('first access from a new network', () => {
  const at = (minute: number, id: string, ip: string) => ev(minute, { actor: { id, roles: ['clinician'], ip } });
  it('the first network is the baseline; a new /24 (or /48) alerts once; the same network again does not', async () => {
    const alerts = await run([newNetworkRule()], [
      at(0, 'u1', '10.1.2.3'),
      at(1, 'u1', '10.1.2.200'), // same /24
      at(2, 'u1', '::ffff:10.1.2.9'), // same, IPv4-mapped
      at(3, 'u1', '203.0.113.7'), // new
      at(4, 'u1', '203.0.113.99'),
      at(5, 'u2', '203.0.113.7'), // u2's baseline
      at(6, 'u1', '2001:db8:1:2::1'),
      at(7, 'u1', '2001:db8:1:ffff::2'), // same /48
      at(8, 'u1', 'not-an-ip'),
    ]);
    expect(alerts.map((a) => [a.actorId, a.detail])).toEqual([
      ['u1', 'first access from network 203.0.113.0/24 for this user'],
      ['u1', 'first access from network 2001:db8:1::/48 for this user'],
    ]);
  });
  it('validates the prefix lengths', () => {
    expect(() => newNetworkRule({ v4Bits: 40 })).toThrow(/v4Bits/);
    expect(() => newNetworkRule({ v6Bits: 50 })).toThrow(/v6Bits/);
  });
});

describe('non-clinical roles reading result values', () => {
  const rule = nonClinicalResultsRule({ clinicalRoles: ['clinician', 'ordering-provider'], resources: ['labResults'] });
  it('alerts when billing reads value fields, not when a clinician does or when no value is sent', async () => {
    const alerts = await run([rule], [
      ev(0, { actor: { id: 'bill-1', roles: ['billing'] }, disclosed: ['patient.id', 'results[].code', 'results[].valueQuantity'] }),
      ev(1, { actor: { id: 'dr-1', roles: ['clinician'] } }),
      ev(2, { actor: { id: 'bill-1', roles: ['billing'] }, disclosed: ['patient.id', 'results[].code'] }),
      ev(3, { actor: { id: 'bill-1', roles: ['billing'] }, resource: { type: 'invoice' } }),
      ev(4, { actor: { id: 'desk-1', roles: ['front-desk'] }, disclosed: ['reports[].observations[].value'] }),
    ]);
    expect(alerts.map((a) => [a.rule, a.actorId, a.patientRef])).toEqual([
      ['non-clinical-results', 'bill-1', 'pt_00000000'],
      ['non-clinical-results', 'desk-1', 'pt_00000000'],
    ]);
    expect(() => nonClinicalResultsRule({ clinicalRoles: [] })).toThrow(/clinicalRoles/);
  });
});

describe('break-glass rule', () => {
  it('alerts on a grant or a request, not on a review or revocation; on by default in createAnomalySink', async () => {
    const bg = (reason: string) => ev(0, { action: 'break-glass', reason, breakGlass: { reason: 'life-threatening-emergency', grantId: 'g', expiresAt: '2026-03-02T11:00:00.000Z' } });
    expect((await run([breakGlassRule()], [bg('granted'), bg('requested'), bg('revoked'), bg('reviewed:appropriate')])).map((a) => a.detail)).toEqual([
      'break-glass granted (life-threatening-emergency)',
      'break-glass requested (life-threatening-emergency)',
    ]);
    const alerts: AnomalyAlert[] = [];
    const sink = createAnomalySink({ rules: [], onAlert: (a) => void alerts.push(a) });
    sink.write(bg('granted'));
    await sink.idle();
    expect(alerts.map((a) => a.rule)).toEqual(['break-glass']);
  });
});
