import { createManualClock } from '@phiguard/core/testing';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AuditUnavailableError,
  AuthenticationRequiredError,
  OptionsError,
  StateUnavailableError,
  type AuditEvent,
  type AccessContext,
} from '@phiguard/core';
import { createMemoryStateStore, createRedisStateStore } from '@phiguard/core/state';
import { createPickupLinks, PickupLinkError, type DeliveryAuditEvent } from '../../src/delivery/index.js';
import { connectRedis } from './redis.js';

const SECRET = randomBytes(32);
const OLD = 'an-older-secret-that-is-at-least-32-bytes-long';
const who: AccessContext = { principal: { id: 'u-portal-7' }, roles: ['patient'], purposeOfUse: 'PATRQT', request: { requestId: 'r-1', route: '/pickup/:token' } };

function sink() {
  const events: DeliveryAuditEvent[] = [];
  return { events, write: (e: AuditEvent) => void events.push(e as DeliveryAuditEvent) };
}

async function codeOf(p: Promise<unknown>): Promise<{ code: string; status: number; name: string }> {
  try {
    await p;
  } catch (err) {
    const e = err as PickupLinkError;
    return { code: e.code, status: e.status, name: e.name };
  }
  throw new Error('expected a rejection');
}

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const decode = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;

describe('createPickupLinks: options', () => {
  it('refuses a secret shorter than 32 bytes, a missing store and misspelled options', () => {
    expect(() => createPickupLinks({ secret: 'short', store: createMemoryStateStore() })).toThrow(/at least 32/);
    expect(() => createPickupLinks({ secret: [], store: createMemoryStateStore() })).toThrow(OptionsError);
    expect(() => createPickupLinks({ secret: SECRET } as never)).toThrow(/StateStore/);
    expect(() => createPickupLinks({ secret: SECRET, store: createMemoryStateStore(), ttlSecond: 5 } as never)).toThrow(/did you mean "ttlSeconds"/);
    expect(() => createPickupLinks({ secret: SECRET, store: createMemoryStateStore(), ttlSeconds: 0 })).toThrow(/ttlSeconds/);
  });
});

describe('pickup links held for one response', () => {
  it('a held link refuses a second opener; abandoned (the response was refused) it opens again; committed it is spent and audited once', async () => {
    const audit = sink();
    const links = createPickupLinks({ secret: SECRET, store: createMemoryStateStore(), audit });
    const { token } = await links.issue({ resource: 'lab-result', resourceId: 'r-88', audience: 'patient:1001', patientRef: 'pt_abc', context: who });
    const issued = audit.events.length;
    const held = await links.hold(token, { audience: 'patient:1001', context: who });
    expect(held).toMatchObject({ resource: 'lab-result', resourceId: 'r-88' });
    // While held, the single-use point is taken on every instance sharing the store.
    expect((await codeOf(links.redeem(token, { audience: 'patient:1001', context: who }))).code).toBe('link_used');
    // Nothing is recorded as disclosed until the response is served.
    expect(audit.events.slice(issued).filter((e) => e.reason === 'pickup-link-redeemed')).toHaveLength(0);
    await held.abandon();
    const again = await links.hold(token, { audience: 'patient:1001', context: who });
    await again.commit();
    await again.commit();
    expect(audit.events.filter((e) => e.reason === 'pickup-link-redeemed')).toHaveLength(1);
    expect((await codeOf(links.redeem(token, { audience: 'patient:1001', context: who }))).code).toMatch(/link_used|link_revoked/);
  });
});

