/**
 * End-to-end: incident containment and break-glass approval on two instances of the NestJS
 * example that share nothing but a real Redis, over real HTTP.
 */
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStateStore } from '@phiguard/core/state';
import { createApp } from '../../examples/nestjs-lab-results/src/app.js';
import { signToken } from '../../examples/express-lab-results/src/auth.js';
import { memoryLog, type MemoryLog } from '../../examples/express-lab-results/src/memory-log.js';

const REDIS = process.env.PHIGUARD_TEST_REDIS_URL ?? 'redis://127.0.0.1:56379';
const JWT_SECRET = 'e2e-jwt-secret-for-the-containment-suite-01';
const PHIGUARD_SECRET = 'e2e-phiguard-secret-with-at-least-32-bytes';
const prefix = `contain-e2e-${process.pid}-${Date.now()}:`;

interface Instance {
  readonly app: INestApplication;
  readonly base: string;
  readonly log: MemoryLog;
}
const clients: Redis[] = [];
const apps: INestApplication[] = [];

async function start(): Promise<Instance> {
  const client = new Redis(REDIS, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  client.on('error', () => undefined);
  clients.push(client);
  for (let i = 0; i < 100 && client.status !== 'ready'; i++) await new Promise((r) => setTimeout(r, 20));
  if (client.status !== 'ready') throw new Error(`Redis is not reachable at ${REDIS}: run scripts/services redis (or set PHIGUARD_TEST_REDIS_URL)`);
  const log = memoryLog();
  const state = createRedisStateStore({ client, prefix, timeoutMs: 500 });
  const app = await createApp({ jwtSecret: JWT_SECRET, phiguardSecret: PHIGUARD_SECRET, logger: log.logger, state, governance: { breakGlassApproval: 'before' } });
  await app.listen(0, '127.0.0.1');
  apps.push(app);
  return { app, base: `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`, log };
}

let east: Instance;
let west: Instance;
beforeAll(async () => {
  east = await start();
  west = await start();
});
afterAll(async () => {
  for (const a of apps) await a.close();
  for (const c of clients) c.disconnect();
});

type Who = { sub: string; roles: string[] };
const DR_CHEN: Who = { sub: 'dr.chen', roles: ['ordering-provider'] };
const SECURITY: Who = { sub: 'sec.ops', roles: ['security-officer'] };
const NURSE: Who = { sub: 'rn.okafor', roles: ['care-team-nurse'] };
const AUDITOR: Who = { sub: 'aud-1', roles: ['auditor'] };
async function http(at: Instance, method: string, path: string, who: Who, opts: { purpose?: string; body?: unknown; grant?: string } = {}) {
  const headers: Record<string, string> = { authorization: `Bearer ${await signToken({ ...who, amr: ['pwd', 'otp'] }, JWT_SECRET)}` };
  if (opts.purpose) headers['x-purpose-of-use'] = opts.purpose;
  if (opts.grant) headers['x-break-glass-grant'] = opts.grant;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${at.base}${path}`, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
  const text = await res.text();
  return { status: res.status, text, body: text === '' ? undefined : (JSON.parse(text) as Record<string, any>) };
}

describe('deny list across instances', () => {
  it('a user disabled on one instance is refused on both within one second, audited; re-enabled, served again', async () => {
    for (const at of [east, west]) expect((await http(at, 'GET', '/patients/1001/results', DR_CHEN, { purpose: 'TREAT' })).status).toBe(200);
    // Only the security office may contain.
    expect((await http(east, 'POST', '/governance/deny-list/disable', DR_CHEN, { body: { principal: 'rn.okafor', reason: 'x' } })).status).toBe(403);
    const started = performance.now();
    expect((await http(east, 'POST', '/governance/deny-list/disable', SECURITY, { body: { principal: 'dr.chen', reason: 'offboarding' } })).status).toBe(204);
    const before = [east, west].map((at) => at.log.auditEvents().length);
    const answers = await Promise.all([east, west].map((at) => http(at, 'GET', '/patients/1001/results', DR_CHEN, { purpose: 'TREAT' })));
    // One event per refused request: the denial, not a second "error" record of it.
    expect([east, west].map((at, i) => at.log.auditEvents().length - before[i]!)).toEqual([1, 1]);
    const elapsed = performance.now() - started;
    for (const res of answers) {
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ error: { code: 'access_denied', reason: 'principal_disabled' } });
      expect(res.text).not.toContain('912-48-3571');
    }
    expect(elapsed).toBeLessThan(1000);
    for (const at of [east, west]) {
      expect(at.log.auditEvents().filter((e) => e.reason === 'principal_disabled').at(-1)).toMatchObject({ action: 'deny', outcome: 'denied', actor: { id: 'dr.chen' } });
    }
    expect(east.log.auditEvents().find((e) => e.reason === 'containment:disable:offboarding')).toMatchObject({ actor: { id: 'sec.ops' }, resource: { type: 'Principal', id: 'dr.chen' } });
    // The desk and governance routes skip the PHI pipeline; they check the list themselves.
    const clerk: Who = { sub: 'roi.kim', roles: ['release-of-information'] };
    expect((await http(east, 'POST', '/governance/deny-list/disable', SECURITY, { body: { principal: 'roi.kim', reason: 'incident:12' } })).status).toBe(204);
    for (const at of [east, west]) {
      const res = await http(at, 'POST', '/roi/requests', clerk, { body: { patientId: '1001', requesterType: 'patient', recipient: 'the patient', recipientId: 'patient-self', purpose: 'records', identityVerification: { method: 'photo-id' } } });
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ error: { reason: 'principal_disabled' } });
    }
    expect(west.log.auditEvents().at(-1)).toMatchObject({ action: 'deny', reason: 'principal_disabled', actor: { id: 'roi.kim' } });
    // Other users are untouched.
    expect((await http(west, 'GET', '/patients/1001/results', { sub: 'dr.ng', roles: ['ordering-provider'] }, { purpose: 'TREAT' })).status).toBe(200);
    expect((await http(west, 'POST', '/governance/deny-list/enable', SECURITY, { body: { principal: 'dr.chen' } })).status).toBe(204);
    for (const at of [east, west]) expect((await http(at, 'GET', '/patients/1001/results', DR_CHEN, { purpose: 'TREAT' })).status).toBe(200);
  });
});

describe('break-glass with approval before use', () => {
  const emergency = { patientId: '1002', reason: 'life-threatening-emergency', justification: 'Collapsed in the lobby; assigned nurse unreachable' };
  it('a grant that needs approval is unusable on any instance until a reviewer (not the requester) approves it', async () => {
    const grant = await http(east, 'POST', '/break-glass', NURSE, { body: emergency });
    expect(grant.status).toBe(201);
    expect(grant.body).toMatchObject({ status: 'pending-approval' });
    const grantId = grant.body!.grantId as string;
    for (const at of [east, west]) {
      const res = await http(at, 'GET', '/patients/1002/results', NURSE, { purpose: 'ETREAT', grant: grantId });
      expect(res.status).toBe(403);
      expect(res.text).not.toContain('Okafor');
    }
    // The requester cannot approve their own grant, nor can someone without the reviewer role.
    expect((await http(west, 'POST', `/governance/break-glass/${grantId}/approve`, NURSE)).status).toBe(403);
    expect((await http(west, 'POST', `/governance/break-glass/${grantId}/approve`, { sub: 'rn.okafor', roles: ['care-team-nurse', 'auditor'] })).body).toMatchObject({ error: { reason: 'separation_of_duties' } });
    const approved = await http(west, 'POST', `/governance/break-glass/${grantId}/approve`, AUDITOR);
    expect(approved.status).toBe(200);
    expect(approved.body!.expiresAt).toBeGreaterThan(Date.now());
    expect(west.log.auditEvents().find((e) => e.reason === 'approved')).toMatchObject({ action: 'break-glass', actor: { id: 'aud-1' }, breakGlass: { grantId } });
    for (const at of [east, west]) {
      const res = await http(at, 'GET', '/patients/1002/results', NURSE, { purpose: 'ETREAT', grant: grantId });
      expect(res.status).toBe(200);
      expect(at.log.auditEvents().at(-1)).toMatchObject({ action: 'read', breakGlass: { grantId } });
    }
    expect((await http(east, 'POST', `/governance/break-glass/${grantId}/approve`, AUDITOR)).status).toBe(400);
  });
});
