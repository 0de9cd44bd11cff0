import { createManualClock } from '@phiguard/core/testing';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DecryptError, KeyUnavailableError, OptionsError, createFieldCipher, type Keyring } from '@phiguard/core';
import { CIPHERTEXT_OVERHEAD_BYTES, createMemoryKeyStore, encodeContext, isCiphertext } from '@phiguard/core/crypto';
import { TestKeyring } from './test-keyring.js';

const ctx = { tenant: 'acme', resource: 'Patient', field: 'ssn', record: '1001' };

function setup(cache?: Parameters<typeof createFieldCipher>[0]['cache']) {
  const keyring = new TestKeyring();
  const store = createMemoryKeyStore();
  const clock = createManualClock();
  const cipher = createFieldCipher({ keyring, store, cache, clock });
  return { keyring, store, cipher, clock };
}

async function rejection(p: Promise<unknown>): Promise<DecryptError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DecryptError);
  return err as DecryptError;
}

describe('field cipher: round trip and format', () => {
  it('decrypts what it encrypted, for any string (property)', async () => {
    const { cipher } = setup();
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 300 }), fc.string({ minLength: 1, maxLength: 20 }), async (value, record) => {
        const c = { ...ctx, record };
        const sealed = await cipher.encrypt(value, c);
        expect(isCiphertext(sealed)).toBe(true);
        expect(await cipher.decrypt(sealed, c)).toBe(value);
      }),
      { numRuns: 200 },
    );
  });

  it('uses a fresh IV per value: equal values encrypt differently', async () => {
    const { cipher } = setup();
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) seen.add((await cipher.encrypt('123-45-6789', ctx)).slice(4 + 23, 4 + 39));
    expect(seen.size).toBe(2000);
  });

  it('adds a fixed 45 bytes (binary) per value: suite, key commitment, IV and tag', async () => {
    const { cipher } = setup();
    expect(CIPHERTEXT_OVERHEAD_BYTES).toBe(45);
    for (const n of [0, 16, 64, 4096]) {
      const sealed = await cipher.encrypt('x'.repeat(n), ctx);
      expect(Buffer.from(sealed.slice(4), 'base64url').length).toBe(n + 45);
    }
  });

  it('names its data key: values under one key share the key id, a rotated cipher uses a new one', async () => {
    const { cipher } = setup();
    const keyIdOf = (s: string) => Buffer.from(s.slice(4), 'base64url').subarray(1, 17).toString('hex');
    const a = keyIdOf(await cipher.encrypt('a', ctx));
    expect(keyIdOf(await cipher.encrypt('b', ctx))).toBe(a);
    cipher.rotate();
    expect(keyIdOf(await cipher.encrypt('c', ctx))).not.toBe(a);
  });
});

