/**
 * End-to-end: the release-of-information desk of the NestJS example. Intake and validation per
 * requester type, the second review of sensitive releases, fulfilment through the release
 * matrix, the watermarked export, and the `disclose` audit trail.
 */
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compilePolicy } from '@phiguard/core';
import { createApp, policy } from '../../examples/nestjs-lab-results/src/app.js';
import { signToken } from '../../examples/express-lab-results/src/auth.js';
import { memoryLog } from '../../examples/express-lab-results/src/memory-log.js';
import { operators } from '../../examples/express-lab-results/src/policy.js';
import { labResultsView, type LabResultsView } from '../../examples/express-lab-results/src/view.js';
import { PATIENTS } from '../../examples/express-lab-results/src/data.js';

const JWT_SECRET = 'e2e-jwt-secret-for-the-roi-desk-0123456789';
const PHIGUARD_SECRET = 'e2e-phiguard-secret-with-at-least-32-bytes';
const log = memoryLog();
let app: INestApplication;
let base: string;

beforeAll(async () => {
  app = await createApp({ jwtSecret: JWT_SECRET, phiguardSecret: PHIGUARD_SECRET, logger: log.logger });
  await app.listen(0, '127.0.0.1');
  base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  for (const [id, type, name] of [['acme-life', 'insurer', 'Acme Life Insurance'], ['patient-self', 'individual', 'The patient'], ['dr-rivera', 'provider', 'Riverside Clinic'], ['suffolk-court', 'court', 'Suffolk Superior Court']]) {
    const res = await http('POST', '/governance/recipients', 'po.ade', { id, type, name }, ['privacy-officer']);
    if (res.status !== 201) throw new Error(`recipient registration failed: ${res.status} ${res.text}`);
  }
});
afterAll(async () => {
  await app.close();
});

