import { createCipheriv, createDecipheriv, hkdfSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DecryptError, createFieldCipher, type Keyring } from '@phiguard/core';
import {
  CIPHERTEXT_OVERHEAD_BYTES,
  createMemoryKeyStore,
  encodeContext,
  isCiphertext,
  type DataKey,
  type EncryptionContext,
  type WrappedKey,
} from '@phiguard/core/crypto';

/**
 * Known-answer vectors of the field ciphertext format (CIPHERTEXT.md, version 1). The vectors in
 * ciphertext.vectors.json were computed once from the document's text with raw node:crypto, not
 * by the library; this file checks them against a second reading of the spec (below) and then
 * the library against them: it must open each one, and what it seals must be what the spec
 * gives for the same key, IV, context and value.
 */
interface Vector {
  name: string;
  dataKeyHex: string;
  ivHex: string;
  context: Record<string, string>;
  plaintext: string;
  expected: {
    encryptionKeyHex: string;
    keyIdHex: string;
    keyIdBase64url: string;
    aadHex: string;
    tagHex: string;
    binaryLength: number;
    ciphertext: string;
  };
}
const { vectors } = JSON.parse(readFileSync(join(__dirname, 'ciphertext.vectors.json'), 'utf8')) as { vectors: Vector[] };

// ---- the spec, read again: CIPHERTEXT.md "Keys", "Additional authenticated data", "Binary form" ----
const hkdf = (dk: Buffer, info: string, length: number) => Buffer.from(hkdfSync('sha256', dk, Buffer.alloc(0), Buffer.from(info, 'utf8'), length));
const specKeys = (dk: Buffer) => ({ K: hkdf(dk, 'phiguard field v1 encryption key', 32), C: hkdf(dk, 'phiguard field v1 key commitment', 16) });
function specContext(context: Record<string, string>): Buffer {
  const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
  // UTF-16 code unit order is the order of JavaScript's < on strings.
  const keys = Object.keys(context).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return Buffer.concat([
    u16(keys.length),
    ...keys.flatMap((k) => {
      const kb = Buffer.from(k, 'utf8');
      const vb = Buffer.from(context[k]!, 'utf8');
      return [u16(kb.length), kb, u16(vb.length), vb];
    }),
  ]);
}
function specSeal(dk: Buffer, iv: Buffer, context: Record<string, string>, plaintext: string): string {
  const { K, C } = specKeys(dk);
  const header = Buffer.concat([Buffer.from([0x01]), C]);
  const cipher = createCipheriv('aes-256-gcm', K, iv);
  cipher.setAAD(Buffer.concat([header, specContext(context)]));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return `pg1.${Buffer.concat([header, iv, body, cipher.getAuthTag()]).toString('base64url')}`;
}
function specOpen(dk: Buffer, text: string, context: Record<string, string>): string {
  const bin = Buffer.from(text.slice(4), 'base64url');
  const { K } = specKeys(dk);
  const decipher = createDecipheriv('aes-256-gcm', K, bin.subarray(17, 29));
  decipher.setAAD(Buffer.concat([bin.subarray(0, 17), specContext(context)]));
  decipher.setAuthTag(bin.subarray(bin.length - 16));
  return Buffer.concat([decipher.update(bin.subarray(29, bin.length - 16)), decipher.final()]).toString('utf8');
}

/** A keyring whose data key is fixed; it records the contexts it is asked to wrap and unwrap under. */
class FixedKeyring implements Keyring {
  readonly contexts: EncryptionContext[] = [];
  constructor(private readonly dataKey: Buffer) {}
  async generateDataKey(context: EncryptionContext): Promise<DataKey> {
    this.contexts.push(context);
    return { plaintext: Uint8Array.from(this.dataKey), wrapped: [{ keyId: 'fixed', ciphertext: Uint8Array.of(1) }] };
  }
  async encryptDataKey(_plaintext: Uint8Array, context: EncryptionContext): Promise<readonly WrappedKey[]> {
    this.contexts.push(context);
    return [{ keyId: 'fixed', ciphertext: Uint8Array.of(1) }];
  }
  async decryptDataKey(_wrapped: readonly WrappedKey[], context: EncryptionContext): Promise<Uint8Array> {
    this.contexts.push(context);
    return Uint8Array.from(this.dataKey);
  }
}