describe('field cipher: every tampering fails with a typed error, never garbage', () => {
  it('rejects every single-character change of the text form', async () => {
    const { cipher } = setup();
    const sealed = await cipher.encrypt('Jane Doe, MRN 00123', ctx);
    for (let i = 0; i < sealed.length; i++) {
      for (const replacement of [String.fromCharCode(sealed.charCodeAt(i) ^ 1), 'A', '_', '!', 'é']) {
        if (replacement === sealed[i]) continue;
        const changed = sealed.slice(0, i) + replacement + sealed.slice(i + 1);
        await rejection(cipher.decrypt(changed, ctx));
      }
    }
  });

  it('rejects every single-bit flip of every byte of the binary form', async () => {
    const { cipher } = setup();
    const sealed = await cipher.encrypt('HIV-1 antibody: reactive', ctx);
    const bytes = Buffer.from(sealed.slice(4), 'base64url');
    const reasons = new Set<string>();
    for (let i = 0; i < bytes.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const b = Buffer.from(bytes);
        b[i]! ^= 1 << bit;
        reasons.add((await rejection(cipher.decrypt(`pg1.${b.toString('base64url')}`, ctx))).reason);
      }
    }
    expect([...reasons].sort()).toEqual(['authentication', 'unknown_key', 'unsupported_version']);
  });

  it('rejects every truncation', async () => {
    const { cipher } = setup();
    const sealed = await cipher.encrypt('555-01-2345', ctx);
    for (let n = 0; n < sealed.length; n++) await rejection(cipher.decrypt(sealed.slice(0, n), ctx));
    await rejection(cipher.decrypt(`${sealed}A`, ctx));
  });

  it.each([
    ['field path', { field: 'mrn' }],
    ['record id', { record: '1002' }],
    ['tenant', { tenant: 'other' }],
    ['resource type', { resource: 'Invoice' }],
    ['an extra entry', { purpose: 'x' }],
  ])('rejects a value decrypted under another %s', async (_what, change) => {
    const { cipher } = setup();
    const sealed = await cipher.encrypt('secret', ctx);
    expect((await rejection(cipher.decrypt(sealed, { ...ctx, ...change }))).reason).toMatch(/authentication|unknown_key/);
  });

  it('rejects a missing context entry', async () => {
    const { cipher } = setup();
    const sealed = await cipher.encrypt('secret', ctx);
    const { record: _r, ...rest } = ctx;
    expect((await rejection(cipher.decrypt(sealed, rest))).reason).toBe('authentication');
  });

  it('rejects unknown versions and foreign strings', async () => {
    const { cipher } = setup();
    const sealed = await cipher.encrypt('x', ctx);
    expect((await rejection(cipher.decrypt(`pg2.${sealed.slice(4)}`, ctx))).reason).toBe('unsupported_version');
    const b = Buffer.from(sealed.slice(4), 'base64url');
    b[0] = 2;
    expect((await rejection(cipher.decrypt(`pg1.${b.toString('base64url')}`, ctx))).reason).toBe('unsupported_version');
    for (const junk of ['', 'plain text', 'pg1.', 'pg1.=====', '{"a":1}']) {
      expect((await rejection(cipher.decrypt(junk, ctx))).reason).toBe('malformed');
    }
    await rejection(cipher.decrypt(42 as unknown as string, ctx));
  });

  it('rejects a data key wrapped by another keyring', async () => {
    const store = createMemoryKeyStore();
    const sealed = await createFieldCipher({ keyring: new TestKeyring(), store }).encrypt('secret', ctx);
    const other = createFieldCipher({ keyring: new TestKeyring(), store });
    expect((await rejection(other.decrypt(sealed, ctx))).reason).toBe('unwrap');
  });

  it('refuses a key whose commitment does not match its id', async () => {
    const keyring = new TestKeyring();
    const store = createMemoryKeyStore();
    const a = createFieldCipher({ keyring, store });
    const sealed = await a.encrypt('secret', ctx);
    await a.encrypt('other', { ...ctx, tenant: 't2' });
    const [first, second] = [...store.list()];
    store.put({ ...first!, wrapped: second!.wrapped, context: second!.context });
    const b = createFieldCipher({ keyring, store });
    expect((await rejection(b.decrypt(sealed, ctx))).reason).toBe('key_commitment');
  });

  it('rejects a value whose key is not in the store', async () => {
    const keyring = new TestKeyring();
    const sealed = await createFieldCipher({ keyring }).encrypt('secret', ctx);
    expect((await rejection(createFieldCipher({ keyring }).decrypt(sealed, ctx))).reason).toBe('unknown_key');
  });
});

describe('field cipher: data-key cache', () => {
  it('makes one key request for a burst of 1,000 concurrent encrypts', async () => {
    const { cipher, keyring } = setup();
    const out = await Promise.all(Array.from({ length: 1000 }, (_, i) => cipher.encrypt(`v${i}`, ctx)));
    expect(keyring.calls.generate).toBe(1);
    expect(new Set(out).size).toBe(1000);
  });

  it('keeps one data key per tenant', async () => {
    const { cipher, keyring } = setup();
    await Promise.all(['a', 'b', 'a', 'b', 'c'].map((tenant) => cipher.encrypt('x', { ...ctx, tenant })));
    expect(keyring.calls.generate).toBe(3);
  });

  it('limits values per data key, even within one burst', async () => {
    const { cipher, keyring } = setup({ maxValuesPerKey: 10 });
    await Promise.all(Array.from({ length: 100 }, () => cipher.encrypt('x', ctx)));
    expect(keyring.calls.generate).toBe(10);
  });

  it('limits bytes per data key', async () => {
    const { cipher, keyring } = setup({ maxBytesPerKey: 100 });
    for (let i = 0; i < 10; i++) await cipher.encrypt('x'.repeat(50), ctx);
    expect(keyring.calls.generate).toBe(5);
  });

  it('limits the age of a data key', async () => {
    const { cipher, keyring, clock } = setup({ maxAgeMs: 40 });
    await cipher.encrypt('x', ctx);
    clock.advance(39);
    await cipher.encrypt('x', ctx);
    expect(keyring.calls.generate).toBe(1);
    clock.advance(1);
    await cipher.encrypt('x', ctx);
    expect(keyring.calls.generate).toBe(2);
  });

  it('unwraps a data key once for many decrypts, and zeroes the plaintext keys it was given', async () => {
    const { cipher, keyring, store } = setup();
    const sealed = await Promise.all(Array.from({ length: 50 }, (_, i) => cipher.encrypt(`v${i}`, ctx)));
    const reader = createFieldCipher({ keyring, store });
    const plain = await Promise.all(sealed.map((s) => reader.decrypt(s, ctx)));
    expect(plain[49]).toBe('v49');
    expect(keyring.calls.decrypt).toBe(1);
    expect(keyring.issued.length).toBe(2);
    for (const key of keyring.issued) expect(key.every((b) => b === 0)).toBe(true);
  });

  it('with the KMS down: cached keys still decrypt until their age limit; new keys fail closed', async () => {
    const { cipher, keyring, store, clock } = setup({ maxAgeMs: 80 });
    const sealed = await cipher.encrypt('secret', ctx);
    keyring.down = true;
    expect(await cipher.decrypt(sealed, ctx)).toBe('secret');
    expect(await cipher.encrypt('more', ctx)).toMatch(/^pg1\./);
    cipher.rotate();
    await expect(cipher.encrypt('more', ctx)).rejects.toBeInstanceOf(KeyUnavailableError);
    await expect(createFieldCipher({ keyring, store }).decrypt(sealed, ctx)).rejects.toBeInstanceOf(KeyUnavailableError);
    clock.advance(79);
    expect(await cipher.decrypt(sealed, ctx)).toBe('secret');
    clock.advance(1);
    await expect(cipher.decrypt(sealed, ctx)).rejects.toBeInstanceOf(KeyUnavailableError);
    keyring.down = false;
    expect(await cipher.decrypt(sealed, ctx)).toBe('secret');
  });

  it('clear() drops cached keys: the next decrypt unwraps again', async () => {
    const { cipher, keyring } = setup();
    const sealed = await cipher.encrypt('secret', ctx);
    cipher.clear();
    expect(await cipher.decrypt(sealed, ctx)).toBe('secret');
    expect(keyring.calls.decrypt).toBe(1);
    expect(cipher.stats).toEqual({ generated: 1, unwrapped: 1 });
  });
});

