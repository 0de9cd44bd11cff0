/**
 * Canonical JSON of an audit event, the bytes the hash chain authenticates.
 *
 * The form is RFC 8785 (JSON Canonicalization Scheme) restricted to what audit events hold:
 * object keys sorted by UTF-16 code units, no whitespace, strings escaped as `JSON.stringify`
 * escapes them, integers in shortest decimal form, `undefined` members omitted (as in
 * `JSON.stringify`, so an event survives a round trip through NDJSON or jsonb unchanged).
 */

/**
 * Serializes `value` canonically. Throws TypeError on values JSON cannot carry faithfully
 * (non-finite numbers, bigint, functions, symbols, cycles), rather than hashing something that
 * would not read back the same.
 */
export function canonicalJson(value: unknown): string {
  return write(value, 0);
}

/** Audit events are shallow; anything this deep is a cycle or not an event. */
const MAX_DEPTH = 32;

function write(value: unknown, depth: number): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('canonical JSON: non-finite number');
      // JSON.stringify gives ECMAScript's shortest round-trip form, which is what RFC 8785 uses; -0 → 0.
      return JSON.stringify(value);
    case 'object':
      break;
    default:
      throw new TypeError(`canonical JSON: cannot serialize a ${typeof value}`);
  }
  if (depth >= MAX_DEPTH) throw new TypeError('canonical JSON: nesting too deep (a circular reference?)');
  if (Array.isArray(value)) {
    // Array holes and undefined items become null, as JSON.stringify does.
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      out += (i === 0 ? '' : ',') + (item === undefined ? 'null' : write(item, depth + 1));
    }
    return out + ']';
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  if (keys.length > 1) keys.sort();
  let out = '{';
  let first = true;
  for (const key of keys) {
    const item = record[key];
    if (item === undefined) continue;
    out += (first ? '' : ',') + JSON.stringify(key) + ':' + write(item, depth + 1);
    first = false;
  }
  return out + '}';
}
