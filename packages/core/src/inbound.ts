import { DlpBlockedError, LimitExceededError } from './errors.js';
import { countByType, redactText } from './dlp/walk.js';
import type { Finding, PhiType } from './dlp/index.js';
import { keyOf, type Scanner } from './dlp/scanner.js';
import type { CompiledResource } from './policy/compile.js';
import type { ProtectLimits } from './policy/plan.js';

/** What DLP did to a request body. Counts by type only: never the values found. */
export interface InboundInspection {
  readonly action: 'block' | 'redact' | 'report';
  readonly counts: Readonly<Partial<Record<PhiType, number>>>;
  /** Identifiers found in total. */
  readonly found: number;
  /** The body the handler receives: the original, or a redacted copy under `redact`. */
  readonly value: unknown;
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
  // Which field a string is in comes from the resource's field index, as for the projection.
  const index = resource.index;
  const types = rule.types === null ? null : new Set<PhiType>(rule.types);
  const all: Finding[] = [];
  let nodes = 0;
  const keep = (findings: Finding[]) => (types === null ? findings : findings.filter((f) => types.has(f.type)));
  // Rebuilds only under `redact`; otherwise walks and counts.
  const visit = (value: unknown, path: (string | number)[], depth: number): unknown => {
    if (++nodes > limits.maxNodes) throw new LimitExceededError('maxNodes', limits.maxNodes);
    if (depth > limits.maxDepth) throw new LimitExceededError('maxDepth', limits.maxDepth);
    if (typeof value === 'string') {
      const cls = index.fieldAt(path)?.class ?? null;
      if (cls !== null && cls !== 'free-text') return value;
      // The key a string stands under is its label ("memberId": "W28810392").
      const findings = keep(scanner.scan(value, { label: keyOf(path) }));
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
