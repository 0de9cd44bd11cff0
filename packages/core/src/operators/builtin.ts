import { createHmac } from 'node:crypto';
import { RESTRICTED_ZIP3 } from './restricted-zip3.js';
import { PHI_TYPES, createScanner, type Scanner } from '../dlp/scanner.js';
import type { PhiType } from '../dlp/index.js';

/**
 * A compiled operator: maps a field's value to what is sent. Returning `undefined` omits the
 * field. Operators must be total: unexpected input yields `undefined` (fail closed), never a throw.
 */
export type OperatorFunction = (value: unknown) => unknown;

/**
 * A custom operator: called once per value with the rule's `args`. Return `undefined` to omit
 * the field. Must not throw on odd input and must not log values.
 */
export type CustomOperator = (value: unknown, args: Readonly<Record<string, unknown>>) => unknown;

/** What an operator factory may use at compile time. */
export interface OperatorEnvironment {
  /** Keyed deterministic digest (HMAC-SHA256 under the policy's token key). */
  readonly tokenDigest?: (domain: string, value: string) => Buffer;
  /** `tokenDigest`'s first 128 bits as base64url, from the policy's bounded cache. */
  readonly tokenText?: (domain: string, value: string) => string;
  /** Canonical path of the field the operator is bound to, e.g. `patient.mrn`. */
  readonly path: string;
}

/** A built-in operator: validates its arguments once and returns the per-value function. */
export interface OperatorFactory {
  /** Disclosure strength, used to merge the rules of several roles (highest wins). */
  readonly rank: number;
  /** Whether the field is sent (appears in the disclosure record). */
  readonly discloses: boolean;
  /** False for operators whose output does not depend on the value, so encrypted fields need no decryption. Default true. */
  readonly readsValue?: boolean;
  /** Argument names accepted in `{ op, …args }`; any other is a policy error. Absent: any (custom operators). */
  readonly args?: readonly string[];
  create(args: Readonly<Record<string, unknown>>, env: OperatorEnvironment): OperatorFunction | string;
}

const omit: OperatorFunction = () => undefined;

function isScalar(value: unknown): value is string | number {
  return typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));
}

function intArg(args: Readonly<Record<string, unknown>>, name: string, min: number, max: number, fallback: number) {
  const v = args[name] ?? fallback;
  return Number.isInteger(v) && (v as number) >= min && (v as number) <= max ? (v as number) : undefined;
}

function strArg(args: Readonly<Record<string, unknown>>, name: string, fallback: string, max = 64) {
  const v = args[name] ?? fallback;
  return typeof v === 'string' && v.length <= max ? v : undefined;
}

/** Keep the last `keep` characters behind a fixed-width mask: `****4821`. */
const partial: OperatorFactory = {
  args: ['keep', 'mask'],
  rank: 60,
  discloses: true,
  create(args) {
    const keep = intArg(args, 'keep', 0, 8, 4);
    const mask = strArg(args, 'mask', '****', 16);
    if (keep === undefined) return 'partial: "keep" must be an integer from 0 to 8';
    if (mask === undefined) return 'partial: "mask" must be a string of at most 16 characters';
    return (value) => {
      if (value === null) return null;
      if (!isScalar(value)) return undefined;
      const s = String(value);
      // A value no longer than what would be kept is masked whole, never revealed.
      return s.length <= keep || keep === 0 ? mask : mask + s.slice(-keep);
    };
  },
};

const INITIAL = /\p{L}/u;

function initialsOf(text: string): string {
  let out = '';
  for (const word of text.split(/[\s,]+/)) {
    const m = INITIAL.exec(word);
    if (m) out += `${m[0].toUpperCase()}.`;
  }
  return out;
}

/** HumanName `use` codes: they say which name it is, not whose, so initials keep them. */
const NAME_USES = new Set(['usual', 'official', 'temp', 'nickname', 'anonymous', 'old', 'maiden']);

/**
 * A FHIR HumanName reduced to initials in the same shape: `{ use, family: "L.", given: ["M.", "G."] }`
 * (and `text` as its initials). `prefix`, `suffix` and `period` are dropped: titles and dates
 * narrow down who it is. Nothing left of the name → undefined.
 */
