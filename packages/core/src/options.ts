/**
 * The options convention of every phiguard factory: a schema declared next to the factory's
 * options interface (one rule per key, checked against the interface by the compiler), parsed
 * once at start-up. Parsing reports every problem at once in one OptionsError whose `issues` say,
 * for each, the option path, what was expected and what kind of value was received; unknown keys
 * carry the closest known key. Never the value itself: options hold secrets and keys.
 */
import { OptionsError, type OptionIssue, type ValueKind } from './errors.js';
import { closest } from './suggest.js';
import type { Clock } from './base/clock.js';

/** What kind of value `value` is, for an issue; the value itself is never read further. */
export function kindOf(value: unknown): ValueKind {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (value instanceof Uint8Array) return 'bytes';
  if (value instanceof RegExp) return 'regexp';
  return typeof value as ValueKind;
}

/** How one option is checked. Build rules with {@link option}. */
export interface OptionRule<T> {
  /** What the value must be, in words that complete "must be …": `a function`, `an integer from 1 to 60`. */
  readonly expected: string;
  /** Kinds of value that may pass (others are a `type` issue); null accepts any kind. */
  readonly kinds: readonly ValueKind[] | null;
  /** A further check within those kinds (a failure is an `invalid` issue). */
  readonly test?: (value: unknown) => boolean;
  readonly required: boolean;
  /** The rules of a nested options object. */
  readonly schema?: OptionsSchema<T>;
  /** Carries T for the compiler only. */
  readonly type?: T;
}

/** One rule per key of T: the compiler refuses a schema that forgets a key of the interface. */
export type OptionsShape<T> = { readonly [K in keyof T]-?: OptionRule<Exclude<T[K], undefined>> };

/** The options of one factory, parsed. */
export interface OptionsSchema<T> {
  /** How the options are named in messages (`phiguard`, `createScanner`). */
  readonly label: string;
  /** Every key the schema knows. */
  readonly keys: readonly string[];
  /** The rules by key, to compose into another schema. */
  readonly shape: OptionsShape<T>;
  /** The options typed, or an OptionsError listing every issue. `undefined` parses as `{}` when no key is required. */
  parse(options: unknown): T;
  /** The issues `parse` would throw, `path` prefixed with `at` (for a nested schema). */
  check(options: unknown, at?: string): OptionIssue[];
  /**
   * This schema with more keys (or other rules for keys it has), named `label` in messages about
   * them; messages about the original keys keep this schema's label, so an adapter that extends
   * the engine's options never re-words the engine's messages.
   */
  extend<U>(label: string, shape: OptionsShape<U>): OptionsSchema<Omit<T, keyof U> & U>;
}

const rule = <T>(expected: string, kinds: readonly ValueKind[] | null, test?: (value: unknown) => boolean): OptionRule<T> =>
  Object.freeze({ expected, kinds, required: false, ...(test === undefined ? {} : { test }) });
const hasMethods = (value: unknown, methods: readonly string[]): boolean =>
  methods.every((m) => typeof (value as Record<string, unknown>)[m] === 'function');

