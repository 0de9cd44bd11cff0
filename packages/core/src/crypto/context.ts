import { OptionsError } from '../errors.js';
import type { EncryptionContext } from './keyring.js';

/**
 * The canonical byte encoding of an encryption context, used as additional authenticated data:
 * entries sorted by key (UTF-16 code unit order), each as
 * `u16 keyLength | key UTF-8 | u16 valueLength | value UTF-8`, preceded by a `u16` entry count.
 * Length prefixes make the encoding injective: `{a: 'b=c'}` and `{'a=b': 'c'}` differ.
 */
export function encodeContext(context: EncryptionContext): Buffer {
  const keys = Object.keys(context);
  if (keys.length > 1) keys.sort();
  if (keys.length > 0xffff) throw new OptionsError('Encryption context has too many entries.');
  // Sized first, then written in place: one allocation per context.
  let size = 2;
  for (const key of keys) {
    const value = context[key];
    if (typeof value !== 'string') throw new OptionsError(`Encryption context entry "${key}" must be a string.`);
    const k = Buffer.byteLength(key, 'utf8');
    const v = Buffer.byteLength(value, 'utf8');
    if (k > 0xffff || v > 0xffff) throw new OptionsError(`Encryption context entry "${key}" is too long.`);
    size += 4 + k + v;
  }
  const out = Buffer.allocUnsafe(size);
  out.writeUInt16BE(keys.length, 0);
  let at = 2;
  for (const key of keys) {
    at = writeString(out, key, at);
    at = writeString(out, context[key]!, at);
  }
  return out;
}

function writeString(out: Buffer, s: string, at: number): number {
  const n = out.write(s, at + 2, 'utf8');
  out.writeUInt16BE(n, at);
  return at + 2 + n;
}
