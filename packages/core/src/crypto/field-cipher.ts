import { systemClock, type Clock } from '../base/clock.js';
import { createCipheriv, createDecipheriv, hkdfSync, randomFillSync, timingSafeEqual } from 'node:crypto';
import { DecryptError, KeyUnavailableError, OptionsError, PhiGuardError } from '../errors.js';
import { option, optionsSchema } from '../options.js';
import { encodeContext } from './context.js';
import {
  HEADER_BYTES,
  IV_BYTES,
  KEY_ID_BYTES,
  OVERHEAD_BYTES,
  PREFIX,
  SUITE_AES256_GCM_HKDF_COMMIT,
  TAG_BYTES,
  decodeCiphertext,
} from './format.js';
import { MemoryKeyStore, type KeyStore, type StoredDataKey } from './key-store.js';
import type { EncryptionContext, Keyring } from './keyring.js';

/** Limits on how long and how much one data key is used. */
export interface KeyCacheOptions {
  /** A data key is used (to encrypt and, once unwrapped, to decrypt) for at most this long. Default 5 minutes. */
  readonly maxAgeMs?: number;
  /** Values encrypted under one data key before a fresh one is generated. Default 1,000,000 (GCM's random-IV bound is 2³²). */
  readonly maxValuesPerKey?: number;
  /** Plaintext bytes encrypted under one data key before a fresh one is generated. Default 1 GiB. */
  readonly maxBytesPerKey?: number;
  /** Unwrapped data keys held for decryption. Default 1,000. */
  readonly maxKeys?: number;
}

/** Options of {@link createFieldCipher}. */
export interface FieldCipherOptions {
  /** Wraps and unwraps data keys (createAwsKmsKeyring, createPkcs11Keyring, createLocalKeyring… from @phiguard/kms). */
  readonly keyring: Keyring;
  /**
   * Where wrapped data keys are kept. Default: in process memory, which suits tests and a
   * single development process only; values outlive a process only if their keys do.
   */
  readonly store?: KeyStore;
  readonly cache?: KeyCacheOptions;
  /** What key ages (`cache.maxAgeMs`) and `createdAt` are measured with. Default: the wall clock. */
  readonly clock?: Clock;
}

/** Encrypts and decrypts single field values bound to an encryption context. */
export interface FieldCipher {
  /**
   * Encrypts `value` under the current data key of the context's `tenant`. `context` (tenant,
   * resource type, field path, record id, …) must be given again, identical, to decrypt.
   * Rejects with KeyUnavailableError when no data key can be obtained (fail closed).
   */
  encrypt(value: string, context: EncryptionContext): Promise<string>;
  /**
   * Decrypts a value made by {@link FieldCipher.encrypt}. Rejects with DecryptError (never
   * returns garbage) when the ciphertext was modified, truncated, moved to another context,
   * names an unknown key or format; with KeyUnavailableError when its data key cannot be unwrapped now.
   */
  decrypt(ciphertext: string, context: EncryptionContext): Promise<string>;
  /** Stops using the current data keys for encryption; the next value gets a fresh key. */
  rotate(): void;
  /** Zeroes and drops every cached plaintext key. The cipher remains usable (keys are fetched again). */
  clear(): void;
  /** Calls the cipher has made to its keyring, for monitoring. */
  readonly stats: { readonly generated: number; readonly unwrapped: number };
}

const LABEL = 'createFieldCipher';
const CACHE_OPTIONS = optionsSchema<KeyCacheOptions>(LABEL, {
  maxAgeMs: option.atLeast(1, 'a positive integer of milliseconds'),
  maxValuesPerKey: option.integer(1, 2 ** 32),
  maxBytesPerKey: option.integer(1, 2 ** 30),
  maxKeys: option.atLeast(1, 'a positive integer'),
});
const OPTIONS = optionsSchema<FieldCipherOptions>(LABEL, {
  keyring: option.required(option.implementing('a Keyring (generateDataKey, encryptDataKey, decryptDataKey)', 'generateDataKey', 'decryptDataKey')),
  store: option.implementing('a KeyStore (get, put, list)', 'get', 'put', 'list'),
  cache: option.nested(CACHE_OPTIONS),
  clock: option.clock(),
});
const ENC_INFO = Buffer.from('phiguard field v1 encryption key');
const COMMIT_INFO = Buffer.from('phiguard field v1 key commitment');
const EMPTY = Buffer.alloc(0);
/** Context under which data keys are wrapped; values bind the full field context themselves. */
const KEY_SCOPE = 'phiguard:scope';

/** An unwrapped data key in the cache. `key` is derived from the data key, never the data key itself. */
class CachedKey {
  values = 0;
  bytes = 0;
  live = true;
  constructor(
    readonly id: string,
    readonly header: Buffer,
    readonly key: Buffer,
    readonly expiresAt: number,
  ) {}
  zero(): void {
    this.live = false;
    this.key.fill(0);
  }
}

