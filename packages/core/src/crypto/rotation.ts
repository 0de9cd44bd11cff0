import { KeyUnavailableError, OptionsError } from '../errors.js';
import type { KeyStore, StoredDataKey } from './key-store.js';
import type { Keyring } from './keyring.js';
import type { RecordCipher } from './records.js';

/** Options of {@link rewrapKeys}. */
export interface RewrapOptions {
  readonly store: KeyStore;
  /** A keyring that can unwrap the stored keys (the old master key, or a createMultiKeyring keyring holding it). */
  readonly from: Keyring;
  /** The keyring to wrap them under from now on (the new master key). */
  readonly to: Keyring;
  /** Rewrap only keys this returns true for (for example those wrapped under the retiring key). */
  readonly filter?: (key: StoredDataKey) => boolean;
}

/**
 * Re-wraps every stored data key under a new master key, without touching the values they
 * encrypt: each key is unwrapped with `from`, wrapped with `to`, and stored back under the same
 * id (the key commitment), so existing ciphertexts keep decrypting. Plaintext keys are zeroed
 * after use. Stops at the first key that fails, leaving it and the rest as they were.
 */
export async function rewrapKeys(options: RewrapOptions): Promise<{ readonly rewrapped: number }> {
  const { store, from, to, filter } = options ?? {};
  if (!store || !from || !to) throw new OptionsError('rewrapKeys needs { store, from, to }');
  let rewrapped = 0;
  for await (const key of store.list()) {
    if (filter && !filter(key)) continue;
    const plaintext = await from.decryptDataKey(key.wrapped, key.context);
    try {
      const wrapped = await to.encryptDataKey(plaintext, key.context);
      if (wrapped.length === 0) throw new KeyUnavailableError('The new keyring returned no wrapped key.');
      await store.put({ ...key, wrapped });
    } finally {
      plaintext.fill(0);
    }
    rewrapped++;
  }
  return { rewrapped };
}

/**
 * Streams records to new data keys or a new master key: each record is decrypted with `from`
 * and encrypted with `to` (which may be the same record cipher after `FieldCipher.rotate()`).
 * Reads one record at a time, so a table of any size moves in constant memory.
 */
export async function* reencrypt<T>(
  records: AsyncIterable<T> | Iterable<T>,
  options: { readonly resource: string; readonly from: RecordCipher; readonly to: RecordCipher },
): AsyncGenerator<T> {
  const { resource, from, to } = options ?? {};
  if (typeof resource !== 'string' || !from || !to) throw new OptionsError('reencrypt needs { resource, from, to }');
  for await (const record of records) {
    yield await to.encryptRecord(resource, await from.decryptRecord(resource, record));
  }
}
