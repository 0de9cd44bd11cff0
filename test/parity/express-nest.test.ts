/**
 * Parity: the Express and the NestJS lab-results examples, given the same requests (every role ×
 * each of its purposes of use × every patient, plus refusals, DLP and errors), answer with the
 * same status, headers that matter, bodies and audit events (ids, times and request ids aside).
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '@phiguard/core';
import { createApp as createExpressApp, policy } from '../../examples/express-lab-results/src/app.js';
import { signToken } from '../../examples/express-lab-results/src/auth.js';
import { PATIENTS } from '../../examples/express-lab-results/src/data.js';
import { memoryLog, type MemoryLog } from '../../examples/express-lab-results/src/memory-log.js';
import { createApp as createNestApp } from '../../examples/nestjs-lab-results/src/app.js';

const JWT_SECRET = 'parity-jwt-secret-parity-jwt-secret-0001';
const PHIGUARD_SECRET = 'parity-phiguard-secret-with-32-bytes-or-more';

interface Target {
  readonly name: string;
  readonly log: MemoryLog;
  base: string;
  close(): Promise<void>;
}
const express: Target = { name: 'express', log: memoryLog(), base: '', close: async () => undefined };
const nest: Target = { name: 'nest', log: memoryLog(), base: '', close: async () => undefined };

beforeAll(async () => {
  const server: Server = createExpressApp({ jwtSecret: JWT_SECRET, phiguardSecret: PHIGUARD_SECRET, logger: express.log.logger }).listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  express.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  express.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  const app: INestApplication = await createNestApp({ jwtSecret: JWT_SECRET, phiguardSecret: PHIGUARD_SECRET, logger: nest.log.logger });
  await app.listen(0, '127.0.0.1');
  nest.base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  nest.close = () => app.close();
});

afterAll(async () => {
  await Promise.all([express.close(), nest.close()]);
});

interface Request {
  readonly label: string;
  readonly path: string;
  readonly method?: string;
  readonly token?: string | null;
  readonly purpose?: string;
  readonly body?: string;
  readonly contentType?: string;
  /** X-Break-Glass-Grant. */
  readonly grant?: string;
}

/** What must match: status, selected headers, the body and the audit events, minus per-request noise. */
async function observe(target: Target, req: Request) {
  const headers: Record<string, string> = { 'user-agent': 'parity' };
  if (req.token) headers.authorization = `Bearer ${req.token}`;
  if (req.purpose !== undefined) headers['x-purpose-of-use'] = req.purpose;
  if (req.body !== undefined) headers['content-type'] = req.contentType ?? 'application/json';
  if (req.grant !== undefined) headers['x-break-glass-grant'] = req.grant;
  const before = target.log.auditEvents().length;
  const res = await fetch(`${target.base}${req.path}`, { method: req.method ?? 'GET', headers, body: req.body });
  const text = await res.text();
  const events = target.log.auditEvents().slice(before);
  return {
    status: res.status,
    headers: {
      cacheControl: res.headers.get('cache-control'),
      contentType: res.headers.get('content-type'),
      wwwAuthenticate: res.headers.get('www-authenticate'),
      requestId: res.headers.get('x-request-id') === null ? 'missing' : 'present',
    },
    body: text === '' ? undefined : /json/.test(res.headers.get('content-type') ?? '') ? scrub(JSON.parse(text)) : rawShape(text),
    events: events.map(scrubEvent),
    eventRequestIds: events.map((e) => (e.request?.requestId === res.headers.get('x-request-id') ? 'matches' : 'differs')),
  };
}

/** A raw body (CSV, NDJSON) as its rows without the watermark values that differ per export (ids, times). */
function rawShape(text: string): unknown {
  return { raw: text.replace(/[\da-f]{8}-[\da-f]{4}-[\da-f]{4}-[\da-f]{4}-[\da-f]{12}/g, 'ID').replace(/\d{4}-\d{2}-\d{2}T[\d:.]+Z/g, 'T').split('\n') };
}

