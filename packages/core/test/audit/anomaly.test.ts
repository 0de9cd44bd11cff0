import { describe, expect, it } from 'vitest';
import {
  anomalySink,
  flaggedPatientsRule,
  massAccessRule,
  MemoryAnomalyStore,
  offHoursRule,
  repeatedDenialsRule,
  type AnomalyAlert,
} from '../../src/audit/anomaly.js';
import type { AuditEvent } from '../../src/audit/event.js';
import { teeSink } from '../../src/audit/tee.js';
import { OptionsError } from '../../src/errors.js';
import { memorySink, sampleEvent } from './fixtures.js';

const T0 = Date.parse('2026-03-02T10:00:00.000Z'); // a Monday, 10:00 UTC
const ev = (minute: number, over: Partial<AuditEvent>): AuditEvent =>
  sampleEvent(0, { time: new Date(T0 + minute * 60_000).toISOString(), action: 'read', ...over });

async function run(rules: Parameters<typeof anomalySink>[0]['rules'], events: AuditEvent[]): Promise<AnomalyAlert[]> {
  const alerts: AnomalyAlert[] = [];
  const sink = anomalySink({ rules, onAlert: (a) => void alerts.push(a) });
  for (const e of events) sink.write(e);
  await sink.idle();
  return alerts;
}

describe('anomaly rules', () => {
  it('mass access: alerts once when an actor exceeds N distinct patients in a window', async () => {
    const rule = massAccessRule({ maxPatients: 3, windowMs: 3_600_000 });
    const events = [
      ...[1, 2, 3, 1, 2, 3].map((p, i) => ev(i, { actor: { id: 'u1', roles: [] }, patient: { ref: `pt_${p}` } })),
      ev(10, { actor: { id: 'u1', roles: [] }, patient: { ref: 'pt_4' } }),
      ev(11, { actor: { id: 'u1', roles: [] }, patient: { ref: 'pt_5' } }),
      ...[1, 2, 3, 4].map((p) => ev(12, { actor: { id: 'u2', roles: [] }, patient: { ref: `pt_${p}` } })),
      ev(70, { actor: { id: 'u3', roles: [] }, patient: { ref: 'pt_9' }, outcome: 'denied', action: 'deny' }),
    ];
    const alerts = await run([rule], events);
    expect(alerts.map((a) => [a.rule, a.actorId, a.count])).toEqual([
      ['mass-access', 'u1', 4],
      ['mass-access', 'u2', 4],
    ]);
    expect(alerts[0]!.eventId).toBe(events[6]!.id);
  });

  it('mass access counts per window: the same patients in the next window start afresh', async () => {
    const rule = massAccessRule({ maxPatients: 2, windowMs: 60_000 });
    const alerts = await run([rule], [1, 2, 3].map((p) => ev(p, { patient: { ref: `pt_${p}` } })));
    expect(alerts).toEqual([]);
  });

  it('repeated denials: alerts once when an actor exceeds the limit in a window', async () => {
    const deny = (m: number, id = 'u1') => ev(m, { actor: { id, roles: [] }, action: 'deny', outcome: 'denied', attemptedAction: 'read', reason: 'purpose_not_permitted' });
    const alerts = await run([repeatedDenialsRule({ maxDenials: 2, windowMs: 600_000 })], [deny(0), deny(1), deny(2, 'u2'), deny(3), deny(4), ev(5, {})]);
    expect(alerts).toEqual([expect.objectContaining({ rule: 'repeated-denials', actorId: 'u1', count: 3 })]);
  });

  it('off hours: alerts on access outside working hours in the given time zone', async () => {
    const rule = offHoursRule({ startHour: 7, endHour: 19, timeZone: 'America/New_York' });
    const at = (iso: string) => sampleEvent(0, { time: iso, action: 'read' });
    const alerts = await run([rule], [
      at('2026-03-02T15:00:00.000Z'), // Monday 10:00 New York
      at('2026-03-03T03:30:00.000Z'), // Monday 22:30 New York
      at('2026-03-07T15:00:00.000Z'), // Saturday
      sampleEvent(0, { time: '2026-03-03T03:30:00.000Z', action: 'deny', outcome: 'denied' }),
    ]);
    expect(alerts.map((a) => a.time)).toEqual(['2026-03-03T03:30:00.000Z', '2026-03-07T15:00:00.000Z']);
    expect(() => offHoursRule({ timeZone: 'Mars/Olympus' })).toThrow(RangeError);
    expect(() => offHoursRule({ startHour: 20, endHour: 8 })).toThrow(OptionsError);
  });

  it('flagged patients: alerts on any access or attempt on a flagged patient', async () => {
    const rule = flaggedPatientsRule(['pt_vip']);
    const alerts = await run([rule], [ev(0, { patient: { ref: 'pt_vip' } }), ev(1, { patient: { ref: 'pt_other' } }), ev(2, { patient: { ref: 'pt_vip' }, action: 'deny', outcome: 'denied' })]);
    expect(alerts.map((a) => [a.rule, a.patientRef])).toEqual([
      ['flagged-patient', 'pt_vip'],
      ['flagged-patient', 'pt_vip'],
    ]);
    expect((await run([flaggedPatientsRule((r) => r.startsWith('pt_v'))], [ev(0, { patient: { ref: 'pt_vip' } })])).length).toBe(1);
  });
});

describe('anomalySink', () => {
  it('never fails a write: rule, store and alert failures go to onError', async () => {
    const errors: unknown[] = [];
    const sink = anomalySink({
      rules: [{ name: 'boom', check: () => { throw new Error('rule failed'); } }, flaggedPatientsRule(['pt_00000000'])],
      onAlert: () => { throw new Error('pager down'); },
      onError: (e) => errors.push(e),
    });
    expect(() => sink.write(sampleEvent(0))).not.toThrow();
    await sink.idle();
    expect(errors.map((e) => (e as Error).message)).toEqual(['rule failed', 'pager down']);
  });

  it('runs beside the store in a tee, without delaying the write', async () => {
    const store = memorySink();
    const alerts: AnomalyAlert[] = [];
    const tee = teeSink(store, anomalySink({ rules: [flaggedPatientsRule(['pt_00000000'])], onAlert: (a) => void alerts.push(a) }));
    expect(tee.write(sampleEvent(0))).toBeUndefined();
    await tee.flush();
    expect(store.events).toHaveLength(1);
    expect(alerts).toHaveLength(1);
  });

  it('the memory store counts per key with expiry', () => {
    let now = 0;
    const s = new MemoryAnomalyStore(() => now);
    expect([s.increment('a', 10), s.increment('a', 10), s.increment('b', 10)]).toEqual([1, 2, 1]);
    expect([s.addDistinct('s', 'x', 10), s.addDistinct('s', 'x', 10), s.addDistinct('s', 'y', 10)]).toEqual([1, 1, 2]);
    now = 11;
    expect([s.increment('a', 10), s.addDistinct('s', 'x', 10)]).toEqual([1, 1]);
  });

  it('validates its options', () => {
    expect(() => anomalySink({} as never)).toThrow(OptionsError);
    expect(() => massAccessRule({ maxPatients: 0, windowMs: 1 })).toThrow(OptionsError);
  });
});
