import { OptionsError } from '@phiguard/core';
import type { EncryptionContext } from '@phiguard/core/crypto';

/** Length of every data key a keyring wraps: AES-256. */
export const DATA_KEY_BYTES = 32;

/* Precondition: a data key is exactly 32 bytes. */
export function checkDataKey(owner: string, plaintext: unknown): asserts plaintext is Uint8Array {
  if (!(plaintext instanceof Uint8Array) || plaintext.length !== DATA_KEY_BYTES) {
    throw new OptionsError(`${owner}: a data key must be a Uint8Array of ${DATA_KEY_BYTES} bytes.`);
  }
}

/* Precondition: a context is an object of string values (checked without echoing any value). */
export function checkContext(owner: string, context: unknown): asserts context is EncryptionContext {
  if (typeof context !== 'object' || context === null || Array.isArray(context)) {
    throw new OptionsError(`${owner}: the encryption context must be an object of strings.`);
  }
  for (const [key, value] of Object.entries(context)) {
    if (typeof value !== 'string') {
      throw new OptionsError(`${owner}: encryption context entry "${key}" must be a string.`);
    }
  }
}

/* Precondition: wrapped entries are an array of { keyId: string, ciphertext: Uint8Array }. */
export function checkWrapped(owner: string, wrapped: unknown): void {
  const ok =
    Array.isArray(wrapped) &&
    wrapped.every(
      (w: unknown) =>
        typeof w === 'object' &&
        w !== null &&
        typeof (w as { keyId?: unknown }).keyId === 'string' &&
        (w as { ciphertext?: unknown }).ciphertext instanceof Uint8Array,
    );
  if (!ok) throw new OptionsError(`${owner}: wrapped keys must be an array of { keyId, ciphertext }.`);
}
