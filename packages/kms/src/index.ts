/**
 * @phiguard/kms: keyrings that wrap field-encryption data keys (AWS KMS, PKCS#11 HSM, local
 * development, several at once).
 * @packageDocumentation
 */
/** The keyring contract, defined by @phiguard/core and implemented here. */
export type { Keyring } from '@phiguard/core';
export type { DataKey, EncryptionContext, WrappedKey } from '@phiguard/core/crypto';
/** Development and test keyring: a 32-byte master key in process memory. */
export { LocalKeyring } from './local.js';
export type { LocalKeyringOptions, LocalKeyringSourceOptions } from './local.js';
/** Wraps every data key under several keyrings (disaster recovery). */
export { MultiKeyring } from './multi.js';
export type { MultiKeyringOptions } from './multi.js';
/** AWS KMS keyring: GenerateDataKey / Encrypt / Decrypt, several regions, bounded retries. */
export { AwsKmsKeyring } from './aws.js';
export type { AwsKmsKeyringOptions, KmsClient } from './aws.js';
/** PKCS#11 HSM keyring: AES-256-GCM inside the token with a non-extractable master key. */
export { Pkcs11Keyring } from './pkcs11.js';
export type { Pkcs11CreateKeyOptions, Pkcs11KeyringOptions } from './pkcs11.js';