describe('pickup links (memory store)', () => {
  it('issues a token with no identifier in it and redeems it once', async () => {
    const audit = sink();
    const links = createPickupLinks({ secret: SECRET, store: createMemoryStateStore(), audit });
    const before = Date.now();
    const { token, expiresAt } = await links.issue({ resource: 'lab-result', resourceId: 'MRN-4455667-result-88', audience: 'patient:1001', patientRef: 'pt_abc', context: who });
    expect(token).toMatch(/^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(expiresAt).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 899_000);
    expect(expiresAt).toBeLessThanOrEqual(before + 900_000);
    const decoded = JSON.stringify(decode(token));
    for (const secretish of ['4455667', 'result-88', 'lab-result', '1001', 'pt_abc', 'patient']) expect(decoded).not.toContain(secretish);
    expect(Object.keys(decode(token)).sort()).toEqual(['a', 'e', 'l', 'n']);

    const ref = await links.redeem(token, { audience: 'patient:1001', context: who });
    expect(ref).toMatchObject({ resource: 'lab-result', resourceId: 'MRN-4455667-result-88', patientRef: 'pt_abc', expiresAt });
    expect(await codeOf(links.redeem(token, { audience: 'patient:1001' }))).toEqual({ code: 'link_used', status: 410, name: 'PickupLinkError' });

    // Audit: disclose on issue and redemption, then a denial; references only.
    expect(audit.events.map((e) => [e.action, e.outcome, e.reason])).toEqual([
      ['disclose', 'success', 'pickup-link-issued'],
      ['disclose', 'success', 'pickup-link-redeemed'],
      ['deny', 'denied', 'link_used'],
    ]);
    // The resource id an app passes may itself be an identifier (here an MRN): events carry the link id and the keyed patient reference instead.
    expect(audit.events[0]!.resource).toEqual({ type: 'lab-result' });
    expect(JSON.stringify(audit.events)).not.toContain('4455667');
    expect(audit.events[0]!.patient).toEqual({ ref: 'pt_abc' });
    expect(audit.events[0]!.actor.id).toBe('u-portal-7');
    expect(audit.events[1]!.delivery.linkId).toBe(ref.linkId);
    expect(JSON.stringify(audit.events)).not.toContain('patient:1001');
  });

  it('answers link_expired (410) after the expiry, checked against the signed time', async () => {
    const clock = createManualClock(1_700_000_000_000);
    const links = createPickupLinks({ secret: SECRET, store: createMemoryStateStore(), ttlSeconds: 60, clock });
    const { token } = await links.issue({ resource: 'r', resourceId: 'x1', audience: 'a' });
    clock.advance(60_000);
    expect(await codeOf(links.redeem(token, { audience: 'a' }))).toMatchObject({ code: 'link_expired', status: 410 });
  });

  it('expires through the store TTL too', async () => {
    // The store's clock runs ahead of the links' own (fixed) time: only the TTL can expire it.
    const storeClock = createManualClock(1_700_000_000_000);
    const links = createPickupLinks({ secret: SECRET, store: createMemoryStateStore({ clock: storeClock }), ttlSeconds: 1, clock: createManualClock(1_700_000_000_000) });
    const { token } = await links.issue({ resource: 'r', resourceId: 'x1', audience: 'a' });
    storeClock.advance(1000);
    expect((await codeOf(links.redeem(token, { audience: 'a' }))).status).toBe(410);
  });

  it('answers link_invalid (404) for tampered payloads, macs, versions, other keys and other audiences, without saying which', async () => {
    const store = createMemoryStateStore();
    const links = createPickupLinks({ secret: SECRET, store });
    const { token } = await links.issue({ resource: 'r', resourceId: 'x1', audience: 'patient:1' });
    const [, payload, mac] = token.split('.') as [string, string, string];
    const p = decode(token);
    const forged = [
      `v1.${b64({ ...p, e: (p.e as number) + 3600 })}.${mac}`,
      `v1.${payload}.${mac.slice(0, -1)}${mac.endsWith('A') ? 'B' : 'A'}`,
      `v2.${payload}.${mac}`,
      `v1.${payload}`,
      `v1.${payload}.${mac}.x`,
      '',
      'x'.repeat(10_000),
      `v1.${payload}!.${mac}`,
    ];
    for (const t of forged) {
      const r = await codeOf(links.redeem(t, { audience: 'patient:1' }));
      expect(r).toEqual({ code: 'link_invalid', status: 404, name: 'PickupLinkError' });
    }
    const other = createPickupLinks({ secret: randomBytes(32), store });
    expect((await codeOf(other.redeem(token, { audience: 'patient:1' }))).code).toBe('link_invalid');
    expect((await codeOf(links.redeem(token, { audience: 'patient:2' }))).code).toBe('link_invalid');
    // None of those attempts spent the link.
    expect((await links.redeem(token, { audience: 'patient:1' })).resourceId).toBe('x1');
  });

  it('flipping any character of the token never yields a redemption', async () => {
    const links = createPickupLinks({ secret: SECRET, store: createMemoryStateStore() });
    const { token } = await links.issue({ resource: 'r', resourceId: 'x1', audience: 'a' });
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    for (let i = 0; i < token.length; i++) {
      const c = token[i]!;
      const swap = c === '.' ? '_' : alphabet[(alphabet.indexOf(c) + 1) % 64]!;
      const t = token.slice(0, i) + swap + token.slice(i + 1);
      expect((await codeOf(links.redeem(t, { audience: 'a' }))).code).toBe('link_invalid');
    }
  });

  it('rotation: issues with the first secret and accepts links made under a listed previous one', async () => {
    const store = createMemoryStateStore();
    const before = createPickupLinks({ secret: OLD, store });
    const { token } = await before.issue({ resource: 'r', resourceId: 'x1', audience: 'a' });
    const during = createPickupLinks({ secret: [SECRET, OLD], store });
    expect((await during.redeem(token, { audience: 'a' })).resourceId).toBe('x1');
    const { token: fresh } = await during.issue({ resource: 'r', resourceId: 'x2', audience: 'a' });
    expect((await codeOf(before.redeem(fresh, { audience: 'a' }))).code).toBe('link_invalid');
    const after = createPickupLinks({ secret: SECRET, store });
    const { token: old2 } = await before.issue({ resource: 'r', resourceId: 'x3', audience: 'a' });
    expect((await codeOf(after.redeem(old2, { audience: 'a' }))).code).toBe('link_invalid');
  });

  it('requireAuth links need an authenticated context, and a refusal does not spend them', async () => {
    const links = createPickupLinks({ secret: SECRET, store: createMemoryStateStore() });
    const { token } = await links.issue({ resource: 'r', resourceId: 'x1', audience: 'a', requireAuth: true });
    expect(decode(token).r).toBe(1);
    await expect(links.redeem(token, { audience: 'a' })).rejects.toBeInstanceOf(AuthenticationRequiredError);
    await expect(links.redeem(token, { audience: 'a', context: { principal: { id: '' }, roles: [] } })).rejects.toMatchObject({ status: 401 });
    expect((await links.redeem(token, { audience: 'a', context: who })).resourceId).toBe('x1');
  });

  it('revoke withdraws a link (410 link_revoked)', async () => {
    const links = createPickupLinks({ secret: SECRET, store: createMemoryStateStore() });
    const { token } = await links.issue({ resource: 'r', resourceId: 'x1', audience: 'a' });
    expect(await links.revoke(token)).toBe(true);
    expect(await links.revoke(token)).toBe(false);
    expect(await codeOf(links.redeem(token, { audience: 'a' }))).toMatchObject({ code: 'link_revoked', status: 410 });
  });

  it('fails closed when the audit sink fails: no link is left behind', async () => {
    const store = createMemoryStateStore();
    const keys: string[] = [];
    const set = store.set.bind(store);
    store.set = async (key, value, ttl) => {
      keys.push(key);
      return set(key, value, ttl);
    };
    const links = createPickupLinks({ secret: SECRET, store, audit: { write: () => { throw new Error('down'); } } });
    await expect(links.issue({ resource: 'r', resourceId: 'x1', audience: 'a' })).rejects.toBeInstanceOf(AuditUnavailableError);
    expect(keys).toHaveLength(1);
    expect(await store.get(keys[0]!)).toBeNull();
  });

  it('validates issue requests', async () => {
    const links = createPickupLinks({ secret: SECRET, store: createMemoryStateStore(), ttlSeconds: 60 });
    await expect(links.issue({ resource: 'r', resourceId: '', audience: 'a' })).rejects.toThrow(/resourceId/);
    await expect(links.issue({ resource: 'r', resourceId: 'x', audience: 'a', ttlSeconds: 61 })).rejects.toThrow(/ttlSeconds/);
    await expect(links.issue({ resource: 'r', resourceId: 'x', audience: 'a', audiance: 'b' } as never)).rejects.toThrow(/did you mean "audience"/);
  });

  it('property: no resource, id or audience is readable in the token', async () => {
    const links = createPickupLinks({ secret: SECRET, store: createMemoryStateStore() });
    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 8, maxLength: 40 }), fc.string({ minLength: 8, maxLength: 40 }), fc.string({ minLength: 8, maxLength: 40 }), async (resource, resourceId, audience) => {
        const { token } = await links.issue({ resource, resourceId, audience });
        const readable = `${token} ${Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')}`;
        for (const value of [resource, resourceId, audience]) {
          expect(readable.includes(value)).toBe(false);
          expect(readable.includes(Buffer.from(value).toString('base64url'))).toBe(false);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('fails closed (503) when the store cannot answer', async () => {
    const down = createRedisStateStore({ client: { call: () => Promise.reject(new Error('ECONNREFUSED')) } });
    const links = createPickupLinks({ secret: SECRET, store: down });
    await expect(links.issue({ resource: 'r', resourceId: 'x', audience: 'a' })).rejects.toBeInstanceOf(StateUnavailableError);
    const ok = createPickupLinks({ secret: SECRET, store: createMemoryStateStore() });
    const { token } = await ok.issue({ resource: 'r', resourceId: 'x', audience: 'a' });
    await expect(links.redeem(token, { audience: 'a' })).rejects.toMatchObject({ code: 'state_unavailable', status: 503 });
  });

  it('concurrent redemptions on one instance succeed exactly once', async () => {
    const links = createPickupLinks({ secret: SECRET, store: createMemoryStateStore() });
    const { token } = await links.issue({ resource: 'r', resourceId: 'x1', audience: 'a' });
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => links.redeem(token, { audience: 'a' })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect((r.reason as PickupLinkError).code).toBe('link_used');
  });
});

describe('pickup links on a shared Redis (two instances)', () => {
  let a: Redis;
  let b: Redis;
  const prefix = `dl${process.pid}-${Date.now()}:`;
  beforeAll(async () => {
    a = await connectRedis();
    b = await connectRedis();
  });
  afterAll(() => {
    a?.disconnect();
    b?.disconnect();
  });

  it('the same link redeemed concurrently from two instances succeeds exactly once', async () => {
    const one = createPickupLinks({ secret: SECRET, store: createRedisStateStore({ client: a, prefix }) });
    const two = createPickupLinks({ secret: SECRET, store: createRedisStateStore({ client: b, prefix }) });
    for (let round = 0; round < 20; round++) {
      const { token } = await one.issue({ resource: 'lab-result', resourceId: `res-${round}`, audience: 'patient:1001' });
      const results = await Promise.allSettled([
        one.redeem(token, { audience: 'patient:1001' }),
        two.redeem(token, { audience: 'patient:1001' }),
        two.redeem(token, { audience: 'patient:1001' }),
        one.redeem(token, { audience: 'patient:1001' }),
      ]);
      const ok = results.filter((r) => r.status === 'fulfilled');
      expect(ok).toHaveLength(1);
      expect((ok[0] as PromiseFulfilledResult<{ resourceId: string }>).value.resourceId).toBe(`res-${round}`);
      for (const r of results) if (r.status === 'rejected') expect((r.reason as PickupLinkError).code).toBe('link_used');
    }
  });

  it('a link issued on one instance is redeemed on the other, and the reference is not in Redis after use', async () => {
    const one = createPickupLinks({ secret: SECRET, store: createRedisStateStore({ client: a, prefix }) });
    const two = createPickupLinks({ secret: SECRET, store: createRedisStateStore({ client: b, prefix }) });
    const { token, linkId } = await one.issue({ resource: 'lab-result', resourceId: 'res-x', audience: 'patient:1002' });
    expect(await a.pttl(`${prefix}pickup:link:${linkId}`)).toBeGreaterThan(890_000);
    expect((await two.redeem(token, { audience: 'patient:1002' })).resourceId).toBe('res-x');
    expect(await a.exists(`${prefix}pickup:link:${linkId}`)).toBe(0);
    expect((await codeOf(one.redeem(token, { audience: 'patient:1002' }))).code).toBe('link_used');
  });
});
