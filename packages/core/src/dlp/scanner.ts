/** `createScanner`: validates options once, then scans text for PHI in linear time. */
import { OptionsError } from '../errors.js';
import { didYouMean } from '../suggest.js';
import { option, optionsSchema } from '../options.js';
import type { Finding, PhiType } from './types.js';
import { mapSpan, normalize, type NormalizedText } from './normalize.js';
import { assertSafeRegex } from './safe-regex.js';
import { detectAddresses } from './detectors/address.js';
import { detectTextDates, detectWordAges } from './detectors/dates.js';
import { detectHl7 } from './detectors/hl7.js';
import {
  detectContextIds,
  detectInstitution,
  detectUdi,
  detectVin,
  type CompiledInstitutionPattern,
  type ContextIdType,
} from './detectors/identifiers.js';
import { PORTAL_CUE, detectNames } from './detectors/names.js';
import { detectNumeric } from './detectors/numeric.js';
import { F, P, ScanState, type RawFinding } from './detectors/state.js';
import { Kw, kindMask } from './context.js';
import { detectEmail, detectIpv6, detectUrl } from './detectors/web.js';
import {
  mapStrings,
  redactText,
  walkStrings,
  type ObjectFinding,
  type RedactObjectOptions,
  type RedactObjectResult,
  type RedactOptions,
  type ScanObjectOptions,
} from './walk.js';

/** Every PhiType, in contract order. */
export const PHI_TYPES: readonly PhiType[] = Object.freeze([
  'PERSON_NAME',
  'STREET_ADDRESS',
  'ZIP_CODE',
  'DATE',
  'AGE_OVER_89',
  'PHONE',
  'FAX',
  'EMAIL',
  'SSN',
  'MRN',
  'HEALTH_PLAN_ID',
  'ACCOUNT_NUMBER',
  'LICENSE_NUMBER',
  'NPI',
  'DEA_NUMBER',
  'VEHICLE_ID',
  'DEVICE_ID',
  'URL',
  'IP_ADDRESS',
  'CREDIT_CARD',
]);

/** A span a custom detector reports; offsets in the text it was given (end exclusive). */
export interface DetectedSpan {
  readonly start: number;
  readonly end: number;
  /** 0..1; defaults to 0.9. */
  readonly confidence?: number;
}

/**
 * A user-added detector written as code. `find` receives the normalized text the built-in
 * detectors see (invisible characters dropped, digits of any script folded, entities decoded,
 * split identifiers joined; see the DLP README) and must run in linear time. Spans outside the
 * text or empty are ignored.
 */
export interface FunctionDetector {
  readonly type: PhiType;
  find(text: string): Iterable<DetectedSpan>;
}

/**
 * A user-added detector written as a regular expression. The pattern must be linear-time safe
 * (bounded repetition `{m,n}` with n ≤ 100, no backreferences, no quantified groups holding
 * quantifiers or alternatives); it is checked when the scanner is created.
 */
export interface PatternDetector {
  readonly type: PhiType;
  readonly pattern: RegExp;
  /** 0..1; defaults to 0.9. */
  readonly confidence?: number;
}

/** A user-added detector: code (`find`) or a safe pattern (`pattern`). */
export type CustomDetector = FunctionDetector | PatternDetector;

/** An institution-specific identifier format, e.g. `{ type: 'MRN', pattern: /\bMGH\d{7}\b/ }`. */
export interface InstitutionPattern {
  readonly type: ContextIdType;
  readonly pattern: RegExp;
}

/** Options of `createScanner`. */
export interface ScannerOptions {
  /** Report only these types (default: all). */
  readonly types?: readonly PhiType[];
  /** Extra detectors run after the built-in ones. */
  readonly detectors?: readonly CustomDetector[];
  /** Known person names (first or last, any case): a capitalised occurrence is a PERSON_NAME. */
  readonly names?: Iterable<string>;
  /** Identifier formats of your institution (linear-time safe patterns, checked at creation). */
  readonly institutionPatterns?: readonly InstitutionPattern[];
  /** Drop findings below this confidence (0..1, default 0). */
  readonly minConfidence?: number;
}

