import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DecryptError, OptionsError } from '@phiguard/core';
import { encodeContext } from '@phiguard/core/crypto';
import type { Keyring } from '@phiguard/core';
import type { DataKey, EncryptionContext, WrappedKey } from '@phiguard/core/crypto';
import { checkContext, checkDataKey, checkOptions, checkWrapped, DATA_KEY_BYTES } from './util.js';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const WRAPPED_BYTES = IV_BYTES + DATA_KEY_BYTES + TAG_BYTES;
const OPTION_KEYS = ['key', 'allowInProduction'] as const;

/** Options of {@link LocalKeyring}. */
export interface LocalKeyringOptions {
  /** The 32-byte AES-256 master key. Copied; the caller may zero its array afterwards. */
  key: Uint8Array;
  /**
   * Allows construction when `NODE_ENV` is `production`. A key kept in an environment variable
   * or file sits beside the data it protects; prefer `AwsKmsKeyring` or `Pkcs11Keyring`.
   */
  allowInProduction?: boolean;
}

/** Options of {@link LocalKeyring.fromEnv} and {@link LocalKeyring.fromFile}. */
export type LocalKeyringSourceOptions = Omit<LocalKeyringOptions, 'key'>;

/**
 * A keyring whose master key lives in process memory: for development and tests only. It wraps
 * data keys with AES-256-GCM (random 96-bit IV, the encoded encryption context as AAD) and names
 * its entries `local:<fingerprint>`, the first 16 hex digits of HMAC-SHA256(key, a fixed label).
 *
 * Wrapped entry: `IV (12) | encrypted data key (32) | tag (16)`.
 */
export class LocalKeyring implements Keyring {
  /** `local:<fingerprint>`; identifies the master key without revealing it. */
  readonly keyId: string;
  readonly #key: Buffer;

  constructor(options: LocalKeyringOptions) {
    checkOptions('LocalKeyring', options, OPTION_KEYS);
    /* Precondition: the master key is 32 bytes. */
    if (!(options.key instanceof Uint8Array) || options.key.length !== DATA_KEY_BYTES) {
      throw new OptionsError(
        'LocalKeyring: `key` must be a Uint8Array of 32 bytes (generate one with `openssl rand -base64 32`).',
      );
    }
    /* Precondition: not in production unless explicitly allowed. */
    if (process.env.NODE_ENV === 'production' && options.allowInProduction !== true) {
      throw new OptionsError(
        'LocalKeyring refuses to run with NODE_ENV=production: its master key sits in an ' +
          'environment variable or file beside the data it protects, so whoever reads one reads ' +
          'both (45 CFR 164.312(a)(2)(iv)). Use AwsKmsKeyring or Pkcs11Keyring, or pass ' +
          '{ allowInProduction: true } if you accept that risk.',
      );
    }
    this.#key = Buffer.from(options.key);
    const fingerprint = createHmac('sha256', this.#key).update('phiguard local keyring id').digest('hex');
    this.keyId = `local:${fingerprint.slice(0, 16)}`;
  }

  /**
   * Reads the master key from an environment variable holding 32 bytes as base64 or hex.
   * @param name the variable, `PHIGUARD_LOCAL_KEY` by default.
   */
  static fromEnv(name = 'PHIGUARD_LOCAL_KEY', options: LocalKeyringSourceOptions = {}): LocalKeyring {
    const text = process.env[name];
    if (text === undefined || text.trim() === '') {
      throw new OptionsError(
        `LocalKeyring.fromEnv: environment variable ${name} is not set; set it to 32 random bytes ` +
          'in base64 or hex (`openssl rand -base64 32`).',
      );
    }
    const key = parseKeyText(text);
    if (key === undefined) {
      throw new OptionsError(
        `LocalKeyring.fromEnv: ${name} must hold 32 bytes as base64 (44 characters) or hex (64 characters).`,
      );
    }
    return LocalKeyring.#from(key, options);
  }

  /**
   * Reads the master key from a file holding 32 raw bytes, or 32 bytes as base64 or hex text.
   */
  static fromFile(path: string, options: LocalKeyringSourceOptions = {}): LocalKeyring {
    let content: Buffer;
    try {
      content = readFileSync(path);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      throw new OptionsError(
        `LocalKeyring.fromFile: cannot read the key file (${typeof code === 'string' ? code : 'error'}); ` +
          'create it with `openssl rand -base64 32 > <file>`.',
      );
    }
    const key = content.length === DATA_KEY_BYTES ? Buffer.from(content) : parseKeyText(content.toString('latin1'));
    content.fill(0);
    if (key === undefined) {
      throw new OptionsError(
        'LocalKeyring.fromFile: the key file must hold 32 raw bytes, or 32 bytes as base64 or hex.',
      );
    }
    return LocalKeyring.#from(key, options);
  }

  static #from(key: Buffer, options: LocalKeyringSourceOptions): LocalKeyring {
    checkOptions('LocalKeyring', options, ['allowInProduction']);
    try {
      return new LocalKeyring({ ...options, key });
    } finally {
      key.fill(0);
    }
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
