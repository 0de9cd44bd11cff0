import { OptionsError } from '../errors.js';
import type { EncryptionContext } from './keyring.js';

/**
 * The canonical byte encoding of an encryption context, used as additional authenticated data:
 * entries sorted by key (UTF-16 code unit order), each as
 * `u16 keyLength | key UTF-8 | u16 valueLength | value UTF-8`, preceded by a `u16` entry count.
 * Length prefixes make the encoding injective: `{a: 'b=c'}` and `{'a=b': 'c'}` differ.
 */
export function encodeContext(context: EncryptionContext): Buffer {
  const keys = Object.keys(context).sort();
  const parts: Buffer[] = [];
  let size = 2;
  for (const key of keys) {
    const value = context[key];
    if (typeof value !== 'string') throw new OptionsError(`Encryption context entry "${key}" must be a string.`);
    const k = Buffer.from(key, 'utf8');
    const v = Buffer.from(value, 'utf8');
    if (k.length > 0xffff || v.length > 0xffff) throw new OptionsError(`Encryption context entry "${key}" is too long.`);
    parts.push(k, v);
    size += 4 + k.length + v.length;
  }
  if (keys.length > 0xffff) throw new OptionsError('Encryption context has too many entries.');
  const out = Buffer.allocUnsafe(size);
  out.writeUInt16BE(keys.length, 0);
  let at = 2;
  for (const part of parts) {
    out.writeUInt16BE(part.length, at);
    part.copy(out, at + 2);
    at += 2 + part.length;
  }
  return out;
}