/** Options of {@link Scanner.scan}. */
export interface ScanOptions {
  /**
   * The key or label the text was found under (`memberId`, `ssn`, `dateOfBirth`): read as the
   * text's context, as if the text were its JSON value (`"memberId":"W28810392"`), never
   * reported itself.
   * `scanObject`, `redactObject` and request-body DLP pass each string's key.
   */
  readonly label?: string;
}

/** A scanner created by `createScanner`. */
export interface Scanner {
  /**
   * Findings in `text`, sorted by start then end; offsets in UTF-16 code units of `text`, end
   * exclusive. Overlaps are resolved: spans of one type merge; between types the higher
   * confidence wins, then the longer span, then the earlier one. A scan that finds nothing returns
   * one shared frozen empty array (copy it before adding to it).
   */
  scan(text: string, options?: ScanOptions): Finding[];
  /**
   * Findings in every string of a JSON-like value (own enumerable string keys, arrays), each with
   * the `path` of its string (segments; `formatPath` renders `notes[2].text`). Throws
   * `LimitExceededError` past `maxDepth` / `maxNodes`.
   */
  scanObject(value: unknown, options?: ScanObjectOptions): ObjectFinding[];
  /** `text` with each finding replaced by `[TYPE]` (default) or a same-length `*` mask. */
  redact(text: string, options?: RedactOptions): string;
  /** A deep copy of `value` with every string redacted, and the counts by type. Never mutates `value`. */
  redactObject<T>(value: T, options?: RedactObjectOptions): RedactObjectResult<T>;
}

const OPTIONS = optionsSchema<ScannerOptions>('createScanner', {
  types: option.array('an array of PHI types'),
  detectors: option.array('an array of detectors { type, find } or { type, pattern }'),
  names: option.custom('an iterable of strings (an array or a Set)', ['array', 'object'], (n) => typeof (n as Iterable<string>)[Symbol.iterator] === 'function'),
  institutionPatterns: option.array('an array of { type, pattern }'),
  minConfidence: option.number('a number between 0 and 1', (c) => c >= 0 && c <= 1),
});
const CONTEXT_ID_TYPES: readonly ContextIdType[] = ['MRN', 'HEALTH_PLAN_ID', 'ACCOUNT_NUMBER', 'LICENSE_NUMBER', 'DEVICE_ID'];

function checkType(t: unknown, where: string, allowed: readonly string[] = PHI_TYPES): PhiType {
  if (typeof t !== 'string' || !allowed.includes(t)) {
    const shown = typeof t === 'string' ? `"${t.slice(0, 40)}"` : typeof t;
    throw new OptionsError(
      `${where}: unknown PHI type ${shown}${typeof t === 'string' ? didYouMean(t, allowed) : ''}. ` +
        `Expected one of: ${allowed.join(', ')}.`,
    );
  }
  return t as PhiType;
}

interface CompiledDetector {
  readonly type: PhiType;
  readonly run: (text: string) => Iterable<DetectedSpan>;
  readonly confidence: number;
}

function compileDetector(d: unknown, i: number): CompiledDetector {
  const where = `createScanner: detectors[${i}]`;
  if (d === null || typeof d !== 'object') throw new OptionsError(`${where} must be an object { type, find } or { type, pattern }.`);
  const o = d as Record<string, unknown>;
  const type = checkType(o['type'], `${where}.type`);
  const confidence = o['confidence'] === undefined ? 0.9 : o['confidence'];
  if (typeof confidence !== 'number' || !(confidence >= 0 && confidence <= 1)) {
    throw new OptionsError(`${where}.confidence must be a number between 0 and 1.`);
  }
  if (typeof o['find'] === 'function') {
    const find = o['find'] as (text: string) => Iterable<DetectedSpan>;
    return { type, confidence, run: (text) => find.call(d, text) };
  }
  if (o['pattern'] instanceof RegExp) {
    const re = o['pattern'];
    assertSafeRegex(re, `${where}.pattern`);
    const g = new RegExp(re.source, re.flags.replace(/[gy]/g, '') + 'g');
    return { type, confidence, run: (text) => regexSpans(g, text) };
  }
  throw new OptionsError(`${where} needs a find(text) function or a pattern RegExp.`);
}

function* regexSpans(re: RegExp, text: string): Iterable<DetectedSpan> {
  re.lastIndex = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    if (m[0].length === 0) {
      re.lastIndex++;
      continue;
    }
    yield { start: m.index, end: m.index + m[0].length };
  }
}

