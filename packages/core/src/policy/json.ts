/**
 * The one reader of values as JSON.stringify sees them (`toJSON` honoured), shared by the plans,
 * the field index and the engine, so no consumer walks a model's internals instead of its JSON.
 */

/**
 * The value JSON.stringify would serialize at this position: an object's `toJSON(key)` result
 * (Date, ORM instances such as Sequelize models or Mongoose documents), else the value itself.
 * Projecting what would be serialized means fields a model hides through `toJSON` stay hidden,
 * and an instance whose columns live behind getters is not projected as `{}`.
 */
export function jsonOf(value: unknown, key: string | number): unknown {
  // Binary data stays binary (and is never sent): Buffer's toJSON would spell out its bytes.
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function' && !ArrayBuffer.isView(value)) {
    return (value as { toJSON(key: string): unknown }).toJSON(typeof key === 'string' ? key : String(key));
  }
  return value;
}

/**
 * Reads a concrete path as JSON.stringify would see it: `toJSON` applied at each step, so a
 * subject or id inside a model instance is found. Undefined when absent.
 */
export function readJsonPath(value: unknown, segments: readonly string[]): unknown {
  let cur = value;
  for (const s of segments) {
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, s)) return undefined;
    cur = jsonOf((cur as Record<string, unknown>)[s], s);
  }
  return cur;
}
