/**
 * Comparisons of secrets run through crypto.timingSafeEqual on equal-length buffers, for every
 * candidate, with no early exit: the time taken does not tell how much of a MAC was right or
 * which secret matched.
 */
import { randomBytes } from 'node:crypto';
import * as crypto from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMemoryStateStore } from '@phiguard/core/state';
import { createPickupLinks, createRequestVerifier, signRequest } from '../../src/delivery/index.js';

vi.mock('node:crypto', async (importOriginal) => {
  const original = await importOriginal<typeof import('node:crypto')>();
  return { ...original, timingSafeEqual: vi.fn(original.timingSafeEqual) };
});
const spy = vi.mocked(crypto.timingSafeEqual);
afterEach(() => spy.mockClear());

const T0 = 1_800_000_000;
const A = randomBytes(32);
const B = randomBytes(32);
const C = randomBytes(32);

describe('constant-time comparisons', () => {
  it('signatures: every secret is compared with timingSafeEqual, near miss and far miss alike', async () => {
    const header = signRequest({ secret: A, method: 'POST', path: '/h', body: 'x', timestamp: T0 });
    const hex = header.split('v1=')[1]!;
    const flip = (i: number) => hex.slice(0, i) + (hex[i] === '0' ? '1' : '0') + hex.slice(i + 1);
    const v = createRequestVerifier({ secrets: [{ secret: A }, { secret: B }, { secret: C }], store: createMemoryStateStore(), clock: { now: () => T0 * 1000 } });
    for (const sig of [flip(0), flip(63)]) {
      spy.mockClear();
      await expect(v.verify({ header: `t=${T0},v1=${sig}`, method: 'POST', path: '/h', body: 'x' })).rejects.toMatchObject({ code: 'signature_invalid' });
      expect(spy).toHaveBeenCalledTimes(3);
      for (const [x, y] of spy.mock.calls) expect((x as Buffer).length).toBe((y as Buffer).length);
    }
    // A match on the first secret still compares against the others.
    spy.mockClear();
    await v.verify({ header, method: 'POST', path: '/h', body: 'x' });
    expect(spy).toHaveBeenCalledTimes(3);
  });

  it('pickup links: the MAC is compared under every secret, the audience hash with timingSafeEqual too', async () => {
    const store = createMemoryStateStore();
    const links = createPickupLinks({ secret: [A, B, C], store });
    const { token } = await links.issue({ resource: 'r', resourceId: 'x', audience: 'a' });
    spy.mockClear();
    await links.redeem(token, { audience: 'a' });
    // Three MAC comparisons and one audience comparison.
    expect(spy).toHaveBeenCalledTimes(4);
    for (const [x, y] of spy.mock.calls) expect((x as Buffer).length).toBe((y as Buffer).length);
  });
});