function humanNameInitials(value: object): Record<string, unknown> | undefined {
  const name = value as { use?: unknown; text?: unknown; family?: unknown; given?: unknown };
  const out: Record<string, unknown> = {};
  if (typeof name.use === 'string' && NAME_USES.has(name.use)) out.use = name.use;
  const text = typeof name.text === 'string' ? initialsOf(name.text) : '';
  if (text) out.text = text;
  const family = typeof name.family === 'string' ? initialsOf(name.family) : '';
  if (family) out.family = family;
  if (Array.isArray(name.given)) {
    const given = name.given.flatMap((g) => (typeof g === 'string' ? [initialsOf(g)].filter(Boolean) : []));
    if (given.length > 0) out.given = given;
  }
  return text || family || out.given !== undefined ? out : undefined;
}

/**
 * Initials in the input's own shape, so typed clients keep working: a string → `"M.G.L."`; a
 * FHIR HumanName → a HumanName of initials; an array (HumanName[] or strings) → an array of
 * the same elements' initials, elements holding no name left out.
 */
const initials: OperatorFactory = {
  args: [],
  rank: 60,
  discloses: true,
  create() {
    const one = (value: unknown): unknown => {
      if (typeof value === 'string') return initialsOf(value) || undefined;
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) return humanNameInitials(value);
      return undefined;
    };
    return (value) => {
      if (value === null) return null;
      if (!Array.isArray(value)) return one(value);
      // One level only: an array inside the array is left out, so nested or circular arrays cannot recurse.
      const out = [];
      for (const element of value) {
        const v = one(element);
        if (v !== undefined) out.push(v);
      }
      return out.length > 0 ? out : undefined;
    };
  },
};

// The UTC year of the last call and the span it covers: a Date per value cost more than the rest
// of the operator.
let yearNow = 0;
let yearFrom = 0;
let yearTo = -1;

/** @internal `new Date(ms).getUTCFullYear()`, recomputed only when `ms` leaves the year of the last call. */
export function utcYear(ms: number): number {
  if (ms < yearFrom || ms >= yearTo) {
    yearNow = new Date(ms).getUTCFullYear();
    // setUTCFullYear, not Date.UTC, which reads years 0–99 as 1900–1999.
    yearFrom = new Date(0).setUTCFullYear(yearNow, 0, 1);
    yearTo = new Date(0).setUTCFullYear(yearNow + 1, 0, 1);
  }
  return yearNow;
}

const ISO_YEAR = /^(\d{4})(?:-\d{2}(?:-\d{2}(?:[T ].*)?)?)?$/;
const US_DATE_YEAR = /^\d{1,2}\/\d{1,2}\/(\d{4})$/;

/**
 * A date (ISO / FHIR date or dateTime, M/D/YYYY, or Date) → its year, as `"1957"`; withheld
 * when it is 90 or more years ago, since such a year implies an age over 89 (45 CFR
 * 164.514(b)(2)(i)(C)) whatever the field is called.
 */
const year: OperatorFactory = {
  args: [],
  rank: 60,
  discloses: true,
  create() {
    const recent = (y: number) => (utcYear(Date.now()) - y >= 90 ? undefined : String(y));
    return (value) => {
      if (value === null) return null;
      if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : recent(value.getUTCFullYear());
      if (typeof value !== 'string' || value.length > 40) return undefined;
      const m = ISO_YEAR.exec(value) ?? US_DATE_YEAR.exec(value);
      return m ? recent(Number(m[1])) : undefined;
    };
  },
};

const ZIP = /^(\d{3})\d{2}(?:-?\d{4})?$/;

/** ZIP or ZIP+4 → first three digits; the HHS restricted prefixes become `"000"`. */
const zip3: OperatorFactory = {
  args: [],
  rank: 60,
  discloses: true,
  create() {
    return (value) => {
      if (value === null) return null;
      const s = typeof value === 'number' && Number.isInteger(value) ? String(value).padStart(5, '0') : value;
      if (typeof s !== 'string') return undefined;
      const m = ZIP.exec(s.trim());
      if (!m) return undefined;
      return RESTRICTED_ZIP3.has(m[1]!) ? '000' : m[1];
    };
  },
};

/**
 * Ages over 89 aggregated into one "90 or older" category (45 CFR 164.514(b)(2)(i)(C)), in the
 * input's type so a column never mixes numbers and strings: a number over 89 → `90` (the top
 * code, read as "90 or older"), a numeric string over 89 → `"90+"`. Younger ages unchanged.
 */
const age90: OperatorFactory = {
  args: [],
  rank: 60,
  discloses: true,
  create() {
    return (value) => {
      if (value === null) return null;
      if (typeof value === 'number') return !Number.isFinite(value) || value < 0 ? undefined : value > 89 ? 90 : value;
      if (typeof value !== 'string' || !/^\d{1,3}$/.test(value.trim())) return undefined;
      return Number(value) > 89 ? '90+' : value;
    };
  },
};

