import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { OptionsError } from '@phiguard/core';
import { createPseudonymizer } from '@phiguard/core/deid';

const KEY = randomBytes(32);

describe('createPseudonymizer', () => {
  const acme = createPseudonymizer({ key: KEY, tenant: 'acme' });

  it('links within a study: the same value gives the same token', () => {
    expect(acme.token('1001', { study: 'diabetes' })).toBe(acme.token('1001', { study: 'diabetes' }));
    expect(acme.token(1001, { study: 'diabetes' })).toBe(acme.token('1001', { study: 'diabetes' }));
    // A second instance with the same key and tenant agrees (tokens survive restarts).
    expect(createPseudonymizer({ key: KEY, tenant: 'acme' }).token('1001', { study: 'diabetes' })).toBe(acme.token('1001', { study: 'diabetes' }));
  });

  it('does not link across studies, tenants or keys', () => {
    const t = acme.token('1001', { study: 'diabetes' });
    expect(acme.token('1001', { study: 'oncology' })).not.toBe(t);
    expect(createPseudonymizer({ key: KEY, tenant: 'other' }).token('1001', { study: 'diabetes' })).not.toBe(t);
    expect(createPseudonymizer({ key: randomBytes(32), tenant: 'acme' }).token('1001', { study: 'diabetes' })).not.toBe(t);
  });

  it('has no ambiguity between tenant and study names (length-prefixed derivation)', () => {
    const a = createPseudonymizer({ key: KEY, tenant: 'ab' }).token('x', { study: 'c' });
    const b = createPseudonymizer({ key: KEY, tenant: 'a' }).token('x', { study: 'bc' });
    expect(a).not.toBe(b);
  });

  it('produces `ps_` + base64url of the truncated HMAC (16 bytes → 22 characters by default)', () => {
    expect(acme.token('x', { study: 's' })).toMatch(/^ps_[A-Za-z0-9_-]{22}$/);
    const short = createPseudonymizer({ key: KEY, tenant: 'acme', bytes: 8, prefix: 'p-' });
    expect(short.token('x', { study: 's' })).toMatch(/^p-[A-Za-z0-9_-]{11}$/);
  });

  it('normalizes to NFC: composed and decomposed spellings share a token', () => {
    expect(acme.token('Jos\u00e9', { study: 's' })).toBe(acme.token('Jose\u0301', { study: 's' }));
  });

  it('gives distinct values distinct tokens (property)', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        fc.pre(a.normalize('NFC') !== b.normalize('NFC'));
        expect(acme.token(a, { study: 'p' })).not.toBe(acme.token(b, { study: 'p' }));
      }),
      { numRuns: 500 },
    );
  });

  it('never contains the value', () => {
    const t = acme.token('912-48-3571', { study: 's' });
    expect(t).not.toContain('912');
  });

  it('Precondition: a key of at least 32 bytes, a tenant, 8 ≤ bytes ≤ 32, known options', () => {
    expect(() => createPseudonymizer({ key: randomBytes(16), tenant: 'a' })).toThrow(/at least 32/);
    expect(() => createPseudonymizer({ key: KEY, tenant: '' })).toThrow(/tenant/);
    expect(() => createPseudonymizer({ key: KEY, tenant: 'a', bytes: 4 })).toThrow(/8 to 32/);
    expect(() => createPseudonymizer({ key: KEY, tenant: 'a', tennant: 'b' } as never)).toThrow(/did you mean "tenant"/);
    expect(() => acme.token('x', {} as never)).toThrow(OptionsError);
    expect(() => acme.token({} as never, { study: 's' })).toThrow(OptionsError);
  });
});