/** Drops values that differ per request by design: request ids, stored-post ids and times. */
function scrub(body: unknown): unknown {
  if (body === null || typeof body !== 'object') return body;
  const b = { ...(body as Record<string, unknown>) };
  if (b.error !== null && typeof b.error === 'object') b.error = { ...(b.error as object), requestId: 'R' };
  if (typeof b.createdAt === 'string') b.createdAt = 'T';
  if (typeof b.deletedAt === 'string') b.deletedAt = 'T';
  if (typeof b.id === 'string' && /^[\da-f-]{36}$/.test(b.id)) b.id = 'ID';
  return b;
}

function scrubEvent(e: AuditEvent): unknown {
  // JSON round trip drops keys whose value is undefined, which one adapter may spell out.
  const copy = JSON.parse(JSON.stringify(e)) as Record<string, unknown> & { request?: Record<string, unknown> };
  delete copy.id;
  delete copy.time;
  delete copy.chain;
  if (copy.request) delete copy.request.requestId;
  const delivery = copy.delivery as { exportId?: string } | undefined;
  if (delivery?.exportId !== undefined) delivery.exportId = 'ID'; // random per export
  const resource = copy.resource as { id?: string } | undefined;
  if (resource?.id !== undefined && /^[\da-f-]{36}$/.test(resource.id)) resource.id = 'ID'; // a stored post's random id
  return copy;
}