// eslint-disable-next-line no-control-regex
const ASCII = /^[\u0000-\u007f]*$/;

/** Keyed deterministic token: `tok_` + 22 base64url characters (128 bits of HMAC-SHA256). */
const token: OperatorFactory = {
  args: ['prefix', 'domain'],
  rank: 40,
  discloses: true,
  create(args, env) {
    const prefix = strArg(args, 'prefix', 'tok_', 16);
    const domain = strArg(args, 'domain', env.path, 128);
    if (prefix === undefined) return 'token: "prefix" must be a string of at most 16 characters';
    if (domain === undefined) return 'token: "domain" must be a string of at most 128 characters';
    const digest = env.tokenDigest;
    if (!digest) return 'token: needs a secret; pass `secret` (32+ random bytes) to phiguard(), PhiGuardModule, createPhiGuard or compilePolicy, whichever you call';
    // Cached per policy, bounded by `tokenCache` (see token-cache.ts).
    const text = env.tokenText ?? ((d: string, v: string) => digest(d, v).subarray(0, 16).toString('base64url'));
    return (value) => {
      if (value === null) return null;
      if (!isScalar(value)) return undefined;
      const v = String(value);
      // ASCII is already NFC: no call into ICU for most ids.
      return prefix + text(domain, ASCII.test(v) ? v : v.normalize('NFC'));
    };
  },
};

/** Fixed marker in place of the value: `"[REDACTED]"` unless `with` says otherwise. */
const replace: OperatorFactory = {
  args: ['with'],
  rank: 20,
  discloses: true,
  readsValue: false,
  create(args) {
    const marker = strArg(args, 'with', '[REDACTED]');
    if (marker === undefined) return 'replace: "with" must be a string of at most 64 characters';
    return (value) => (value === undefined ? undefined : marker);
  },
};

const scanners = new Map<string, Scanner>();
/** Free text with the identifiers the DLP scanner finds replaced by `[SSN]`-style markers (or masked). */
const scrub: OperatorFactory = {
  args: ['types', 'style'],
  rank: 70,
  discloses: true,
  create(args) {
    const types = args.types;
    if (types !== undefined && (!Array.isArray(types) || types.some((t) => !PHI_TYPES.includes(t as PhiType)))) {
      return `scrub: "types" must be a list of ${PHI_TYPES.join(', ')}`;
    }
    const style = args.style ?? 'type';
    if (style !== 'type' && style !== 'mask') return 'scrub: "style" must be "type" or "mask"';
    const key = types === undefined ? '*' : [...(types as string[])].sort().join(',');
    let scanner = scanners.get(key);
    if (scanner === undefined) {
      scanner = createScanner(types === undefined ? {} : { types: types as PhiType[] });
      scanners.set(key, scanner);
    }
    const s = scanner;
    return (value) => (typeof value === 'string' ? s.redact(value, { style }) : value === null ? null : undefined);
  },
};

const nullify: OperatorFactory = { args: [], rank: 20, discloses: true, readsValue: false, create: () => (v) => (v === undefined ? undefined : null) };
/** Removed from the output; recorded as a transform so audit shows it was withheld on purpose. */
const redact: OperatorFactory = { args: [], rank: 10, discloses: false, readsValue: false, create: () => omit };
/** Not sent. The default for every PHI field a rule does not mention. */
const deny: OperatorFactory = { args: [], rank: 0, discloses: false, readsValue: false, create: () => omit };
/** Sent as is. Objects and arrays are copied within the limits (see `send` in plan.ts). */
const send: OperatorFactory = { args: [], rank: 100, discloses: true, create: () => (v) => v };

export const BUILTIN_OPERATORS: Readonly<Record<string, OperatorFactory>> = Object.freeze(
  Object.assign(Object.create(null) as Record<string, OperatorFactory>, {
    send,
    deny,
    redact,
    null: nullify,
    replace,
    partial,
    initials,
    year,
    zip3,
    age90,
    token,
    scrub,
  }),
);

/** Wraps a user's operator so that it is total: a throw becomes "omit". */
export function customOperatorFactory(fn: CustomOperator): OperatorFactory {
  return {
    rank: 50,
    discloses: true,
    create(args) {
      return (value) => {
        try {
          return fn(value, args);
        } catch {
          return undefined;
        }
      };
    },
  };
}

/** HMAC-SHA256 under `key` of `domain ‖ 0x00 ‖ value`. */
export function hmacDigest(key: Buffer, domain: string, value: string): Buffer {
  return createHmac('sha256', key).update(domain).update('\0').update(value).digest();
}