/** Derives the encryption key and the key commitment from a data key. */
function derive(dataKey: Uint8Array): { key: Buffer; commitment: Buffer } {
  if (!(dataKey instanceof Uint8Array) || dataKey.length !== 32) throw new KeyUnavailableError('Keyring returned a data key of the wrong size.');
  return {
    key: Buffer.from(hkdfSync('sha256', dataKey, EMPTY, ENC_INFO, 32)),
    commitment: Buffer.from(hkdfSync('sha256', dataKey, EMPTY, COMMIT_INFO, KEY_ID_BYTES)),
  };
}

/** Keyring failures other than the two typed ones become KeyUnavailableError, without their messages (they may hold context). */
function asKeyError(err: unknown): PhiGuardError {
  return err instanceof DecryptError || err instanceof KeyUnavailableError ? err : new KeyUnavailableError();
}

/** 12-byte IVs cut from a pooled random buffer: one randomFill per 512 values instead of one per value. */
class IvPool {
  private pool = Buffer.allocUnsafe(IV_BYTES * 512);
  private at = this.pool.length;
  next(): Buffer {
    if (this.at === this.pool.length) {
      randomFillSync(this.pool);
      this.at = 0;
    }
    const iv = this.pool.subarray(this.at, this.at + IV_BYTES);
    this.at += IV_BYTES;
    return iv;
  }
}

/**
 * Creates a field cipher: AES-256-GCM per value with a fresh 96-bit IV, under data keys that
 * the keyring wraps and the key store keeps. Every ciphertext names its data key by a key
 * commitment, so it cannot be opened under another key, and old and new keys coexist after
 * rotation. The format is documented in CIPHERTEXT.md.
 */
