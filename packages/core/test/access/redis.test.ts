/**
 * The Redis state store against a real redis-server: `scripts/services redis` starts one on
 * 127.0.0.1:56379 (PHIGUARD_TEST_REDIS_URL overrides). These suites fail, never skip, without it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StateUnavailableError, compilePolicy, createPhiGuard } from '@phiguard/core';
import { createAnomalySink, repeatedDenialsRule } from '@phiguard/core/audit';
import { createRedisStateStore } from '@phiguard/core/state';
import { SECRET, policy, who } from './fixture.js';

const URL = process.env.PHIGUARD_TEST_REDIS_URL ?? 'redis://127.0.0.1:56379';
const clients: Redis[] = [];
const client = (url = URL) => {
  const c = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: false });
  c.on('error', () => undefined); // connection errors surface through the store as StateUnavailableError
  clients.push(c);
  return c;
};
const prefix = `t${process.pid}-${Date.now()}:`;

/** Waits until a client is connected (with the offline queue off, earlier commands fail at once). */
async function ready(c: Redis): Promise<Redis> {
  for (let i = 0; i < 100 && c.status !== 'ready'; i++) await new Promise((r) => setTimeout(r, 20));
  return c;
}

beforeAll(async () => {
  const probe = await ready(client());
  try {
    await probe.ping();
  } catch {
    throw new Error(`Redis is not reachable at ${URL}: run scripts/services redis (or set PHIGUARD_TEST_REDIS_URL)`);
  }
});
afterAll(() => {
  for (const c of clients) c.disconnect();
});

