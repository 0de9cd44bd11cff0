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

/** True when `text` has a character above U+007F (a plain loop: no allocation, early exit). */
export function hasNonAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return true;
  return false;
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
  let starts = new Int32Array(n + 16);
  let ends = new Int32Array(n + 16);
  const parts: string[] = [];
  let out = 0;
  let runStart = 0; // start of the pending ASCII run, copied in one slice
  const grow = (need: number) => {
    if (need <= starts.length) return;
    const size = Math.max(need, starts.length * 2);
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
      starts[out] = i;
      ends[out] = i + 1;
      out++;
      i++;
      continue;
    }
    if (runStart < i) parts.push(text.slice(runStart, i));
    const cp = text.codePointAt(i)!;
    const width = cp > 0xffff ? 2 : 1;
    let rep: string;
    if (isInvisible(cp)) rep = '';
    else if (isDash(cp)) rep = '-';
    else if (isSpace(cp)) rep = ' ';
    else rep = nfkc(cp);
    grow(out + rep.length);
    for (let k = 0; k < rep.length; k++) {
      starts[out] = i;
      ends[out] = i + width;
      out++;
    }
    if (rep.length > 0) parts.push(rep);
    i += width;
    runStart = i;
  }
  if (runStart < n) parts.push(text.slice(runStart));
  return { text: parts.join(''), starts, ends };
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