export function createFieldCipher(options: FieldCipherOptions): FieldCipher {
  const { keyring, store = new MemoryKeyStore(), clock = systemClock, cache = {} } = OPTIONS.parse(options);
  const { maxAgeMs = 5 * 60_000, maxValuesPerKey: maxValues = 1_000_000, maxBytesPerKey: maxBytes = 2 ** 30, maxKeys = 1000 } = cache;

  /** Unwrapped keys by id, oldest first. */
  const byId = new Map<string, CachedKey>();
  /** The key each tenant encrypts under now. */
  const current = new Map<string, CachedKey>();
  const generating = new Map<string, Promise<CachedKey>>();
  const unwrapping = new Map<string, Promise<CachedKey>>();
  const ivs = new IvPool();
  const stats = { generated: 0, unwrapped: 0 };

  const evict = (entry: CachedKey): void => {
    byId.delete(entry.id);
    for (const [scope, k] of current) if (k === entry) current.delete(scope);
    entry.zero();
  };
  const sweep = (): void => {
    const now = clock.now();
    for (const entry of byId.values()) if (entry.expiresAt <= now) evict(entry);
  };
  // Expired keys are zeroed even when the process goes idle.
  setInterval(sweep, Math.min(maxAgeMs, 60_000)).unref();

  const admit = (entry: CachedKey): void => {
    byId.set(entry.id, entry);
    while (byId.size > maxKeys) evict(byId.values().next().value!);
  };

  const cached = (id: string): CachedKey | undefined => {
    const entry = byId.get(id);
    if (entry === undefined) return undefined;
    if (entry.expiresAt > clock.now()) return entry;
    evict(entry);
    return undefined;
  };

  const makeEntry = (dataKey: Uint8Array): CachedKey => {
    const { key, commitment } = derive(dataKey);
    const header = Buffer.allocUnsafe(HEADER_BYTES);
    header[0] = SUITE_AES256_GCM_HKDF_COMMIT;
    commitment.copy(header, 1);
    return new CachedKey(commitment.toString('base64url'), header, key, clock.now() + maxAgeMs);
  };

  const generate = async (tenant: string): Promise<CachedKey> => {
    const context: EncryptionContext = tenant === '' ? { [KEY_SCOPE]: 'field' } : { [KEY_SCOPE]: 'field', tenant };
    let dataKey;
    try {
      stats.generated++;
      dataKey = await keyring.generateDataKey(context);
    } catch (err) {
      throw asKeyError(err);
    }
    let entry: CachedKey;
    try {
      entry = makeEntry(dataKey.plaintext);
    } finally {
      dataKey.plaintext.fill(0);
    }
    const stored: StoredDataKey = { id: entry.id, wrapped: dataKey.wrapped, context, createdAt: new Date(clock.now()).toISOString() };
    try {
      await store.put(stored);
    } catch {
      entry.zero();
      throw new KeyUnavailableError('Key store unavailable; the value was not encrypted.');
    }
    admit(entry);
    return entry;
  };

  const usable = (entry: CachedKey): boolean =>
    entry.live && entry.values < maxValues && entry.bytes < maxBytes && entry.expiresAt > clock.now();

  const encryptionKey = (tenant: string): CachedKey | Promise<CachedKey> => {
    const entry = current.get(tenant);
    if (entry !== undefined && usable(entry)) return entry;
    if (entry !== undefined) current.delete(tenant); // retired for encryption; still decrypts until it expires
    // Single flight: a burst of encrypts waits on one key request.
    let pending = generating.get(tenant);
    if (pending === undefined) {
      pending = generate(tenant).then(
        (fresh) => {
          generating.delete(tenant);
          current.set(tenant, fresh);
          return fresh;
        },
        (err: unknown) => {
          generating.delete(tenant);
          throw err;
        },
      );
      generating.set(tenant, pending);
    }
    return pending;
  };

  const unwrap = async (id: string): Promise<CachedKey> => {
    let stored: StoredDataKey | undefined;
    try {
      stored = await store.get(id);
    } catch {
      throw new KeyUnavailableError('Key store unavailable; the value was not decrypted.');
    }
    if (stored === undefined) throw new DecryptError('unknown_key');
    let plaintext: Uint8Array;
    try {
      stats.unwrapped++;
      plaintext = await keyring.decryptDataKey(stored.wrapped, stored.context);
    } catch (err) {
      throw asKeyError(err);
    }
    let entry: CachedKey;
    try {
      entry = makeEntry(plaintext);
    } finally {
      plaintext.fill(0);
    }
    // The store is outside the cryptographic boundary: a key filed under another key's id is refused.
    const expected = Buffer.from(id, 'base64url');
    if (expected.length !== KEY_ID_BYTES || !timingSafeEqual(entry.header.subarray(1), expected)) {
      entry.zero();
      throw new DecryptError('key_commitment');
    }
    admit(entry);
    return entry;
  };

  const decryptionKey = (id: string): CachedKey | Promise<CachedKey> => {
    const entry = cached(id);
    if (entry !== undefined) return entry;
    let pending = unwrapping.get(id);
    if (pending === undefined) {
      pending = unwrap(id).finally(() => unwrapping.delete(id));
      unwrapping.set(id, pending);
    }
    return pending;
  };

  const checkContext = (context: EncryptionContext): Buffer => {
    if (context === null || typeof context !== 'object' || Object.keys(context).length === 0) {
      throw new OptionsError('field cipher: an encryption context (tenant, resource, field, record…) is required');
    }
    return encodeContext(context);
  };

  const tenantOf = (context: EncryptionContext): string => (typeof context.tenant === 'string' ? context.tenant : '');

  return {
    stats,
    async encrypt(value: string, context: EncryptionContext): Promise<string> {
      if (typeof value !== 'string') throw new OptionsError('field cipher: only string values can be encrypted');
      const aad = checkContext(context);
      const tenant = tenantOf(context);
      // A cached key comes back as is: no await (and no microtask) unless the keyring is asked.
      const cached = encryptionKey(tenant);
      let entry = cached instanceof CachedKey ? cached : await cached;
      // Used up or evicted while this call waited (a burst shares one key request): take the next key.
      while (!usable(entry)) {
        // A key unusable before its first value would loop forever: its age limit is shorter than a key request.
        if (entry.values === 0 && entry.live) throw new KeyUnavailableError('Data key expired before first use: raise cache.maxAgeMs.');
        entry = await encryptionKey(tenant);
      }
      const iv = ivs.next();
      const cipher = createCipheriv('aes-256-gcm', entry.key, iv);
      cipher.setAAD(entry.header);
      cipher.setAAD(aad);
      const body = cipher.update(value, 'utf8');
      cipher.final();
      entry.values++;
      entry.bytes += body.length;
      const out = Buffer.allocUnsafe(OVERHEAD_BYTES + body.length);
      entry.header.copy(out, 0);
      iv.copy(out, HEADER_BYTES);
      body.copy(out, HEADER_BYTES + IV_BYTES);
      cipher.getAuthTag().copy(out, HEADER_BYTES + IV_BYTES + body.length);
      return PREFIX + out.toString('base64url');
    },
    async decrypt(ciphertext: string, context: EncryptionContext): Promise<string> {
      const bytes = decodeCiphertext(ciphertext);
      const aad = checkContext(context);
      const id = bytes.toString('base64url', 1, HEADER_BYTES);
      const cached = decryptionKey(id);
      let entry = cached instanceof CachedKey ? cached : await cached;
      if (!entry.live) entry = await decryptionKey(id);
      const tagAt = bytes.length - TAG_BYTES;
      const decipher = createDecipheriv('aes-256-gcm', entry.key, bytes.subarray(HEADER_BYTES, HEADER_BYTES + IV_BYTES));
      decipher.setAAD(bytes.subarray(0, HEADER_BYTES));
      decipher.setAAD(aad);
      decipher.setAuthTag(bytes.subarray(tagAt));
      try {
        return decipher.update(bytes.subarray(HEADER_BYTES + IV_BYTES, tagAt), undefined, 'utf8') + decipher.final('utf8');
      } catch {
        throw new DecryptError('authentication');
      }
    },
    rotate(): void {
      current.clear();
    },
    clear(): void {
      for (const entry of [...byId.values()]) evict(entry);
      current.clear();
    },
  };
}
