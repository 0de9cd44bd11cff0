/**
 * The `token` digest cache: bounded by bytes and entries from the compile options, oldest out
 * first, never changing a token; a 10,000-row page of distinct ids stays cached by default.
 */
import { createHmac, hkdfSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compilePolicy, PolicyError } from '@phiguard/core';
import { DEFAULT_TOKEN_CACHE, cachedTokenText, tokenCacheBounds } from '../src/operators/token-cache.js';
import { SECRET } from './helpers.js';

/** A digest that counts its calls; the token is recomputed here with HMAC-SHA256, independently. */
function counting() {
  const key = Buffer.alloc(32, 7);
  const digest = (domain: string, value: string) => {
    digest.calls++;
    return createHmac('sha256', key).update(`${domain}\0${value}`).digest();
  };
  digest.calls = 0;
  const expected = (domain: string, value: string) => createHmac('sha256', key).update(`${domain}\0${value}`).digest().subarray(0, 16).toString('base64url');
  return { digest, expected };
}

describe('cachedTokenText', () => {
  it('the default bounds keep 10,000 distinct ids of a page: a second pass computes no digest', () => {
    const { digest, expected } = counting();
    const text = cachedTokenText(digest, DEFAULT_TOKEN_CACHE);
    const ids = Array.from({ length: 10_000 }, (_, i) => `MRN-${String(i).padStart(8, '0')}`);
    for (const id of ids) expect(text('patient.mrn', id)).toBe(expected('patient.mrn', id));
    expect(digest.calls).toBe(10_000);
    for (const id of ids) text('patient.mrn', id);
    expect(digest.calls).toBe(10_000);
  });

  it('respects maxEntries and maxBytes, evicting the oldest first, and never changes a token', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('a', 'b.c', 'ü'), fc.string({ maxLength: 40 })), { maxLength: 300 }),
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 200, max: 5000 }),
        (calls, maxEntries, maxBytes) => {
          const { digest, expected } = counting();
          const text = cachedTokenText(digest, { maxEntries, maxBytes });
          // Reference: a list of the keys a FIFO cache of these bounds holds.
          const held: string[] = [];
          const size = (k: string) => 2 * (k.length - 1 + 22) + 160; // key = domain \0 value
          let bytes = 0;
          let misses = 0;
          for (const [domain, value] of calls) {
            expect(text(domain, value)).toBe(expected(domain, value));
            const k = `${domain}\0${value}`;
            if (held.includes(k)) continue;
            misses++;
            if (size(k) > maxBytes) continue;
            while (held.length >= maxEntries || bytes + size(k) > maxBytes) bytes -= size(held.shift()!);
            held.push(k);
            bytes += size(k);
          }
          expect(digest.calls).toBe(misses);
          expect(held.length).toBeLessThanOrEqual(maxEntries);
          expect(bytes).toBeLessThanOrEqual(maxBytes);
        },
      ),
      { seed: 4096, numRuns: 200 },
    );
  });

  it('false, or a zero bound, turns caching off', () => {
    for (const bounds of [tokenCacheBounds(false, []), { maxBytes: 0, maxEntries: 10 }, { maxBytes: 10, maxEntries: 0 }]) {
      const { digest } = counting();
      const text = cachedTokenText(digest, bounds);
      text('d', 'v');
      text('d', 'v');
      expect(digest.calls).toBe(2);
    }
  });
});

describe('tokenCache option', () => {
  const policy = (tokenCache: unknown) =>
    compilePolicy(
      { roles: ['r'], resources: { R: { fields: { mrn: 'direct-identifier' }, disclose: { r: { HRESCH: { mrn: 'token' } } } } } },
      { secret: SECRET, mode: 'production', tokenCache: tokenCache as never },
    );
  const context = { principal: { id: 'u' }, roles: ['r'], purposeOfUse: 'HRESCH' };

  it('tokens are the same with the cache on, off or tiny, and match an independent HMAC', () => {
    const tokenKey = Buffer.from(hkdfSync('sha256', Buffer.from(SECRET), 'phiguard', 'phiguard/token/v1', 32));
    const independent = (v: string) => `tok_${createHmac('sha256', tokenKey).update('mrn').update('\0').update(v).digest().subarray(0, 16).toString('base64url')}`;
    const variants = [policy(undefined), policy(false), policy({ maxEntries: 1 }), policy({ maxBytes: 300 })];
    for (let round = 0; round < 2; round++) {
      for (const v of ['MRN-1', 'MRN-2', 'MRN-1', 'José']) {
        for (const p of variants) expect(p.protect({ mrn: v }, context, 'R').value).toEqual({ mrn: independent(v.normalize('NFC')) });
      }
    }
  });

  it('is validated with the whole list of problems and a did-you-mean', () => {
    expect(() => policy({ maxByte: 10 })).toThrow(/options\.tokenCache: unknown option "maxByte".*maxBytes/);
    expect(() => policy({ maxEntries: -1 })).toThrow(/options\.tokenCache\.maxEntries must be a non-negative integer/);
    expect(() => policy('big')).toThrow(PolicyError);
    expect(() => compilePolicy({ roles: ['r'], resources: { R: { fields: { a: 'non-phi' }, disclose: { r: { TREAT: {} } } } } }, { tokenCach: {} } as never)).toThrow(/tokenCache/);
  });
});