/** "Data keys are wrapped under the context { phiguard:scope: field, tenant }" (tenant absent when the value's context has none). */
const wrapContext = (context: Record<string, string>): EncryptionContext =>
  context.tenant === undefined ? { 'phiguard:scope': 'field' } : { 'phiguard:scope': 'field', tenant: context.tenant };

/** A reader holding the vector's data key in its key store, under the key id the spec names. */
function reader(v: Vector, dataKey = Buffer.from(v.dataKeyHex, 'hex')) {
  const store = createMemoryKeyStore();
  store.put({ id: v.expected.keyIdBase64url, wrapped: [{ keyId: 'fixed', ciphertext: Uint8Array.of(1) }], context: wrapContext(v.context), createdAt: '2030-01-01T00:00:00.000Z' });
  const keyring = new FixedKeyring(dataKey);
  return { cipher: createFieldCipher({ keyring, store }), keyring };
}

const reasonOf = (p: Promise<unknown>) =>
  p.then(
    () => 'opened',
    (e: unknown) => (e instanceof DecryptError ? e.reason : `other: ${String(e)}`),
  );

describe('field ciphertext known-answer vectors (CIPHERTEXT.md v1)', () => {
  it('the vectors follow the spec text (a second, independent reading of it)', () => {
    expect(vectors.length).toBeGreaterThanOrEqual(5);
    for (const v of vectors) {
      const dk = Buffer.from(v.dataKeyHex, 'hex');
      const { K, C } = specKeys(dk);
      expect(K.toString('hex'), v.name).toBe(v.expected.encryptionKeyHex);
      expect(C.toString('hex'), v.name).toBe(v.expected.keyIdHex);
      expect(C.toString('base64url'), v.name).toBe(v.expected.keyIdBase64url);
      expect(Buffer.concat([Buffer.from([1]), C, specContext(v.context)]).toString('hex'), v.name).toBe(v.expected.aadHex);
      expect(specSeal(dk, Buffer.from(v.ivHex, 'hex'), v.context, v.plaintext), v.name).toBe(v.expected.ciphertext);
      const n = Buffer.byteLength(v.plaintext, 'utf8');
      expect(v.expected.binaryLength).toBe(45 + n);
      // "The text form is 4 + ceil((45 + n) × 4 / 3) characters".
      expect(v.expected.ciphertext.length, v.name).toBe(4 + Math.ceil(((45 + n) * 4) / 3));
    }
  });

  it.each(vectors.map((v) => [v.name, v] as const))('the library opens the vector: %s', async (_name, v) => {
    const { cipher, keyring } = reader(v);
    expect(isCiphertext(v.expected.ciphertext)).toBe(true);
    expect(await cipher.decrypt(v.expected.ciphertext, { ...v.context })).toBe(v.plaintext);
    // The key was unwrapped under the documented key-wrapping context.
    expect(keyring.contexts).toEqual([wrapContext(v.context)]);
    // Its context encoding is the documented one.
    expect(Buffer.from(encodeContext(v.context)).toString('hex')).toBe(v.expected.aadHex.slice(34));
  });

  it.each(vectors.map((v) => [v.name, v] as const))('what the library seals is the spec applied to its IV: %s', async (_name, v) => {
    const dk = Buffer.from(v.dataKeyHex, 'hex');
    const keyring = new FixedKeyring(dk);
    const cipher = createFieldCipher({ keyring });
    const sealed = await cipher.encrypt(v.plaintext, { ...v.context });
    const bin = Buffer.from(sealed.slice(4), 'base64url');
    expect(sealed.startsWith('pg1.')).toBe(true);
    expect(bin[0]).toBe(0x01);
    expect(bin.subarray(1, 17).toString('hex')).toBe(v.expected.keyIdHex);
    expect(bin.length).toBe(CIPHERTEXT_OVERHEAD_BYTES + Buffer.byteLength(v.plaintext, 'utf8'));
    expect(keyring.contexts).toEqual([wrapContext(v.context)]);
    const iv = bin.subarray(17, 29);
    expect(sealed).toBe(specSeal(dk, iv, v.context, v.plaintext));
    expect(specOpen(dk, sealed, v.context)).toBe(v.plaintext);
  });

  it('refuses what the spec says to refuse, with the documented reasons', async () => {
    const v = vectors[0]!;
    const { cipher } = reader(v);
    const text = v.expected.ciphertext;
    const bin = Buffer.from(text.slice(4), 'base64url');
    const withBinary = (b: Buffer) => `pg1.${b.toString('base64url')}`;
    const flip = (at: number) => {
      const b = Buffer.from(bin);
      b[at]! ^= 0x01;
      return withBinary(b);
    };
    const cases: [string, string, Record<string, string>][] = [
      ['pg2. prefix', `pg2.${text.slice(4)}`, v.context],
      ['pg10. prefix', `pg10.${text.slice(4)}`, v.context],
      ['suite byte 0x02', (() => { const b = Buffer.from(bin); b[0] = 0x02; return withBinary(b); })(), v.context],
    ];
    for (const [what, bad, context] of cases) expect(await reasonOf(cipher.decrypt(bad, context)), what).toBe('unsupported_version');
    const malformed: [string, string][] = [
      ['no prefix', text.slice(4)],
      ['padding', `${text}=`],
      ['standard base64 alphabet', text.replace(/-/g, '+').replace(/_/g, '/') + (text.includes('-') || text.includes('_') ? '' : '+')],
      ['length 4n+1', `${text.slice(0, 4 + Math.floor((text.length - 4) / 4) * 4)}A`],
      ['non-zero unused bits in the last character', (() => {
        // 56 binary bytes → 75 characters, the last holding 2 unused bits.
        const last = text.at(-1)!;
        const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
        return text.slice(0, -1) + alphabet[alphabet.indexOf(last) | 1]!;
      })()],
      ['truncated below the overhead', withBinary(bin.subarray(0, 44))],
    ];
    expect((text.length - 4) % 4).not.toBe(0); // the unused-bits case needs a partial last group
    for (const [what, bad] of malformed) expect(await reasonOf(cipher.decrypt(bad, v.context)), what).toBe('malformed');
    // Flipping any one bit of IV, ciphertext or tag, or changing the context: authentication.
    for (let at = 17; at < bin.length; at++) expect(await reasonOf(cipher.decrypt(flip(at), v.context)), `byte ${at}`).toBe('authentication');
    for (const context of [{ ...v.context, record: '1002' }, { ...v.context, extra: '' }, (({ record: _r, ...rest }) => rest)(v.context)]) {
      expect(await reasonOf(cipher.decrypt(text, context))).toBe('authentication');
    }
    // A flipped key id names a key the store does not have.
    expect(await reasonOf(cipher.decrypt(flip(5), v.context))).toBe('unknown_key');
    // The store's key under this id unwraps to another data key: the commitment does not match.
    const { cipher: wrongKey } = reader(v, Buffer.alloc(32, 0x77));
    expect(await reasonOf(wrongKey.decrypt(text, v.context))).toBe('key_commitment');
  });

  it('an empty encryption context is refused before any cryptography (OptionsError), both ways', async () => {
    const v = vectors[0]!;
    const { cipher } = reader(v);
    await expect(cipher.encrypt('x', {})).rejects.toMatchObject({ name: 'OptionsError', code: 'options_invalid' });
    await expect(cipher.decrypt(v.expected.ciphertext, {})).rejects.toMatchObject({ name: 'OptionsError', code: 'options_invalid' });
  });
});