describe('field cipher: failures carry no secrets', () => {
  it('replaces an unexpected keyring error by KeyUnavailableError without its message', async () => {
    const leaky: Keyring = {
      generateDataKey: () => Promise.reject(new Error('PIN 1234 rejected for tenant acme, key 0xdeadbeef')),
      encryptDataKey: () => Promise.reject(new Error('x')),
      decryptDataKey: () => Promise.reject(new Error('x')),
    };
    const err = (await createFieldCipher({ keyring: leaky }).encrypt('123-45-6789', ctx).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(KeyUnavailableError);
    expect(`${err.message} ${err.stack}`).not.toMatch(/1234|acme|deadbeef|123-45-6789/);
  });

  it('never echoes the value or context in errors', async () => {
    const { cipher } = setup();
    const sealed = await cipher.encrypt('123-45-6789', ctx);
    const err = (await cipher.decrypt(sealed, { ...ctx, record: 'patient-jane-doe' }).catch((e: unknown) => e)) as Error;
    expect(`${err.message} ${err.stack}`).not.toMatch(/123-45-6789|jane|acme/);
  });
});

describe('field cipher: options', () => {
  it('refuses bad options and bad calls with clear errors', async () => {
    expect(() => createFieldCipher({} as never)).toThrow(OptionsError);
    expect(() => createFieldCipher({ keyring: new TestKeyring(), cahce: {} } as never)).toThrow(/did you mean "cache"/);
    expect(() => createFieldCipher({ keyring: new TestKeyring(), cache: { maxAgeMs: 0 } })).toThrow(/maxAgeMs/);
    expect(() => createFieldCipher({ keyring: new TestKeyring(), cache: { maxValuesPerKey: 2 ** 33 } })).toThrow(/maxValuesPerKey/);
    const { cipher } = setup();
    await expect(cipher.encrypt('x', {})).rejects.toThrow(/encryption context/);
    await expect(cipher.encrypt(5 as unknown as string, ctx)).rejects.toThrow(/only string values/);
  });
});

describe('encodeContext', () => {
  it('is canonical (sorted) and injective (length-prefixed)', () => {
    expect(encodeContext({ b: '2', a: '1' })).toEqual(encodeContext({ a: '1', b: '2' }));
    expect(encodeContext({ a: 'b=c' })).not.toEqual(encodeContext({ 'a=b': 'c' }));
    expect(encodeContext({ ab: '' })).not.toEqual(encodeContext({ a: 'b' }));
    expect([...encodeContext({ k: 'é' })]).toEqual([0, 1, 0, 1, 0x6b, 0, 2, 0xc3, 0xa9]);
    expect(() => encodeContext({ k: 1 as unknown as string })).toThrow(OptionsError);
  });
});
