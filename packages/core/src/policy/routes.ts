/**
 * Route patterns of resources (Express path syntax): parsing, their parameters, whether two
 * patterns can match one request, and whether one is strictly more specific than the other.
 * Both are decided conservatively: when unsure, patterns overlap and neither is more specific.
 */
const HTTP_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'ALL']);

/** @internal A route a resource claims. */
export interface ParsedRoute {
  readonly method: string;
  readonly path: string;
  /** `METHOD /path`, as spelled in the policy (trimmed). */
  readonly key: string;
}

/** Parses `"GET /patients/:id/results"`, or returns a problem. */
export function parseRoute(route: unknown): ParsedRoute | string {
  const m = /^([A-Z]+)\s+(\/\S*)$/.exec(typeof route === 'string' ? route.trim() : '');
  if (!m || !HTTP_METHODS.has(m[1]!)) return `route "${String(route)}" must look like "GET /patients/:id/results"`;
  return { method: m[1]!, path: m[2]!, key: `${m[1]} ${m[2]}` };
}

/** Named parameters of a path pattern (`:id`, `:id?`, `*rest`). */
export function routeParams(path: string): string[] {
  return [...path.matchAll(/[:*]([A-Za-z_$][\w$]*)/g)].map((m) => m[1]!);
}

/** Every spelling of a pattern once its optional parts (`{…}`, `:name?`) are taken or left out. */
function variants(path: string): string[] {
  const brace = /\{([^{}]*)\}/.exec(path);
  if (brace) {
    const before = path.slice(0, brace.index);
    const after = path.slice(brace.index + brace[0].length);
    return [...variants(before + brace[1] + after), ...variants(before + after)];
  }
  const optional = /\/:([A-Za-z_$][\w$]*)\?/.exec(path);
  if (optional) {
    const before = path.slice(0, optional.index);
    const after = path.slice(optional.index + optional[0].length);
    return [...variants(`${before}/:${optional[1]}${after}`), ...variants(before + after)];
  }
  // Express matches case-insensitively and ignores one trailing slash.
  return [path.toLowerCase().replace(/(.)\/$/, '$1')];
}

interface Segment {
  readonly text: string;
  /** Literal text when the segment has no parameter. */
  readonly literal: string | null;
  /** Literal text before the first and after the last parameter. */
  readonly prefix: string;
  readonly suffix: string;
  /** Matches a literal segment. */
  readonly test: RegExp;
  /** A `*` wildcard: matches the rest of the path. */
  readonly rest: boolean;
}

const PARAM = /:[A-Za-z_$][\w$]*(?:\([^)]*\))?/g;
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function segmentOf(text: string): Segment {
  if (/(^|[^\\])\*/.test(text) || text.includes('(')) {
    return { text, literal: null, prefix: '', suffix: '', test: /^/, rest: text.includes('*') };
  }
  const parts = text.split(PARAM);
  if (parts.length === 1) return { text, literal: text, prefix: text, suffix: text, test: new RegExp(`^${escape(text)}$`), rest: false };
  return {
    text,
    literal: null,
    prefix: parts[0]!,
    suffix: parts[parts.length - 1]!,
    test: new RegExp(`^${parts.map(escape).join('[^/]+')}$`),
    rest: false,
  };
}

function segmentsOverlap(a: Segment, b: Segment): boolean {
  if (a.literal !== null && b.literal !== null) return a.literal === b.literal;
  if (a.literal !== null) return b.test.test(a.literal);
  if (b.literal !== null) return a.test.test(b.literal);
  // Two patterns: they can meet unless their fixed prefixes or suffixes disagree.
  const prefixes = a.prefix.startsWith(b.prefix) || b.prefix.startsWith(a.prefix);
  const suffixes = a.suffix.endsWith(b.suffix) || b.suffix.endsWith(a.suffix);
  return prefixes && suffixes;
}

function pathsOverlap(a: string, b: string): boolean {
  const sa = a.split('/').slice(1).map(segmentOf);
  const sb = b.split('/').slice(1).map(segmentOf);
  for (let i = 0; i < Math.max(sa.length, sb.length); i++) {
    const x = sa[i];
    const y = sb[i];
    if (x?.rest || y?.rest) return true;
    if (x === undefined || y === undefined) return false;
    if (!segmentsOverlap(x, y)) return false;
  }
  return true;
}

const methodsOverlap = (a: string, b: string) =>
  a === b || a === 'ALL' || b === 'ALL' || (a === 'HEAD' && b === 'GET') || (a === 'GET' && b === 'HEAD');

/** Whether every request `specific` matches, `general` matches too (provably; false when unsure). */
export function routeCovers(general: ParsedRoute, specific: ParsedRoute): boolean {
  const methods = general.method === specific.method || general.method === 'ALL' || (general.method === 'GET' && specific.method === 'HEAD');
  if (!methods) return false;
  const g = variants(general.path);
  const s = variants(specific.path);
  if (g.length !== 1 || s.length !== 1) return false;
  const gs = g[0]!.split('/').slice(1).map(segmentOf);
  const ss = s[0]!.split('/').slice(1).map(segmentOf);
  if (gs.length !== ss.length) return false;
  return gs.every((x, i) => {
    const y = ss[i]!;
    if (x.rest || y.rest) return false;
    if (x.literal !== null) return y.literal === x.literal;
    if (x.prefix === '' && x.suffix === '' && /^:[A-Za-z_$][\w$]*$/.test(x.text)) return true; // a bare parameter takes any segment
    return y.literal !== null && x.test.test(y.literal);
  });
}

/** Whether one request could match both routes. */
export function routesOverlap(a: ParsedRoute, b: ParsedRoute): boolean {
  if (!methodsOverlap(a.method, b.method)) return false;
  return variants(a.path).some((x) => variants(b.path).some((y) => pathsOverlap(x, y)));
}
