/**
 * End-to-end: the nestjs-lab-results example over real HTTP (app.listen(0) + fetch), with real
 * HS256 tokens and the audit trail read back from the pino JSON lines.
 */
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNoIdentifiers, fullView, valuesAt } from './views.js';
import { compilePolicy, type AuditEvent } from '@phiguard/core';
import { createApp, policy } from '../../examples/nestjs-lab-results/src/app.js';
import { signToken } from '../../examples/express-lab-results/src/auth.js';
import { PATIENTS } from '../../examples/express-lab-results/src/data.js';
import { memoryLog } from '../../examples/express-lab-results/src/memory-log.js';
import { operators } from '../../examples/express-lab-results/src/policy.js';
import type { LabResultsView } from '../../examples/express-lab-results/src/view.js';

const JWT_SECRET = 'e2e-jwt-secret-for-the-nest-lab-results-example';
const PHIGUARD_SECRET = 'e2e-phiguard-secret-with-at-least-32-bytes';

const log = memoryLog();
let app: INestApplication;
let base: string;

beforeAll(async () => {
  app = await createApp({ jwtSecret: JWT_SECRET, phiguardSecret: PHIGUARD_SECRET, logger: log.logger });
  await app.listen(0, '127.0.0.1');
  base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
});

afterAll(async () => {
  await app.close();
});

interface Caller {
  readonly roles?: readonly string[];
  readonly purpose?: string;
  readonly patient?: string;
  readonly sub?: string;
  readonly amr?: readonly string[];
  /** Overrides the bearer token (`null`: no Authorization header). */
  readonly token?: string | null;
}

