/**
 * HIPAA Safe Harbor de-identification (45 CFR 164.514(b)(2)) of records a policy classifies:
 * direct identifiers removed, quasi-identifiers generalized, free text scrubbed, anything
 * unclassified removed. Reports what was done per field path, never a value.
 */
import { LimitExceededError, OptionsError, needs } from '../errors.js';
import { didYouMean } from '../suggest.js';
import { option, optionsSchema } from '../options.js';
import { RESTRICTED_ZIP3 } from '../operators/restricted-zip3.js';
import { safeHarborDetectors } from './residual.js';
import { childOf, mapTree, type FieldTree } from '../policy/field-index.js';
import type { CompiledPolicy } from '../policy/compile.js';
import type { AccessContext } from '../context.js';
import { withholdSensitive } from '../policy/withhold.js';
import type { FieldClass } from '../policy/types.js';
import { createScanner, type Scanner } from '../dlp/scanner.js';
import { redactText } from '../dlp/walk.js';
import type { PhiType } from '../dlp/index.js';

/**
 * How a quasi-identifier is generalized.
 * - `year`: a date (ISO/FHIR date or dateTime, M/D/YYYY, `14 March 1931`, Date) → its year;
 *   removed when the year is 90 or more years ago (a date that old implies an age over 89,
 *   whatever the field is called); other values removed.
 * - `birth-year`: the same rule, reported as a birth year (164.514(b)(2)(i)(C)).
 * - `zip3`: ZIP or ZIP+4 → first three digits; restricted prefixes → `000`; other values removed.
 * - `age90`: ages over 89 → `"90+"`; younger ages unchanged; non-ages removed.
 * - `keep`: sent unchanged (state, sex: Safe Harbor allows them).
 * - `remove`: removed.
 */
export type QuasiIdentifierRule = 'year' | 'birth-year' | 'zip3' | 'age90' | 'keep' | 'remove';

/** What Safe Harbor did to the values at one path. */
export type SafeHarborAction =
  | 'removed:direct-identifier'
  | 'removed:unclassified'
  | 'removed:quasi-identifier'
  | 'removed:birth-year-over-89'
  | 'removed:year-over-89'
  | 'removed:free-text'
  | 'removed:sensitive'
  | 'removed:sensitive-category'
  | 'removed:record-id'
  | 'removed:by-option'
  | 'generalized:year'
  | 'generalized:zip3'
  | 'generalized:zip3-restricted'
  | 'generalized:age90'
  | 'kept:quasi-identifier'
  | 'scrubbed';

/** Identifier types counted while scrubbing: the DLP types, and `KNOWN_IDENTIFIER` for the record's own identifiers. */
export type ScrubType = PhiType | 'KNOWN_IDENTIFIER';

/** One line of the report: a field path (policy spelling, `[]` for elements), an action, how many values. */
export interface SafeHarborEntry {
  readonly path: string;
  readonly action: SafeHarborAction;
  readonly count: number;
  /** For `scrubbed`: identifiers replaced, by type. */
  readonly findings?: Readonly<Partial<Record<ScrubType, number>>>;
}

/** What was done to one record: paths and counts only, never values. */
export interface SafeHarborReport {
  readonly resource: string;
  /** Sorted by path, then action. */
  readonly entries: readonly SafeHarborEntry[];
}

/** The de-identified copy and its report. The input is never mutated. */
export interface SafeHarborResult<T = unknown> {
  readonly value: T;
  readonly report: SafeHarborReport;
}

