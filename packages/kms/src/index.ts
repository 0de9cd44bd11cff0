/**
 * @phiguard/kms: keyrings that wrap field-encryption data keys (AWS KMS, PKCS#11 HSM, local
 * development). This release ships the `Keyring` contract only; implementations follow.
 * @packageDocumentation
 */

/** Encryption context bound to a data key: tenant, resource type, field path, record id… */
export type EncryptionContext = Readonly<Record<string, string>>;

/** A data key as a keyring returns it: plaintext for immediate use, wrapped for storage. */
export interface DataKey {
  /** 32 bytes; callers zero it when done. */
  readonly plaintext: Uint8Array;
  /** The key wrapped by the KMS or HSM; safe to store beside the data. */
  readonly encrypted: Uint8Array;
  /** Which master key wrapped it (a key ARN, a PKCS#11 label…). */
  readonly keyId: string;
}

/** Wraps and unwraps data keys under a master key held elsewhere. */
export interface Keyring {
  generateDataKey(context: EncryptionContext): Promise<DataKey>;
  decryptDataKey(encrypted: Uint8Array, keyId: string, context: EncryptionContext): Promise<Uint8Array>;
}
