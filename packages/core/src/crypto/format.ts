import { DecryptError } from '../errors.js';

/**
 * The field ciphertext, text form: `pg1.` + base64url (no padding) of
 * `suite (1) | key id (16) | IV (12) | ciphertext (n) | tag (16)`. See CIPHERTEXT.md.
 */
export const PREFIX = 'pg1.';
/** AES-256-GCM, key derived from the data key with HKDF-SHA256, key id = key commitment. */
export const SUITE_AES256_GCM_HKDF_COMMIT = 0x01;
export const KEY_ID_BYTES = 16;
export const IV_BYTES = 12;
export const TAG_BYTES = 16;
export const HEADER_BYTES = 1 + KEY_ID_BYTES;
/** Bytes a value grows by in binary form. */
export const OVERHEAD_BYTES = HEADER_BYTES + IV_BYTES + TAG_BYTES;

const BASE64URL = /^[A-Za-z0-9_-]*$/;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Shortest text form: the prefix and the base64url of an empty value's overhead. */
const MIN_TEXT = PREFIX.length + Math.ceil((OVERHEAD_BYTES * 4) / 3);

/**
 * True when `value` has the shape of a phiguard field ciphertext: the prefix, then base64url
 * long enough to hold the overhead. Does not authenticate it; free text never has that shape.
 */
export function isCiphertext(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length >= MIN_TEXT &&
    value.startsWith(PREFIX) &&
    // The overhead's worth of characters suffices to tell it from text, at a bounded cost.
    BASE64URL.test(value.slice(PREFIX.length, MIN_TEXT))
  );
}

/**
 * Decodes the text form strictly. Base64 decoders skip unknown characters and ignore the unused
 * low bits of the last character; either would let a modified string decrypt, so both are refused.
 */
export function decodeCiphertext(text: string): Buffer {
  if (typeof text !== 'string' || !text.startsWith(PREFIX)) {
    if (typeof text === 'string' && /^pg\d+\./.test(text)) throw new DecryptError('unsupported_version');
    throw new DecryptError('malformed');
  }
  const body = text.slice(PREFIX.length);
  const rem = body.length % 4;
  if (rem === 1) throw new DecryptError('malformed');
  if (rem !== 0) {
    const last = ALPHABET.indexOf(body[body.length - 1]!);
    const unusedBits = rem === 2 ? 0b1111 : 0b11;
    if (last < 0 || (last & unusedBits) !== 0) throw new DecryptError('malformed');
  }
  // The decoder skips characters outside the alphabet, so any such character makes the output
  // shorter than the length implies; '+' and '/' (standard base64) it would accept as '-' and '_'.
  const bytes = Buffer.from(body, 'base64url');
  if (bytes.length !== Math.floor((body.length * 3) / 4) || body.includes('+') || body.includes('/')) {
    throw new DecryptError('malformed');
  }
  if (bytes.length < OVERHEAD_BYTES) throw new DecryptError('malformed');
  if (bytes[0] !== SUITE_AES256_GCM_HKDF_COMMIT) throw new DecryptError('unsupported_version');
  return bytes;
}
