import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DecryptError, OptionsError } from '@phiguard/core';
import { encodeContext } from '@phiguard/core/crypto';
import type { Keyring } from '@phiguard/core';
import type { DataKey, EncryptionContext, WrappedKey } from '@phiguard/core/crypto';
import { option, optionIssue, optionsSchema } from '@phiguard/core/adapter';
import { checkContext, checkDataKey, checkWrapped, DATA_KEY_BYTES } from './util.js';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const WRAPPED_BYTES = IV_BYTES + DATA_KEY_BYTES + TAG_BYTES;

/**
 * Options of {@link createLocalKeyring}. The master key comes from exactly one of `key`, `env`
 * and `file`.
 */
export interface LocalKeyringOptions {
  /** The 32-byte AES-256 master key. Copied; the caller may zero its array afterwards. */
  key?: Uint8Array;
  /** An environment variable holding the 32 bytes as base64 or hex (`PHIGUARD_LOCAL_KEY`). */
  env?: string;
  /** A file holding 32 raw bytes, or 32 bytes as base64 or hex text. */
  file?: string;
  /**
   * Allows construction when `NODE_ENV` is `production`. A key kept in an environment variable
   * or file sits beside the data it protects; prefer `createAwsKmsKeyring` or `createPkcs11Keyring`.
   */
  allowInProduction?: boolean;
}

/** A keyring whose master key lives in process memory (development and tests). */
export interface LocalKeyring extends Keyring {
  /** `local:<fingerprint>`; identifies the master key without revealing it. */
  readonly keyId: string;
}

const LABEL = 'createLocalKeyring';
const OPTIONS = optionsSchema<LocalKeyringOptions>(LABEL, {
  key: option.custom('a Uint8Array of 32 bytes (generate one with `openssl rand -base64 32`)', ['bytes'], (v) => (v as Uint8Array).length === DATA_KEY_BYTES),
  env: option.string('the name of an environment variable', (v) => v !== ''),
  file: option.string('a file path', (v) => v !== ''),
  allowInProduction: option.boolean(),
});

/**
 * A keyring whose master key lives in process memory: for development and tests only. It wraps
 * data keys with AES-256-GCM (random 96-bit IV, the encoded encryption context as AAD) and names
 * its entries `local:<fingerprint>`, the first 16 hex digits of HMAC-SHA256(key, a fixed label).
 *
 * Wrapped entry: `IV (12) | encrypted data key (32) | tag (16)`.
 *
 * @example
 * ```ts
 * const keyring = createLocalKeyring({ env: 'PHIGUARD_LOCAL_KEY' });
 * ```
 */
export function createLocalKeyring(options: LocalKeyringOptions): LocalKeyring {
  const { key, env, file, allowInProduction } = OPTIONS.parse(options ?? null);
  const given = [key, env, file].filter((v) => v !== undefined).length;
  /* Precondition: one source of the master key. */
  if (given !== 1) {
    throw optionIssue(LABEL, given === 0 ? 'key' : '', 'exactly one of `key`, `env` and `file`', given === 0 ? undefined : options, given === 0 ? 'missing' : 'invalid');
  }
  /* Precondition: not in production unless explicitly allowed. */
  if (process.env.NODE_ENV === 'production' && allowInProduction !== true) {
    throw new OptionsError(
      'createLocalKeyring refuses to run with NODE_ENV=production: its master key sits in an ' +
        'environment variable or file beside the data it protects, so whoever reads one reads ' +
        'both (45 CFR 164.312(a)(2)(iv)). Use createAwsKmsKeyring or createPkcs11Keyring, or pass ' +
        '{ allowInProduction: true } if you accept that risk.',
    );
  }
  if (key !== undefined) return new MemoryKeyring(Buffer.from(key));
  const bytes = env !== undefined ? fromEnv(env) : fromFile(file!);
  try {
    return new MemoryKeyring(Buffer.from(bytes));
  } finally {
    bytes.fill(0);
  }
}

