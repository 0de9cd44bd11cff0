import { DlpBlockedError, LimitExceededError } from './errors.js';
import { countByType, redactText } from './dlp/walk.js';
import type { Finding, PhiType } from './dlp/index.js';
import type { Scanner } from './dlp/scanner.js';
import type { CompiledResource } from './policy/compile.js';
import { ANY_KEY, ELEMENT, parsePath } from './policy/path.js';
import type { ProtectLimits } from './policy/plan.js';
import type { FieldClass } from './policy/types.js';

/** What DLP did to a request body. Counts by type only: never the values found. */
export interface InboundInspection {
  readonly action: 'block' | 'redact' | 'report';
  readonly counts: Readonly<Partial<Record<PhiType, number>>>;
  /** Identifiers found in total. */
  readonly found: number;
  /** The body the handler receives: the original, or a redacted copy under `redact`. */
  readonly value: unknown;
}

/** Declared fields as segment lists, for classifying the strings of a body. */
type Declared = readonly { readonly segments: readonly string[]; readonly cls: FieldClass }[];

const declaredCache = new WeakMap<CompiledResource, Declared>();

function declaredOf(resource: CompiledResource): Declared {
  let d = declaredCache.get(resource);
  if (d === undefined) {
    d = [...resource.fields].map(([path, spec]) => ({ segments: parsePath(path) as string[], cls: spec.class }));
    declaredCache.set(resource, d);
  }
  return d;
}

/**
 * The class of the declared field holding the value at `path` (a declared leaf may hold an
 * object: every string inside it is that field), or null when no declared field covers it.
 */
function classAt(declared: Declared, path: readonly (string | number)[]): FieldClass | null {
  outer: for (const { segments, cls } of declared) {
    if (segments.length > path.length) continue;
    for (let i = 0; i < segments.length; i++) {
      const s = segments[i]!;
      const p = path[i]!;
      if (s === ELEMENT ? typeof p !== 'number' : typeof p === 'number' || (s !== ANY_KEY && s !== p)) continue outer;
    }
    return cls;
  }
  return null;
}

/**
 * Scans the free-text and unclassified strings of a request body under the resource's DLP rule.
 * Declared identifier, quasi-identifier, clinical, sensitive and non-PHI fields are not scanned:
 * they are meant to carry what they carry. Throws {@link DlpBlockedError} under `block` when
 * anything is found, and LimitExceededError for bodies past the limits.
 */
export function inspectBody(resource: CompiledResource, body: unknown, scanner: Scanner, limits: ProtectLimits): InboundInspection | null {
  const rule = resource.dlp;
  if (rule === null || body === null || typeof body !== 'object') {
    if (rule === null || typeof body !== 'string') return null;
  }
  const declared = declaredOf(resource);
  const types = rule.types === null ? null : new Set<PhiType>(rule.types);
  const all: Finding[] = [];
  let nodes = 0;
  const keep = (findings: Finding[]) => (types === null ? findings : findings.filter((f) => types.has(f.type)));
  // Rebuilds only under `redact`; otherwise walks and counts.
  const visit = (value: unknown, path: (string | number)[], depth: number): unknown => {
    if (++nodes > limits.maxNodes) throw new LimitExceededError('maxNodes', limits.maxNodes);
    if (depth > limits.maxDepth) throw new LimitExceededError('maxDepth', limits.maxDepth);
    if (typeof value === 'string') {
      const cls = classAt(declared, path);
      if (cls !== null && cls !== 'free-text') return value;
      const findings = keep(scanner.scan(value));
      if (findings.length === 0) return value;
      for (const f of findings) all.push(f);
      return rule.request === 'redact' ? redactText(value, findings) : value;
    }
    if (value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) {
      let out: unknown[] | null = null;
      for (let i = 0; i < value.length; i++) {
        path.push(i);
        const r = visit(value[i], path, depth + 1);
        path.pop();
        if (r !== value[i]) (out ??= value.slice())[i] = r;
      }
      return out ?? value;
    }
    let out: Record<string, unknown> | null = null;
    for (const key of Object.keys(value)) {
      path.push(key);
      const before = (value as Record<string, unknown>)[key];
      const r = visit(before, path, depth + 1);
      path.pop();
      if (r !== before) {
        out ??= { ...(value as Record<string, unknown>) };
        Object.defineProperty(out, key, { value: r, enumerable: true, writable: true, configurable: true });
      }
    }
    return out ?? value;
  };
  const value = visit(body, [], 0);
  const counts = countByType(all);
  if (rule.request === 'block' && all.length > 0) throw new DlpBlockedError(counts);
  return { action: rule.request, counts, found: all.length, value };
}
