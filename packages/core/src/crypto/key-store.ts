import type { EncryptionContext, WrappedKey } from './keyring.js';

/** A data key as stored: wrapped only. The plaintext never reaches a key store. */
export interface StoredDataKey {
  /** base64url of the 16-byte key commitment; ciphertexts name their key by it. */
  readonly id: string;
  /** The key wrapped under one or more master keys. */
  readonly wrapped: readonly WrappedKey[];
  /** The context the key was wrapped under (its scope: tenant); needed to unwrap it. */
  readonly context: EncryptionContext;
  readonly createdAt: string;
}

/**
 * Where wrapped data keys live, apart from the values they encrypt. Rotation re-wraps the keys
 * here, so the values need not be rewritten. Implement it on your database for production; the
 * in-memory store is for tests and single-process development.
 */
export interface KeyStore {
  get(id: string): Promise<StoredDataKey | undefined> | StoredDataKey | undefined;
  /** Adds a key, or replaces an existing key's wrapped copies (rotation). */
  put(key: StoredDataKey): Promise<void> | void;
  /** Every stored key; rotation walks it. */
  list(): AsyncIterable<StoredDataKey> | Iterable<StoredDataKey>;
}

/** A {@link KeyStore} in process memory: keys are lost when the process exits. */
export class MemoryKeyStore implements KeyStore {
  readonly #keys = new Map<string, StoredDataKey>();
  get(id: string): StoredDataKey | undefined {
    return this.#keys.get(id);
  }
  put(key: StoredDataKey): void {
    this.#keys.set(key.id, Object.freeze({ ...key, wrapped: Object.freeze([...key.wrapped]) }));
  }
  list(): Iterable<StoredDataKey> {
    return [...this.#keys.values()];
  }
}

/** A {@link KeyStore} in process memory (synchronous): keys are lost when the process exits. */
export function createMemoryKeyStore(): {
  get(id: string): StoredDataKey | undefined;
  put(key: StoredDataKey): void;
  list(): Iterable<StoredDataKey>;
} {
  return new MemoryKeyStore();
}
