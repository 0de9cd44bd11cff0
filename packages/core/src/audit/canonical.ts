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
  return write(value, new Set());
}

function write(value: unknown, seen: Set<object>): string {
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
  const obj = value as object;
  if (seen.has(obj)) throw new TypeError('canonical JSON: circular reference');
  seen.add(obj);
  let out: string;
  if (Array.isArray(obj)) {
    // Array holes and undefined items become null, as JSON.stringify does.
    out = '[' + obj.map((item) => (item === undefined ? 'null' : write(item, seen))).join(',') + ']';
  } else {
    const record = obj as Record<string, unknown>;
    const keys = Object.keys(record).sort();
    const parts: string[] = [];
    for (const key of keys) {
      const item = record[key];
      if (item === undefined) continue;
      parts.push(JSON.stringify(key) + ':' + write(item, seen));
    }
    out = '{' + parts.join(',') + '}';
  }
  seen.delete(obj);
  return out;
}