/** Options of {@link createSafeHarbor}. */
export interface SafeHarborOptions {
  /** The resource (of `policy`) the records are. Its field classes drive every decision. */
  readonly resource: string;
  /** A policy from `compilePolicy`. */
  readonly policy: CompiledPolicy;
  /**
   * DLP scanner for free text. Default: `createScanner()` with every type plus the Safe Harbor
   * residual detectors (`safeHarborDetectors()`: place names, partial dates, HL7 timestamps,
   * birth years of people aged 90+, plates, passports, MAC/IMEI/UDI, cued names, spelled-out
   * e-mails). A scanner of your own should include them too.
   */
  readonly scanner?: Scanner;
  /**
   * Three-digit ZIP prefixes reported as `000` (areas of 20,000 people or fewer). Default
   * `RESTRICTED_ZIP3` (computed from the 2020 Census ZCTA populations); `RESTRICTED_ZIP3_2000`
   * is HHS's list from the 2000 Census.
   */
  readonly restrictedZip3?: Iterable<string>;
  /** "Today", for the age-over-89 rule on birth years. Default: the current time. */
  readonly now?: Date | (() => Date);
  /** Free-text fields: `scrub` (DLP-redact, default) or `remove`. */
  readonly freeText?: 'scrub' | 'remove';
  /** Sensitive-category fields: `keep` (default: health information, not identifiers) or `remove`. */
  readonly sensitive?: 'keep' | 'remove';
  /**
   * Rule per declared quasi-identifier path, overriding the inference from the path name
   * (`*birth*` → birth-year, `*zip*`/`*postal*` → zip3, `age` → age90, `state`/`gender`/`sex`/
   * `country` → keep, anything else → year, which removes values that are not dates).
   */
  readonly quasiIdentifiers?: Readonly<Record<string, QuasiIdentifierRule>>;
  /**
   * Also replace, in free text, the strings found in this record's direct-identifier fields
   * (names, MRN, phone…) by `[IDENTIFIER]`: the scanner cannot know every name, the record does.
   * Default true.
   */
  readonly scrubKnownIdentifiers?: boolean;
  /**
   * Keep the resource's declared `id` field. Default false: a record id is a unique number in
   * your system (164.514(b)(2)(i)(R)) and would re-link the extract; link records with a
   * pseudonym or vault token instead (164.514(c)).
   */
  readonly keepResourceId?: boolean;
  /** Declared field paths to remove whatever their class (for example a non-PHI key that still links records). */
  readonly remove?: readonly string[];
  /**
   * The caller the records are de-identified for. Sensitive categories (HIV, genetic…) apply as
   * on every other route: the masked fields of a sensitive element are removed
   * (`removed:sensitive-category`) unless the policy reveals the category to this caller, and a
   * category revealed only with a second factor throws StepUpRequiredError without one. Absent:
   * nothing is revealed. A call can pass its own (`run(record, { context })`).
   */
  readonly context?: AccessContext | null;
}

/** Per-record options of a built de-identifier. */
export interface SafeHarborCall {
  /** The caller, for sensitive categories; overrides the built-in `context`. */
  readonly context?: AccessContext | null;
}

const LABEL = 'createSafeHarbor';
const OPTIONS = optionsSchema<SafeHarborOptions>(LABEL, {
  resource: option.required(option.string('the name of a resource of the policy')),
  policy: option.required(option.custom<CompiledPolicy>('a compiled policy (compilePolicy(definePolicy({…})))', ['object'], (v) => (v as CompiledPolicy).resources instanceof Map)),
  scanner: option.implementing('a DLP scanner (createScanner({…}))', 'scan'),
  now: option.custom('a valid Date or a function returning one', ['object', 'function'], (v) => typeof v === 'function' || (v instanceof Date && !Number.isNaN(v.getTime()))),
  freeText: option.oneOf(['scrub', 'remove'] as const),
  sensitive: option.oneOf(['keep', 'remove'] as const),
  quasiIdentifiers: option.custom('an object of field path → rule', ['object']),
  scrubKnownIdentifiers: option.boolean(),
  keepResourceId: option.boolean(),
  remove: option.array<string>('a list of declared field paths'),
  restrictedZip3: option.custom<Iterable<string>>('three-digit ZIP prefixes as strings ("036")', ['array', 'object'], (v) => {
    if (typeof (v as Iterable<unknown>)[Symbol.iterator] !== 'function') return false;
    return [...(v as Iterable<unknown>)].every((z) => typeof z === 'string' && /^\d{3}$/.test(z));
  }),
  context: option.custom<AccessContext | null>('an access context (the caller the records are for) or null', ['object', 'null']),
});
const RULES: readonly QuasiIdentifierRule[] = ['year', 'birth-year', 'zip3', 'age90', 'keep', 'remove'];

interface Field {
  readonly path: string;
  readonly cls: FieldClass | 'record-id' | 'by-option';
  readonly rule: QuasiIdentifierRule | null;
}

type Node = FieldTree<Field>;

