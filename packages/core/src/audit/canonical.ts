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
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const fast = eventText(value as Record<string, unknown>, null);
    if (fast !== null) return fast.head + fast.tail;
  }
  return write(value, 0);
}

/**
 * The canonical JSON of an object split around one member it does not carry: `head` and `tail`
 * such that `head + '"key":' + canonicalJson(v) + tail` is the canonical JSON of the object with
 * `key` set to `v` (any existing `key` member is left out). Lets the audit writer serialize an
 * event once and add its chain link later, without serializing it again.
 */
export function canonicalSplit(value: Readonly<Record<string, unknown>>, key: string): { readonly head: string; readonly tail: string } {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new TypeError('canonical JSON: not an object');
  const fast = eventText(value, key);
  if (fast !== null) return fast;
  const { sorted, names } = orderOf(Object.keys(value));
  let head = '{';
  let tail = '';
  for (let i = 0; i < sorted.length; i++) {
    const k = sorted[i]!;
    const item = value[k];
    if (k === key || item === undefined) continue;
    const member = names[i]! + write(item, 1);
    if (k < key) head += member + ',';
    else tail += ',' + member;
  }
  return { head, tail: tail + '}' };
}

/** An object shape's keys in canonical order, each with its `"key":` text. */
interface KeyOrder {
  readonly keys: readonly string[];
  readonly sorted: readonly string[];
  readonly names: readonly string[];
}

// Audit events are built with one fixed shape (the same keys in the same order), so the sort and
// the key texts are kept for the last few shapes seen instead of being redone per event.
const ORDERS_KEPT = 32;
const MAX_KEYS_KEPT = 64;
const orders: KeyOrder[] = [];

function orderOf(keys: string[]): KeyOrder {
  search: for (const order of orders) {
    if (order.keys.length !== keys.length) continue;
    for (let i = 0; i < keys.length; i++) if (order.keys[i] !== keys[i]) continue search;
    return order;
  }
  // Default sort: by UTF-16 code units, as RFC 8785 orders members.
  const sorted = keys.length > 1 ? [...keys].sort() : keys;
  const order: KeyOrder = { keys, sorted, names: sorted.map((k) => JSON.stringify(k) + ':') };
  if (keys.length <= MAX_KEYS_KEPT) {
    if (orders.length === ORDERS_KEPT) orders.pop();
    orders.unshift(order);
  }
  return order;
}

// Frozen objects whose members are all primitives or themselves cached cannot change: their
// text is kept (a plan's memoised `disclosed` and `transforms` are serialized once per plan).
const frozenText = new WeakMap<object, string>();

// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;
/** A string as JSON.stringify writes it; most audit strings need no escape, and quoting them directly is cheaper. */
function quote(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`;
}

/** Audit events are shallow; anything this deep is a cycle or not an event. */
const MAX_DEPTH = 32;

function write(value: unknown, depth: number): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return quote(value);
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
  const cached = frozenText.get(value as object);
  if (cached !== undefined) return cached;
  const text = serialize(value as object, depth);
  if (Object.isFrozen(value) && immutableMembers(value as Record<string, unknown>)) frozenText.set(value as object, text);
  return text;
}

function immutableMembers(value: object): boolean {
  if (Object.getPrototypeOf(value) !== null && Object.getPrototypeOf(value) !== Object.prototype && !Array.isArray(value)) return false;
  for (const d of Object.values(Object.getOwnPropertyDescriptors(value))) {
    if (!('value' in d)) return false; // a getter may answer differently next time
    const item: unknown = d.value;
    if (item !== null && typeof item === 'object' && !frozenText.has(item)) return false;
  }
  return true;
}

function serialize(value: object, depth: number): string {
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
  const { sorted, names } = orderOf(Object.keys(record));
  let out = '{';
  let first = true;
  for (let i = 0; i < sorted.length; i++) {
    const item = record[sorted[i]!];
    if (item === undefined) continue;
    out += (first ? '' : ',') + names[i]! + write(item, depth + 1);
    first = false;
  }
  return out + '}';
}

// ── audit events: members known by name ─────────────────────────────────────────────────────
// Every event the engine builds has members from one short list, and its actor, patient,
// resource and request from short lists of their own: those are written here in canonical order
// by name, without listing, sorting or looking up the keys of each object per event. Anything
// else (an unknown key, an accessor's object, a member that is not a plain object) falls back to
// the general writer, which gives the same text.

/** A member list in canonical order, its `"key":` texts, and the key lists already read. */
interface Members {
  readonly keys: readonly string[];
  readonly names: readonly string[];
  /** Member → its position in `keys`. */
  readonly known: ReadonlyMap<string, number>;
  /** Own-key lists already read, each with the positions of its members in canonical order. */
  readonly seen: { readonly keys: readonly string[]; readonly present: readonly number[] }[];
}

/** `"key":` texts of a member list, which must already be in canonical order. */
function members(keys: readonly string[]): Members {
  const sorted = [...keys].sort();
  if (sorted.some((k, i) => k !== keys[i])) throw new Error('canonical JSON: member list out of order');
  return { keys, names: keys.map((k) => JSON.stringify(k) + ':'), known: new Map(keys.map((k, i) => [k, i])), seen: [] };
}

const EVENT = members([
  'action',
  'actor',
  'attemptedAction',
  'breakGlass',
  'chain',
  'disclosed',
  'disclosure',
  'dlp',
  'id',
  'outcome',
  'patient',
  'patients',
  'purposeOfUse',
  'query',
  'reason',
  'request',
  'resource',
  'time',
  'transforms',
]);
const NESTED: Readonly<Record<string, Members>> = {
  actor: members(['id', 'ip', 'roles', 'userAgent']),
  patient: members(['ref']),
  request: members(['method', 'requestId', 'route', 'traceId']),
  resource: members(['id', 'type']),
};

// The engine builds its objects in a few fixed shapes: a key list equal to one already read is
// not looked up again.
const SHAPES_SEEN = 8;

/**
 * The positions in `shape` of the own enumerable keys of `value`, in canonical order, or null
 * when it is not a plain object or holds a key `shape` does not know. Only own keys are read:
 * JSON.stringify writes no inherited key either (a polluted prototype adds nothing here).
 */
function presentMembers(value: object, shape: Members): readonly number[] | null {
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return null;
  const keys = Object.keys(value);
  search: for (const seen of shape.seen) {
    if (seen.keys.length !== keys.length) continue;
    for (let i = 0; i < keys.length; i++) if (seen.keys[i] !== keys[i]) continue search;
    return seen.present;
  }
  const present: number[] = [];
  for (const k of keys) {
    const at = shape.known.get(k);
    if (at === undefined) return null;
    present.push(at);
  }
  present.sort((x, y) => x - y);
  if (shape.seen.length === SHAPES_SEEN) shape.seen.pop();
  shape.seen.unshift({ keys, present });
  return present;
}

/** The canonical text of a known nested member, or null to use the general writer. */
function nestedText(value: unknown, shape: Members): string | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
  const present = presentMembers(value, shape);
  if (present === null) return null;
  const record = value as Record<string, unknown>;
  let out = '{';
  for (let j = 0; j < present.length; j++) {
    const i = present[j]!;
    const item = record[shape.keys[i]!];
    if (item === undefined) continue;
    out += (out.length === 1 ? '' : ',') + shape.names[i]! + write(item, 2);
  }
  return out + '}';
}

/**
 * An event's canonical text split around `omit` (as canonicalSplit; `omit` null: the whole text
 * in `head`, `tail` empty), or null when the object is not event-shaped.
 */
function eventText(value: Record<string, unknown>, omit: string | null): { head: string; tail: string } | null {
  const split = omit === null ? -1 : EVENT.known.get(omit);
  if (split === undefined) return null;
  const present = presentMembers(value, EVENT);
  if (present === null) return null;
  let head = '{';
  let tail = '';
  for (let j = 0; j < present.length; j++) {
    const i = present[j]!;
    if (i === split) continue;
    const key = EVENT.keys[i]!;
    const item = value[key];
    if (item === undefined) continue;
    const shape = NESTED[key];
    const member = EVENT.names[i]! + ((shape === undefined ? null : nestedText(item, shape)) ?? write(item, 1));
    if (split !== -1 && i > split) tail += ',' + member;
    else head += (head.length === 1 ? '' : ',') + member;
  }
  if (omit === null) return { head: head + '}', tail: '' };
  // canonicalSplit's form: every member before the split ends with a comma.
  return { head: head.length === 1 ? head : head + ',', tail: tail + '}' };
}