describe('createRedisStateStore', () => {
  it('implements the store operations atomically, with TTLs', async () => {
    const store = createRedisStateStore({ client: await ready(client()), prefix });
    await store.set('a', '1');
    expect(await store.get('a')).toBe('1');
    expect(await store.getMany(['a', 'missing'])).toEqual(['1', null]);
    expect(await store.setIfAbsent('n', 'x', 1000)).toBe(true);
    expect(await store.setIfAbsent('n', 'y', 1000)).toBe(false);
    const counts = await Promise.all(Array.from({ length: 20 }, () => store.increment('c', 200)));
    expect(counts.sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    await new Promise((r) => setTimeout(r, 250));
    expect(await store.increment('c', 200)).toBe(1);
    await store.set('t', 'v', 50);
    await new Promise((r) => setTimeout(r, 80));
    expect(await store.get('t')).toBeNull();
    await store.addToSet('s', 'm1');
    await store.addToSet('s', 'm2');
    await store.removeFromSet('s', 'm1');
    expect(await store.members('s')).toEqual(['m2']);
    expect(await store.delete('a')).toBe(true);
  });

  it('two instances sharing Redis honour each other\'s grants and revocations', async () => {
    const compiled = compilePolicy(policy, { secret: SECRET, mode: 'production' });
    const make = async () =>
      createPhiGuard({ policy: compiled, audit: { write() {} }, relationship: () => ({ careTeam: false }), state: createRedisStateStore({ client: await ready(client()), prefix }) });
    const east = await make();
    const west = await make();
    const nurse = who('rn-7', ['nurse'], 'TREAT');
    const { grantId } = await east.breakGlass!.grant(nurse, { patientId: '1003', reason: 'patient-unable-to-consent', justification: 'Sedated post-op, urgent medication reconciliation' });
    const onWest = await west.resolve({ ...nurse, breakGlass: { grantId } }, 'Results', '1003');
    expect(west.authorize(onWest, 'Results', 'read', '1003').effect).toBe('allow');
    await west.breakGlass!.revoke(nurse, grantId);
    for (const g of [east, west]) {
      const ctx = await g.resolve({ ...nurse, breakGlass: { grantId } }, 'Results', '1003');
      expect(g.authorize(ctx, 'Results', 'read', '1003')).toEqual({ effect: 'deny', reason: 'break_glass_invalid' });
    }
  });

  it('a Redis stopped mid-test makes break-glass fail closed with StateUnavailableError, quickly, without crashing', async () => {
    const port = 56400 + (process.pid % 500);
    const server: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    try {
      const c = await ready(client(`redis://127.0.0.1:${port}`));
      const compiled = compilePolicy(policy, { secret: SECRET, mode: 'production' });
      const guard = createPhiGuard({ policy: compiled, audit: { write() {} }, relationship: () => ({ careTeam: true }), state: createRedisStateStore({ client: c, timeoutMs: 300 }) });
      const nurse = who('rn-8', ['nurse'], 'TREAT');
      const { grantId } = await guard.breakGlass!.grant(nurse, { patientId: '1004', reason: 'system-downtime', justification: 'EHR downtime, paper chart unavailable now' });
      server.kill('SIGKILL');
      await new Promise((r) => setTimeout(r, 100));
      const started = Date.now();
      await expect(guard.resolve({ ...nurse, breakGlass: { grantId } }, 'Results', '1004')).rejects.toBeInstanceOf(StateUnavailableError);
      expect(Date.now() - started).toBeLessThan(1500);
      await expect(guard.breakGlass!.grant(nurse, { patientId: '1004', reason: 'system-downtime', justification: 'EHR downtime, paper chart unavailable now' })).rejects.toBeInstanceOf(StateUnavailableError);
      // Plain role-based reads do not touch the store.
      const plain = await guard.resolve(nurse, 'Results', '1004');
      expect(guard.authorize(plain, 'Results', 'read', '1004').effect).toBe('allow');
    } finally {
      server.kill('SIGKILL');
    }
  });
});

describe('anomaly counters and throttling on the shared store', () => {
  it('repeated denials on one instance throttle the user on the other (429), until the pause ends', async () => {
    const compiled = compilePolicy(policy, { secret: SECRET, mode: 'production' });
    const alerts: string[] = [];
    const storeA = createRedisStateStore({ client: await ready(client()), prefix });
    const storeB = createRedisStateStore({ client: await ready(client()), prefix });
    let east: ReturnType<typeof createPhiGuard>;
    const detector = createAnomalySink({
      rules: [repeatedDenialsRule({ maxDenials: 3, windowMs: 60_000 })],
      store: storeA, // any StateStore is an AnomalyStore: the counters are shared too
      onAlert: async (a) => {
        alerts.push(a.rule);
        await east.throttle(a.actorId!, 400);
      },
    });
    east = createPhiGuard({ policy: compiled, audit: detector, relationship: () => ({ careTeam: true }), state: storeA, throttling: true });
    const west = createPhiGuard({ policy: compiled, audit: { write() {} }, relationship: () => ({ careTeam: true }), state: storeB, throttling: true });
    const prober = who(`probe-${Date.now()}`, ['designer'], 'TREAT'); // no TREAT rule: each attempt is denied
    for (let i = 0; i < 4; i++) east.authorize(await east.resolve(prober, 'Results', '1001'), 'Results', 'read', '1001');
    await detector.idle();
    expect(alerts).toEqual(['repeated-denials']);
    await expect(west.resolve(prober, 'Results', '1001')).rejects.toMatchObject({ code: 'throttled', status: 429 });
    // Others are not affected; the pause ends.
    await expect(west.resolve(who('someone-else', ['doctor'], 'TREAT'), 'Results', '1001')).resolves.toBeDefined();
    await new Promise((r) => setTimeout(r, 450));
    await expect(west.resolve(prober, 'Results', '1001')).resolves.toBeDefined();
  });

  it('distinct-member windows count and expire atomically (mass access)', async () => {
    const store = createRedisStateStore({ client: await ready(client()), prefix });
    const sizes = await Promise.all(['a', 'b', 'a', 'c'].map((m) => store.addDistinct('mass:u1', m, 150)));
    expect(Math.max(...sizes)).toBe(3);
    await new Promise((r) => setTimeout(r, 200));
    expect(await store.addDistinct('mass:u1', 'd', 150)).toBe(1);
  });
});