/**
 * Resolves overlaps in findings sorted by (start, end) with a stack sweep, O(n). Mutates the
 * findings it merges (they are this scan's own objects).
 */
function resolve(sorted: RawFinding[]): RawFinding[] {
  const kept: RawFinding[] = [];
  for (const f of sorted) {
    let drop = false;
    while (kept.length > 0) {
      const last = kept[kept.length - 1]!;
      if (last.end <= f.start) break;
      if (last.type === f.type) {
        // Same type: one finding covering both.
        last.end = Math.max(last.end, f.end);
        last.confidence = Math.max(last.confidence, f.confidence);
        drop = true;
        break;
      }
      // A URL or e-mail address that contains another finding is reported whole: redacting only
      // the inner part ("…/p/DOB%2004%2F12%2F1951") would leave the rest of the link readable.
      const lastContains = last.end >= f.end && CONTAINERS.has(last.type);
      const fContains = f.start <= last.start && f.end >= last.end && CONTAINERS.has(f.type);
      const lastWins =
        lastContains ||
        (!fContains &&
          (last.confidence > f.confidence || (last.confidence === f.confidence && last.end - last.start >= f.end - f.start)));
      if (lastWins) {
        drop = true;
        break;
      }
      kept.pop();
    }
    if (!drop) kept.push(f);
  }
  return kept;
}

/** Types whose span wins over any finding inside it. */
const CONTAINERS: ReadonlySet<PhiType> = new Set<PhiType>(['URL', 'EMAIL']);

const byPosition = (a: RawFinding, b: RawFinding) => a.start - b.start || a.end - b.end;

/**
 * Sorts findings by (start, end) in place, keeping the order of equal ones. Each detector emits in
 * text order, so a short list is nearly sorted: an insertion sort (stable, as
 * Array.prototype.sort) orders it with few moves and no comparator calls; a long one (where
 * insertion could go quadratic) is checked, then sorted by the engine.
 */
function sortByPosition(xs: RawFinding[]): void {
  if (xs.length > 32) {
    for (let i = 1; i < xs.length; i++) {
      if (byPosition(xs[i - 1]!, xs[i]!) > 0) {
        xs.sort(byPosition);
        return;
      }
    }
    return;
  }
  for (let i = 1; i < xs.length; i++) {
    const f = xs[i]!;
    let j = i - 1;
    while (j >= 0 && (xs[j]!.start > f.start || (xs[j]!.start === f.start && xs[j]!.end > f.end))) {
      xs[j + 1] = xs[j]!;
      j--;
    }
    xs[j + 1] = f;
  }
}

/**
 * The result of every scan that finds nothing: one shared frozen array, so the common case of a
 * string without PHI allocates nothing.
 */
const NO_FINDINGS = Object.freeze([]) as unknown as Finding[];

/**
 * Characters that can start a finding: a digit, a capital, '@', '&', '%', '<', '^', '|', ':' (an
 * IPv6 address may hold no digit: `::`, `dead:beef::cafe`) or a
 * non-ASCII character; text without any of them needs a lower-case cue. One character class: the
 * engine's scan loop reads it several times faster than the pass, and allocates nothing.
 */
const INTERESTING = /[0-9A-Z@&%<^|:\u0080-\uffff]/;
/**
 * Lower-case cues: a first-person name, an age in words, a spelled "at", digit words. Words as the
 * pass reads them in such text (runs of letters; '_' and digits end one, where \b would not):
 * a cue starts after a non-letter, and the short ones, which the detectors read only as whole
 * words, end before one ("patient" and "phone" hold no cue).
 */
