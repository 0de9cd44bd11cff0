/**
 * End-to-end: the express-lab-results example over real HTTP (app.listen(0) + fetch), with
 * real HS256 tokens and the audit trail read back from the pino JSON lines.
 */
import { SignJWT, decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { expectNoIdentifiers, fullView, valuesAt } from './views.js';
import { serve, type Served } from './serve.js';
import { compilePolicy, type AuditEvent } from '@phiguard/core';
import { createApp, policy } from '../../examples/express-lab-results/src/app.js';
import { signToken } from '../../examples/express-lab-results/src/auth.js';
import { PATIENTS } from '../../examples/express-lab-results/src/data.js';
import { memoryLog } from '../../examples/express-lab-results/src/memory-log.js';
import { operators } from '../../examples/express-lab-results/src/policy.js';
import type { LabResultsView } from '../../examples/express-lab-results/src/view.js';

const JWT_SECRET = 'e2e-jwt-secret-for-the-lab-results-example';
const PHIGUARD_SECRET = 'e2e-phiguard-secret-with-at-least-32-bytes';

const log = memoryLog();
let served: Served;
let base: string;

beforeAll(async () => {
  const app = createApp({ jwtSecret: JWT_SECRET, phiguardSecret: PHIGUARD_SECRET, logger: log.logger });
  served = await serve(app);
  base = served.base;
});

afterAll(async () => {
  await served.close();
});

// ── helpers ──────────────────────────────────────────────────────────────────────────────
interface Caller {
  readonly roles?: readonly string[];
  readonly purpose?: string;
  readonly patient?: string;
  /** Token `sub`; default: on the care team for nurses (rn.alvarez), a role-derived id otherwise. */
  readonly sub?: string;
  /** Token `amr`; default a password and a one-time code (a recent second factor). */
  readonly amr?: readonly string[];
  /** Overrides the bearer token (`null`: no Authorization header). */
  readonly token?: string | null;
}

async function tokenFor({ roles = [], patient, sub, amr = ['pwd', 'otp'] }: Caller): Promise<string> {
  const subject = sub ?? (roles.includes('care-team-nurse') ? 'rn.alvarez' : `e2e-${roles.join('+') || 'none'}`);
  return signToken({ sub: subject, roles, amr, ...(patient === undefined ? {} : { patient }) }, JWT_SECRET);
}

async function call(path: string, caller: Caller = {}, method = 'GET') {
  const headers: Record<string, string> = { 'user-agent': 'e2e' };
  const token = caller.token === undefined ? await tokenFor(caller) : caller.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (caller.purpose !== undefined) headers['x-purpose-of-use'] = caller.purpose;
  const res = await fetch(`${base}${path}`, { method, headers });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, body: text === '' ? undefined : (JSON.parse(text) as unknown) };
}

const results = (id: string, caller: Caller) => call(`/patients/${id}/results`, caller);


const audits = (): AuditEvent[] => log.auditEvents();
const lastAudit = (): AuditEvent => audits().at(-1)!;
const refs = compilePolicy(policy, { secret: PHIGUARD_SECRET, operators, mode: 'production' });

const ORDERING = { roles: ['ordering-provider'], purpose: 'TREAT' } as const;
const BILLING = { roles: ['billing'], purpose: 'HPAYMT' } as const;
const RESEARCHER = { roles: ['researcher'], purpose: 'HRESCH' } as const;