/** Rule builders for {@link optionsSchema}. Every rule is optional unless wrapped in `option.required`. */
export const option = Object.freeze({
  string: (expected = 'a string', test?: (value: string) => boolean): OptionRule<string> => rule(expected, ['string'], test as (v: unknown) => boolean),
  number: (expected = 'a number', test?: (value: number) => boolean): OptionRule<number> => rule(expected, ['number'], test as (v: unknown) => boolean),
  /** An integer from `min` to `max`. */
  integer: (min: number, max: number, expected = `an integer from ${min} to ${max}`): OptionRule<number> =>
    rule(expected, ['number'], (v) => Number.isInteger(v) && (v as number) >= min && (v as number) <= max),
  /** A safe integer of at least `min`. */
  atLeast: (min: number, expected = `an integer ≥ ${min}`): OptionRule<number> => option.integer(min, Number.MAX_SAFE_INTEGER, expected),
  boolean: (): OptionRule<boolean> => rule('true or false', ['boolean']),
  func: <F extends (...args: never[]) => unknown>(expected = 'a function'): OptionRule<F> => rule(expected, ['function']),
  /** One of a few strings. */
  oneOf: <const V extends readonly string[]>(values: V): OptionRule<V[number]> =>
    rule(values.map((v) => `"${v}"`).join(' or '), ['string'], (v) => values.includes(v as string)),
  array: <T>(expected = 'an array', test?: (value: readonly unknown[]) => boolean): OptionRule<readonly T[]> => rule(expected, ['array'], test as (v: unknown) => boolean),
  /** An object with these methods (an interface: AuditSink, Keyring, StateStore…). */
  implementing: <T>(expected: string, ...methods: string[]): OptionRule<T> => rule(expected, ['object'], (v) => hasMethods(v, methods)),
  /** Anything the kinds and the test accept. */
  custom: <T>(expected: string, kinds: readonly ValueKind[] | null, test?: (value: unknown) => boolean): OptionRule<T> => rule(expected, kinds, test),
  /** A key whose value another check owns (a compile option, a nested factory's options). */
  any: <T>(expected = 'a value'): OptionRule<T> => rule(expected, null),
  /** The `clock` option every time-reading factory takes. */
  clock: (): OptionRule<Clock> => rule('a Clock ({ now(): epoch milliseconds })', ['object'], (v) => hasMethods(v, ['now'])),
  /** A nested options object, with its own keys. */
  nested: <T>(schema: OptionsSchema<T>, expected = 'an object'): OptionRule<T> => Object.freeze({ ...rule<T>(expected, ['object']), schema }),
  required: <T>(r: OptionRule<T>): OptionRule<T> => Object.freeze({ ...r, required: true }),
});

/** Keys are code, not data; still, a message quotes at most 40 printable characters of one. */
const shown = (key: string): string => key.replace(/[^\x20-\x7e]/g, '?').slice(0, 40);

const ARTICLE: Record<ValueKind, string> = {
  undefined: 'nothing', null: 'null', boolean: 'a boolean', number: 'a number', bigint: 'a bigint', string: 'a string',
  symbol: 'a symbol', function: 'a function', array: 'an array', object: 'an object', bytes: 'bytes', regexp: 'a RegExp',
};

/** An issue with the label of the schema that owns its key, for the message only. */
type Owned = OptionIssue & { readonly owner?: string };

function sentence(label: string, i: Owned): string {
  const who = i.owner ?? label;
  switch (i.problem) {
    case 'unknown':
      return `unknown ${who} option "${i.path}"${i.suggestion === undefined ? '' : `; did you mean "${i.suggestion}"?`}`;
    case 'missing':
      return `${who} needs \`${i.path}\`: ${i.expected}`;
    default:
      return i.path === '' ? `${who} options must be ${i.expected} (received ${ARTICLE[i.received]})` : `${who}: \`${i.path}\` must be ${i.expected} (received ${ARTICLE[i.received]})`;
  }
}

/** The one message of a list of issues: the sentence of each, one per line when there are several. */
export function optionsMessage(label: string, issues: readonly OptionIssue[]): string {
  const lines = issues.map((i) => sentence(label, i));
  return lines.length === 1 ? lines[0]! : `Invalid ${label} options (${lines.length} problems):\n- ${lines.join('\n- ')}`;
}

/** Throws the OptionsError of these issues (none: returns). */
export function throwIssues(label: string, issues: readonly OptionIssue[]): void {
  if (issues.length > 0) throw new OptionsError(optionsMessage(label, issues), issues.map(({ owner: _, ...i }: Owned) => Object.freeze(i)));
}

/**
 * An OptionsError for one option a factory checks itself (a relation between keys, a length):
 * path and expectation in words, the kind of what it got.
 */
