import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OptionsError, StateUnavailableError } from '@phiguard/core';
import { createMemoryStateStore, createRedisStateStore } from '@phiguard/core/state';
import { SignatureError, createRequestVerifier, signRequest, signWebhook, signingInput, verifySignedRequest } from '../../src/delivery/index.js';
import { connectRedis } from './redis.js';

const CURRENT = randomBytes(32);
const PREVIOUS = randomBytes(32);
const T0 = 1_800_000_000;
const body = JSON.stringify({ resultId: 'r-1', status: 'final' });

async function codeOf(p: Promise<unknown>): Promise<{ code: string; status: number }> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(SignatureError);
    return { code: (err as SignatureError).code, status: (err as SignatureError).status };
  }
  throw new Error('expected a rejection');
}

describe('signRequest', () => {
  it('signs `${t}.${METHOD}.${path}.${hex sha256(body)}` with HMAC-SHA256, as documented', () => {
    const header = signRequest({ secret: CURRENT, method: 'post', path: '/hooks/results?x=1', body, timestamp: T0 });
    const digest = createHash('sha256').update(body).digest('hex');
    const expected = createHmac('sha256', CURRENT).update(`${T0}.POST./hooks/results?x=1.${digest}`).digest('hex');
    expect(header).toBe(`t=${T0},v1=${expected}`);
    expect(signingInput(T0, 'post', '/a', '')).toBe(`${T0}.POST./a.${createHash('sha256').update('').digest('hex')}`);
    expect(signRequest({ secret: CURRENT, method: 'GET', path: '/a', body: Buffer.from(body), timestamp: T0 })).toBe(
      signRequest({ secret: CURRENT, method: 'GET', path: '/a', body, timestamp: T0 }),
    );
  });

  it('refuses short secrets, hosts in the path and parsed bodies', () => {
    expect(() => signRequest({ secret: 'short', method: 'POST', path: '/a' })).toThrow(/at least 32/);
    expect(() => signRequest({ secret: CURRENT, method: 'POST', path: 'https://x/a' })).toThrow(/path/);
    expect(() => signRequest({ secret: CURRENT, method: 'POST', path: '/a', body: { a: 1 } as never })).toThrow(/raw bytes/);
    expect(() => signRequest({ secret: CURRENT, method: 'POST', path: '/a', timestamp: 1.5 })).toThrow(OptionsError);
  });
});

describe('verifySignedRequest', () => {
  const at = (seconds: number) => ({ now: () => seconds * 1000 });
  const verify = (over: Partial<Parameters<typeof verifySignedRequest>[0]>, store = createMemoryStateStore()) =>
    verifySignedRequest({ header: signRequest({ secret: CURRENT, method: 'POST', path: '/hooks', body, timestamp: T0 }), method: 'POST', path: '/hooks', body, secrets: [{ id: 'k2', secret: CURRENT }], store, clock: at(T0 + 1), ...over });

  it('accepts a valid request and names the secret', async () => {
    await expect(verify({})).resolves.toEqual({ ok: true, secretId: 'k2', timestamp: T0 });
  });

  it('rejects a replay on the same store (409 signature_replayed)', async () => {
    const store = createMemoryStateStore();
    await verify({}, store);
    expect(await codeOf(verify({}, store))).toEqual({ code: 'signature_replayed', status: 409 });
  });

  it('rejects a replay that keeps only the other of two signatures', async () => {
    const store = createMemoryStateStore();
    const a = signRequest({ secret: CURRENT, method: 'POST', path: '/hooks', body, timestamp: T0 });
    const b = signRequest({ secret: PREVIOUS, method: 'POST', path: '/hooks', body, timestamp: T0 }).split(',')[1];
    const secrets = [{ secret: CURRENT }, { secret: PREVIOUS }];
    await verify({ header: `${a},${b}`, secrets }, store);
    expect((await codeOf(verify({ header: `t=${T0},${b}`, secrets }, store))).code).toBe('signature_replayed');
  });

  it('rejects stale and future timestamps beyond the tolerance (401 signature_stale)', async () => {
    expect(await codeOf(verify({ clock: at(T0 + 301) }))).toEqual({ code: 'signature_stale', status: 401 });
    expect((await codeOf(verify({ clock: at(T0 - 301) }))).code).toBe('signature_stale');
    expect((await codeOf(verify({ clock: at(T0 + 61), toleranceSeconds: 60 }))).code).toBe('signature_stale');
    await expect(verify({ clock: at(T0 + 300) })).resolves.toMatchObject({ ok: true });
  });

  it('rejects a tampered body, method, path, timestamp and a wrong key (401 signature_invalid)', async () => {
    expect(await codeOf(verify({ body: body.replace('final', 'prelim') }))).toEqual({ code: 'signature_invalid', status: 401 });
    expect((await codeOf(verify({ body: `${body} ` }))).code).toBe('signature_invalid');
    expect((await codeOf(verify({ method: 'PUT' }))).code).toBe('signature_invalid');
    expect((await codeOf(verify({ path: '/hooks?admin=1' }))).code).toBe('signature_invalid');
    const header = signRequest({ secret: CURRENT, method: 'POST', path: '/hooks', body, timestamp: T0 });
    expect((await codeOf(verify({ header: header.replace(`t=${T0}`, `t=${T0 + 1}`) }))).code).toBe('signature_invalid');
    expect((await codeOf(verify({ secrets: [{ secret: randomBytes(32) }] }))).code).toBe('signature_invalid');
  });

  it('rejects missing and malformed headers', async () => {
    const sig = signRequest({ secret: CURRENT, method: 'POST', path: '/hooks', body, timestamp: T0 });
    for (const header of [undefined, null, '', 'garbage', `t=${T0}`, sig.split(',')[1]!, `${sig},t=${T0}`, sig.toUpperCase(), `t=-1,${sig.split(',')[1]}`, [sig, sig], 'x'.repeat(2000)]) {
      expect((await codeOf(verify({ header: header as string }))).code).toBe('signature_invalid');
    }
  });

  it('rotation: a rotated-out secret is accepted until its notAfter, refused after', async () => {
    const header = signRequest({ secret: PREVIOUS, method: 'POST', path: '/hooks', body, timestamp: T0 });
    const secrets = [{ id: 'new', secret: CURRENT }, { id: 'old', secret: PREVIOUS, notAfter: new Date((T0 + 10) * 1000) }];
    await expect(verify({ header, secrets, clock: at(T0 + 5) })).resolves.toEqual({ ok: true, secretId: 'old', timestamp: T0 });
    const late = signRequest({ secret: PREVIOUS, method: 'POST', path: '/hooks', body, timestamp: T0 + 11 });
    expect((await codeOf(verify({ header: late, secrets, clock: at(T0 + 11) }))).code).toBe('signature_invalid');
    // notAfter as ISO string and epoch milliseconds.
    const iso = [{ secret: PREVIOUS, notAfter: new Date((T0 - 1) * 1000).toISOString() }];
    expect((await codeOf(verify({ header, secrets: iso }))).code).toBe('signature_invalid');
    await expect(verify({ header, secrets: [{ secret: PREVIOUS, notAfter: (T0 + 2) * 1000 }] })).resolves.toMatchObject({ ok: true });
  });

  it('fails closed (503) when the replay store cannot answer', async () => {
    const down = createRedisStateStore({ client: { call: () => Promise.reject(new Error('ECONNREFUSED')) } });
    await expect(verify({}, down)).rejects.toBeInstanceOf(StateUnavailableError);
  });

  it('validates its options at once', () => {
    const store = createMemoryStateStore();
    expect(() => createRequestVerifier({ secrets: [], store })).toThrow(/secrets/);
    expect(() => createRequestVerifier({ secrets: [{ secret: 'short' }], store })).toThrow(/at least 32/);
    expect(() => createRequestVerifier({ secrets: [{ secret: CURRENT, notAfter: 'soon' }], store })).toThrow(/notAfter/);
    expect(() => createRequestVerifier({ secrets: [{ secret: CURRENT }] } as never)).toThrow(/store/);
    expect(() => createRequestVerifier({ secrets: [{ secret: CURRENT }], store, toleranceSecond: 5 } as never)).toThrow(/did you mean "toleranceSeconds"/);
  });

});