function fromEnv(name: string): Buffer {
  const text = process.env[name];
  if (text === undefined || text.trim() === '') {
    throw new OptionsError(
      `createLocalKeyring: environment variable ${name} is not set; set it to 32 random bytes ` +
        'in base64 or hex (`openssl rand -base64 32`).',
    );
  }
  const key = parseKeyText(text);
  if (key === undefined) {
    throw new OptionsError(`createLocalKeyring: ${name} must hold 32 bytes as base64 (44 characters) or hex (64 characters).`);
  }
  return key;
}

function fromFile(path: string): Buffer {
  let content: Buffer;
  try {
    content = readFileSync(path);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new OptionsError(
      `createLocalKeyring: cannot read the key file (${typeof code === 'string' ? code : 'error'}); ` +
        'create it with `openssl rand -base64 32 > <file>`.',
    );
  }
  const key = content.length === DATA_KEY_BYTES ? Buffer.from(content) : parseKeyText(content.toString('latin1'));
  content.fill(0);
  if (key === undefined) {
    throw new OptionsError('createLocalKeyring: the key file must hold 32 raw bytes, or 32 bytes as base64 or hex.');
  }
  return key;
}

/** The keyring of {@link createLocalKeyring}; `key` is its own copy of the master key. */
class MemoryKeyring implements LocalKeyring {
  readonly keyId: string;
  readonly #key: Buffer;

  constructor(key: Buffer) {
    this.#key = key;
    const fingerprint = createHmac('sha256', this.#key).update('phiguard local keyring id').digest('hex');
    this.keyId = `local:${fingerprint.slice(0, 16)}`;
  }

  async generateDataKey(context: EncryptionContext): Promise<DataKey> {
    checkContext('LocalKeyring', context);
    const plaintext = new Uint8Array(randomBytes(DATA_KEY_BYTES));
    return { plaintext, wrapped: [this.#wrap(plaintext, context)] };
  }

  async encryptDataKey(plaintext: Uint8Array, context: EncryptionContext): Promise<readonly WrappedKey[]> {
    checkDataKey('LocalKeyring', plaintext);
    checkContext('LocalKeyring', context);
    return [this.#wrap(plaintext, context)];
  }

  async decryptDataKey(wrapped: readonly WrappedKey[], context: EncryptionContext): Promise<Uint8Array> {
    checkWrapped('LocalKeyring', wrapped);
    checkContext('LocalKeyring', context);
    const aad = encodeContext(context);
    for (const entry of wrapped) {
      if (entry.keyId !== this.keyId || entry.ciphertext.length !== WRAPPED_BYTES) continue;
      const bytes = Buffer.from(entry.ciphertext.buffer, entry.ciphertext.byteOffset, entry.ciphertext.length);
      const decipher = createDecipheriv('aes-256-gcm', this.#key, bytes.subarray(0, IV_BYTES), {
        authTagLength: TAG_BYTES,
      });
      decipher.setAAD(aad);
      decipher.setAuthTag(bytes.subarray(IV_BYTES + DATA_KEY_BYTES));
      try {
        const out = Buffer.concat([decipher.update(bytes.subarray(IV_BYTES, IV_BYTES + DATA_KEY_BYTES)), decipher.final()]);
        const plaintext = new Uint8Array(out);
        out.fill(0);
        return plaintext;
      } catch {
        // Tag mismatch: another key with a colliding fingerprint, tampering, or a different context.
      }
    }
    throw new DecryptError('unwrap');
  }

  #wrap(plaintext: Uint8Array, context: EncryptionContext): WrappedKey {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(encodeContext(context));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return { keyId: this.keyId, ciphertext: new Uint8Array(Buffer.concat([iv, body, cipher.getAuthTag()])) };
  }

  toString(): string {
    return `LocalKeyring(${this.keyId})`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

/** 32 bytes from hex (64 digits) or base64 / base64url (43–44 characters); undefined otherwise. */
function parseKeyText(text: string): Buffer | undefined {
  const t = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(t)) return Buffer.from(t, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(t)) {
    const key = Buffer.from(t, 'base64');
    if (key.length === DATA_KEY_BYTES) return key;
  }
  return undefined;
}
