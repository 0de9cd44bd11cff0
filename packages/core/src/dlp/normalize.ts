/**
 * The normalized view the detectors scan, and the map back to the original text.
 *
 * Evasion resistance: NFKC (fullwidth digits and letters fold to ASCII), zero-width characters and
 * soft hyphens are dropped, unusual dashes and spaces become '-' and ' '. The map is built in one
 * pass and only when the text holds a non-ASCII character; ASCII text is scanned as is.
 */

/** A normalized text and, when it differs from the original, the offset maps. */
export interface NormalizedText {
  readonly text: string;
  /** For each UTF-16 unit of `text`, the start of the original code point it came from. */
  readonly starts: Int32Array | undefined;
  /** For each UTF-16 unit of `text`, the end (exclusive) of the original code point it came from. */
  readonly ends: Int32Array | undefined;
}

/** Characters removed before scanning: ZWSP, ZWNJ, ZWJ, word joiner, BOM / ZWNBSP, soft hyphen. */
function isInvisible(cp: number): boolean {
  return (cp >= 0x200b && cp <= 0x200d) || cp === 0x2060 || cp === 0xfeff || cp === 0x00ad;
}

/** Dash variants (hyphen, non-breaking hyphen, figure dash, en and em dash, horizontal bar, minus). */
function isDash(cp: number): boolean {
  return (cp >= 0x2010 && cp <= 0x2015) || cp === 0x2212 || cp === 0xfe63 || cp === 0xff0d;
}

/** Space variants (NBSP, en quad … hair space, narrow NBSP, medium math space, ideographic space). */
function isSpace(cp: number): boolean {
  return cp === 0x00a0 || (cp >= 0x2000 && cp <= 0x200a) || cp === 0x202f || cp === 0x205f || cp === 0x3000;
}

// One character class, no quantifier: the engine's scan loop is several times faster than a JS loop.
const NON_ASCII = /[^\x00-\x7f]/;

/** True when `text` has a character above U+007F. */
export function hasNonAscii(text: string): boolean {
  return NON_ASCII.test(text);
}

// NFKC of one code point, cached: the same few characters (fullwidth digits, emoji) repeat.
const nfkcCache = new Map<number, string>();
function nfkc(cp: number): string {
  let s = nfkcCache.get(cp);
  if (s === undefined) {
    s = String.fromCodePoint(cp).normalize('NFKC');
    if (nfkcCache.size < 4096) nfkcCache.set(cp, s);
  }
  return s;
}

/**
 * Normalizes code point by code point, so that every output unit knows the original span it
 * came from. (Per-code-point NFKC does not compose combining sequences; that does not change
 * digits, letters or separators, which is what the detectors read.)
 */
export function normalize(text: string): NormalizedText {
  if (!hasNonAscii(text)) return { text, starts: undefined, ends: undefined };
  const n = text.length;
  // Output code units and their origins, in typed arrays grown by doubling: no per-character
  // strings, one decode at the end.
  let units = new Uint16Array(n + 16);
  let starts = new Int32Array(n + 16);
  let ends = new Int32Array(n + 16);
  let out = 0;
  const grow = (need: number) => {
    if (need <= units.length) return;
    const size = Math.max(need, units.length * 2);
    const u2 = new Uint16Array(size);
    u2.set(units);
    units = u2;
    const s2 = new Int32Array(size);
    s2.set(starts);
    starts = s2;
    const e2 = new Int32Array(size);
    e2.set(ends);
    ends = e2;
  };
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c <= 0x7f) {
      grow(out + 1);
      units[out] = c;
      starts[out] = i;
      ends[out] = i + 1;
      out++;
      i++;
      continue;
    }
    const cp = text.codePointAt(i)!;
    const width = cp > 0xffff ? 2 : 1;
    let rep: string;
    if (isInvisible(cp)) rep = '';
    else if (isDash(cp)) rep = '-';
    else if (isSpace(cp)) rep = ' ';
    else rep = nfkc(cp);
    grow(out + rep.length);
    for (let k = 0; k < rep.length; k++) {
      units[out] = rep.charCodeAt(k);
      starts[out] = i;
      ends[out] = i + width;
      out++;
    }
    i += width;
  }
  let normalized = '';
  for (let k = 0; k < out; k += 8192) {
    normalized += String.fromCharCode.apply(null, units.subarray(k, Math.min(out, k + 8192)) as unknown as number[]);
  }
  return { text: normalized, starts, ends };
}

/** Maps a span of the normalized text back to the original text. */
export function mapSpan(norm: NormalizedText, start: number, end: number): [number, number] {
  if (norm.starts === undefined || norm.ends === undefined) return [start, end];
  if (end <= start) {
    const s = norm.starts[start] ?? 0;
    return [s, s];
  }
  return [norm.starts[start]!, norm.ends[end - 1]!];
}