export function optionIssue(label: string, path: string, expected: string, received: unknown, problem: 'type' | 'invalid' | 'missing' = 'invalid'): OptionsError {
  const issue: OptionIssue = { problem, path, expected, received: kindOf(received) };
  return new OptionsError(optionsMessage(label, [issue]), [issue]);
}

/**
 * The key check alone, for options whose values a function checks itself: refuses a non-object
 * and every unknown key (with the closest of `known`), as structured issues.
 */
export function checkKeys(label: string, options: unknown, known: readonly string[]): void {
  optionsSchema<Record<string, unknown>>(label, Object.fromEntries(known.map((k) => [k, ANY]))).parse(options ?? null);
}
const ANY = option.any();

/** Declares the options of a factory: `optionsSchema<ScannerOptions>('createScanner', { types: option.array(), … })`. */
export function optionsSchema<T extends object>(label: string, shape: OptionsShape<T>): OptionsSchema<T> {
  return build<T>(label, label, new Map(Object.entries(shape).map(([k, r]) => [k, { rule: r as OptionRule<unknown>, owner: label }])));
}

interface Entry {
  readonly rule: OptionRule<unknown>;
  /** The label of the schema that declared the key. */
  readonly owner: string;
}

/** `base`: the first schema's label, owner of unknown keys that resemble none (the engine's, for an adapter). */
function build<T>(label: string, base: string, entries: ReadonlyMap<string, Entry>): OptionsSchema<T> {
  const keys = Object.freeze([...entries.keys()]);
  const anyRequired = [...entries.values()].some((e) => e.rule.required);
  const check = (options: unknown, at = ''): OptionIssue[] => {
    const issues: Owned[] = [];
    const own = (owner: string) => (owner === label ? {} : { owner });
    if (options === undefined && !anyRequired) return issues;
    if (options === null || typeof options !== 'object' || Array.isArray(options)) {
      issues.push({ problem: 'type', path: at, expected: 'an object', received: kindOf(options), ...own(label) });
      return issues;
    }
    const o = options as Record<string, unknown>;
    for (const key of Object.keys(o)) {
      if (entries.has(key)) continue;
      const near = closest(key, keys);
      // A misspelt key is named as an option of whoever owns the key it resembles.
      issues.push({
        problem: 'unknown', path: at + shown(key), expected: 'a known option', received: kindOf(o[key]),
        ...(near === undefined ? {} : { suggestion: at + near }), ...own(near === undefined ? base : entries.get(near)!.owner),
      });
    }
    for (const [key, { rule: r, owner }] of entries) {
      const value = Object.hasOwn(o, key) ? o[key] : undefined;
      const path = at + key;
      if (value === undefined) {
        if (r.required) issues.push({ problem: 'missing', path, expected: r.expected, received: 'undefined', ...own(owner) });
        continue;
      }
      const kind = kindOf(value);
      if (r.kinds !== null && !r.kinds.includes(kind)) issues.push({ problem: 'type', path, expected: r.expected, received: kind, ...own(owner) });
      else if (r.schema !== undefined) issues.push(...r.schema.check(value, `${path}.`).map((i: Owned) => (i.owner === undefined ? { ...i, ...own(r.schema!.label) } : i)));
      else if (r.test !== undefined && !r.test(value)) issues.push({ problem: 'invalid', path, expected: r.expected, received: kind, ...own(owner) });
    }
    return issues;
  };
  return Object.freeze({
    label,
    keys,
    shape: Object.freeze(Object.fromEntries([...entries].map(([k, e]) => [k, e.rule]))) as OptionsShape<T>,
    check,
    parse(options: unknown): T {
      throwIssues(label, check(options));
      return (options ?? {}) as T;
    },
    extend<U>(extra: string, shape: OptionsShape<U>): OptionsSchema<Omit<T, keyof U> & U> {
      const next = new Map(entries);
      for (const [k, r] of Object.entries(shape)) next.set(k, { rule: r as OptionRule<unknown>, owner: entries.get(k)?.owner ?? extra });
      return build(extra, base, next);
    },
  });
}