const LOWER_CUES = /(?<![a-z])(?:this is|i am|i'm|my name is|ninety|(?:at|zero|oh|one|two|three|four|five|six|seven|eight|nine)(?![a-z]))/i;

/**
 * `text` as a flat string: `' ' + text` is a new rope, and a slice of a rope flattens it into one
 * copy and returns a view into it (same characters, same offsets); a short slice is a plain copy.
 *
 * Every text the pass and the detectors read goes through here (or is a plain string from
 * `normalize`), so their `charCodeAt` sites see at most four string representations (view or
 * plain copy, one- or two-byte). A fifth (a rope, an interned literal) makes a site megamorphic,
 * and the engine then reads each character through a generic call, several times slower.
 */
function flat(text: string): string {
  return (' ' + text).slice(1);
}

/** A normalized text, flat: `normalize` decodes in chunks of 8192 units, so a longer one is a rope. */
const flatLong = (t: string): string => (t.length > 8192 ? flat(t) : t);

/** Creates a scanner. Options are validated here, once; invalid options throw `OptionsError`. */
export function createScanner(options: ScannerOptions = {}): Scanner {
  OPTIONS.parse(options);
  let types: ReadonlySet<PhiType> = new Set(PHI_TYPES);
  if (options.types !== undefined) types = new Set(options.types.map((t: unknown, i) => checkType(t, `createScanner: types[${i}]`)));
  const minConfidence = options.minConfidence ?? 0;
  const custom = (options.detectors ?? []).map(compileDetector);
  let names: Set<string> | undefined;
  if (options.names !== undefined) {
    names = new Set();
    for (const n of options.names) {
      if (typeof n !== 'string') throw new OptionsError('createScanner: every entry of names must be a string.');
      const t = n.trim().toLowerCase();
      if (t.length >= 2) names.add(t);
    }
  }
  const institution: CompiledInstitutionPattern[] = (options.institutionPatterns ?? []).map((p: unknown, i) => {
    const where = `createScanner: institutionPatterns[${i}]`;
    if (p === null || typeof p !== 'object') throw new OptionsError(`${where} must be an object { type, pattern }.`);
    const o = p as Record<string, unknown>;
    const type = checkType(o['type'], `${where}.type`, CONTEXT_ID_TYPES) as ContextIdType;
    const re = o['pattern'];
    if (!(re instanceof RegExp)) throw new OptionsError(`${where}.pattern must be a RegExp.`);
    assertSafeRegex(re, `${where}.pattern`);
    return { type, regex: new RegExp(re.source, re.flags.replace(/[gy]/g, '') + 'g') };
  });

  const any = (...ts: PhiType[]) => ts.some((t) => types.has(t));
  const numeric = any('SSN', 'CREDIT_CARD', 'NPI', 'PHONE', 'FAX', 'DATE', 'ZIP_CODE', 'IP_ADDRESS', 'AGE_OVER_89', 'DEA_NUMBER');
  const hl7 = any('PERSON_NAME', 'DATE', 'STREET_ADDRESS', 'ZIP_CODE', 'PHONE', 'SSN', 'MRN', 'ACCOUNT_NUMBER', 'HEALTH_PLAN_ID', 'LICENSE_NUMBER');

  const mask = kindMask(types);
  const wantsNames = types.has('PERSON_NAME');
  const wantsContextIds = any('MRN', 'HEALTH_PLAN_ID', 'ACCOUNT_NUMBER', 'LICENSE_NUMBER', 'DEVICE_ID', 'VEHICLE_ID');
  const contextKinds = (1 << Kw.Mrn) | (1 << Kw.Plan) | (1 << Kw.Account) | (1 << Kw.License) | (1 << Kw.Device) | (1 << Kw.Plate);
  const nameKinds = (1 << Kw.NameLabel) | (1 << Kw.Title) | (1 << Kw.Signoff) | (1 << Kw.Credential);
  let pooled: ScanState | undefined;

  // Which detectors can run, decided once.
  const wantsEmail = types.has('EMAIL');
  const wantsUrl = types.has('URL');
  const wantsIp = types.has('IP_ADDRESS');
  const wantsVin = types.has('VEHICLE_ID');
  const wantsDevice = types.has('DEVICE_ID');
  const wantsDate = types.has('DATE');
  const wantsAge = types.has('AGE_OVER_89');
  const wantsAddress = types.has('STREET_ADDRESS');

  // Labels that hold a context word, by label (bounded: keys may come from a request body).
  const labelled = new Map<string, boolean>();
  let probe: ScanState | undefined;
  /** True when `label` holds a context word, so that the text under it reads differently. */
  function hasContext(label: string): boolean {
    let v = labelled.get(label);
    if (v === undefined) {
      // One state for every new label: only the pass runs on it, never a detector.
      probe ??= new ScanState(types, mask);
      probe.reset(flat(`"${label}":`));
      v = probe.kw.count > 0;
      if (labelled.size >= 1024) labelled.clear();
      labelled.set(label, v);
    }
    return v;
  }

  function scan(text: string, options?: ScanOptions): Finding[] {
    if (typeof text !== 'string') throw new OptionsError('scan(text): text must be a string.');
    // Compared with '' rather than read as `length`: inputs come in many string representations, and
    // one property read across them all is a megamorphic lookup on every call.
    if (text === '' || types.size === 0) return NO_FINDINGS;
    const label = options?.label;
    if (typeof label === 'string' && label.length > 0 && label.length <= 64 && hasContext(label)) return scanUnder(label, text);
    return scanText(text);
  }

  /**
   * `text` read as the value of a JSON member named `label` (`"label":"text"`, the form the
   * detectors read keys in: a key such as "name" then reads as FHIR's); findings inside the label
   * are dropped, the rest shifted back onto `text`.
   */
  function scanUnder(label: string, text: string): Finding[] {
    const prefix = label.length + 4;
    const found = scanText(`"${label}":"${text}"`);
    if (found.length === 0) return NO_FINDINGS;
    const out: Finding[] = [];
    for (const f of found) {
      if (f.end <= prefix || f.start >= prefix + text.length) continue;
      (f as { start: number }).start = Math.max(0, f.start - prefix);
      (f as { end: number }).end = Math.min(text.length, f.end - prefix);
      out.push(f);
    }
    return out.length === 0 ? NO_FINDINGS : out;
  }

  function scanText(text: string): Finding[] {
    // Pre-filter: without digits, capitals, '@', '&', '%', '<', '^', '|' or a non-ASCII character,
    // only a lower-case cue ("this is maria", "ninety", a spelled "at", digit words) can lead to
    // a finding; most short JSON values stop here, before the pass, with no allocation.
    // A portal cue read here is not read again where the names detector is chosen (same text).
    let portal: boolean | undefined;
    if (custom.length === 0 && !INTERESTING.test(text) && !LOWER_CUES.test(text) && !(portal = PORTAL_CUE.test(text))) return NO_FINDINGS;
    // One state per scanner, reused; a scan started from inside a scan (a custom detector) gets its own.
    const s = pooled !== undefined && !pooled.busy ? pooled : new ScanState(types, mask);
    pooled ??= s;
    s.busy = true;
    try {
      // One copy: a rope (from concatenation) read as a flat string, and few representations at
      // the detectors' charCodeAt sites (see `flat`).
      text = flat(text);
      // One pass: features, normalizer landmarks, digit runs, VIN candidates, context words.
      s.reset(text);
      let feats = s.features;
      let norm: NormalizedText | undefined;
      let t = text;
      // The normalized view only when the pass saw something it could change: plain text (ASCII,
      // or letters such as é that read as themselves) is its own view, with no copy and no maps.
      if ((s.flags & (P.Rewrite | P.Fold)) !== 0) {
        norm = normalize(text, feats, false, s.buffers);
        if (norm.text !== text) {
          t = flatLong(norm.text);
          s.reset(t);
          feats = s.features;
        }
      }
      if (s.digitWords >= 3) {
        // Digits spelled as words ("six one seven …"): a second normalization reads them.
        norm = normalize(text, -1, true, s.buffers);
        t = flatLong(norm.text);
        s.reset(t);
        feats = s.features;
      }
      if (numeric && (feats & (F.Digit)) !== 0) detectNumeric(s);
      if (wantsEmail && (feats & (F.At)) !== 0) detectEmail(s);
      if (wantsUrl && (feats & (F.Colon | F.Dot)) !== 0) detectUrl(s);
      if (wantsIp && (feats & (F.Colon)) !== 0) detectIpv6(s);
      if (wantsVin && s.vins > 0) detectVin(s);
      if (wantsContextIds && (s.kw.seen & contextKinds) !== 0) detectContextIds(s);
      if (wantsDevice && (feats & (F.Paren)) !== 0 && (feats & (F.Digit)) !== 0) detectUdi(s);
      if (wantsDate && s.has(Kw.Month) && (feats & (F.Digit)) !== 0) detectTextDates(s);
      if (wantsAge && s.has(Kw.Ninety)) detectWordAges(s);
      if (wantsAddress && ((feats & (F.Digit)) !== 0 || s.has(Kw.PoBox))) detectAddresses(s);
      if (wantsNames && ((s.kw.seen & nameKinds) !== 0 || (feats & (F.Upper | F.NonAscii | F.Caret | F.Lt)) !== 0 || (portal ?? PORTAL_CUE.test(text)))) detectNames(s, names);
      if (hl7 && (feats & (F.Bar)) !== 0) detectHl7(s);
      if (institution.length > 0) detectInstitution(s, institution);
      for (const d of custom) {
        if (!types.has(d.type)) continue;
        for (const span of d.run(t)) {
          const { start, end } = span;
          if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > t.length || end <= start) continue;
          const c = span.confidence ?? d.confidence;
          s.emit(d.type, start, end, typeof c === 'number' && c >= 0 && c <= 1 ? c : d.confidence);
        }
      }
      const out = s.out;
      if (out.length === 0) return NO_FINDINGS;
      const raw = minConfidence > 0 ? out.filter((f) => f.confidence >= minConfidence) : out;
      sortByPosition(raw);
      const kept = resolve(raw);
      // The kept findings are this scan's own objects: map offsets in place, no copies.
      for (const f of kept) {
        if (norm !== undefined) mapSpan(norm, f);
        f.confidence = Math.round(f.confidence * 100) / 100;
      }
      return kept;
    } finally {
      s.busy = false;
    }
  }

  function scanObject(value: unknown, opts: ScanObjectOptions = {}): ObjectFinding[] {
    const out: ObjectFinding[] = [];
    walkStrings(
      value,
      opts,
      (str, path, inKey) => {
        const found = inKey ? scan(str) : scan(str, { label: keyOf(path) });
        for (const f of found) out.push(inKey ? { ...f, path: [...path], inKey: true } : { ...f, path: [...path] });
      },
      opts.keys === true,
    );
    return out;
  }

  function redact(text: string, opts: RedactOptions = {}): string {
    checkStyle(opts);
    return redactText(text, scan(text), opts);
  }

  function redactObject<T>(value: T, opts: RedactObjectOptions = {}): RedactObjectResult<T> {
    checkStyle(opts);
    const counts: Partial<Record<PhiType, number>> = {};
    const copy = mapStrings(value, opts, (str, key) => {
      const findings = scan(str, { label: key });
      if (findings.length === 0) return str;
      for (const f of findings) counts[f.type] = (counts[f.type] ?? 0) + 1;
      return redactText(str, findings, opts);
    });
    return { value: copy as T, counts };
  }

  return { scan, scanObject, redact, redactObject };
}

