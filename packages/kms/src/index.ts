/**
 * @phiguard/kms: keyrings that wrap field-encryption data keys (AWS KMS, PKCS#11 HSM, local
 * development, several at once).
 * @packageDocumentation
 */
export type { DataKey, EncryptionContext, Keyring, WrappedKey } from '@phiguard/core';
