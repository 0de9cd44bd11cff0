import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { DecryptError, KeyUnavailableError, OptionsError } from '@phiguard/core';
import type { Keyring } from '@phiguard/core';
import type { DataKey, EncryptionContext, WrappedKey } from '@phiguard/core/crypto';
import { createLocalKeyring, createMultiKeyring } from '../src/index.js';

const CONTEXT = { tenant: 't1', field: 'mrn', record: '42' };
const keyA = new Uint8Array(32).fill(0xa1);
const keyB = new Uint8Array(32).fill(0xb2);
const keyC = new Uint8Array(32).fill(0xc3);

/** Wraps a keyring, counting calls and optionally failing like a service that is down. */
class Probe implements Keyring {
  calls = { generate: 0, encrypt: 0, decrypt: 0 };
  down = false;
  constructor(readonly inner: Keyring) {}
  async generateDataKey(context: EncryptionContext): Promise<DataKey> {
    this.calls.generate++;
    if (this.down) throw new KeyUnavailableError();
    return this.inner.generateDataKey(context);
  }
  async encryptDataKey(plaintext: Uint8Array, context: EncryptionContext): Promise<readonly WrappedKey[]> {
    this.calls.encrypt++;
    if (this.down) throw new KeyUnavailableError();
    return this.inner.encryptDataKey(plaintext, context);
  }
  async decryptDataKey(wrapped: readonly WrappedKey[], context: EncryptionContext): Promise<Uint8Array> {
    this.calls.decrypt++;
    if (this.down) throw new KeyUnavailableError();
    return this.inner.decryptDataKey(wrapped, context);
  }
}

function setup() {
  const a = new Probe(createLocalKeyring({ key: keyA }));
  const b = new Probe(createLocalKeyring({ key: keyB }));
  const multi = createMultiKeyring({ generator: a, children: [b] });
  return { a, b, multi };
}

describe('MultiKeyring', () => {
  it('generates with the generator and wraps a copy under every child', async () => {
    const { a, b, multi } = setup();
    const dataKey = await multi.generateDataKey(CONTEXT);
    expect(a.calls).toEqual({ generate: 1, encrypt: 0, decrypt: 0 });
    expect(b.calls).toEqual({ generate: 0, encrypt: 1, decrypt: 0 });
    expect(dataKey.wrapped.map((w) => w.keyId)).toEqual([
      createLocalKeyring({ key: keyA }).keyId,
      createLocalKeyring({ key: keyB }).keyId,
    ]);
    // Each master key alone recovers the same data key (disaster recovery).
    expect(await createLocalKeyring({ key: keyA }).decryptDataKey(dataKey.wrapped, CONTEXT)).toEqual(dataKey.plaintext);
    expect(await createLocalKeyring({ key: keyB }).decryptDataKey(dataKey.wrapped, CONTEXT)).toEqual(dataKey.plaintext);
  });

  it('encryptDataKey concatenates the entries of the generator and the children', async () => {
    const { multi } = setup();
    const plaintext = new Uint8Array(32).fill(5);
    const wrapped = await multi.encryptDataKey(plaintext, CONTEXT);
    expect(wrapped).toHaveLength(2);
    expect(await multi.decryptDataKey(wrapped, CONTEXT)).toEqual(plaintext);
  });

  it('decrypts with the generator first and stops at the first success', async () => {
    const { a, b, multi } = setup();
    const { plaintext, wrapped } = await multi.generateDataKey(CONTEXT);
    expect(await multi.decryptDataKey(wrapped, CONTEXT)).toEqual(plaintext);
    expect(a.calls.decrypt).toBe(1);
    expect(b.calls.decrypt).toBe(0);
  });

  it('falls back to a child when the generator is down', async () => {
    const { a, b, multi } = setup();
    const { plaintext, wrapped } = await multi.generateDataKey(CONTEXT);
    a.down = true;
    expect(await multi.decryptDataKey(wrapped, CONTEXT)).toEqual(plaintext);
    expect(b.calls.decrypt).toBe(1);
  });

  it('falls back to a child when only the child entry is present', async () => {
    const { multi } = setup();
    const { plaintext, wrapped } = await multi.generateDataKey(CONTEXT);
    expect(await multi.decryptDataKey(wrapped.slice(1), CONTEXT)).toEqual(plaintext);
  });

  it('all refuse → DecryptError(unwrap)', async () => {
    const { multi } = setup();
    const { wrapped } = await multi.generateDataKey(CONTEXT);
    await expect(multi.decryptDataKey(wrapped, { ...CONTEXT, record: '43' })).rejects.toEqual(new DecryptError('unwrap'));
    const foreign = await createLocalKeyring({ key: keyC }).generateDataKey(CONTEXT);
    await expect(multi.decryptDataKey(foreign.wrapped, CONTEXT)).rejects.toEqual(new DecryptError('unwrap'));
  });

  it('none succeeds and one was unavailable → KeyUnavailableError', async () => {
    const { a, multi } = setup();
    const foreign = await createLocalKeyring({ key: keyC }).generateDataKey(CONTEXT);
    a.down = true;
    await expect(multi.decryptDataKey(foreign.wrapped, CONTEXT)).rejects.toBeInstanceOf(KeyUnavailableError);
  });

  it('generateDataKey fails, and zeroes the key, when a child cannot wrap a copy', async () => {
    const { b, multi } = setup();
    b.down = true;
    await expect(multi.generateDataKey(CONTEXT)).rejects.toBeInstanceOf(KeyUnavailableError);
    await expect(multi.encryptDataKey(new Uint8Array(32), CONTEXT)).rejects.toBeInstanceOf(KeyUnavailableError);
  });

  it('zeroes the generated plaintext when a child fails', async () => {
    let generated: Uint8Array | undefined;
    const generator: Keyring = {
      async generateDataKey(context) {
        const dataKey = await createLocalKeyring({ key: keyA }).generateDataKey(context);
        generated = dataKey.plaintext;
        return dataKey;
      },
      encryptDataKey: async () => [],
      decryptDataKey: async () => new Uint8Array(32),
    };
    const failing = new Probe(createLocalKeyring({ key: keyB }));
    failing.down = true;
    const multi = createMultiKeyring({ generator, children: [failing] });
    await expect(multi.generateDataKey(CONTEXT)).rejects.toBeInstanceOf(KeyUnavailableError);
    expect(generated).toEqual(new Uint8Array(32));
  });

  it('validates its options', () => {
    const local = createLocalKeyring({ key: keyA });
    expect(() => createMultiKeyring({} as never)).toThrow(OptionsError);
    expect(() => createMultiKeyring({ generator: {} as never })).toThrow(/generator/);
    expect(() => createMultiKeyring({ generator: local, children: [{}] as never })).toThrow(/children/);
    expect(() => createMultiKeyring({ generator: local, childen: [] } as never)).toThrow(/did you mean "children"/);
    expect(createMultiKeyring({ generator: local }).keyrings).toHaveLength(1);
  });

  it('shows only key ids in inspect and toString', () => {
    const multi = createMultiKeyring({ generator: createLocalKeyring({ key: keyA }), children: [createLocalKeyring({ key: keyB })] });
    const text = `${inspect(multi, { showHidden: true, depth: 10 })} ${String(multi)}`;
    expect(text).toMatch(/^MultiKeyring\(LocalKeyring\(local:[0-9a-f]{16}\), LocalKeyring\(local:[0-9a-f]{16}\)\)/);
    expect(text).not.toContain('161, 161');
    expect(text).not.toContain(Buffer.from(keyA).toString('hex'));
  });
});
