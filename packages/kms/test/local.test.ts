import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { DecryptError, OptionsError } from '@phiguard/core';
import { createLocalKeyring } from '../src/index.js';

const KEY = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
const KEY_HEX = Buffer.from(KEY).toString('hex');
const CONTEXT = { tenant: 'clinic-7', resource: 'Patient', field: 'ssn', record: '1001' };

function restoreEnv(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

describe('createLocalKeyring', () => {
  const nodeEnv = process.env.NODE_ENV;
  const localKey = process.env.PHIGUARD_LOCAL_KEY;
  afterEach(() => {
    restoreEnv('NODE_ENV', nodeEnv);
    restoreEnv('PHIGUARD_LOCAL_KEY', localKey);
  });

  it('generates a 32-byte data key and unwraps it under the same context', async () => {
    const keyring = createLocalKeyring({ key: KEY });
    const dataKey = await keyring.generateDataKey(CONTEXT);
    expect(dataKey.plaintext).toHaveLength(32);
    expect(dataKey.wrapped).toHaveLength(1);
    expect(dataKey.wrapped[0]!.keyId).toBe(keyring.keyId);
    expect(dataKey.wrapped[0]!.ciphertext).toHaveLength(12 + 32 + 16);
    expect(await keyring.decryptDataKey(dataKey.wrapped, { ...CONTEXT })).toEqual(dataKey.plaintext);
  });

  it('generates a different data key and IV each time', async () => {
    const keyring = createLocalKeyring({ key: KEY });
    const a = await keyring.generateDataKey(CONTEXT);
    const b = await keyring.generateDataKey(CONTEXT);
    expect(a.plaintext).not.toEqual(b.plaintext);
    expect(a.wrapped[0]!.ciphertext.subarray(0, 12)).not.toEqual(b.wrapped[0]!.ciphertext.subarray(0, 12));
  });

  it('wraps an existing data key (re-wrap)', async () => {
    const keyring = createLocalKeyring({ key: KEY });
    const plaintext = new Uint8Array(32).fill(7);
    const wrapped = await keyring.encryptDataKey(plaintext, CONTEXT);
    expect(await keyring.decryptDataKey(wrapped, CONTEXT)).toEqual(plaintext);
  });

  it('names its entries local:<16 hex of HMAC-SHA256(key, label)>', async () => {
    const { createHmac } = await import('node:crypto');
    const expected = createHmac('sha256', KEY).update('phiguard local keyring id').digest('hex').slice(0, 16);
    expect(createLocalKeyring({ key: KEY }).keyId).toBe(`local:${expected}`);
    expect(createLocalKeyring({ key: new Uint8Array(32) }).keyId).not.toBe(`local:${expected}`);
  });

  it('refuses a different context, a changed entry, another key and foreign entries', async () => {
    const keyring = createLocalKeyring({ key: KEY });
    const { wrapped } = await keyring.generateDataKey(CONTEXT);
    const entry = wrapped[0]!;
    await expect(keyring.decryptDataKey(wrapped, { ...CONTEXT, record: '1002' })).rejects.toEqual(
      new DecryptError('unwrap'),
    );
    await expect(keyring.decryptDataKey(wrapped, {})).rejects.toBeInstanceOf(DecryptError);
    for (let i = 0; i < entry.ciphertext.length; i++) {
      const flipped = Uint8Array.from(entry.ciphertext);
      flipped[i]! ^= 1;
      await expect(keyring.decryptDataKey([{ keyId: entry.keyId, ciphertext: flipped }], CONTEXT)).rejects.toBeInstanceOf(
        DecryptError,
      );
    }
    await expect(
      keyring.decryptDataKey([{ keyId: entry.keyId, ciphertext: entry.ciphertext.subarray(0, 59) }], CONTEXT),
    ).rejects.toBeInstanceOf(DecryptError);
    const other = createLocalKeyring({ key: new Uint8Array(32).fill(9) });
    await expect(other.decryptDataKey(wrapped, CONTEXT)).rejects.toEqual(new DecryptError('unwrap'));
    // Same fingerprint claimed by a forged entry: the tag still decides.
    await expect(other.decryptDataKey([{ keyId: other.keyId, ciphertext: entry.ciphertext }], CONTEXT)).rejects.toEqual(
      new DecryptError('unwrap'),
    );
    await expect(keyring.decryptDataKey([], CONTEXT)).rejects.toEqual(new DecryptError('unwrap'));
    await expect(
      keyring.decryptDataKey([{ keyId: 'pkcs11:other', ciphertext: entry.ciphertext }], CONTEXT),
    ).rejects.toEqual(new DecryptError('unwrap'));
  });

  it('finds its own entry among entries of other keyrings', async () => {
    const keyring = createLocalKeyring({ key: KEY });
    const { plaintext, wrapped } = await keyring.generateDataKey(CONTEXT);
    const mixed = [{ keyId: 'arn:aws:kms:us-east-1:111122223333:key/x', ciphertext: new Uint8Array(60) }, ...wrapped];
    expect(await keyring.decryptDataKey(mixed, CONTEXT)).toEqual(plaintext);
  });

  it('rejects a master key that is not 32 bytes, and unknown options', () => {
    expect(() => createLocalKeyring({ key: new Uint8Array(31) })).toThrow(OptionsError);
    expect(() => createLocalKeyring({ key: new Uint8Array(33) })).toThrow(/32 bytes/);
    expect(() => createLocalKeyring({ key: 'x'.repeat(32) as unknown as Uint8Array })).toThrow(OptionsError);
    expect(() => createLocalKeyring({ key: KEY, allowInProdution: true } as never)).toThrow(/did you mean "allowInProduction"/);
    expect(() => createLocalKeyring(undefined as never)).toThrow(OptionsError);
  });

  it('takes the master key from exactly one of key, env and file, as a structured issue', () => {
    const issues = (options: object) => {
      try {
        createLocalKeyring(options as never);
      } catch (error) {
        expect(error).toBeInstanceOf(OptionsError);
        return (error as OptionsError).issues;
      }
      throw new Error('no OptionsError');
    };
    expect(issues({})).toEqual([{ problem: 'missing', path: 'key', expected: 'exactly one of `key`, `env` and `file`', received: 'undefined' }]);
    for (const both of [{ key: KEY, env: 'X' }, { env: 'X', file: '/x' }, { key: KEY, env: 'X', file: '/x' }]) {
      expect(issues(both)).toMatchObject([{ problem: 'invalid', expected: 'exactly one of `key`, `env` and `file`' }]);
    }
    expect(issues({ key: new Uint8Array(31) })).toMatchObject([{ problem: 'invalid', path: 'key', received: 'bytes' }]);
    expect(issues({ env: 7 })).toMatchObject([{ problem: 'type', path: 'env', received: 'number' }]);
  });

  it('rejects a data key that is not 32 bytes and a context with non-string values', async () => {
    const keyring = createLocalKeyring({ key: KEY });
    await expect(keyring.encryptDataKey(new Uint8Array(16), CONTEXT)).rejects.toBeInstanceOf(OptionsError);
    await expect(keyring.generateDataKey({ record: 1001 } as never)).rejects.toBeInstanceOf(OptionsError);
  });

  it('copies the key: zeroing the caller array does not change the keyring', async () => {
    const key = Uint8Array.from(KEY);
    const keyring = createLocalKeyring({ key });
    const { plaintext, wrapped } = await keyring.generateDataKey(CONTEXT);
    key.fill(0);
    expect(await keyring.decryptDataKey(wrapped, CONTEXT)).toEqual(plaintext);
  });

  it('refuses NODE_ENV=production unless allowInProduction, and says why', () => {
    const expected = createLocalKeyring({ key: KEY }).keyId;
    process.env.NODE_ENV = 'production';
    expect(() => createLocalKeyring({ key: KEY })).toThrow(OptionsError);
    expect(() => createLocalKeyring({ key: KEY })).toThrow(/beside the data.*createAwsKmsKeyring or createPkcs11Keyring/s);
    expect(createLocalKeyring({ key: KEY, allowInProduction: true }).keyId).toMatch(/^local:[0-9a-f]{16}$/);
    process.env.PHIGUARD_LOCAL_KEY = KEY_HEX;
    expect(() => createLocalKeyring({ env: 'PHIGUARD_LOCAL_KEY' })).toThrow(/NODE_ENV=production/);
    expect(createLocalKeyring({ env: 'PHIGUARD_LOCAL_KEY', allowInProduction: true }).keyId).toBe(expected);
  });

  it('reads the key from an environment variable in hex, base64 or base64url', () => {
    const expected = createLocalKeyring({ key: KEY }).keyId;
    process.env.PHIGUARD_LOCAL_KEY = KEY_HEX;
    expect(createLocalKeyring({ env: 'PHIGUARD_LOCAL_KEY' }).keyId).toBe(expected);
    process.env.PHIGUARD_LOCAL_KEY = ` ${Buffer.from(KEY).toString('base64')}\n`;
    expect(createLocalKeyring({ env: 'PHIGUARD_LOCAL_KEY' }).keyId).toBe(expected);
    process.env.MY_KEY = Buffer.from(KEY).toString('base64url');
    expect(createLocalKeyring({ env: 'MY_KEY' }).keyId).toBe(expected);
    delete process.env.MY_KEY;
  });

  it('explains a missing or malformed environment variable without echoing it', () => {
    delete process.env.PHIGUARD_LOCAL_KEY;
    expect(() => createLocalKeyring({ env: 'PHIGUARD_LOCAL_KEY' })).toThrow(/PHIGUARD_LOCAL_KEY is not set.*openssl rand/);
    process.env.PHIGUARD_LOCAL_KEY = 'c2VjcmV0LXRvby1zaG9ydA==';
    let message = '';
    try {
      createLocalKeyring({ env: 'PHIGUARD_LOCAL_KEY' });
    } catch (error) {
      expect(error).toBeInstanceOf(OptionsError);
      message = (error as Error).message;
    }
    expect(message).toMatch(/32 bytes/);
    expect(message).not.toContain('c2VjcmV0LXRvby1zaG9ydA');
    process.env.PHIGUARD_LOCAL_KEY = KEY_HEX.slice(2);
    expect(() => createLocalKeyring({ env: 'PHIGUARD_LOCAL_KEY' })).toThrow(OptionsError);
  });

  it('reads the key from a file holding raw bytes, hex or base64', () => {
    const dir = mkdtempSync(join(tmpdir(), 'phiguard-local-'));
    const expected = createLocalKeyring({ key: KEY }).keyId;
    const files = {
      raw: Buffer.from(KEY),
      hex: `${KEY_HEX}\n`,
      b64: `${Buffer.from(KEY).toString('base64')}\n`,
    };
    for (const [name, content] of Object.entries(files)) {
      writeFileSync(join(dir, name), content);
      expect(createLocalKeyring({ file: join(dir, name) }).keyId).toBe(expected);
    }
    writeFileSync(join(dir, 'short'), 'abc');
    expect(() => createLocalKeyring({ file: join(dir, 'short') })).toThrow(/32 raw bytes/);
    expect(() => createLocalKeyring({ file: join(dir, 'missing') })).toThrow(/ENOENT/);
    rmSync(dir, { recursive: true, force: true });
  });

  it('never shows the key in inspect, toString, JSON or errors', async () => {
    const keyring = createLocalKeyring({ key: KEY });
    const hex = KEY_HEX;
    const b64 = Buffer.from(KEY).toString('base64');
    for (const text of [inspect(keyring, { showHidden: true, depth: 10 }), String(keyring), JSON.stringify(keyring)]) {
      expect(text).not.toContain(hex);
      expect(text).not.toContain(b64);
      expect(text).not.toContain('1, 2, 3, 4');
    }
    expect(Object.values(keyring)).toEqual([keyring.keyId]);
    const { wrapped } = await keyring.generateDataKey(CONTEXT);
    const error = await keyring.decryptDataKey(wrapped, { ...CONTEXT, ssn: '123-45-6789' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DecryptError);
    const shown = `${String(error)} ${inspect(error)} ${JSON.stringify(error)}`;
    expect(shown).not.toContain('123-45-6789');
    expect(shown).not.toContain('clinic-7');
    expect(shown).not.toContain(hex);
  });
});