// ── the "must show" ────────────────────────────────────────────────────────────────
describe('GET /patients/1001/results: what each caller receives', () => {
  it('billing (HPAYMT) gets codes and dates of service, the MRN masked to its last 4, and nothing else', async () => {
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
    for (const key of ['valueQuantity', 'valueCodeableConcept', 'referenceRange', 'interpretation', 'note', 'conclusion', 'ssn', 'name', 'telecom', 'address', 'birthDate']) {
      expect(valuesAt(res.body, key), key).toEqual([]);
    }
    expectNoIdentifiers(res.text);
  });

  it('ordering-provider (TREAT) gets the full record, values and identifiers included', async () => {
    const res = await results('1001', ORDERING);
    expect(res.status).toBe(200);
    expect(res.body).toEqual(fullView('1001'));
    const values = valuesAt(res.body, 'valueQuantity') as { value: number }[];
    expect(values.map((v) => v.value)).toEqual([182, 8.4]);
  });

  it('researcher (HRESCH) gets no direct identifiers, a patient token, dates as years, ZIP3, and clinical values', async () => {
    const res = await results('1001', RESEARCHER);
    expect(res.status).toBe(200);
    const body = res.body as LabResultsView;
    const view = fullView('1001');
    expect(body.patient).toEqual({
      id: expect.stringMatching(/^tok_[\w-]{22}$/),
      birthDate: '1967',
      gender: 'female',
      age: view.patient.age,
      address: { state: 'MA', postalCode: '011' },
    });
    expect(body).not.toHaveProperty('id'); // the view id is a stable per-patient key
    for (const key of ['effectiveDateTime', 'issued']) {
      const dates = valuesAt(body, key);
      expect(dates.length).toBeGreaterThan(0);
      for (const d of dates) expect(d).toMatch(/^\d{4}$/);
    }
    for (const key of ['id', 'note', 'conclusion', 'mrn', 'ssn', 'name', 'telecom', 'line', 'city']) {
      expect(valuesAt(body.reports, key), key).toEqual([]);
    }
    expect(valuesAt(body, 'valueQuantity')).toEqual(valuesAt(view, 'valueQuantity'));
    expect(valuesAt(body, 'referenceRange')).toEqual(valuesAt(view, 'referenceRange'));
    expect(valuesAt(body, 'interpretation')).toEqual(valuesAt(view, 'interpretation'));
    expect(res.text).not.toContain('"1001"');
    expectNoIdentifiers(res.text);
  });

  it('researcher tokens are stable per patient, differ between patients, and never carry the id', async () => {
    const a = (await results('1001', RESEARCHER)).body as LabResultsView;
    const b = (await results('1001', RESEARCHER)).body as LabResultsView;
    const c = (await results('1002', RESEARCHER)).body as LabResultsView;
    expect(a.patient.id).toBe(b.patient.id);
    expect(c.patient.id).not.toBe(a.patient.id);
    expect(a.patient.id).not.toContain('1001');
  });

  it('researcher: over 89 the age reads 90 (the top code, a number like every other age) and the birth year is withheld; restricted ZIP3 becomes 000; ZIP+4 is cut', async () => {
    const old = (await results('1005', RESEARCHER)).body as LabResultsView;
    expect(old.patient).toEqual({ id: expect.stringMatching(/^tok_/), gender: 'female', age: 90, address: { state: 'VT', postalCode: '000' } });
    const zip4 = (await results('1002', RESEARCHER)).body as LabResultsView;
    expect(zip4.patient.address).toEqual({ state: 'MA', postalCode: '021' });
    expect(zip4.patient.birthDate).toBe('1988');
  });

  it('an unknown role gets 403 role_unknown, recorded as a deny audit event', async () => {
    const res = await results('1001', { roles: ['janitor'], purpose: 'TREAT' });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ error: { code: 'access_denied', status: 403, reason: 'role_unknown' } });
    expect(res.headers.get('cache-control')).toBe('no-store');
    const line = log.lines.at(-1)!;
    expect(JSON.parse(line)).toMatchObject({ msg: 'phiguard.audit', audit: { action: 'deny', outcome: 'denied' } });
    expect(lastAudit()).toMatchObject({
      action: 'deny',
      outcome: 'denied',
      attemptedAction: 'read',
      reason: 'role_unknown',
      actor: { id: 'e2e-janitor', roles: ['janitor'] },
      purposeOfUse: 'TREAT',
      resource: { type: 'PatientResults' },
      request: { method: 'GET', route: '/patients/:id/results' },
    });
  });

  it('a request without a purpose of use gets 403 purpose_required (audited)', async () => {
    const res = await results('1001', { roles: ['ordering-provider'] });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ error: { code: 'access_denied', reason: 'purpose_required' } });
    expect(lastAudit()).toMatchObject({ action: 'deny', reason: 'purpose_required', purposeOfUse: null });
  });

  it('an unknown purpose, or a purpose the role has no rule for, gets 403', async () => {
    expect((await results('1001', { roles: ['ordering-provider'], purpose: 'treat' })).body).toMatchObject({ error: { reason: 'purpose_unknown' } });
    expect((await results('1001', { roles: ['billing'], purpose: 'TREAT' })).body).toMatchObject({ error: { reason: 'purpose_not_permitted' } });
    expect((await results('1001', { roles: ['researcher'], purpose: 'HPAYMT' })).status).toBe(403);
  });
});

