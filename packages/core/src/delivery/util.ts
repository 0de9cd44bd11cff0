import { createHmac, timingSafeEqual } from 'node:crypto';
import { checkKeys as checkOptionKeys, optionIssue } from '../options.js';

/** A secret as given: UTF-8 text or raw bytes. */
export type SecretInput = string | Uint8Array;

/** @internal Secret bytes (option `path` of `label`), refusing ones shorter than `min` bytes. */
export function secretBytes(secret: unknown, label: string, path: string, min = 32): Buffer {
  let bytes: Buffer;
  if (typeof secret === 'string') bytes = Buffer.from(secret, 'utf8');
  else if (secret instanceof Uint8Array) bytes = Buffer.from(secret);
  else throw optionIssue(label, path, `a string or Uint8Array of at least ${min} bytes (e.g. randomBytes(32))`, secret, secret === undefined ? 'missing' : 'type');
  if (bytes.length < min) throw optionIssue(label, path, `at least ${min} bytes (e.g. randomBytes(32).toString('base64url'))`, secret);
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

/** @internal Rejects unknown option keys with a suggestion (structured issues). */
export const checkKeys = (options: unknown, known: readonly string[], where: string): void => checkOptionKeys(where, options, known);
