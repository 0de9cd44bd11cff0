import { createHmac, timingSafeEqual } from 'node:crypto';
import { OptionsError } from '../errors.js';
import { didYouMean } from '../suggest.js';

/** A secret as given: UTF-8 text or raw bytes. */
export type SecretInput = string | Uint8Array;

/** @internal Secret bytes, refusing ones shorter than `min` bytes. */
export function secretBytes(secret: unknown, what: string, min = 32): Buffer {
  let bytes: Buffer;
  if (typeof secret === 'string') bytes = Buffer.from(secret, 'utf8');
  else if (secret instanceof Uint8Array) bytes = Buffer.from(secret);
  else throw new OptionsError(`${what} must be a string or Uint8Array of at least ${min} bytes (e.g. randomBytes(32))`);
  if (bytes.length < min) throw new OptionsError(`${what} is ${bytes.length} bytes; use at least ${min} (e.g. randomBytes(32).toString('base64url'))`);
  return bytes;
}

/** @internal HMAC-SHA256. */
export function hmac(key: Uint8Array, data: string | Uint8Array): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

/** @internal Constant-time equality of two byte strings (false, not a throw, on length mismatch). */
export function safeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  return timingSafeEqual(a, b);
}

const B64URL = /^[A-Za-z0-9_-]*$/;

/**
 * @internal Strict base64url decoding: null on any character outside the alphabet and on
 * non-canonical text (spare low bits set), so that one token has exactly one spelling.
 */
export function fromBase64url(text: string): Buffer | null {
  if (!B64URL.test(text) || text.length % 4 === 1) return null;
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? bytes : null;
}

/** @internal Rejects unknown option keys with a suggestion. */
export function checkKeys(options: unknown, known: readonly string[], where: string): void {
  if (options === null || typeof options !== 'object') throw new OptionsError(`${where}: options must be an object`);
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) throw new OptionsError(`unknown ${where} option "${key}"${didYouMean(key, known)}`);
  }
}