describe('authentication', () => {
  it('no token → 401 with WWW-Authenticate: Bearer, audited', async () => {
    const res = await results('1001', { ...ORDERING, token: null });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    expect(res.body).toMatchObject({ error: { code: 'authentication_required', status: 401 } });
    expect(lastAudit()).toMatchObject({ action: 'deny', outcome: 'denied', reason: 'authentication_required', actor: { id: null } });
  });

  it('a JWT signed with another secret → 401', async () => {
    const forged = await signToken({ sub: 'mallory', roles: ['ordering-provider'] }, 'another-secret-another-secret-another');
    const res = await results('1001', { ...ORDERING, token: forged });
    expect(res.status).toBe(401);
    expect(res.text).not.toContain('Sampleton');
  });

  it('expired, malformed, non-HS256 or subject-less tokens → 401', async () => {
    const key = new TextEncoder().encode(JWT_SECRET);
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    const expired = await signToken({ sub: 'e2e', roles: ['ordering-provider'] }, JWT_SECRET, { now: twoHoursAgo });
    const hs512 = await new SignJWT({ roles: ['ordering-provider'] }).setProtectedHeader({ alg: 'HS512' }).setSubject('e2e').setExpirationTime('1h').sign(key);
    const noSub = await new SignJWT({ roles: ['ordering-provider'] }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('1h').sign(key);
    const [h, p] = (await tokenFor(ORDERING)).split('.');
    const unsigned = `${h}.${p}.`;
    for (const token of [expired, hs512, noSub, unsigned, 'not-a-jwt', '']) {
      const res = await results('1001', { ...ORDERING, token });
      expect(res.status, token).toBe(401);
    }
  });

  it('the token helper issues what the contract says: sub, roles, patient, amr, auth_time, 1 h expiry', async () => {
    const token = await signToken({ sub: 'u-7', roles: ['patient'], patient: '1003' }, JWT_SECRET);
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({ sub: 'u-7', roles: ['patient'], patient: '1003', amr: ['pwd'] });
    expect(claims.exp! - claims.iat!).toBe(3600);
    expect(claims.auth_time).toBe(claims.iat);
    // Patient 1003 has an HIV result: a password alone is not enough to see it.
    expect((await results('1003', { token, purpose: 'PATRQT' })).status).toBe(401);
    const mfa = await signToken({ sub: 'u-7', roles: ['patient'], patient: '1003', amr: ['pwd', 'otp'] }, JWT_SECRET);
    expect((await results('1003', { token: mfa, purpose: 'PATRQT' })).status).toBe(200);
  });
});

describe('patient access (PATRQT)', () => {
  it('a patient gets their own record, with the SSN reduced to its last 4', async () => {
    const res = await results('1001', { roles: ['patient'], patient: '1001', purpose: 'PATRQT' });
    expect(res.status).toBe(200);
    const view = fullView('1001');
    expect(res.body).toEqual({ ...view, patient: { ...view.patient, ssn: '***-**-3571' } });
  });

  it("another patient's record → 403 not_own_record, audited with that record's patient ref", async () => {
    const res = await results('1002', { roles: ['patient'], patient: '1001', purpose: 'PATRQT' });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ error: { code: 'access_denied', reason: 'not_own_record' } });
    expectNoIdentifiers(res.text);
    expect(lastAudit()).toMatchObject({ action: 'deny', reason: 'not_own_record', patient: { ref: refs.patientRef('1002') } });
  });

  it("another patient's id is refused before the handler, so 403 vs 404 does not reveal which ids exist", async () => {
    const patient = { roles: ['patient'], patient: '1001', purpose: 'PATRQT' };
    const existing = await results('1002', patient);
    const missing = await results('9999', patient);
    expect(missing.status).toBe(403);
    expect(missing.body).toMatchObject({ error: { reason: 'not_own_record' } });
    expect(missing.text.replace(/"requestId":"[^"]+"/, '')).toBe(existing.text.replace(/"requestId":"[^"]+"/, ''));
  });

  it('a patient token without a patient claim gets no record', async () => {
    const res = await results('1001', { roles: ['patient'], purpose: 'PATRQT' });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ error: { reason: 'not_own_record' } });
  });
});