describe('signWebhook', () => {
  it('serializes once and signs those bytes; the receiver verifies them', async () => {
    const hook = signWebhook({ secret: CURRENT, url: 'https://partner.example/hooks/results?v=2', body: { resultId: 'r-9' }, timestamp: T0 });
    expect(hook).toMatchObject({ url: 'https://partner.example/hooks/results?v=2', method: 'POST', body: '{"resultId":"r-9"}' });
    expect(hook.headers['Content-Type']).toBe('application/json');
    await expect(
      verifySignedRequest({ header: hook.headers['X-PhiGuard-Signature'], method: hook.method, path: '/hooks/results?v=2', body: hook.body, secrets: [{ secret: CURRENT }], store: createMemoryStateStore(), clock: { now: () => T0 * 1000 } }),
    ).resolves.toMatchObject({ ok: true });
  });

  it('refuses plain http except to loopback', () => {
    expect(() => signWebhook({ secret: CURRENT, url: 'http://partner.example/h', body: {} })).toThrow(/https/);
    expect(signWebhook({ secret: CURRENT, url: 'http://127.0.0.1:8080/h', body: 'x' }).headers['Content-Type']).toBeUndefined();
  });
});

describe('replay protection across instances (real Redis)', () => {
  let a: Redis;
  let b: Redis;
  const prefix = `sg${process.pid}-${Date.now()}:`;
  beforeAll(async () => {
    a = await connectRedis();
    b = await connectRedis();
  });
  afterAll(() => {
    a?.disconnect();
    b?.disconnect();
  });

  it('a request replayed concurrently to two instances is accepted exactly once', async () => {
    const header = signRequest({ secret: CURRENT, method: 'POST', path: '/hooks', body });
    const make = (client: Redis) => createRequestVerifier({ secrets: [{ secret: CURRENT }], store: createRedisStateStore({ client, prefix }) });
    const [one, two] = [make(a), make(b)];
    const results = await Promise.allSettled([one, two, one, two].map((v) => v.verify({ header, method: 'POST', path: '/hooks', body })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect((r.reason as SignatureError).code).toBe('signature_replayed');
    const keys = await a.keys(`${prefix}sig:seen:*`);
    expect(keys).toHaveLength(1);
    const ttl = await a.pttl(keys[0]!);
    expect(ttl).toBeGreaterThan(290_000);
    expect(ttl).toBeLessThanOrEqual(302_000);
  });
});