async function call(path: string, caller: Caller = {}, init: { method?: string; body?: unknown } = {}) {
  const headers: Record<string, string> = { 'user-agent': 'e2e' };
  const { roles = [], patient } = caller;
  const token = caller.token === undefined ? await signToken({ sub: caller.sub ?? `e2e-${roles.join('+') || 'none'}`, roles, ...(patient === undefined ? {} : { patient }), ...(caller.amr ? { amr: caller.amr } : {}) }, JWT_SECRET) : caller.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (caller.purpose !== undefined) headers['x-purpose-of-use'] = caller.purpose;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${base}${path}`, { method: init.method ?? 'GET', headers, body: init.body === undefined ? undefined : JSON.stringify(init.body) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, body: text === '' ? undefined : (JSON.parse(text) as unknown) };
}

const results = (id: string, caller: Caller) => call(`/patients/${id}/results`, caller);

const lastAudit = (): AuditEvent => log.auditEvents().at(-1)!;
const refs = compilePolicy(policy, { secret: PHIGUARD_SECRET, operators, mode: 'production' });
const ORDERING = { roles: ['ordering-provider'], purpose: 'TREAT' } as const;
const BILLING = { roles: ['billing'], purpose: 'HPAYMT' } as const;

describe('GET /patients/:id/results: filtering and masking per role', () => {
  it('billing (HPAYMT) gets codes and dates of service and the MRN as ****7731, nothing else', async () => {
    const res = await results('1001', BILLING);
    expect(res.status).toBe(200);
    const view = fullView('1001');
    expect(res.body).toEqual({
      resourceType: 'LabResultsView',
      id: view.id,
      patient: { mrn: '****7731' },
      reports: view.reports.map((r) => ({
        code: r.code,
        effectiveDateTime: r.effectiveDateTime,
        issued: r.issued,
        observations: r.observations.map((o) => ({ code: o.code, effectiveDateTime: o.effectiveDateTime })),
      })),
    });
    expectNoIdentifiers(res.text);
  });

  it('ordering-provider (TREAT) gets the full record, the encrypted SSN and comments decrypted', async () => {
    const res = await results('1001', ORDERING);
    expect(res.status).toBe(200);
    expect(res.body).toEqual(fullView('1001'));
    expect((res.body as LabResultsView).patient.ssn).toBe('912-48-3571');
  });

  it('researcher (HRESCH) gets a token, years, ZIP3 and clinical values; no identifiers', async () => {
    const res = await results('1001', { roles: ['researcher'], purpose: 'HRESCH' });
    const body = res.body as LabResultsView;
    expect(body.patient).toEqual({ id: expect.stringMatching(/^tok_[\w-]{22}$/), birthDate: '1967', gender: 'female', age: fullView('1001').patient.age, address: { state: 'MA', postalCode: '011' } });
    expect(valuesAt(body, 'valueQuantity')).toEqual(valuesAt(fullView('1001'), 'valueQuantity'));
    expectNoIdentifiers(res.text);
    const old = (await results('1005', { roles: ['researcher'], purpose: 'HRESCH' })).body as LabResultsView;
    expect(old.patient).toMatchObject({ age: 90, address: { state: 'VT', postalCode: '000' } });
  });

  it('care-team-nurse (TREAT) on the care team: everything but the SSN, the withholding audited as redact', async () => {
    const res = await results('1001', { sub: 'rn.alvarez', roles: ['care-team-nurse'], purpose: 'TREAT' });
    const { ssn: _ssn, ...patient } = fullView('1001').patient;
    expect(res.body).toEqual({ ...fullView('1001'), patient });
    expect(lastAudit().transforms).toEqual({ 'patient.ssn': 'redact' });
  });

  it('lab-technologist (HOPERAT): initials, no SSN, address or contact', async () => {
    const res = await results('1001', { roles: ['lab-technologist'], purpose: 'HOPERAT' });
    const view = fullView('1001');
    expect(res.body).toEqual({ ...view, patient: { mrn: 'MRN00037731', name: { use: 'official', family: 'S.', given: ['A.', 'Q.'] }, birthDate: '1967-04-12', gender: 'female', age: view.patient.age } });
  });

  it('a patient gets their own record with the SSN as ***-**-3571; another patient is 403 not_own_record', async () => {
    const own = await results('1001', { roles: ['patient'], patient: '1001', purpose: 'PATRQT' });
    const view = fullView('1001');
    expect(own.body).toEqual({ ...view, patient: { ...view.patient, ssn: '***-**-3571' } });
    const other = await results('1002', { roles: ['patient'], patient: '1001', purpose: 'PATRQT' });
    expect(other.status).toBe(403);
    expect(other.body).toMatchObject({ error: { code: 'access_denied', reason: 'not_own_record' } });
    expectNoIdentifiers(other.text);
    expect(lastAudit()).toMatchObject({ action: 'deny', reason: 'not_own_record', patient: { ref: refs.patientRef('1002') } });
  });
});

describe('sensitive results, relationships and step-up (decided by core, carried by the adapter)', () => {
  it('the ordering provider needs a recent second factor for the HIV result: 401 step_up_required with an RFC 9470 challenge', async () => {
    const pwdOnly = await results('1003', { ...ORDERING, amr: ['pwd'] });
    expect(pwdOnly.status).toBe(401);
    expect(pwdOnly.body).toEqual({ error: { code: 'step_up_required', status: 401, reason: 'step_up_required', requestId: pwdOnly.headers.get('x-request-id') } });
    expect(pwdOnly.headers.get('www-authenticate')).toMatch(/insufficient_user_authentication.*max_age=900/);
    expectNoIdentifiers(pwdOnly.text);
    expect(lastAudit()).toMatchObject({ action: 'deny', outcome: 'denied', reason: 'step_up_required' });
    const withMfa = await results('1003', { ...ORDERING, amr: ['pwd', 'otp'] });
    expect(withMfa.status).toBe(200);
    expect(withMfa.body).toEqual(fullView('1003'));
  });

  it('a nurse off the care team gets 403 relationship_required', async () => {
    const res = await results('1001', { sub: 'rn.okafor', roles: ['care-team-nurse'], purpose: 'TREAT' });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ error: { code: 'access_denied', reason: 'relationship_required' } });
  });

  it('break-glass: a grant for one patient opens that record, flagged in audit, and no other', async () => {
    const okafor = await signToken({ sub: 'rn.okafor', roles: ['care-team-nurse'] }, JWT_SECRET);
    const granted = await fetch(`${base}/break-glass`, {
      method: 'POST',
      headers: { authorization: `Bearer ${okafor}`, 'content-type': 'application/json' },
      body: JSON.stringify({ patientId: '1002', reason: 'life-threatening-emergency', justification: 'Collapsed in the lobby; assigned nurse unreachable' }),
    });
    expect(granted.status).toBe(201);
    const { grantId } = (await granted.json()) as { grantId: string };
    expect(lastAudit()).toMatchObject({ action: 'break-glass', reason: 'granted', breakGlass: { grantId } });
    const served = await fetch(`${base}/patients/1002/results`, { headers: { authorization: `Bearer ${okafor}`, 'x-break-glass-grant': grantId } });
    expect(served.status).toBe(200);
    expect(lastAudit()).toMatchObject({ action: 'read', outcome: 'success', purposeOfUse: 'ETREAT', breakGlass: { grantId, reason: 'life-threatening-emergency' } });
    const elsewhere = await fetch(`${base}/patients/1001/results`, { headers: { authorization: `Bearer ${okafor}`, 'x-break-glass-grant': grantId } });
    expect(elsewhere.status).toBe(403);
    expect(await elsewhere.json()).toMatchObject({ error: { reason: 'break_glass_invalid' } });
  });
});

describe('refusals', () => {
  it('401 without a token, with WWW-Authenticate: Bearer, audited without an actor', async () => {
    const res = await results('1001', { ...ORDERING, token: null });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    expect(res.body).toEqual({ error: { code: 'authentication_required', status: 401, requestId: res.headers.get('x-request-id') } });
    expect(lastAudit()).toMatchObject({ action: 'deny', outcome: 'denied', reason: 'authentication_required', actor: { id: null } });
  });

  it('401 for a forged or expired token', async () => {
    const forged = await signToken({ sub: 'mallory', roles: ['ordering-provider'] }, 'another-secret-another-secret-another');
    const expired = await signToken({ sub: 'e2e', roles: ['ordering-provider'] }, JWT_SECRET, { now: new Date(Date.now() - 7200_000) });
    for (const token of [forged, expired, 'not-a-jwt']) expect((await results('1001', { ...ORDERING, token })).status).toBe(401);
  });

  it.each([
    [{ roles: ['janitor'], purpose: 'TREAT' }, 'role_unknown'],
    [{ roles: ['ordering-provider'] }, 'purpose_required'],
    [{ roles: ['ordering-provider'], purpose: 'treat' }, 'purpose_unknown'],
    [{ roles: ['billing'], purpose: 'TREAT' }, 'purpose_not_permitted'],
  ] as const)('%o → 403 %s, audited, no-store', async (caller, reason) => {
    const res = await results('1001', caller);
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ error: { code: 'access_denied', status: 403, reason, requestId: res.headers.get('x-request-id') } });
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(lastAudit()).toMatchObject({ action: 'deny', outcome: 'denied', attemptedAction: 'read', reason, resource: { type: 'PatientResults' }, request: { method: 'GET', route: '/patients/:id/results' } });
  });

  it('an unknown patient is 404 not_found after the access decision', async () => {
    const res = await results('9999', ORDERING);
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ error: { code: 'not_found', status: 404 } });
    expect((await results('9999', { roles: ['janitor'], purpose: 'TREAT' })).status).toBe(403);
  });
});

describe('posts: request-body DLP', () => {
  it('a care-team note quoting an SSN is refused with 422 and never stored or logged', async () => {
    const res = await call('/patients/1001/notes', ORDERING, { method: 'POST', body: { text: 'Verified identity, SSN 123-45-6789, call back (617) 555-0142' } });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ error: { code: 'dlp_blocked', status: 422 } });
    expect(log.lines.join('\n')).not.toContain('123-45-6789');
    const ok = await call('/patients/1001/notes', ORDERING, { method: 'POST', body: { text: 'Repeat the panel in 3 months.' } });
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({ patientId: '1001', text: 'Repeat the panel in 3 months.', author: 'e2e-ordering-provider' });
  });

  it("a patient's portal message arrives redacted", async () => {
    const res = await call('/patients/1001/messages', { roles: ['patient'], patient: '1001', purpose: 'PATRQT' }, { method: 'POST', body: { text: 'my SSN is 123-45-6789' } });
    expect(res.status).toBe(201);
    expect((res.body as { text: string }).text).toBe('my SSN is [SSN]');
  });
});

describe('HTTP and audit hygiene', () => {
  it('every response carries a request id that the audit event repeats; PHI responses are no-store', async () => {
    const res = await results('1002', ORDERING);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(lastAudit().request?.requestId).toBe(res.headers.get('x-request-id'));
    expect(lastAudit()).toMatchObject({ action: 'read', outcome: 'success', patient: { ref: refs.patientRef('1002') }, resource: { type: 'PatientResults' } });
  });

  it('HEAD behaves like GET without a body, and is audited as a read', async () => {
    const get = await results('1001', BILLING);
    const before = log.auditEvents().length;
    const head = await call('/patients/1001/results', BILLING, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.text).toBe('');
    expect(head.headers.get('content-length')).toBe(String(Buffer.byteLength(get.text)));
    expect(head.headers.get('cache-control')).toBe('no-store');
    expect(log.auditEvents().length).toBe(before + 1);
    expect(lastAudit()).toMatchObject({ action: 'read', outcome: 'success', request: { method: 'HEAD' } });
  });

  it('GET /health is public and not audited', async () => {
    const before = log.lines.length;
    const res = await call('/health', { token: null });
    expect(res.body).toEqual({ status: 'ok' });
    expect(log.lines.length).toBe(before);
  });

  it('an unknown route answers the phiguard error body, without echoing the path', async () => {
    const res = await call('/patients/1001/Ada-Sampleton', { token: null });
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: { code: 'not_found', status: 404, requestId: res.headers.get('x-request-id') } });
  });

  it('audit lines never contain PHI values, across every patient and refusal', async () => {
    for (const id of PATIENTS.keys()) {
      await results(id, ORDERING);
      await results(id, BILLING);
      await results(id, { roles: ['patient'], patient: '1001', purpose: 'PATRQT' });
      await results(id, { roles: ['janitor'], purpose: 'TREAT' });
      await results(id, { ...ORDERING, token: null });
    }
    const text = log.lines.join('\n');
    expect(log.lines.length).toBeGreaterThan(25);
    expectNoIdentifiers(text);
    for (const id of PATIENTS.keys()) expect(text).not.toContain(`/patients/${id}`);
  });
});