// ── the whole matrix ───────────────────────────────────────────────────────────────────────
type SsnRule = 'full' | 'last4' | 'none';
const MATRIX: readonly { role: string; purpose: string; ssn: SsnRule; patient?: string }[] = [
  { role: 'ordering-provider', purpose: 'TREAT', ssn: 'full' },
  { role: 'ordering-provider', purpose: 'ETREAT', ssn: 'full' },
  { role: 'care-team-nurse', purpose: 'TREAT', ssn: 'none' },
  { role: 'lab-technologist', purpose: 'HOPERAT', ssn: 'none' },
  { role: 'billing', purpose: 'HPAYMT', ssn: 'none' },
  { role: 'release-of-information', purpose: 'HLEGAL', ssn: 'last4' },
  { role: 'researcher', purpose: 'HRESCH', ssn: 'none' },
  { role: 'patient', purpose: 'PATRQT', ssn: 'last4', patient: '1001' },
  { role: 'auditor', purpose: 'HOPERAT', ssn: 'none' },
];

describe('the role × purpose matrix', () => {
  it('covers every role of the policy', () => {
    expect(new Set(MATRIX.map((m) => m.role))).toEqual(new Set(policy.roles));
  });

  it.each(MATRIX)('$role / $purpose: 200, no-store, SSN $ssn', async ({ role, purpose, ssn, patient }) => {
    const res = await results('1001', { roles: [role], purpose, ...(patient ? { patient } : {}) });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const got = (res.body as Partial<LabResultsView>).patient?.ssn;
    if (ssn === 'full') expect(got).toBe('912-48-3571');
    else if (ssn === 'last4') expect(got).toBe('***-**-3571');
    else expect(got).toBeUndefined();
    if (ssn !== 'full') {
      expect(res.text).not.toContain('912-48-3571');
      expect(res.text).not.toContain('912483571');
    }
    const event = lastAudit();
    expect(event).toMatchObject({
      action: 'read',
      outcome: 'success',
      actor: { roles: [role] },
      purposeOfUse: purpose,
      patient: { ref: refs.patientRef('1001') },
      resource: { type: 'PatientResults', id: 'lrv-5c2e9a71' },
    });
    expect(event.disclosed!.includes('patient.ssn')).toBe(ssn !== 'none');
  });

  it('care-team-nurse (TREAT) gets everything but the SSN; the withholding is audited', async () => {
    const res = await results('1001', { roles: ['care-team-nurse'], purpose: 'TREAT' });
    const { ssn: _ssn, ...patient } = fullView('1001').patient;
    expect(res.body).toEqual({ ...fullView('1001'), patient });
    expect(lastAudit().transforms).toEqual({ 'patient.ssn': 'redact' });
  });

  it('lab-technologist (HOPERAT) gets MRN, initials, birth date, results and comments; no SSN, address or contact', async () => {
    const res = await results('1001', { roles: ['lab-technologist'], purpose: 'HOPERAT' });
    const view = fullView('1001');
    expect(res.body).toEqual({
      ...view,
      patient: { mrn: 'MRN00037731', name: { use: 'official', family: 'S.', given: ['A.', 'Q.'] }, birthDate: '1967-04-12', gender: 'female', age: view.patient.age },
    });
  });

  it('release-of-information (HLEGAL) gets the record with the SSN to its last 4', async () => {
    const res = await results('1001', { roles: ['release-of-information'], purpose: 'HLEGAL' });
    const view = fullView('1001');
    expect(res.body).toEqual({ ...view, patient: { ...view.patient, ssn: '***-**-3571' } });
  });

  it('auditor (HOPERAT) gets codes, statuses and dates only', async () => {
    const res = await results('1001', { roles: ['auditor'], purpose: 'HOPERAT' });
    const view = fullView('1001');
    expect(res.body).toEqual({
      resourceType: 'LabResultsView',
      id: view.id,
      reports: view.reports.map((r) => ({
        status: r.status,
        code: r.code,
        effectiveDateTime: r.effectiveDateTime,
        issued: r.issued,
        observations: r.observations.map((o) => ({ status: o.status, category: o.category, code: o.code, effectiveDateTime: o.effectiveDateTime })),
      })),
    });
    expectNoIdentifiers(res.text);
  });

  it('roles add up: lab-technologist + auditor under HOPERAT get the union', async () => {
    const both = await results('1001', { roles: ['auditor', 'lab-technologist'], purpose: 'HOPERAT' });
    const lab = await results('1001', { roles: ['lab-technologist'], purpose: 'HOPERAT' });
    expect(both.body).toEqual(lab.body);
  });

  it('sensitive results (HIV 1003, BRCA1 1004) keep their security labels for treatment and reach billing as codes only', async () => {
    for (const id of ['1003', '1004']) {
      const full = await results(id, ORDERING);
      expect(full.body).toEqual(fullView(id));
      const labels = valuesAt(full.body, 'security').flat() as { code: string }[];
      expect(labels.map((l) => l.code)).toContain(id === '1003' ? 'HIV' : 'GDIS');
      const bill = await results(id, BILLING);
      expect(valuesAt(bill.body, 'meta')).toEqual([]);
      expect(valuesAt(bill.body, 'valueQuantity')).toEqual([]);
      expect(valuesAt(bill.body, 'valueCodeableConcept')).toEqual([]);
    }
  });
});

