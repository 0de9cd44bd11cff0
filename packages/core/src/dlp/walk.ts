/**
 * JSON walking and redaction helpers: scan every string of a JSON-like value, redact text, copy
 * a value with its strings redacted, count findings by type. Inputs are never mutated.
 */
import { LimitExceededError } from '../errors.js';
import type { Finding, PhiType } from './types.js';

/** A path into a JSON value: object keys and array indices, outermost first. */
export type JsonPath = readonly (string | number)[];

/** A finding inside a JSON value: the string at `path` (or its key when `inKey`) holds it. */
export interface ObjectFinding extends Finding {
  readonly path: JsonPath;
  /** True when the finding is in the property name at `path`, not in its value. */
  readonly inKey?: true;
}

/** Limits of a JSON walk; exceeding one throws `LimitExceededError` (fail closed). */
export interface WalkLimits {
  /** Maximum nesting depth (default 64). Circular references hit this limit. */
  readonly maxDepth?: number;
  /** Maximum number of visited values (default 100 000). */
  readonly maxNodes?: number;
}

/** Options of `scanObject`. */
export interface ScanObjectOptions extends WalkLimits {
  /** Also scan property names (default false). */
  readonly keys?: boolean;
}

/** How `redact` replaces a span: `'type'` → `[SSN]`; `'mask'` → `*` for each UTF-16 unit. */
export type RedactStyle = 'type' | 'mask';

/** Options of `redact`. */
export interface RedactOptions {
  /** Default `'type'`. */
  readonly style?: RedactStyle;
}

/** Options of `redactObject`. */
export interface RedactObjectOptions extends RedactOptions, WalkLimits {}

/** A redacted deep copy and the number of findings by type (counts only, never values). */
export interface RedactObjectResult<T = unknown> {
  readonly value: T;
  readonly counts: Partial<Record<PhiType, number>>;
}

/** Default `maxDepth` of a JSON walk. */
export const DEFAULT_MAX_DEPTH = 64;
/** Default `maxNodes` of a JSON walk. */
export const DEFAULT_MAX_NODES = 100_000;

/** Number of findings of each type: what audit events carry instead of values. */
export function countByType(findings: Iterable<Pick<Finding, 'type'>>): Partial<Record<PhiType, number>> {
  const counts: Partial<Record<PhiType, number>> = {};
  for (const f of findings) counts[f.type] = (counts[f.type] ?? 0) + 1;
  return counts;
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** Formats a path like `notes[2].text` (keys that are not identifiers as `["a b"]`). */
export function formatPath(path: JsonPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (IDENT.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/**
 * Replaces each finding's span with `[TYPE]` or a same-length mask. Findings may come unsorted
 * or overlapping (from several sources); overlapping spans are merged into the first.
 */
export function redactText(text: string, findings: readonly Finding[], options: RedactOptions = {}): string {
  const style = options.style ?? 'type';
  if (findings.length === 0) return text;
  const sorted = [...findings].sort((a, b) => a.start - b.start || b.end - a.end);
  let out = '';
  let pos = 0;
  for (const f of sorted) {
    const start = Math.max(f.start, pos);
    const end = Math.min(f.end, text.length);
    if (end <= start) continue;
    out += text.slice(pos, start);
    out += style === 'mask' ? '*'.repeat(end - start) : start === f.start ? `[${f.type}]` : '';
    pos = end;
  }
  return out + text.slice(pos);
}

function isPlainContainer(v: object): boolean {
  return !(v instanceof Date) && !(v instanceof RegExp) && !ArrayBuffer.isView(v) && !(v instanceof Map) && !(v instanceof Set);
}

/** Visits every string (and optionally key) of `value` with its path. */
export function walkStrings(
  value: unknown,
  limits: WalkLimits,
  visit: (s: string, path: (string | number)[], inKey: boolean) => void,
  keys = false,
): void {
  const maxDepth = limits.maxDepth ?? DEFAULT_MAX_DEPTH;
  const maxNodes = limits.maxNodes ?? DEFAULT_MAX_NODES;
  let nodes = 0;
  const path: (string | number)[] = [];
  const go = (v: unknown, depth: number): void => {
    if (++nodes > maxNodes) throw new LimitExceededError('maxNodes', maxNodes);
    if (typeof v === 'string') {
      visit(v, path, false);
      return;
    }
    if (v === null || typeof v !== 'object') return;
    if (depth >= maxDepth) throw new LimitExceededError('maxDepth', maxDepth);
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        path.push(i);
        go(v[i], depth + 1);
        path.pop();
      }
      return;
    }
    if (!isPlainContainer(v)) return;
    for (const k of Object.keys(v)) {
      path.push(k);
      if (keys) visit(k, path, true);
      go((v as Record<string, unknown>)[k], depth + 1);
      path.pop();
    }
  };
  go(value, 0);
}

/**
 * A deep copy of `value` with every string passed through `fix` (with the key it stands under,
 * array indexes skipped); other values are copied as is.
 */
export function mapStrings(value: unknown, limits: WalkLimits, fix: (s: string, key: string | undefined) => string): unknown {
  const maxDepth = limits.maxDepth ?? DEFAULT_MAX_DEPTH;
  const maxNodes = limits.maxNodes ?? DEFAULT_MAX_NODES;
  let nodes = 0;
  const go = (v: unknown, depth: number, key: string | undefined): unknown => {
    if (++nodes > maxNodes) throw new LimitExceededError('maxNodes', maxNodes);
    if (typeof v === 'string') return fix(v, key);
    if (v === null || typeof v !== 'object') return v;
    if (depth >= maxDepth) throw new LimitExceededError('maxDepth', maxDepth);
    if (Array.isArray(v)) return v.map((x) => go(x, depth + 1, key));
    if (v instanceof Date) return new Date(v.getTime());
    if (!isPlainContainer(v)) return v;
    // Error objects: keep their message and stack, redacted, as plain properties.
    const out: Record<string, unknown> = {};
    const entries = Object.keys(v);
    if (v instanceof Error) {
      if (!entries.includes('message')) entries.push('message');
      if (!entries.includes('stack') && v.stack !== undefined) entries.push('stack');
    }
    for (const k of entries) {
      const copy = go((v as unknown as Record<string, unknown>)[k], depth + 1, k);
      // "__proto__" is an ordinary key here: define it, never assign it (no prototype change).
      if (k === '__proto__') Object.defineProperty(out, k, { value: copy, enumerable: true, writable: true, configurable: true });
      else out[k] = copy;
    }
    return out;
  };
  return go(value, 0, undefined);
}