const desk = (sub: string) => signToken({ sub, roles: ['release-of-information'] }, JWT_SECRET);
// The registry id of each request type's recipient (registered in beforeAll).
const RECIPIENT_OF: Record<string, string> = { patient: 'patient-self', provider: 'dr-rivera', 'third-party': 'acme-life', subpoena: 'suffolk-court' };
async function http(method: string, path: string, sub: string | null, body?: unknown, roles = ['release-of-information']) {
  if (path === '/roi/requests' && body !== null && typeof body === 'object' && !('recipientId' in body)) {
    body = { recipientId: RECIPIENT_OF[(body as { requesterType?: string }).requesterType ?? ''] ?? 'acme-life', ...body };
  }
  const headers: Record<string, string> = { 'user-agent': 'e2e' };
  if (sub !== null) headers.authorization = `Bearer ${roles[0] === 'release-of-information' ? await desk(sub) : await signToken({ sub, roles }, JWT_SECRET)}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, body: text === '' ? undefined : (JSON.parse(text) as Record<string, any>) };
}

const inAYear = new Date(Date.now() + 365 * 86_400_000).toISOString();
const authorization = (patientId: string, extra: Record<string, unknown> = {}) => ({
  id: `auth-${patientId}-${Math.random().toString(36).slice(2)}`,
  patientId,
  information: 'Laboratory results from March 2025',
  discloser: 'Example Hospital laboratory',
  recipient: 'Acme Life Insurance, underwriting',
  purpose: 'Life insurance application',
  expiresAt: inAYear,
  signedBy: 'the patient',
  signedAt: new Date().toISOString(),
  statements: { revocation: true, conditioning: true, redisclosure: true },
  ...extra,
});
const fullView = (id: string): LabResultsView => JSON.parse(JSON.stringify(labResultsView(PATIENTS.get(id)!))) as LabResultsView;
const refs = compilePolicy(policy, { secret: PHIGUARD_SECRET, operators, mode: 'production' });

describe('intake', () => {
  it('validates the required elements of each request type, naming fields, never values', async () => {
    const bad = await http('POST', '/roi/requests', 'roi.kim', {
      patientId: '1001',
      requesterType: 'third-party',
      recipient: 'Acme',
      purpose: 'insurance',
      authorization: { ...authorization('1001'), purpose: '', expiresAt: '2020-01-01', statements: { revocation: true } },
    });
    expect(bad.status).toBe(422);
    expect(bad.body!.error.code).toBe('roi_invalid');
    expect(bad.body!.error.problems).toEqual([
      'authorization.purpose is required (45 CFR 164.508(c)(1))',
      'authorization has expired',
      'authorization.statements.conditioning is required (45 CFR 164.508(c)(2))',
      'authorization.statements.redisclosure is required (45 CFR 164.508(c)(2))',
    ]);
    const cases: [Record<string, unknown>, string][] = [
      [{ requesterType: 'patient' }, 'identityVerification.method must be one of'],
      [{ requesterType: 'patient', identityVerification: { method: 'looked trustworthy' } }, 'identityVerification.method must be one of'],
      [{ requesterType: 'provider', npi: '12' }, 'npi must be'],
      [{ requesterType: 'subpoena', legalProcess: { court: 'Suffolk Superior Court', docket: '25-0042', issuedAt: '2025-04-01' } }, 'court order or satisfactory assurance'],
      [{ requesterType: 'third-party', authorization: authorization('1002') }, 'authorization.patientId must be the patient'],
      [{ requesterType: 'courier' }, 'requesterType must be one of'],
    ];
    for (const [extra, problem] of cases) {
      const res = await http('POST', '/roi/requests', 'roi.kim', { patientId: '1001', recipient: 'R', purpose: 'P', ...extra });
      expect(res.status, problem).toBe(422);
      expect((res.body!.error.problems as string[]).join('\n')).toContain(problem);
    }
  });

  it('a revoked authorization is refused at intake; only the privacy office may revoke', async () => {
    const auth = authorization('1001');
    expect((await http('POST', '/roi/requests', 'roi.kim', { patientId: '1001', requesterType: 'third-party', recipient: 'Acme', purpose: 'insurance', authorization: auth })).status).toBe(201);
    // A desk clerk cannot revoke (the complaint this closes: any desk user could revoke any authorization).
    expect((await http('POST', `/governance/authorizations/${auth.id}/revoke`, 'roi.kim')).status).toBe(403);
    expect((await http('POST', `/governance/authorizations/${auth.id}/revoke`, 'po.ade', undefined, ['privacy-officer'])).status).toBe(204);
    const res = await http('POST', '/roi/requests', 'roi.kim', { patientId: '1001', requesterType: 'third-party', recipient: 'Acme', purpose: 'insurance', authorization: auth });
    expect(res.status).toBe(422);
    expect(res.body!.error.problems).toEqual(['authorization has been revoked']);
  });

  it('only the release-of-information desk may use it: 401 without a token, 403 for other roles', async () => {
    expect((await http('POST', '/roi/requests', null, {})).status).toBe(401);
    const billing = await http('POST', '/roi/requests', 'b-1', {}, ['billing']);
    expect(billing.status).toBe(403);
    expect(billing.body).toMatchObject({ error: { code: 'access_denied' } });
  });
});

describe('fulfilment through the release matrix, audited as disclose', () => {
  it('third party with an authorization: identity to match, results and dates; no SSN, contact, address or free text; watermarked', async () => {
    const intake = await http('POST', '/roi/requests', 'roi.kim', { patientId: '1001', requesterType: 'third-party', recipient: 'Acme Life Insurance', purpose: 'Life insurance application', authorization: authorization('1001') });
    expect(intake.status).toBe(201);
    expect(intake.body).toMatchObject({ requesterType: 'third-party', status: 'approved', reviewRequired: false, createdBy: 'roi.kim' });
    expect(intake.text).not.toContain('the patient'); // the authorization's contents are not echoed
    const res = await http('GET', `/roi/requests/${intake.body!.id}/export`, 'roi.kim');
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="${intake.body!.id}.json"`);
    const view = fullView('1001');
    expect(res.body!.metadata).toEqual({
      watermark: expect.stringContaining(`RELEASE OF INFORMATION ${intake.body!.id}`),
      releaseId: intake.body!.id,
      requestId: res.headers.get('x-request-id'),
      requesterType: 'third-party',
      purposeOfUse: 'PATRQT',
      purpose: 'Life insurance application',
      recipient: 'Acme Life Insurance',
      releasedBy: 'roi.kim',
      releasedAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
      authorizationId: expect.stringMatching(/^auth-1001-/),
      reviewedBy: null,
    });
    const record = res.body!.record as LabResultsView;
    expect(record.patient).toEqual({ mrn: '****7731', name: view.patient.name, birthDate: view.patient.birthDate, gender: view.patient.gender });
    expect(res.text).not.toContain('912-48-3571');
    expect(JSON.stringify(record)).not.toContain('conclusion');
    expect(record.reports[0]!.observations[0]).toHaveProperty('valueQuantity');
    const event = log.auditEvents().at(-1)!;
    expect(event).toMatchObject({
      action: 'disclose',
      outcome: 'success',
      actor: { id: 'roi.kim', roles: ['release-of-information', 'requester:third-party'] },
      purposeOfUse: 'PATRQT',
      patient: { ref: refs.patientRef('1001') },
      resource: { type: 'PatientResults', id: view.id },
      request: { requestId: res.headers.get('x-request-id') },
    });
    expect(event.disclosed).not.toContain('patient.ssn');
    expect(log.lines.join('\n')).not.toContain('Acme Life Insurance'); // the recipient is in the watermark, not in audit
  });

  it('a revocation after intake stops the release (403 authorization_revoked)', async () => {
    const auth = authorization('1002');
    const intake = await http('POST', '/roi/requests', 'roi.kim', { patientId: '1002', requesterType: 'third-party', recipient: 'Acme', purpose: 'insurance', authorization: auth });
    expect(intake.status).toBe(201);
    expect((await http('POST', `/governance/authorizations/${auth.id}/revoke`, 'po.ade', undefined, ['privacy-officer'])).status).toBe(204);
    const before = log.auditEvents().filter((e) => e.action === 'disclose').length;
    const res = await http('GET', `/roi/requests/${intake.body!.id}/export`, 'roi.kim');
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ error: { code: 'access_denied', status: 403, reason: 'authorization_revoked' } });
    expect(log.auditEvents().filter((e) => e.action === 'disclose').length).toBe(before);
  });

  it('per request type: the patient gets their record with SSN last 4, a provider no SSN, a subpoena no contact details', async () => {
    const view = fullView('1002');
    const patient = await http('POST', '/roi/requests', 'roi.kim', { patientId: '1002', requesterType: 'patient', recipient: 'the patient', purpose: 'personal records', identityVerification: { method: 'photo-id' } });
    expect(log.auditEvents().find((e) => e.resource.id === patient.body!.id)).toMatchObject({ action: 'create', reason: 'intake:patient:photo-id', actor: { id: 'roi.kim' } });
    const p = await http('GET', `/roi/requests/${patient.body!.id}/export`, 'roi.kim');
    expect((p.body!.record as LabResultsView).patient.ssn).toMatch(/^\*\*\*-\*\*-\d{4}$/);
    expect((p.body!.record as LabResultsView).patient.telecom).toEqual(view.patient.telecom);

    const provider = await http('POST', '/roi/requests', 'roi.kim', { patientId: '1002', requesterType: 'provider', recipient: 'Dr. Rivera, Riverside Clinic', purpose: 'continuity of care', npi: '1234567893' });
    const pr = await http('GET', `/roi/requests/${provider.body!.id}/export`, 'roi.kim');
    const { ssn: _ssn, ...withoutSsn } = view.patient;
    expect((pr.body!.record as LabResultsView).patient).toEqual(withoutSsn);
    expect(log.auditEvents().at(-1)).toMatchObject({ action: 'disclose', purposeOfUse: 'TREAT', transforms: { 'patient.ssn': 'redact' } });

    const subpoena = await http('POST', '/roi/requests', 'roi.kim', {
      patientId: '1002', requesterType: 'subpoena', recipient: 'Suffolk Superior Court', purpose: 'civil proceeding',
      legalProcess: { court: 'Suffolk Superior Court', docket: '25-0042', issuedAt: '2025-04-01', courtOrder: true },
    });
    const s = await http('GET', `/roi/requests/${subpoena.body!.id}/export`, 'roi.kim');
    expect((s.body!.record as LabResultsView).patient).toEqual({ mrn: view.patient.mrn, name: view.patient.name, birthDate: view.patient.birthDate, gender: view.patient.gender });
    expect(log.auditEvents().at(-1)).toMatchObject({ action: 'disclose', purposeOfUse: 'HLEGAL' });
  });
});

