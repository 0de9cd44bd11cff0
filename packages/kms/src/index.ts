/**
 * @phiguard/kms: keyrings that wrap field-encryption data keys (AWS KMS, PKCS#11 HSM, local
 * development, several at once). Each is built by its factory, whose options follow the options
 * convention of @phiguard/core (an `OptionsError` with structured `issues`).
 * @packageDocumentation
 */
/** The keyring contract, defined by @phiguard/core and implemented here. */
export type { Keyring } from '@phiguard/core';
export type { DataKey, EncryptionContext, WrappedKey } from '@phiguard/core/crypto';
/** Development and test keyring: a 32-byte master key in process memory. */
export { createLocalKeyring } from './local.js';
export type { LocalKeyring, LocalKeyringOptions } from './local.js';
/** Wraps every data key under several keyrings (disaster recovery). */
export { createMultiKeyring } from './multi.js';
export type { MultiKeyring, MultiKeyringOptions } from './multi.js';
/** AWS KMS keyring: GenerateDataKey / Encrypt / Decrypt, several regions, bounded retries. */
export { createAwsKmsKeyring } from './aws.js';
export type { AwsKmsKeyring, AwsKmsKeyringOptions, KmsClient } from './aws.js';
/** PKCS#11 HSM keyring: AES-256-GCM inside the token with a non-extractable master key. */
export { createPkcs11Key, createPkcs11Keyring } from './pkcs11.js';
export type { Pkcs11CreateKeyOptions, Pkcs11Keyring, Pkcs11KeyringOptions } from './pkcs11.js';
