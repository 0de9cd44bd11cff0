/**
 * The keyed digests behind `token`, cached: the same identifiers come back request after
 * request and page after page, and an HMAC costs far more than a lookup. The cache is bounded
 * by an estimate of the memory it holds and by a number of entries, both configurable
 * (`tokenCache` in the compile options), so a 10,000-row page of distinct ids stays cached.
 */
import { didYouMean } from '../suggest.js';

/** Bounds of the token digest cache. */
export interface TokenCacheOptions {
  /** Estimated bytes held (keys, digests and map overhead). Default 16 MiB, some 100,000 ids. */
  readonly maxBytes?: number;
  /** Most entries held. Default 250,000. */
  readonly maxEntries?: number;
}

export const DEFAULT_TOKEN_CACHE: Required<TokenCacheOptions> = Object.freeze({ maxBytes: 16 * 1024 * 1024, maxEntries: 250_000 });

/** Map entries, string headers and the eviction record, roughly, on a 64-bit V8. */
const ENTRY_OVERHEAD = 160;

/**
 * Validates `tokenCache` (false turns caching off) and pushes problems in the compile-options
 * style; returns the bounds, or null for no cache.
 */
export function tokenCacheBounds(options: TokenCacheOptions | false | undefined, problems: string[]): Required<TokenCacheOptions> | null {
  if (options === false) return null;
  if (options === undefined) return DEFAULT_TOKEN_CACHE;
  if (options === null || typeof options !== 'object') {
    problems.push('options.tokenCache must be { maxBytes, maxEntries } or false');
    return DEFAULT_TOKEN_CACHE;
  }
  for (const k of Object.keys(options)) {
    if (!(k in DEFAULT_TOKEN_CACHE)) problems.push(`options.tokenCache: unknown option "${k}"${didYouMean(k, Object.keys(DEFAULT_TOKEN_CACHE))}`);
  }
  const bounds = { ...DEFAULT_TOKEN_CACHE, ...options };
  for (const [k, v] of Object.entries(bounds)) {
    if (!Number.isSafeInteger(v) || v < 0) problems.push(`options.tokenCache.${k} must be a non-negative integer`);
  }
  return bounds;
}

/** The token text of a digest: its first 128 bits, base64url (22 characters). */
export const tokenTextOf = (mac: Buffer): string => mac.subarray(0, 16).toString('base64url');

/**
 * The token text of (domain, value) under `digest`, from a cache of at most `bounds`. Oldest
 * entries are evicted first.
 */
export function cachedTokenText(
  digest: (domain: string, value: string) => Buffer,
  bounds: Required<TokenCacheOptions> | null,
): (domain: string, value: string) => string {
  if (bounds === null || bounds.maxBytes === 0 || bounds.maxEntries === 0) return (domain, value) => tokenTextOf(digest(domain, value));
  const { maxBytes, maxEntries } = bounds;
  // domain → value → digest: no key concatenation per lookup.
  const domains = new Map<string, Map<string, string>>();
  // Insertion order across domains, for eviction: [domain, value] pairs in a ring.
  const order: [string, string][] = [];
  let head = 0;
  let bytes = 0;
  const sizeOf = (domain: string, value: string) => 2 * (domain.length + value.length + 22) + ENTRY_OVERHEAD;
  const evict = () => {
    const oldest = order[head]!;
    order[head] = undefined as never;
    head++;
    if (head > 1024 && head * 2 > order.length) {
      order.splice(0, head);
      head = 0;
    }
    const values = domains.get(oldest[0])!;
    values.delete(oldest[1]);
    if (values.size === 0) domains.delete(oldest[0]);
    bytes -= sizeOf(oldest[0], oldest[1]);
  };
  return (domain, value) => {
    let values = domains.get(domain);
    const hit = values?.get(value);
    if (hit !== undefined) return hit;
    const mac = tokenTextOf(digest(domain, value));
    const size = sizeOf(domain, value);
    if (size > maxBytes) return mac;
    while (order.length - head >= maxEntries || bytes + size > maxBytes) evict();
    if (values === undefined || !domains.has(domain)) domains.set(domain, (values = new Map()));
    values.set(value, mac);
    order.push([domain, value]);
    bytes += size;
    return mac;
  };
}