describe('second review of sensitive releases', () => {
  it('a record with an HIV result waits for a second reviewer, who cannot be the intake clerk', async () => {
    const intake = await http('POST', '/roi/requests', 'roi.kim', { patientId: '1003', requesterType: 'provider', recipient: 'Dr. Rivera', purpose: 'continuity of care', npi: '1234567893' });
    expect(intake.body).toMatchObject({ status: 'pending-review', reviewRequired: true });
    const early = await http('GET', `/roi/requests/${intake.body!.id}/export`, 'roi.kim');
    expect(early.status).toBe(409);
    expect(early.body).toMatchObject({ error: { code: 'roi_review_required' } });
    const self = await http('POST', `/roi/requests/${intake.body!.id}/review`, 'roi.kim', { decision: 'approve' });
    expect(self.status).toBe(403);
    expect(self.body).toMatchObject({ error: { reason: 'separation_of_duties' } });
    const approved = await http('POST', `/roi/requests/${intake.body!.id}/review`, 'roi.lee', { decision: 'approve' });
    expect(approved.body).toMatchObject({ status: 'approved', reviewedBy: 'roi.lee' });
    expect(log.auditEvents().at(-1)).toMatchObject({
      action: 'update',
      outcome: 'success',
      reason: 'review:approve',
      actor: { id: 'roi.lee' },
      resource: { type: 'ReleaseRequest', id: intake.body!.id },
    });
    const res = await http('GET', `/roi/requests/${intake.body!.id}/export`, 'roi.kim');
    expect(res.status).toBe(200);
    expect(res.body!.metadata).toMatchObject({ reviewedBy: 'roi.lee' });
  });

  it('a rejected release is never exported', async () => {
    const intake = await http('POST', '/roi/requests', 'roi.kim', { patientId: '1004', requesterType: 'provider', recipient: 'Dr. Rivera', purpose: 'care', npi: '1234567893' });
    await http('POST', `/roi/requests/${intake.body!.id}/review`, 'roi.lee', { decision: 'reject' });
    const res = await http('GET', `/roi/requests/${intake.body!.id}/export`, 'roi.kim');
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ error: { code: 'roi_rejected' } });
  });

  it('a third-party authorization must name the sensitive categories present in the record', async () => {
    const without = await http('POST', '/roi/requests', 'roi.kim', { patientId: '1003', requesterType: 'third-party', recipient: 'Acme', purpose: 'insurance', authorization: authorization('1003') });
    expect(without.status).toBe(422);
    expect(without.body!.error.problems).toEqual(['authorization.sensitiveCategories does not cover the sensitive results in this record']);
    const named = await http('POST', '/roi/requests', 'roi.kim', { patientId: '1003', requesterType: 'third-party', recipient: 'Acme', purpose: 'insurance', authorization: authorization('1003', { sensitiveCategories: ['HIV'] }) });
    expect(named.status).toBe(201);
    expect(named.body).toMatchObject({ status: 'pending-review' });
  });
});