/** Infers the generalization of a quasi-identifier from the last key of its path. */
export function inferQuasiIdentifierRule(path: string): QuasiIdentifierRule {
  const keys = path.split(/[.[\]]+/).filter((k) => k !== '' && k !== '*');
  const last = keys[keys.length - 1] ?? '';
  if (/^(state|gender|sex|country|administrativeGender)$/i.test(last)) return 'keep';
  // Birth dates under any common name: birthDate, date_of_birth, dob, DOB, born, bday, natal…
  if (/birth|natal|bday|^(?:dob|born)(?:[A-Z_-]|$)|[a-z_-](?:Dob|DOB|Born)(?:[A-Z_-]|$)|[_-](?:dob|born)$/i.test(last)) return 'birth-year';
  if (/zip|postal/i.test(last)) return 'zip3';
  if (/^age(?:[A-Z_]|$)|_age$|[a-z]Age$/.test(last) || /^age$/i.test(last)) return 'age90';
  return 'year';
}


/** Sets an own, enumerable property, even for keys such as `__proto__`. */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

const ISO_YEAR = /^(\d{4})(?:-\d{2}(?:-\d{2}(?:[T ][0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?)?)?)?$/;
const US_DATE_YEAR = /^\d{1,2}\/\d{1,2}\/(\d{4})$/;
const ZIP = /^(\d{3})\d{2}(?:-?\d{4})?$/;

// `14 March 1931`, `March 14, 1931`, `Mar 1931`.
const WORDY_DATE_YEAR = /^(?:\d{1,2}(?:st|nd|rd|th)?\s+)?[A-Za-z]{3,9}\.?(?:\s+\d{1,2}(?:st|nd|rd|th)?)?,?\s+(\d{4})$/;
const MONTHS = /^(?:\d{1,2}(?:st|nd|rd|th)?\s+)?(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)/i;
// HL7 DTM: YYYYMMDD[HHMM[SS]].
const HL7_YEAR = /^((?:18|19|20)\d{2})(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?:\d{4}(?:\d{2})?)?$/;

function yearOf(value: unknown): string | undefined {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : String(value.getUTCFullYear());
  if (typeof value !== 'string' || value.length > 40) return undefined;
  const s = value.trim();
  const m = ISO_YEAR.exec(s) ?? US_DATE_YEAR.exec(s) ?? HL7_YEAR.exec(s) ?? (MONTHS.test(s) ? WORDY_DATE_YEAR.exec(s) : null);
  return m ? m[1] : undefined;
}

function isPlainContainer(v: object): boolean {
  return !(v instanceof Date) && !(v instanceof RegExp) && !ArrayBuffer.isView(v) && !(v instanceof Map) && !(v instanceof Set) && !(v instanceof ArrayBuffer);
}

const KNOWN_MAX = 256;
const ESCAPE = /[.*+?^${}()|[\]\\]/g;

/** A de-identifier for one resource, built once by {@link createSafeHarbor}. */
export interface SafeHarbor {
  /** De-identifies one record. */
  <T = unknown>(record: T, call?: SafeHarborCall): SafeHarborResult<T>;
  /** De-identifies a stream of records (an iterable or async iterable), one result per record, in order. */
  all<T = unknown>(records: Iterable<T> | AsyncIterable<T>): AsyncGenerator<SafeHarborResult<T>, void, undefined>;
}

/**
 * Builds a Safe Harbor de-identifier for `options.resource` of a compiled policy. Validates the
 * options and precompiles the field tree once; call the result per record, or `.all(records)` for
 * a stream. Each record is de-identified by the Safe Harbor method
 * (45 CFR 164.514(b)(2)), driven by the policy's field classes:
 * - `direct-identifier` fields are removed;
 * - `quasi-identifier` fields are generalized: dates → year, birth years withheld when the person
 *   may be 90 or older, ages over 89 → `"90+"`, ZIP codes → ZIP3 with restricted prefixes →
 *   `"000"`, state and sex kept; a value the rule cannot read is removed;
 * - `free-text` fields are scrubbed by the DLP scanner (and of the record's own identifiers) or
 *   removed (`freeText: 'remove'`);
 * - `clinical`, `non-phi` (and by default `sensitive`) fields are kept;
 * - anything the policy does not classify is removed.
 */
export function createSafeHarbor(options: SafeHarborOptions): SafeHarbor {
  /* Precondition: options name a resource of a compiled policy, with known keys only. */
  const { policy, resource, freeText = 'scrub', sensitive = 'keep', now } = OPTIONS.parse(options ?? null);
  const compiled = policy.resources.get(resource);
  needs(
    compiled !== undefined,
    () => new OptionsError(`createSafeHarbor: unknown resource "${String(resource)}"${didYouMean(String(resource), policy.resources.keys())}.`),
  );
  const scrubKnown = options.scrubKnownIdentifiers ?? true;
  const overrides = options.quasiIdentifiers ?? {};
  for (const [path, rule] of Object.entries(overrides)) {
    const spec = compiled.fields.get(path);
    needs(
      spec?.class === 'quasi-identifier',
      () => new OptionsError(`createSafeHarbor: quasiIdentifiers."${path}" is not a quasi-identifier field of ${resource}${didYouMean(path, compiled.fields.keys())}.`),
    );
    needs(RULES.includes(rule), () => new OptionsError(`createSafeHarbor: quasiIdentifiers."${path}" must be one of ${RULES.join(', ')}.`));
  }
  const removeList = options.remove ?? [];
  for (const path of removeList) {
    needs(
      compiled.fields.has(path),
      () => new OptionsError(`createSafeHarbor: remove: "${String(path)}" is not a declared field of ${resource}${didYouMean(String(path), compiled.fields.keys())}.`),
    );
  }
  const keepResourceId = options.keepResourceId ?? false;
  const idPath = compiled.idPath === null ? null : compiled.idPath.join('.');
  const restricted: ReadonlySet<string> = options.restrictedZip3 === undefined ? RESTRICTED_ZIP3 : new Set(options.restrictedZip3);
  const today = (): Date => (typeof now === 'function' ? now() : (now ?? new Date()));
  const scanner = options.scanner ?? createScanner({ detectors: safeHarborDetectors({ now: today }) });
  const { maxDepth, maxNodes } = policy.limits;

  // The resource's field index, each field carrying what Safe Harbor does with it.
  const root: Node = mapTree(compiled.index.root, ({ path, spec }): Field => {
    const rule = spec.class === 'quasi-identifier' ? (Object.hasOwn(overrides, path) ? overrides[path]! : inferQuasiIdentifierRule(path)) : null;
    const cls = removeList.includes(path) ? 'by-option' : !keepResourceId && path === idPath ? 'record-id' : spec.class;
    return { path, cls, rule };
  });

  const run = function safeHarborRecord<T>(original: T, call?: SafeHarborCall): SafeHarborResult<T> {
    const thisYear = today().getUTCFullYear();
    const entries = new Map<string, { path: string; action: SafeHarborAction; count: number; findings?: Partial<Record<ScrubType, number>> }>();
    const note = (path: string, action: SafeHarborAction, findings?: Partial<Record<ScrubType, number>>): void => {
      const key = `${path}\0${action}`;
      let e = entries.get(key);
      if (e === undefined) entries.set(key, (e = { path, action, count: 0, ...(action === 'scrubbed' ? { findings: {} } : {}) }));
      e.count++;
      if (findings && e.findings) for (const [t, n] of Object.entries(findings)) e.findings[t as ScrubType] = (e.findings[t as ScrubType] ?? 0) + n;
    };
    // Sensitive categories first, by the policy's reveal and step-up rules for this caller.
    const withheld = new Map<string, number>();
    const context = call?.context !== undefined ? call.context : (options.context ?? null);
    const record = withholdSensitive(compiled, policy.access, policy.clock.now(), original, context, withheld, { left: maxNodes, limit: maxNodes }) as T;
    for (const [path, count] of withheld) for (let i = 0; i < count; i++) note(path, 'removed:sensitive-category');
    let nodes = 0;
    const visit = (depth: number): void => {
      if (++nodes > maxNodes) throw new LimitExceededError('maxNodes', maxNodes);
      if (depth > maxDepth) throw new LimitExceededError('maxDepth', maxDepth);
    };

    // Pass 1: the record's own identifiers, so free text quoting them can be scrubbed.
    const known = new Set<string>();
    const collect = (v: unknown, depth: number): void => {
      visit(depth);
      if (typeof v === 'string') {
        addKnown(known, v);
        return;
      }
      if (typeof v === 'number' && Number.isInteger(v)) addKnown(known, String(v));
      if (v === null || typeof v !== 'object' || !isPlainContainer(v)) return;
      for (const child of Array.isArray(v) ? v : Object.values(v)) collect(child, depth + 1);
    };
    const findIdentifiers = (v: unknown, node: Node, depth: number): void => {
      visit(depth);
      if (node.field !== null) {
        if (node.field.cls === 'direct-identifier') collect(v, depth);
        return;
      }
      if (v === null || typeof v !== 'object' || !isPlainContainer(v)) return;
      if (Array.isArray(v)) {
        if (node.element !== null) for (const el of v) findIdentifiers(el, node.element, depth + 1);
        return;
      }
      for (const k of Object.keys(v)) {
        const child = childOf(node, k);
        if (child !== null && child !== undefined) findIdentifiers((v as Record<string, unknown>)[k], child, depth + 1);
      }
    };
    if (freeText === 'scrub' && scrubKnown) findIdentifiers(record, root, 0);
    nodes = 0;
    const knownPattern = known.size === 0 ? null : knownIdentifierPattern(known);

    const scrubString = (s: string, counts: Partial<Record<ScrubType, number>>): string => {
      const findings = scanner.scan(s);
      for (const f of findings) counts[f.type] = (counts[f.type] ?? 0) + 1;
      let out = findings.length === 0 ? s : redactText(s, findings);
      if (knownPattern !== null) {
        out = out.replace(knownPattern, () => {
          counts.KNOWN_IDENTIFIER = (counts.KNOWN_IDENTIFIER ?? 0) + 1;
          return '[IDENTIFIER]';
        });
      }
      return out;
    };

    /** Deep copy of a kept value (plain containers only; other objects dropped). */
    const copy = (v: unknown, depth: number, leaf: (s: unknown) => unknown = (s) => s): unknown => {
      visit(depth);
      if (v === null || typeof v !== 'object') return typeof v === 'function' || typeof v === 'symbol' || typeof v === 'bigint' ? undefined : leaf(v);
      if (v instanceof Date) return leaf(new Date(v.getTime())); // a copy: Dates are mutable
      if (!isPlainContainer(v)) return undefined;
      if (Array.isArray(v)) {
        const out: unknown[] = [];
        for (const el of v) {
          const c = copy(el, depth + 1, leaf);
          if (c !== undefined) out.push(c);
        }
        return out;
      }
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(v)) {
        const c = copy((v as Record<string, unknown>)[k], depth + 1, leaf);
        if (c !== undefined) setOwn(out, k, c);
      }
      return out;
    };

    const generalize = (field: Field, v: unknown, depth: number): unknown => {
      const path = field.path;
      switch (field.rule) {
        case 'keep':
          note(path, 'kept:quasi-identifier');
          return copy(v, depth);
        case 'zip3': {
          const s = typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < 100_000 ? String(v).padStart(5, '0') : v;
          const m = typeof s === 'string' ? ZIP.exec(s.trim()) : null;
          if (m === null) break;
          const small = restricted.has(m[1]!);
          // 45 CFR 164.514(b)(2)(i)(B): three-digit areas of 20,000 people or fewer → 000.
          note(path, small ? 'generalized:zip3-restricted' : 'generalized:zip3');
          return small ? '000' : m[1];
        }
        case 'age90': {
          const n = typeof v === 'string' && /^\s*\d{1,3}\s*$/.test(v) ? Number(v) : v;
          if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) break;
          // 45 CFR 164.514(b)(2)(i)(C): ages over 89 aggregated into one category.
          if (n > 89) {
            note(path, 'generalized:age90');
            return '90+';
          }
          note(path, 'kept:quasi-identifier');
          return v;
        }
        case 'year':
        case 'birth-year': {
          if (v !== null && typeof v === 'object' && !(v instanceof Date)) {
            // A Period or a list of dates: each date → its year, anything else dropped.
            let any = false;
            const out = copy(v, depth, (leaf) => {
              const y = yearOf(leaf);
              if (y !== undefined && thisYear - Number(y) >= 90) return undefined;
              if (y !== undefined) any = true;
              return y;
            });
            if (!any) break;
            note(path, 'generalized:year');
            return out;
          }
          const y = yearOf(v);
          if (y === undefined) break;
          // A year "indicative of" an age over 89 is withheld like the age (164.514(b)(2)(i)(C)):
          // a birth date by its name, and any other date of the person that old by its value.
          if (thisYear - Number(y) >= 90) {
            note(path, field.rule === 'birth-year' ? 'removed:birth-year-over-89' : 'removed:year-over-89');
            return undefined;
          }
          // 45 CFR 164.514(b)(2)(i)(C): all elements of dates except the year.
          note(path, 'generalized:year');
          return y;
        }
        case 'remove':
        case null:
          break;
      }
      note(path, 'removed:quasi-identifier');
      return undefined;
    };

    const applyField = (field: Field, v: unknown, depth: number): unknown => {
      if (v === undefined) return undefined;
      switch (field.cls) {
        case 'direct-identifier':
          // 45 CFR 164.514(b)(2)(i)(A)–(R): removed, never transformed.
          note(field.path, 'removed:direct-identifier');
          return undefined;
        case 'quasi-identifier':
          if (v === null) return null;
          return generalize(field, v, depth);
        case 'free-text': {
          if (freeText === 'remove') {
            note(field.path, 'removed:free-text');
            return undefined;
          }
          const counts: Partial<Record<ScrubType, number>> = {};
          const out = copy(v, depth, (leaf) => (typeof leaf === 'string' ? scrubString(leaf, counts) : leaf instanceof Date ? undefined : leaf));
          note(field.path, 'scrubbed', counts);
          return out;
        }
        case 'sensitive':
          if (sensitive === 'remove') {
            note(field.path, 'removed:sensitive');
            return undefined;
          }
          return copy(v, depth);
        case 'clinical':
        case 'non-phi':
          return copy(v, depth);
        case 'record-id':
          note(field.path, 'removed:record-id');
          return undefined;
        case 'by-option':
          note(field.path, 'removed:by-option');
          return undefined;
      }
    };

    const walk = (v: unknown, node: Node, path: string, depth: number): unknown => {
      visit(depth);
      if (node.field !== null) return applyField(node.field, v, depth);
      if (v === undefined) return undefined;
      if (v === null) return null;
      if (typeof v !== 'object' || !isPlainContainer(v)) {
        // A value where the policy declares an object or array: not what was classified.
        note(path || '(root)', 'removed:unclassified');
        return undefined;
      }
      if (Array.isArray(v)) {
        if (node.element === null) {
          note(path || '(root)', 'removed:unclassified');
          return undefined;
        }
        const out: unknown[] = [];
        for (const el of v) {
          const c = walk(el, node.element, `${path}[]`, depth + 1);
          if (c !== undefined) out.push(c);
        }
        return out;
      }
      if (node.keys.size === 0 && node.anyKey === null) {
        // An object where the policy declares an array.
        note(path || '(root)', 'removed:unclassified');
        return undefined;
      }
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(v)) {
        const child = childOf(node, k);
        const childPath = path === '' ? k : `${path}.${k}`;
        if (child === undefined || child === null) {
          // Undeclared: removed (fail closed). The key is reported as a path; keys are schema, not values.
          note(childPath, 'removed:unclassified');
          continue;
        }
        const c = walk((v as Record<string, unknown>)[k], child, childPath, depth + 1);
        if (c !== undefined) setOwn(out, k, c);
      }
      return out;
    };

    const value = walk(record, root, '', 0) as T;
    const list = [...entries.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.action < b.action ? -1 : 1));
    return { value, report: { resource, entries: list } };
  };
  const all = <T>(records: Iterable<T> | AsyncIterable<T>): AsyncGenerator<SafeHarborResult<T>, void, undefined> =>
    (async function* stream() {
      for await (const record of records) yield run(record);
    })();
  return Object.assign(run, { all }) as SafeHarbor;
}

/** Strings worth looking for in free text: long enough, and not a code word such as `phone`. */
function addKnown(known: Set<string>, raw: string): void {
  if (known.size >= KNOWN_MAX) return;
  const s = raw.trim();
  if (s.length < 3 || s.length > 200) return;
  const digits = s.replace(/\D/g, '').length;
  if (digits > 0) {
    if (digits >= 4) known.add(s);
    return;
  }
  // Names and places are capitalised; `official`, `mobile`, `home` are codes.
  for (const word of s.split(/[\s,]+/)) if (word.length >= 3 && /^\p{Lu}/u.test(word)) known.add(word);
  if (/^\p{Lu}/u.test(s) && s.includes(' ')) known.add(s);
}

function knownIdentifierPattern(known: Set<string>): RegExp {
  // Longest first, so "Avery Quinn" wins over "Avery". Literal alternatives: linear time.
  const alternatives = [...known].sort((a, b) => b.length - a.length).map((s) => s.replace(ESCAPE, '\\$&'));
  return new RegExp(`(?<![\\p{L}\\p{N}])(?:${alternatives.join('|')})(?![\\p{L}\\p{N}])`, 'giu');
}
