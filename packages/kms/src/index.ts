/**
 * @phiguard/kms: keyrings that wrap field-encryption data keys (AWS KMS, PKCS#11 HSM, local
 * development, several at once).
 * @packageDocumentation
 */
export type { DataKey, EncryptionContext, Keyring, WrappedKey } from '@phiguard/core';
export { LocalKeyring } from './local.js';
export type { LocalKeyringOptions, LocalKeyringSourceOptions } from './local.js';
export { MultiKeyring } from './multi.js';
export type { MultiKeyringOptions } from './multi.js';
export { AwsKmsKeyring } from './aws.js';
export type { AwsKmsKeyringOptions } from './aws.js';
