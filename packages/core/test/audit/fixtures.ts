import { randomBytes, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditEvent, AuditSink } from '../../src/audit/event.js';
import type { AuditTimer } from '../../src/audit/timer.js';

export const KEY = new Uint8Array(randomBytes(32));

const ACTIONS = ['read', 'create', 'update', 'delete', 'export', 'disclose'] as const;

/** A realistic event: references and paths only, as the engine builds them. */
export function sampleEvent(i: number, over: Partial<AuditEvent> = {}): AuditEvent {
  return {
    id: randomUUID(),
    time: new Date(Date.UTC(2026, 0, 1, 9, 0, 0) + i * 1000).toISOString(),
    action: ACTIONS[i % ACTIONS.length]!,
    outcome: 'success',
    attemptedAction: undefined,
    reason: undefined,
    actor: { id: `user-${i % 7}`, roles: ['clinician'], ip: '10.0.0.1', userAgent: 'test/1.0' },
    purposeOfUse: 'TREAT',
    patient: { ref: `pt_${(i % 5).toString(16).padStart(8, '0')}` },
    resource: { type: 'labResults', id: String(5000 + i) },
    disclosed: ['patient.id', 'results[].code', 'results[].value'],
    transforms: { 'patient.birthDate': 'year' },
    request: { method: 'GET', route: '/patients/:id/results', requestId: `req-${i}`, traceId: undefined },
    ...over,
  };
}

/** A sink that keeps what it is given, in order. */
export function memorySink(): AuditSink & { readonly events: AuditEvent[] } {
  const events: AuditEvent[] = [];
  return { events, write: (e) => void events.push(e) };
}

/** JSON round trip, as a stored event reads back. */
export const stored = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** The patient of {@link trail}. */
export const TRAIL_PATIENT = 'pt_patient-a';
const P = TRAIL_PATIENT;
const at = (iso: string, over: Partial<AuditEvent>): AuditEvent => sampleEvent(0, { time: iso, patient: { ref: P }, ...over });

/** A patient's trail: disclosures, and things that are not disclosures of this patient. */
export function trail(): AuditEvent[] {
  return [
    at('2026-03-01T10:00:00.000Z', { action: 'read', actor: { id: 'dr-who', roles: ['clinician'] }, purposeOfUse: 'TREAT', resource: { type: 'labResults', id: 'L1' }, disclosed: ['results[].code'] }),
    at('2026-01-15T08:30:00.000Z', { action: 'disclose', actor: { id: 'insurer-7', roles: ['payer'] }, purposeOfUse: 'HPAYMT', resource: { type: 'claim', id: 'C9' }, disclosed: ['patient.id', 'claim.total'] }),
    at('2026-02-10T12:00:00.000Z', { action: 'export', actor: { id: 'researcher-2', roles: ['research'] }, purposeOfUse: 'HRESCH', resource: { type: 'cohort' }, disclosed: ['results[].value'] }),
    at('2026-02-11T12:00:00.000Z', { action: 'deny', outcome: 'denied', attemptedAction: 'read', reason: 'purpose_not_permitted', disclosed: undefined }),
    at('2026-02-12T12:00:00.000Z', { action: 'read', outcome: 'error', reason: 'limit_exceeded' }),
    at('2026-02-13T12:00:00.000Z', { action: 'update' }),
    at('2026-02-14T12:00:00.000Z', { action: 'read', patient: { ref: 'pt_someone-else' } }),
    at('2025-06-01T00:00:00.000Z', { action: 'read', actor: { id: 'old', roles: ['clinician'] } }),
  ];
}


/** Every line of every write-ahead file of a durable sink's `dir`, in file order. */
export function walLines(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => n.startsWith('wal-'))
    .sort()
    .flatMap((n) => readFileSync(join(dir, n), 'utf8').split('\n').filter((l) => l !== ''));
}

/** Time that moves only when the test says so. */
export function manualTimer(): AuditTimer & { advance(ms: number): void; readonly armed: number } {
  let now = 0;
  let next = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  return {
    now: () => now,
    set(fn, ms) {
      timers.set(++next, { at: now + ms, fn });
      return next;
    },
    clear: (h) => void timers.delete(h as number),
    advance(ms) {
      now += ms;
      for (const [h, t] of [...timers].sort((a, b) => a[1].at - b[1].at)) {
        if (t.at > now) continue;
        timers.delete(h);
        t.fn();
      }
    },
    get armed() {
      return timers.size;
    },
  };
}