// ── sensitive categories, relationships and break-glass ────────────────────────────────────
describe('sensitive categories and step-up', () => {
  const hivObservation = (body: unknown) =>
    (valuesAt(body, 'observations').flat() as { code: { coding: { code: string }[] } }[]).find((o) => o.code.coding[0]!.code === '20447-9')!;

  it('the HIV viral load is masked for the care-team nurse: code and labels stay, value, interpretation and comments go', async () => {
    const res = await results('1003', { roles: ['care-team-nurse'], purpose: 'TREAT' });
    expect(res.status).toBe(200);
    const hiv = hivObservation(res.body) as unknown as Record<string, unknown>;
    expect(hiv.valueQuantity).toBeUndefined();
    expect(hiv.interpretation).toBeUndefined();
    expect(hiv.note).toBeUndefined();
    expect(hiv.meta).toBeDefined();
    expect(lastAudit().transforms).toMatchObject({ 'reports[].observations[].valueQuantity': 'masked' });
    // The other results of the same patient are not masked.
    const others = (valuesAt(res.body, 'observations').flat() as Record<string, unknown>[]).filter((o) => o !== (hiv as unknown));
    expect(others.every((o) => o.valueQuantity !== undefined || o.valueCodeableConcept !== undefined)).toBe(true);
  });

  it('the ordering provider sees it with a recent second factor, and gets 401 step_up_required without one', async () => {
    const withMfa = await results('1003', { ...ORDERING, amr: ['pwd', 'otp'] });
    expect(withMfa.status).toBe(200);
    expect(hivObservation(withMfa.body)).toHaveProperty('valueQuantity');
    const pwdOnly = await results('1003', { ...ORDERING, amr: ['pwd'] });
    expect(pwdOnly.status).toBe(401);
    expect(pwdOnly.body).toMatchObject({ error: { code: 'step_up_required', reason: 'step_up_required' } });
    expect(pwdOnly.headers.get('www-authenticate')).toMatch(/insufficient_user_authentication.*max_age=900/);
    expectNoIdentifiers(pwdOnly.text);
    expect(lastAudit()).toMatchObject({ action: 'deny', outcome: 'denied', reason: 'step_up_required' });
    // Records without sensitive results need no second factor.
    expect((await results('1001', { ...ORDERING, amr: ['pwd'] })).status).toBe(200);
  });

  it('a nurse not on the care team is denied with relationship_required', async () => {
    const res = await results('1001', { roles: ['care-team-nurse'], purpose: 'TREAT', sub: 'rn.okafor' });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ error: { code: 'access_denied', reason: 'relationship_required' } });
    expect((await results('1005', { roles: ['care-team-nurse'], purpose: 'TREAT' })).status).toBe(403);
  });
});