/** The key a string of a JSON-like value stands under: the nearest key of its path (array indexes skipped). */
export function keyOf(path: readonly (string | number)[]): string | undefined {
  for (let i = path.length - 1; i >= 0; i--) {
    const seg = path[i];
    if (typeof seg === 'string') return seg;
  }
  return undefined;
}

function checkStyle(opts: RedactOptions): void {
  if (opts.style !== undefined && opts.style !== 'type' && opts.style !== 'mask') {
    throw new OptionsError(`redact: unknown style "${String(opts.style).slice(0, 20)}"${didYouMean(String(opts.style), ['type', 'mask'])}; use 'type' or 'mask'.`);
  }
}

let defaultScanner: Scanner | undefined;
/** The scanner with default options, created on first use. */
export function getDefaultScanner(): Scanner {
  return (defaultScanner ??= createScanner());
}

/**
 * `text` with each finding replaced by `[TYPE]` (style `'type'`, default) or `*` per UTF-16 unit
 * (style `'mask'`). Without `findings`, scans `text` with the default scanner first.
 */
export function redact(text: string, findings?: readonly Finding[], options: RedactOptions = {}): string {
  checkStyle(options);
  return redactText(text, findings ?? getDefaultScanner().scan(text), options);
}

/** `redactObject` of the given scanner (default: a scanner with default options). */
export function redactObject<T>(value: T, options: RedactObjectOptions & { readonly scanner?: Scanner } = {}): RedactObjectResult<T> {
  const { scanner, ...rest } = options;
  return (scanner ?? getDefaultScanner()).redactObject(value, rest);
}

/** `scanObject` of the given scanner (default: a scanner with default options). */
export function scanObject(value: unknown, options: ScanObjectOptions & { readonly scanner?: Scanner } = {}): ObjectFinding[] {
  const { scanner, ...rest } = options;
  return (scanner ?? getDefaultScanner()).scanObject(value, rest);
}
