/**
 * @phiguard/core/crypto: record ciphers, key stores, rotation, the ciphertext format and the
 * keyring contract for keyring authors. `createFieldCipher` and `Keyring` are in the root entry.
 * @packageDocumentation
 */
export type { DataKey, EncryptionContext, WrappedKey } from '../crypto/keyring.js';
export { encodeContext } from '../crypto/context.js';
export { isCiphertext, OVERHEAD_BYTES as CIPHERTEXT_OVERHEAD_BYTES } from '../crypto/format.js';
export { createMemoryKeyStore } from '../crypto/key-store.js';
export type { KeyStore, StoredDataKey } from '../crypto/key-store.js';
export { createRecordCipher } from '../crypto/records.js';
export type { RecordCipher, RecordCipherOptions } from '../crypto/records.js';
export { reencrypt, rewrapKeys } from '../crypto/rotation.js';
export type { RewrapOptions } from '../crypto/rotation.js';