// ── HTTP behaviour ─────────────────────────────────────────────────────────────────────────
describe('HTTP', () => {
  it('HEAD behaves like GET without a body, and is audited as a read', async () => {
    const get = await results('1001', BILLING);
    const before = audits().length;
    const head = await call('/patients/1001/results', BILLING, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.text).toBe('');
    expect(head.headers.get('content-length')).toBe(String(Buffer.byteLength(get.text)));
    expect(head.headers.get('content-type')).toBe(get.headers.get('content-type'));
    expect(head.headers.get('cache-control')).toBe('no-store');
    expect(audits().length).toBe(before + 1);
    expect(lastAudit()).toMatchObject({ action: 'read', outcome: 'success', request: { method: 'HEAD' } });
    const denied = await call('/patients/1001/results', { roles: ['janitor'], purpose: 'TREAT' }, 'HEAD');
    expect(denied.status).toBe(403);
    expect(denied.text).toBe('');
  });

  it('an unknown patient → 404 not_found (after the access decision)', async () => {
    const res = await results('9999', ORDERING);
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ error: { code: 'not_found', status: 404 } });
    expect((await results('9999', { roles: ['janitor'], purpose: 'TREAT' })).status).toBe(403);
    expect((await results('9999', { ...ORDERING, token: null })).status).toBe(401);
  });

  it('GET /health is public and not audited', async () => {
    const before = log.lines.length;
    const res = await call('/health', { token: null });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
    expect(log.lines.length).toBe(before);
  });

  it('every response carries a request id that the audit event repeats', async () => {
    const res = await results('1002', ORDERING);
    expect(lastAudit().request?.requestId).toBe(res.headers.get('x-request-id'));
  });
});

// ── audit and classification hygiene ──────────────────────────────────────────────────────
describe('audit and classification', () => {
  it('every field of every patient is classified (no unclassified-field warning)', async () => {
    const warn = vi.spyOn(process, 'emitWarning');
    try {
      for (const id of PATIENTS.keys()) expect((await results(id, ORDERING)).body).toEqual(fullView(id));
      const unclassified = warn.mock.calls.filter((c) => JSON.stringify(c).includes('PHIGUARD_UNCLASSIFIED'));
      expect(unclassified).toEqual([]);
    } finally {
      warn.mockRestore();
    }
  });

  it('audit lines never contain PHI values of the fixture, across every role, patient and refusal', async () => {
    for (const id of PATIENTS.keys()) {
      for (const { role, purpose } of MATRIX) {
        // Patients ask for their own record and for a neighbour's (refused).
        await results(id, { roles: [role], purpose, patient: role === 'patient' ? '1001' : undefined });
      }
      await results(id, { roles: ['janitor'], purpose: 'TREAT' });
      await results(id, { roles: ['billing'] });
      await results(id, { ...ORDERING, token: null });
    }
    const text = log.lines.join('\n');
    expect(log.lines.length).toBeGreaterThan(60);
    expectNoIdentifiers(text);
    for (const id of PATIENTS.keys()) {
      expect(text).not.toContain(`"${id}"`);
      expect(text).not.toContain(`:${id},`);
      expect(text).not.toContain(`/patients/${id}`);
    }
    // Nor values, notes or conclusions.
    for (const r of PATIENTS.values()) {
      for (const report of r.reports) if (report.conclusion) expect(text).not.toContain(report.conclusion.slice(0, 20));
      for (const o of r.observations.values()) if (o.note) expect(text).not.toContain(o.note[0]!.text.slice(0, 20));
    }
    for (const line of log.lines) {
      const entry = JSON.parse(line) as { msg: string; audit?: AuditEvent };
      if (entry.audit?.patient) expect(entry.audit.patient.ref).toMatch(/^pt_[\w-]{22}$/);
    }
  });
});
