/**
 * The keyring contract: how field encryption obtains data keys from a KMS or HSM. Core defines
 * it (the field cipher consumes it); @phiguard/kms implements it.
 */

/** Encryption context bound to a key or value: tenant, resource type, field path, record id… */
export type EncryptionContext = Readonly<Record<string, string>>;

/** A data key wrapped by one master key. Safe to store beside the data. */
export interface WrappedKey {
  /**
   * Which master key wrapped it, prefixed by its keyring kind so that a keyring recognises its
   * own entries: an AWS KMS key ARN (`arn:aws:kms:…`), `pkcs11:<label>`, `local:<fingerprint>`.
   */
  readonly keyId: string;
  /** The wrapped key bytes (opaque to everything but the keyring that made them). */
  readonly ciphertext: Uint8Array;
}

/** A fresh data key: plaintext for immediate use, and one or more wrapped copies for storage. */
export interface DataKey {
  /** 32 bytes. The caller owns it and zeroes it when done. */
  readonly plaintext: Uint8Array;
  /** At least one entry; a multi-keyring returns one per master key. */
  readonly wrapped: readonly WrappedKey[];
}

/**
 * Wraps and unwraps 256-bit data keys under master keys held elsewhere. Implementations throw
 * `KeyUnavailableError` when the KMS or HSM cannot answer (down, throttled past the retries,
 * too slow) and `DecryptError` when it answers that the wrapped key, key id or context is wrong.
 * Neither error may carry key material, a PIN or a context value.
 */
export interface Keyring {
  /** A fresh random data key wrapped under the keyring's primary master key (and any others). */
  generateDataKey(context: EncryptionContext): Promise<DataKey>;
  /** Wraps an existing data key (re-wrapping during rotation; extra copies in a multi-keyring). */
  encryptDataKey(plaintext: Uint8Array, context: EncryptionContext): Promise<readonly WrappedKey[]>;
  /** Unwraps the first entry this keyring can open under `context`. */
  decryptDataKey(wrapped: readonly WrappedKey[], context: EncryptionContext): Promise<Uint8Array>;
}
