import { Writable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import pino from 'pino';
import {
  AccessDeniedError,
  AuditUnavailableError,
  compilePolicy,
  createPhiGuard,
  definePolicy,
  LimitExceededError,
  OptionsError,
  type AccessContext,
  type AuditEvent,
  type PhiGuardOptions,
} from '@phiguard/core';
import { type Plan } from '@phiguard/core/policy';
import { SECRET } from './helpers.js';

const policy = definePolicy({
  roles: ['clinician', 'billing', 'patient'],
  resources: {
    LabReport: {
      subject: 'patient.id',
      id: 'reportId',
      fields: {
        reportId: 'non-phi',
        'patient.id': 'direct-identifier',
        'patient.mrn': 'direct-identifier',
        'patient.name': 'direct-identifier',
        'patient.birthDate': 'quasi-identifier',
        'patient.zip': 'quasi-identifier',
        'results[].code': 'clinical',
        'results[].value': 'clinical',
        'results[].comment': 'free-text',
      },
      disclose: {
        clinician: { TREAT: { '*': 'send' } },
        billing: {
          HPAYMT: {
            'patient.mrn': { op: 'partial' },
            'patient.name': 'initials',
            'patient.birthDate': 'year',
            'patient.zip': 'zip3',
            'results[].code': 'send',
            'results[].comment': 'redact',
          },
        },
        patient: { PATRQT: { '*': 'send' } },
      },
    },
  },
});

/** Every PHI value of the fixture, spelled so none can occur by chance in a UUID or a timestamp. */
const PHI = ['PT-1001-XQ', 'MRN-00424821', 'Maria', 'Guadalupe', 'Lopez', '1957-03-04', '94110-2231', 'HIV exposure', '5.4 mmol'];

function report(patientId = 'PT-1001-XQ') {
  return {
    reportId: 'rpt-77',
    patient: { id: patientId, mrn: 'MRN-00424821', name: 'Maria Guadalupe Lopez', birthDate: '1957-03-04', zip: '94110-2231' },
    results: [{ code: '2345-7', value: '5.4 mmol', comment: 'HIV exposure discussed' }],
  };
}

function context(roles: string[], purposeOfUse: string | undefined, patientId?: string): AccessContext {
  return {
    principal: { id: 'user-7', patientId },
    roles,
    purposeOfUse,
    request: {
      method: 'GET',
      route: '/patients/:id/results',
      ip: '10.0.0.7',
      userAgent: 'curl/8.5',
      requestId: 'req-1',
      traceId: 'trace-1',
    },
  };
}

function memorySink() {
  const events: AuditEvent[] = [];
  return { events, write: (event: AuditEvent) => void events.push(event) };
}

function guardWith(audit: PhiGuardOptions['audit'], extra: Partial<PhiGuardOptions> = {}) {
  return createPhiGuard({ policy, audit, secret: SECRET, mode: 'production', ...extra });
}

function allowedPlan(guard: ReturnType<typeof createPhiGuard>, ctx: AccessContext): Plan {
  const decision = guard.authorize(ctx, 'LabReport', 'read');
  if (decision.effect !== 'allow') return expect.fail(`expected allow, got ${decision.reason}`);
  return decision.plan;
}

function expectNoPhi(event: AuditEvent) {
  const serialized = JSON.stringify(event);
  for (const value of PHI) expect(serialized, `event carries "${value}"`).not.toContain(value);
}

describe('createPhiGuard options', () => {
  it('requires an audit sink: PHI is never released without an audit record', () => {
    for (const audit of [undefined, null, {}, 'stdout']) {
      expect(() => createPhiGuard({ policy, audit, secret: SECRET } as unknown as PhiGuardOptions)).toThrow(OptionsError);
    }
    expect(() => createPhiGuard({ policy, secret: SECRET } as unknown as PhiGuardOptions)).toThrow(/audit/);
  });

  it('requires a policy', () => {
    expect(() => createPhiGuard({ audit: memorySink() } as unknown as PhiGuardOptions)).toThrow(OptionsError);
  });

  it('rejects an unknown option with "did you mean"', () => {
    const err = (() => {
      try {
        createPhiGuard({ policy, audit: memorySink(), secert: SECRET } as unknown as PhiGuardOptions);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(OptionsError);
    expect((err as OptionsError).code).toBe('options_invalid');
    expect((err as OptionsError).message).toMatch(/unknown phiguard option "secert"; did you mean "secret"\?/);
  });

  it('accepts a policy compiled beforehand', () => {
    const compiled = compilePolicy(policy, { secret: SECRET, mode: 'production' });
    const guard = createPhiGuard({ policy: compiled, audit: memorySink() });
    expect(guard.policy).toBe(compiled);
  });

  it('accepts a pino-like logger (an object with info) and logs { audit: event }', () => {
    const info = vi.fn();
    const guard = guardWith({ info });
    const ctx = context(['billing'], 'HPAYMT');
    const { event } = guard.release(allowedPlan(guard, ctx), report(), ctx, 'read');
    expect(info).toHaveBeenCalledTimes(1);
    expect(info.mock.calls[0]![0]).toEqual({ audit: event });
  });

  it('with a real pino logger, writes one JSON line per event under the "audit" key', () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const guard = guardWith(pino(stream));
    const ctx = context(['billing'], 'HPAYMT');
    const { event } = guard.release(allowedPlan(guard, ctx), report(), ctx, 'read');
    expect(lines).toHaveLength(1);
    expect(lines[0]!.endsWith('\n')).toBe(true);
    const logged = JSON.parse(lines[0]!);
    expect(logged.audit).toEqual(JSON.parse(JSON.stringify(event)));
    for (const value of PHI) expect(lines[0]).not.toContain(value);
  });

  it('refuses a pino logger whose level drops info lines, at start-up and if the level is raised later', () => {
    expect(() => guardWith(pino({ level: 'warn' }, new Writable({ write: (_c, _e, done) => done() })))).toThrow(/drops `info` lines/);
    const logger = pino(new Writable({ write: (_c, _e, done) => done() }));
    const guard = guardWith(logger);
    const ctx = context(['billing'], 'HPAYMT');
    logger.level = 'error';
    expect(() => guard.release(allowedPlan(guard, ctx), report(), ctx, 'read')).toThrow(AuditUnavailableError);
  });
});

describe('the audit event of a release', () => {
  const sink = memorySink();
  const guard = guardWith(sink);
  const ctx = context(['billing'], 'HPAYMT');
  const released = guard.release(allowedPlan(guard, ctx), report(), ctx, 'read');
  const event = released.event;

  it('is written to the sink, synchronously for a synchronous sink', () => {
    expect(sink.events).toEqual([event]);
    expect(released.pending).toBeUndefined();
  });

  it('releases the projected value', () => {
    expect(released.value).toEqual({
      reportId: 'rpt-77',
      patient: { mrn: '****4821', name: 'M.G.L.', birthDate: '1957', zip: '941' },
      results: [{ code: '2345-7' }],
    });
  });

  it('has an id, an ISO-8601 UTC time, the action and a success outcome', () => {
    expect(event.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(event.time.endsWith('Z')).toBe(true);
    expect(new Date(event.time).toISOString()).toBe(event.time);
    expect(event.action).toBe('read');
    expect(event.outcome).toBe('success');
  });

  it('records the actor, the purpose of use and the request', () => {
    expect(event.actor).toEqual({ id: 'user-7', roles: ['billing'], ip: '10.0.0.7', userAgent: 'curl/8.5' });
    expect(event.purposeOfUse).toBe('HPAYMT');
    expect(event.request).toEqual({ method: 'GET', route: '/patients/:id/results', requestId: 'req-1', traceId: 'trace-1' });
  });

  it('names the patient by a keyed reference, never the raw id', () => {
    expect(event.patient?.ref).toMatch(/^pt_[A-Za-z0-9_-]+$/);
    expect(event.patient?.ref).not.toContain('PT-1001-XQ');
    expect(event.patient?.ref).not.toContain('1001');
  });

  it('records the resource type and its opaque id', () => {
    expect(event.resource).toEqual({ type: 'LabReport', id: 'rpt-77' });
  });

  it('lists the disclosed paths and the transforms', () => {
    expect([...event.disclosed!].sort()).toEqual(['patient.birthDate', 'patient.mrn', 'patient.name', 'patient.zip', 'reportId', 'results[].code']);
    expect(event.transforms).toEqual({
      'patient.mrn': 'partial',
      'patient.name': 'initials',
      'patient.birthDate': 'year',
      'patient.zip': 'zip3',
      'results[].comment': 'redact',
    });
  });

  it('carries no PHI value of the document, nor of the released value', () => {
    expectNoPhi(event);
    const serialized = JSON.stringify(event);
    for (const masked of ['****4821', 'M.G.L.']) expect(serialized).not.toContain(masked);
  });

  it('carries no PHI when everything is sent either', () => {
    const c = context(['clinician'], 'TREAT');
    const { event: full, value } = guard.release(allowedPlan(guard, c), report(), c, 'read');
    expect(value).toEqual(report());
    expectNoPhi(full);
  });
});

describe('patient references', () => {
  const refOf = (patientId: string, secret = SECRET) => {
    const guard = guardWith(memorySink(), { secret });
    const c = context(['clinician'], 'TREAT');
    return guard.release(allowedPlan(guard, c), report(patientId), c, 'read').event.patient?.ref;
  };

  it('are stable for one patient, so audit can follow a patient across events', () => {
    expect(refOf('PT-1001-XQ')).toBe(refOf('PT-1001-XQ'));
  });

  it('differ between patients', () => {
    expect(refOf('PT-1001-XQ')).not.toBe(refOf('PT-1002-XQ'));
  });

  it('depend on the secret, so they cannot be recomputed from an id alone', () => {
    expect(refOf('PT-1001-XQ', 'a'.repeat(32))).not.toBe(refOf('PT-1001-XQ', 'b'.repeat(32)));
  });

  it('are not the token of the same value (separate keys)', () => {
    const compiled = compilePolicy(
      { roles: ['r'], resources: { R: { subject: 'id', fields: { id: 'direct-identifier' }, disclose: { r: { TREAT: { id: { op: 'token', prefix: 'pt_' } } } } } } },
      { secret: SECRET, mode: 'production' },
    );
    const token = compiled.protect<{ id: string }>({ id: 'PT-1001-XQ' }, { principal: { id: 'u' }, roles: ['r'], purposeOfUse: 'TREAT' }, 'R').value.id;
    expect(compiled.patientRef('PT-1001-XQ')).not.toBe(token);
  });
});

describe('audit events of refusals and failures', () => {
  it('a denied authorization writes a deny event with the attempted action and the reason', () => {
    const sink = memorySink();
    const guard = guardWith(sink);
    const decision = guard.authorize(context(['billing'], 'TREAT'), 'LabReport', 'read');
    expect(decision).toEqual({ effect: 'deny', reason: 'purpose_not_permitted' });
    expect(sink.events).toHaveLength(1);
    const event = sink.events[0]!;
    expect(event).toMatchObject({
      action: 'deny',
      outcome: 'denied',
      attemptedAction: 'read',
      reason: 'purpose_not_permitted',
      purposeOfUse: 'TREAT',
      actor: { id: 'user-7', roles: ['billing'], ip: '10.0.0.7', userAgent: 'curl/8.5' },
      resource: { type: 'LabReport' },
      request: { method: 'GET', route: '/patients/:id/results', requestId: 'req-1', traceId: 'trace-1' },
    });
    expect(new Date(event.time).toISOString()).toBe(event.time);
  });

  it('an allowed authorization writes nothing until the release', () => {
    const sink = memorySink();
    const guard = guardWith(sink);
    guard.authorize(context(['billing'], 'HPAYMT'), 'LabReport', 'read');
    expect(sink.events).toEqual([]);
  });

  it('a request without context is denied and audited with a null actor', () => {
    const sink = memorySink();
    const guard = guardWith(sink);
    expect(guard.authorize(null, 'LabReport', 'read')).toEqual({ effect: 'deny', reason: 'role_unknown' });
    expect(sink.events[0]).toMatchObject({ action: 'deny', outcome: 'denied', actor: { id: null, roles: [] }, purposeOfUse: null });
  });

  it('a patient request for another patient\'s record is refused and audited as a denial', () => {
    const sink = memorySink();
    const guard = guardWith(sink);
    const c = context(['patient'], 'PATRQT', 'PT-2002-ZZ');
    const plan = allowedPlan(guard, c);
    expect(() => guard.release(plan, report(), c, 'read')).toThrow(AccessDeniedError);
    expect(sink.events).toHaveLength(1);
    const event = sink.events[0]!;
    expect(event).toMatchObject({ action: 'deny', outcome: 'denied', attemptedAction: 'read', reason: 'not_own_record' });
    expect(event.patient?.ref).toMatch(/^pt_/);
    expectNoPhi(event);
    expect(JSON.stringify(event)).not.toContain('PT-2002-ZZ');
  });

  it('a patient request for their own record is released', () => {
    const sink = memorySink();
    const guard = guardWith(sink);
    const c = context(['patient'], 'PATRQT', 'PT-1001-XQ');
    expect(guard.release(allowedPlan(guard, c), report(), c, 'read').value).toEqual(report());
    expect(sink.events[0]).toMatchObject({ outcome: 'success', purposeOfUse: 'PATRQT' });
  });

  it('an oversized value is refused and audited as an error', () => {
    const sink = memorySink();
    const guard = guardWith(sink, { limits: { maxNodes: 5 } });
    const c = context(['clinician'], 'TREAT');
    expect(() => guard.release(allowedPlan(guard, c), report(), c, 'read')).toThrow(LimitExceededError);
    expect(sink.events).toHaveLength(1);
    expect(sink.events[0]).toMatchObject({ action: 'read', outcome: 'error', reason: 'limit_exceeded' });
    expectNoPhi(sink.events[0]!);
  });

  it('recordError writes an error event and never throws', () => {
    const sink = memorySink();
    guardWith(sink).recordError(context(['clinician'], 'TREAT'), 'LabReport', 'read', 'internal_error');
    expect(sink.events[0]).toMatchObject({ action: 'read', outcome: 'error', reason: 'internal_error', resource: { type: 'LabReport' } });
    const failing = guardWith({ write: () => { throw new Error('disk full'); } });
    expect(() => failing.recordError(null, 'LabReport', 'read', 'internal_error')).not.toThrow();
  });

  it('client-supplied request strings are stripped of control characters and capped', () => {
    const sink = memorySink();
    const guard = guardWith(sink);
    const c: AccessContext = {
      ...context(['billing'], 'TREAT'),
      request: { userAgent: `curl\n{"forged":true}\u0000${'x'.repeat(1000)}`, requestId: 'id\r\n2', traceId: 't\u001b[31m' },
    };
    guard.authorize(c, 'LabReport', 'read');
    const { actor, request } = sink.events[0]!;
    for (const s of [actor.userAgent!, request!.requestId!, request!.traceId!]) {
      expect(s).not.toMatch(/[\u0000-\u001f\u007f]/);
      expect(s.length).toBeLessThanOrEqual(256);
    }
  });
});

describe('fail closed when the audit sink fails', () => {
  it('a sink whose write throws makes release throw AuditUnavailableError (503)', () => {
    const guard = guardWith({
      write: () => {
        throw new Error('audit store down');
      },
    });
    const c = context(['clinician'], 'TREAT');
    let error: unknown;
    try {
      guard.release(allowedPlan(guard, c), report(), c, 'read');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(AuditUnavailableError);
    expect((error as AuditUnavailableError).status).toBe(503);
    expect((error as AuditUnavailableError).code).toBe('audit_unavailable');
    for (const value of PHI) expect((error as Error).message).not.toContain(value);
  });

  it('a denial is still refused when the sink throws', () => {
    const guard = guardWith({
      write: () => {
        throw new Error('audit store down');
      },
    });
    expect(guard.authorize(context(['billing'], 'TREAT'), 'LabReport', 'read')).toEqual({ effect: 'deny', reason: 'purpose_not_permitted' });
  });

  it('an async sink makes release return `pending`, which resolves once the event is stored', async () => {
    const stored: AuditEvent[] = [];
    const guard = guardWith({ write: async (e) => void stored.push(e) });
    const c = context(['clinician'], 'TREAT');
    const released = guard.release(allowedPlan(guard, c), report(), c, 'read');
    expect(released.pending).toBeInstanceOf(Promise);
    await expect(released.pending).resolves.toBeUndefined();
    expect(stored).toEqual([released.event]);
  });

  it('an async sink\'s rejection rejects `pending` with AuditUnavailableError', async () => {
    const guard = guardWith({ write: () => Promise.reject(new Error('timeout writing Maria Lopez')) });
    const c = context(['clinician'], 'TREAT');
    const released = guard.release(allowedPlan(guard, c), report(), c, 'read');
    await expect(released.pending).rejects.toBeInstanceOf(AuditUnavailableError);
    await expect(released.pending).rejects.not.toThrow(/Maria/);
  });

  it('an async sink\'s rejection on a denial does not surface as an unhandled rejection', async () => {
    const guard = guardWith({ write: () => Promise.reject(new Error('down')) });
    expect(guard.authorize(context(['billing'], 'TREAT'), 'LabReport', 'read').effect).toBe('deny');
    await new Promise((resolve) => setImmediate(resolve));
  });
});
