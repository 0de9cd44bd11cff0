/**
 * End-to-end: break-glass and care-team scope across two instances of the Express example that
 * share nothing but a real Redis (scripts/services redis: 127.0.0.1:56379, or
 * PHIGUARD_TEST_REDIS_URL), over real HTTP.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve, type Served } from './serve.js';
import { createManualClock } from '@phiguard/core/testing';
import { type AuditEvent } from '@phiguard/core';
import { createRedisStateStore } from '@phiguard/core/state';
import { createApp, signToken } from '../../examples/express-lab-results/src/app.js';
import { memoryLog, type MemoryLog } from '../../examples/express-lab-results/src/memory-log.js';

const REDIS = process.env.PHIGUARD_TEST_REDIS_URL ?? 'redis://127.0.0.1:56379';
const JWT_SECRET = 'e2e-jwt-secret-for-the-break-glass-suite';
const PHIGUARD_SECRET = 'e2e-phiguard-secret-with-at-least-32-bytes';
const prefix = `bg-e2e-${process.pid}-${Date.now()}:`;

interface Instance {
  readonly base: string;
  readonly log: MemoryLog;
}
const clients: Redis[] = [];
// One clock for every instance: grant lifetimes are advanced, not waited for.
const clock = createManualClock();
const servers: Served[] = [];
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => void unhandled.push(reason);

async function redisClient(url: string): Promise<Redis> {
  const c = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  c.on('error', () => undefined);
  clients.push(c);
  for (let i = 0; i < 100 && c.status !== 'ready'; i++) await new Promise((r) => setTimeout(r, 20));
  if (c.status !== 'ready') throw new Error(`Redis is not reachable at ${url}: run scripts/services redis (or set PHIGUARD_TEST_REDIS_URL)`);
  return c;
}

async function start(url = REDIS, containment = true): Promise<Instance> {
  const log = memoryLog();
  const state = createRedisStateStore({ client: await redisClient(url), prefix, timeoutMs: 300 });
  const app = createApp({ jwtSecret: JWT_SECRET, phiguardSecret: PHIGUARD_SECRET, logger: log.logger, state, clock, containment });
  const served = await serve(app);
  servers.push(served);
  return { base: served.base, log };
}

let east: Instance;
let west: Instance;
beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  east = await start();
  west = await start();
});
afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  for (const s of servers) await s.close();
  for (const c of clients) c.disconnect();
});

const OKAFOR = { sub: 'rn.okafor', roles: ['care-team-nurse'] };
async function http(at: Instance, method: string, path: string, who: { sub: string; roles: string[] }, opts: { purpose?: string; grant?: string; body?: unknown } = {}) {
  const token = await signToken({ ...who, amr: ['pwd', 'otp'] }, JWT_SECRET);
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (opts.purpose) headers['x-purpose-of-use'] = opts.purpose;
  if (opts.grant) headers['x-break-glass-grant'] = opts.grant;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${at.base}${path}`, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, any>) : undefined, text };
}
const lastEvent = (at: Instance): AuditEvent => at.log.auditEvents().at(-1)!;
const emergency = { patientId: '1002', reason: 'life-threatening-emergency', justification: 'Collapsed in the lobby; assigned nurse unreachable' };

describe('care-team scope and break-glass across two instances', () => {
  it('a nurse not on the care team is denied; with a grant made on one instance she is served by the other, every access flagged', async () => {
    const denied = await http(west, 'GET', '/patients/1002/results', OKAFOR, { purpose: 'TREAT' });
    expect(denied.status).toBe(403);
    expect(denied.body).toMatchObject({ error: { reason: 'relationship_required' } });
    // Claiming emergency treatment without a grant does not get around the care-team scope.
    const claimed = await http(west, 'GET', '/patients/1002/results', OKAFOR, { purpose: 'ETREAT' });
    expect(claimed.status).toBe(403);
    expect(claimed.body).toMatchObject({ error: { reason: 'relationship_required' } });

    const granted = await http(east, 'POST', '/break-glass', OKAFOR, { body: emergency });
    expect(granted.status).toBe(201);
    const { grantId } = granted.body as { grantId: string };
    expect(lastEvent(east)).toMatchObject({ action: 'break-glass', reason: 'granted', breakGlass: { grantId, reason: 'life-threatening-emergency' } });
    expect(JSON.stringify(east.log.lines)).not.toContain('Collapsed in the lobby');

    const started = Date.now();
    const served = await http(west, 'GET', '/patients/1002/results', OKAFOR, { grant: grantId });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(served.status).toBe(200);
    expect(served.body!.patient.name).toBeDefined();
    expect(lastEvent(west)).toMatchObject({ action: 'read', outcome: 'success', purposeOfUse: 'ETREAT', breakGlass: { grantId, reason: 'life-threatening-emergency' } });

    // The grant is for patient 1002 only.
    const elsewhere = await http(west, 'GET', '/patients/1001/results', OKAFOR, { grant: grantId });
    expect(elsewhere.status).toBe(403);
    expect(elsewhere.body).toMatchObject({ error: { reason: 'break_glass_invalid' } });
  });

  it('a revocation on one instance stops access on both', async () => {
    const { grantId } = (await http(west, 'POST', '/break-glass', OKAFOR, { body: emergency })).body as { grantId: string };
    expect((await http(east, 'GET', '/patients/1002/results', OKAFOR, { grant: grantId })).status).toBe(200);
    expect((await http(east, 'DELETE', `/break-glass/${grantId}`, OKAFOR)).status).toBe(204);
    for (const at of [east, west]) {
      const r = await http(at, 'GET', '/patients/1002/results', OKAFOR, { grant: grantId });
      expect(r.status).toBe(403);
      expect(r.body).toMatchObject({ error: { reason: 'break_glass_invalid' } });
    }
  });

  it('after expiry the nurse is denied again', async () => {
    const { grantId } = (await http(east, 'POST', '/break-glass', OKAFOR, { body: { ...emergency, minutes: 0.01 } })).body as { grantId: string };
    expect((await http(west, 'GET', '/patients/1002/results', OKAFOR, { grant: grantId })).status).toBe(200);
    clock.advance(599);
    expect((await http(west, 'GET', '/patients/1002/results', OKAFOR, { grant: grantId })).status).toBe(200);
    clock.advance(1);
    expect((await http(west, 'GET', '/patients/1002/results', OKAFOR, { grant: grantId })).status).toBe(403);
  });

  it('requests are checked: reason code, justification, role; auditors review grants', async () => {
    expect((await http(east, 'POST', '/break-glass', OKAFOR, { body: { ...emergency, reason: 'curiosity' } })).status).toBe(400);
    expect((await http(east, 'POST', '/break-glass', OKAFOR, { body: { ...emergency, justification: 'urgent' } })).status).toBe(400);
    const billing = await http(east, 'POST', '/break-glass', { sub: 'b-1', roles: ['billing'] }, { body: emergency });
    expect(billing.status).toBe(403);
    const auditor = { sub: 'aud-1', roles: ['auditor'] };
    const queue = await http(west, 'GET', '/break-glass/reviews', auditor);
    expect(queue.status).toBe(200);
    const pending = queue.body as unknown as { id: string; reason: string }[];
    expect(pending.length).toBeGreaterThanOrEqual(3);
    expect((await http(west, 'POST', `/break-glass/${pending[0]!.id}/review`, auditor, { body: { decision: 'appropriate' } })).status).toBe(204);
    const after = (await http(east, 'GET', '/break-glass/reviews', auditor)).body as unknown as { id: string }[];
    expect(after.map((g) => g.id)).not.toContain(pending[0]!.id);
    expect((await http(east, 'GET', '/break-glass/reviews', OKAFOR)).status).toBe(403);
  });

  it('a Redis stopped mid-test: break-glass access answers 503 with an error audit event, role-based reads keep working without the deny list and fail closed with it, nothing crashes', async () => {
    const port = 56900 + (process.pid % 90);
    const redis: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 200));
      const lone = await start(`redis://127.0.0.1:${port}`, false);
      // The deny list reads the same store on every PHI request: with it, nobody is served while it cannot answer.
      const contained = await start(`redis://127.0.0.1:${port}`);
      const { grantId } = (await http(lone, 'POST', '/break-glass', OKAFOR, { body: emergency })).body as { grantId: string };
      expect((await http(lone, 'GET', '/patients/1002/results', OKAFOR, { grant: grantId })).status).toBe(200);
      redis.kill('SIGKILL');
      await new Promise((r) => setTimeout(r, 150));
      const down = await http(lone, 'GET', '/patients/1002/results', OKAFOR, { grant: grantId });
      expect(down.status).toBe(503);
      expect(down.body).toMatchObject({ error: { code: 'state_unavailable' } });
      expect(lastEvent(lone)).toMatchObject({ outcome: 'error', reason: 'state_unavailable' });
      expect((await http(lone, 'POST', '/break-glass', OKAFOR, { body: emergency })).status).toBe(503);
      const plain = await http(lone, 'GET', '/patients/1002/results', { sub: 'dr.chen', roles: ['ordering-provider'] }, { purpose: 'TREAT' });
      expect(plain.status).toBe(200);
      const closed = await http(contained, 'GET', '/patients/1002/results', { sub: 'dr.chen', roles: ['ordering-provider'] }, { purpose: 'TREAT' });
      expect(closed.status).toBe(503);
      expect(closed.body).toMatchObject({ error: { code: 'state_unavailable' } });
      expect(JSON.stringify(closed.body)).not.toContain('912-48-3571');
      expect(lastEvent(contained)).toMatchObject({ outcome: 'error', reason: 'state_unavailable', actor: { id: 'dr.chen' } });
      await new Promise((r) => setTimeout(r, 100));
      expect(unhandled).toEqual([]);
    } finally {
      redis.kill('SIGKILL');
    }
  });
});