/** Grant ids and expiry times differ per run: replaced by placeholders. */
function scrubGrant(value: unknown, grantId: string): unknown {
  return JSON.parse(JSON.stringify(value).replaceAll(grantId, 'GRANT').replace(/"expiresAt":"[^"]+"/g, '"expiresAt":"T"'));
}

const token = (claims: { sub: string; roles: string[]; patient?: string }) => signToken(claims, JWT_SECRET);

async function matrix(): Promise<Request[]> {
  const requests: Request[] = [];
  const disclose = policy.resources.PatientResults.disclose as Record<string, Record<string, unknown>>;
  for (const [role, byPurpose] of Object.entries(disclose)) {
    const t = await token({ sub: `parity-${role}`, roles: [role], ...(role === 'patient' ? { patient: '1001' } : {}) });
    for (const purpose of Object.keys(byPurpose)) {
      for (const id of PATIENTS.keys()) requests.push({ label: `${role} ${purpose} ${id}`, path: `/patients/${id}/results`, token: t, purpose });
    }
  }
  return requests;
}

async function refusals(): Promise<Request[]> {
  const doctor = await token({ sub: 'parity-doc', roles: ['ordering-provider'] });
  const billing = await token({ sub: 'parity-bill', roles: ['billing'] });
  const janitor = await token({ sub: 'parity-janitor', roles: ['janitor'] });
  const patient = await token({ sub: 'parity-pt', roles: ['patient'], patient: '1001' });
  const forged = await signToken({ sub: 'mallory', roles: ['ordering-provider'] }, 'another-secret-another-secret-another');
  const nurse = await token({ sub: 'rn.alvarez', roles: ['care-team-nurse'] });
  const outsider = await token({ sub: 'rn.okafor', roles: ['care-team-nurse'] });
  const results = '/patients/1001/results';
  return [
    { label: 'no token', path: results, purpose: 'TREAT' },
    { label: 'forged token', path: results, token: forged, purpose: 'TREAT' },
    { label: 'malformed token', path: results, token: 'not-a-jwt', purpose: 'TREAT' },
    { label: 'unknown role', path: results, token: janitor, purpose: 'TREAT' },
    { label: 'no purpose', path: results, token: doctor },
    { label: 'unknown purpose', path: results, token: doctor, purpose: 'treat' },
    { label: 'purpose not permitted', path: results, token: billing, purpose: 'TREAT' },
    { label: "another patient's record", path: '/patients/1002/results', token: patient, purpose: 'PATRQT' },
    { label: 'a patient id that does not exist, as a patient', path: '/patients/9999/results', token: patient, purpose: 'PATRQT' },
    { label: 'unknown patient', path: '/patients/9999/results', token: doctor, purpose: 'TREAT' },
    { label: 'health', path: '/health' },
    { label: 'nurse on the care team', path: results, token: nurse, purpose: 'TREAT' },
    { label: 'nurse off the care team', path: '/patients/1005/results', token: nurse, purpose: 'TREAT' },
    { label: 'nurse on no care team', path: results, token: outsider, purpose: 'TREAT' },
    { label: 'ETREAT without a grant', path: results, token: outsider, purpose: 'ETREAT' },
    { label: 'an unknown grant', path: results, token: outsider, purpose: 'ETREAT', grant: 'bg_unknown' },
    { label: 'note quoting an SSN (DLP block)', path: '/patients/1001/notes', method: 'POST', token: nurse, purpose: 'TREAT', body: JSON.stringify({ text: 'SSN 123-45-6789, call (617) 555-0143' }) },
    { label: 'clean note', path: '/patients/1001/notes', method: 'POST', token: nurse, purpose: 'TREAT', body: JSON.stringify({ text: 'Repeat fasting glucose in 2 weeks.' }) },
    { label: 'note without text', path: '/patients/1001/notes', method: 'POST', token: nurse, purpose: 'TREAT', body: JSON.stringify({ words: 'x' }) },
    { label: 'note on an unknown patient', path: '/patients/9999/notes', method: 'POST', token: nurse, purpose: 'TREAT', body: JSON.stringify({ text: 'ok' }) },
    { label: 'note by billing', path: '/patients/1001/notes', method: 'POST', token: billing, purpose: 'HPAYMT', body: JSON.stringify({ text: 'ok' }) },
    { label: 'portal message (DLP redact)', path: '/patients/1001/messages', method: 'POST', token: patient, purpose: 'PATRQT', body: JSON.stringify({ text: 'my SSN is 123-45-6789' }) },
    { label: 'unscannable note body', path: '/patients/1001/notes', method: 'POST', token: nurse, purpose: 'TREAT', body: 'SSN 123-45-6789', contentType: 'application/octet-stream' },
    { label: 'a JSON type phiguard does not parse (json-seq)', path: '/patients/1001/notes', method: 'POST', token: nurse, purpose: 'TREAT', body: '\u001e{"text":"SSN 123-45-6789"}', contentType: 'application/json-seq' },
    { label: 'malformed JSON note', path: '/patients/1001/notes', method: 'POST', token: nurse, purpose: 'TREAT', body: '{"text": "SSN 123-45-6789"' },
    { label: 'percent-encoded patient id', path: '/patients/1%30%30%31/results', token: doctor, purpose: 'TREAT' },
    { label: 'HEAD on a PHI route', path: results, method: 'HEAD', token: billing, purpose: 'HPAYMT' },
    { label: 'unknown URL naming a patient', path: '/lookup/Zebulon-Quartermaine' },
    { label: 'CSV export (a raw body) by billing', path: '/patients/1001/results.csv', token: billing, purpose: 'HPAYMT' },
    { label: 'CSV export by the ordering provider', path: '/patients/1001/results.csv', token: doctor, purpose: 'TREAT' },
    { label: 'research extract by billing', path: '/research/extract', token: billing, purpose: 'HPAYMT' },
    { label: 'abnormal-results report by billing', path: '/reports/abnormal-results', token: billing, purpose: 'HPAYMT' },
    { label: 'a grant on a route whose resource has no emergency view', path: '/patients/1001/notes', method: 'POST', token: outsider, purpose: 'ETREAT', grant: 'bg_unknown', body: JSON.stringify({ text: 'ok' }) },
  ];
}

describe('Express and NestJS examples answer alike', () => {
  it('covers every role and purpose of the policy', async () => {
    const requests = await matrix();
    expect(new Set(requests.map((r) => r.label.split(' ')[0]))).toEqual(new Set(policy.roles));
    expect(requests.length).toBe(10 * PATIENTS.size);
  });

  it('every role × purpose × patient: same status, headers, body and audit events', async () => {
    for (const req of await matrix()) {
      const [e, n] = [await observe(express, req), await observe(nest, req)];
      expect(n, req.label).toEqual(e);
      expect(e.status, req.label).toBeLessThan(500);
      expect(e.events.length, req.label).toBe(1);
    }
  });

  it('refusals, DLP and errors: same status, headers, body and audit events', async () => {
    for (const req of await refusals()) {
      const [e, n] = [await observe(express, req), await observe(nest, req)];
      expect(n, req.label).toEqual(e);
    }
  });

  it('break-glass: a grant is requested, used, reviewed and revoked alike, with the same audit trail', async () => {
    const outsider = await token({ sub: 'rn.okafor', roles: ['care-team-nurse'] });
    const auditor = await token({ sub: 'parity-auditor', roles: ['auditor'] });
    const seen: Record<string, unknown[]> = { express: [], nest: [] };
    for (const target of [express, nest]) {
      const out = seen[target.name]!;
      const ask = { label: 'grant', path: '/break-glass', method: 'POST', token: outsider, body: JSON.stringify({ patientId: '1005', reason: 'life-threatening-emergency', justification: 'Unresponsive in the ED, assigned nurse unreachable' }) };
      // The grant's audit event carries the trace id, as every event does.
      const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
      const before = target.log.auditEvents().length;
      const granted = await fetch(`${target.base}/break-glass`, {
        method: 'POST',
        headers: { authorization: `Bearer ${outsider}`, 'content-type': 'application/json', 'user-agent': 'parity', traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
        body: ask.body,
      });
      const grant = (await granted.json()) as { grantId: string; expiresAt: string };
      const grantEvents = target.log.auditEvents().slice(before);
      expect(grantEvents.length, target.name).toBeGreaterThan(0);
      for (const e of grantEvents) expect(e.request, target.name).toMatchObject({ traceId });
      out.push(granted.status, Object.keys(grant).sort());
      const use = await observe(target, { label: 'use', path: '/patients/1005/results', token: outsider, grant: grant.grantId });
      out.push(scrubGrant(use, grant.grantId));
      const elsewhere = await observe(target, { label: 'other patient', path: '/patients/1001/results', token: outsider, grant: grant.grantId });
      out.push(scrubGrant(elsewhere, grant.grantId));
      const reviews = await observe(target, { label: 'reviews', path: '/break-glass/reviews', token: auditor });
      out.push(reviews.status);
      const revoke = await observe(target, { label: 'revoke', path: `/break-glass/${grant.grantId}`, method: 'DELETE', token: outsider });
      out.push(revoke.status);
      const after = await observe(target, { label: 'after revocation', path: '/patients/1005/results', token: outsider, grant: grant.grantId });
      out.push(scrubGrant(after, grant.grantId));
    }
    expect(seen.nest).toEqual(seen.express);
    expect(seen.express!.slice(0, 1)).toEqual([201]);
    expect((seen.express![2] as { status: number }).status).toBe(200);
    expect((seen.express![3] as { status: number }).status).toBe(403);
    expect((seen.express![6] as { status: number }).status).toBe(403);
  });

  it('delete: a note refused to the nurse, billing and no token, deleted by the ordering provider once, alike and with the same audit trail', async () => {
    const doctor = await token({ sub: 'parity-doc', roles: ['ordering-provider'] });
    const nurse = await token({ sub: 'rn.alvarez', roles: ['care-team-nurse'] });
    const billing = await token({ sub: 'parity-bill', roles: ['billing'] });
    const seen: Record<string, unknown[]> = { express: [], nest: [] };
    for (const target of [express, nest]) {
      const added = await fetch(`${target.base}/patients/1001/notes`, {
        method: 'POST',
        headers: { authorization: `Bearer ${doctor}`, 'x-purpose-of-use': 'TREAT', 'content-type': 'application/json', 'user-agent': 'parity' },
        body: JSON.stringify({ text: 'Superseded by the repeat panel.' }),
      });
      const { id } = (await added.json()) as { id: string };
      const note = `/patients/1001/notes/${id}`;
      for (const req of [
        { label: 'by the nurse (may add, not delete)', path: note, token: nurse, purpose: 'TREAT' },
        { label: 'by billing', path: note, token: billing, purpose: 'HPAYMT' },
        { label: 'without a token', path: note, purpose: 'TREAT' },
        { label: "through another patient's chart", path: `/patients/1002/notes/${id}`, token: doctor, purpose: 'TREAT' },
        { label: 'by the ordering provider', path: note, token: doctor, purpose: 'TREAT' },
        { label: 'again', path: note, token: doctor, purpose: 'TREAT' },
      ]) {
        const seenNow = await observe(target, { ...req, method: 'DELETE' });
        seen[target.name]!.push([req.label, seenNow]);
      }
    }
    expect(seen.nest).toEqual(seen.express);
    const byLabel = Object.fromEntries(seen.express!.map((x) => x as [string, Awaited<ReturnType<typeof observe>>]));
    expect(Object.fromEntries(Object.entries(byLabel).map(([k, v]) => [k, v.status]))).toEqual({
      'by the nurse (may add, not delete)': 403,
      'by billing': 403,
      'without a token': 401,
      "through another patient's chart": 404,
      'by the ordering provider': 200,
      again: 404,
    });
    // One audit event per attempt: refusals as denied deletes, the deletion as a successful delete.
    const deleted = byLabel['by the ordering provider']!;
    expect(deleted.events).toHaveLength(1);
    expect(deleted.events[0]).toMatchObject({ action: 'delete', outcome: 'success', resource: { type: 'NoteDeletion', id: 'ID' }, request: { method: 'DELETE', route: '/patients/:id/notes/:noteId' } });
    expect(deleted.body).toMatchObject({ id: 'ID', patientId: '1001', deletedBy: 'parity-doc' });
    expect(byLabel['by the nurse (may add, not delete)']!.events).toMatchObject([{ action: 'deny', attemptedAction: 'delete', outcome: 'denied', reason: 'purpose_not_permitted' }]);
  });

  it('governance: recipients registered, exports disclosed or refused, the accounting and the deny list, alike and with the same audit trail', async () => {
    const officer = await token({ sub: 'parity-po', roles: ['privacy-officer'] });
    const security = await token({ sub: 'parity-sec', roles: ['security-officer'] });
    const desk = await token({ sub: 'parity-roi', roles: ['release-of-information'] });
    const doctor = await token({ sub: 'parity-contained', roles: ['ordering-provider'] });
    const csv = (q: string) => ({ label: `export ${q}`, path: `/patients/1004/results.csv?${q}`, token: desk, purpose: 'HLEGAL' });
    const json = (label: string, path: string, t: string, body: unknown, method = 'POST') => ({ label, path, method, token: t, body: JSON.stringify(body) });
    const steps: Request[] = [
      json('register a court', '/governance/recipients', officer, { id: 'parity-court', type: 'court', name: 'Parity County Court' }),
      json('register a business associate without an agreement', '/governance/recipients', officer, { id: 'parity-vendor', type: 'business-associate', name: 'Parity Copy Service' }),
      json('register by the desk (not the privacy office)', '/governance/recipients', desk, { id: 'parity-x', type: 'court', name: 'X' }),
      json('register an unknown type', '/governance/recipients', officer, { id: 'parity-y', type: 'not-a-type', name: 'Y' }),
      { label: 'register without a token', path: '/governance/recipients', method: 'POST', body: '{}' },
      csv('recipient=parity-court&basis=judicial&statement=Court%20order'),
      csv('recipient=parity-court&basis=individual&statement=Copy%20for%20the%20patient'),
      csv(''),
      csv('recipient=parity-nobody&basis=judicial&statement=Court%20order'),
      csv('recipient=parity-vendor&basis=operations&statement=Copy%20service'),
      csv('recipient=parity-court'),
      csv('recipient=parity-court&basis=gossip&statement=x'),
      { label: 'accounting', path: '/governance/patients/1004/disclosures', token: officer },
      { label: 'accounting by the desk', path: '/governance/patients/1004/disclosures', token: desk },
      { label: 'results before containment', path: '/patients/1001/results', token: doctor, purpose: 'TREAT' },
      json('contain by a doctor', '/governance/deny-list/disable', doctor, { principal: 'parity-contained', reason: 'x' }),
      json('contain', '/governance/deny-list/disable', security, { principal: 'parity-contained', reason: 'offboarding' }),
      { label: 'results while contained', path: '/patients/1001/results', token: doctor, purpose: 'TREAT' },
      { label: 'export while contained', path: '/patients/1001/results.csv', token: doctor, purpose: 'TREAT' },
      json('an unknown deny-list operation', '/governance/deny-list/pause', security, { principal: 'parity-contained' }),
      json('release', '/governance/deny-list/enable', security, { principal: 'parity-contained' }),
      { label: 'results after release', path: '/patients/1001/results', token: doctor, purpose: 'TREAT' },
    ];
    const seen: Record<string, [string, unknown][]> = { express: [], nest: [] };
    for (const target of [express, nest]) {
      for (const step of steps) {
        const o = await observe(target, step);
        // Event ids, times and export digests (the watermark carries a random id and a time) differ per run.
        // scrub() spreads a JSON array (the accounting) into an object keyed by index.
        const lines = step.label === 'accounting' ? Object.values(o.body as Record<string, { what: object }>) : null;
        const body = lines === null ? o.body : lines.map((l) => ({ ...l, eventId: 'ID', time: 'T', digest: 'D', what: { ...l.what, resourceId: 'ID' } }));
        const events = o.events.map((e) => JSON.parse(JSON.stringify(e).replace(/"digest":"sha256:[\da-f]+"/g, '"digest":"D"').replace(/"bytes":\d+/g, '"bytes":0')));
        seen[target.name]!.push([step.label, { ...o, body, events }]);
      }
    }
    for (let i = 0; i < steps.length; i++) expect(seen.nest![i], steps[i]!.label).toEqual(seen.express![i]);
    const status = Object.fromEntries(seen.express!.map(([label, o]) => [label, (o as { status: number }).status]));
    expect(Object.values(status)).toEqual([201, 201, 403, 422, 401, 200, 200, 200, 403, 403, 400, 400, 200, 403, 200, 403, 204, 403, 403, 422, 204, 200]);
    const accounting = (seen.express!.find(([l]) => l === 'accounting')![1] as { body: { recipient: { id: string; name: string }; basis: string }[] }).body;
    expect(accounting.map((l) => [l.recipient.id, l.recipient.name, l.basis])).toEqual([['parity-court', 'Parity County Court', 'judicial']]);
  });

  it('the refusals exercise what they claim (not a vacuous match)', async () => {
    const statuses = [];
    for (const req of await refusals()) if (req.label !== 'ETREAT without a grant') statuses.push([req.label, (await observe(nest, req)).status]);
    expect(Object.fromEntries(statuses)).toEqual({
      'no token': 401,
      'forged token': 401,
      'malformed token': 401,
      'unknown role': 403,
      'no purpose': 403,
      'unknown purpose': 403,
      'purpose not permitted': 403,
      "another patient's record": 403,
      'a patient id that does not exist, as a patient': 403,
      'unknown patient': 404,
      health: 200,
      'nurse on the care team': 200,
      'nurse off the care team': 403,
      'nurse on no care team': 403,
      'an unknown grant': 403,
      'note quoting an SSN (DLP block)': 422,
      'clean note': 201,
      'note without text': 400,
      'note on an unknown patient': 404,
      'note by billing': 403,
      'portal message (DLP redact)': 201,
      'unscannable note body': 415,
      'a JSON type phiguard does not parse (json-seq)': 415,
      'malformed JSON note': 400,
      'percent-encoded patient id': 200,
      'HEAD on a PHI route': 200,
      'unknown URL naming a patient': 404,
      'CSV export (a raw body) by billing': 403,
      'CSV export by the ordering provider': 200,
      'research extract by billing': 403,
      'abnormal-results report by billing': 403,
      'a grant on a route whose resource has no emergency view': 403,
    });
  });
});
