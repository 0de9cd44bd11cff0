/** Shared state of one scan: the normalized text, its digit runs and context words, and the output. */
import type { PhiType } from '../types.js';
import { KW_FOUND, KW_NEXT, KW_SYMBOL, KW_WIDTH, KW_WORD_AT, KeywordIndex, lastKeywordEnd, lastKeywordWord, pickKeyword, walkKeywords } from '../context.js';
import { NormalizeBuffers, foldsToItself } from '../normalize.js';

/** A finding on the normalized text, before offsets are mapped back. */
export interface RawFinding {
  type: PhiType;
  start: number;
  end: number;
  confidence: number;
}

/** The empty findings list of a scan state before its first finding; never written to. */
const NO_OUT: RawFinding[] = Object.freeze([]) as unknown as RawFinding[];

/** ASCII character classes: 1 digit, 2 upper-case letter, 3 lower-case letter, 0 other. */
const CLASS = new Uint8Array(128);
for (let c = 48; c <= 57; c++) CLASS[c] = 1;
for (let c = 65; c <= 90; c++) CLASS[c] = 2;
for (let c = 97; c <= 122; c++) CLASS[c] = 3;

/** ASCII digit. */
export const isDigit = (c: number): boolean => c >= 48 && c <= 57;
/** ASCII capital letter. */
export const isUpper = (c: number): boolean => c >= 65 && c <= 90;
/** ASCII small letter. */
export const isLower = (c: number): boolean => c >= 97 && c <= 122;
/** ASCII letter. */
export const isLetter = (c: number): boolean => isUpper(c) || isLower(c);
/** ASCII letter or digit. */
export const isAlnum = (c: number): boolean => isDigit(c) || isLetter(c);

/** Character features of a text (bits of `features`). */
export const F = {
  Digit: 1,
  Upper: 2,
  At: 4,
  Amp: 8,
  Lt: 16,
  Caret: 32,
  Bar: 64,
  Colon: 128,
  Paren: 256,
  Newline: 512,
  NonAscii: 1024,
  Dash: 2048,
  Dot: 4096,
} as const;

const FEATURE = new Uint16Array(128);
for (let c = 48; c <= 57; c++) FEATURE[c] = F.Digit;
for (let c = 65; c <= 90; c++) FEATURE[c] = F.Upper;
FEATURE[64] = F.At;
FEATURE[38] = F.Amp;
FEATURE[37] = F.Amp;
FEATURE[60] = F.Lt;
FEATURE[94] = F.Caret;
FEATURE[124] = F.Bar;
FEATURE[58] = F.Colon;
FEATURE[40] = F.Paren;
FEATURE[91] = F.Paren;
FEATURE[123] = F.Paren;
FEATURE[10] = F.Newline;
FEATURE[13] = F.Newline;
FEATURE[45] = F.Dash;
FEATURE[46] = F.Dot;

/** Which kinds of character `text` holds (a bit set of `F`): one table lookup per character. */
export function features(text: string): number {
  let f = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    f |= c < 128 ? FEATURE[c]! : F.NonAscii;
  }
  return f;
}

/**
 * Bits of `ScanState.flags`, found by the same pass as the features: whether the normalizer has
 * anything to do. Each is a superset of what the normalizer looks for, so a text without them is
 * its own normalized view.
 */
export const P = {
  /**
   * A possible rewrite landmark: '&', '%', a line break, digits one or two spaces apart, a digit
   * next to an O, a bracket before "at" / "dot", a spaced "at" or '@'.
   */
  Rewrite: 1,
  /** A character above U+007F that the normalized view does not read as itself. */
  Fold: 2,
  /**
   * A space between a letter and a capital or a name particle ("Maria Lopez", "Ana de Souza"),
   * or any character above U+007F: where two capitalised words can meet.
   */
  Pair: 4,
} as const;

/**
 * Everything a built-in detector reads and writes during one scan. A scanner keeps one and resets
 * it for each text; its lists are typed arrays with a count, kept from text to text, so a scan
 * allocates nothing until it finds something.
 */
export class ScanState {
  /** Maximal runs of ASCII digits: run k < `runs` is text[runStart[k], runEnd[k]). */
  runStart = new Int32Array(32);
  runEnd = new Int32Array(32);
  runs = 0;
  readonly kw = new KeywordIndex();
  /** Typed arrays the normalized view and its offset maps are written into, reused. */
  readonly buffers = new NormalizeBuffers();
  /** Findings so far; the shared `NO_OUT` until the first one (a scan without findings allocates no array). */
  out: RawFinding[] = NO_OUT;
  /** Starts of tokens that begin with an ASCII capital (name candidates): the first `caps`. */
  capStarts = new Int32Array(32);
  caps = 0;
  /** Starts of 17-character tokens of capitals and digits (VIN candidates): the first `vins`. */
  vinStarts = new Int32Array(8);
  vins = 0;
  text = '';
  /** Character features of `text` (see `features`). */
  features = 0;
  /** Bits of `P`: what normalizing `text` could change. */
  flags = 0;
  /** True while a scan uses this state (a detector that scans again gets a fresh one). */
  busy = false;
  /** Number of digit words ("one", "five", "oh") in the text. */
  digitWords = 0;

  constructor(
    private readonly enabled: ReadonlySet<PhiType>,
    private readonly mask: number,
  ) {}

  /**
   * Starts a scan of `text`: one pass finds its features (`features`, `flags`), digit runs, VIN
   * candidates, context words and digit words.
   */
  reset(text: string): void {
    this.text = text;
    this.out = NO_OUT;
    this.kw.clear();
    pass(this, text, this.mask);
  }

  /** True when the text holds a context word of `kind`. */
  has(kind: number): boolean {
    return (this.kw.seen & (1 << kind)) !== 0;
  }

  /** Whether the caller asked for `type`. */
  wants(type: PhiType): boolean {
    return this.enabled.has(type);
  }

  /** Records a finding of `type` on the normalized text when the caller asked for that type. */
  emit(type: PhiType, start: number, end: number, confidence: number): void {
    if (end > start && this.enabled.has(type)) {
      if (this.out === NO_OUT) this.out = [];
      this.out.push({ type, start, end, confidence });
    }
  }

  /** The UTF-16 unit at `i`, or 0 outside the text. */
  code(i: number): number {
    return i >= 0 && i < this.text.length ? this.text.charCodeAt(i) : 0;
  }

  /**
   * True when a number starting at `pos` is not glued to what precedes it: no letter or digit
   * before, and no "digit + separator" (which would make it the tail of a longer number).
   */
  leftClean(pos: number): boolean {
    const p = this.code(pos - 1);
    if (isAlnum(p)) return false;
    if ((p === 45 || p === 46 || p === 47) && isDigit(this.code(pos - 2))) return false;
    return true;
  }

  /** Mirror of `leftClean` for a number ending at `pos` (exclusive). */
  rightClean(pos: number): boolean {
    const c = this.code(pos);
    if (isAlnum(c)) return false;
    if ((c === 45 || c === 46 || c === 47) && isDigit(this.code(pos + 1))) return false;
    return true;
  }
}

/** `a` doubled, its contents kept. */
function grown(a: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
}

const isDigitCode = (c: number) => c >= 48 && c <= 57;
const isHexCode = (c: number) => isDigitCode(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
/** A character of an e-mail address (letters, digits, . _ - + @). */
const isMailCode = (c: number) => (c < 128 && CLASS[c] !== 0) || c === 46 || c === 95 || c === 45 || c === 43 || c === 64;

/** Letters a-z → 1..26: a short lower-case word read as a number, compared without a slice. */
const wordCode = (text: string, s: number, e: number): number => {
  let v = 0;
  for (let k = s; k < e; k++) v = v * 27 + (text.charCodeAt(k) - 96);
  return v;
};
/** Name particles that may follow a capitalised word (the look-ahead of the names pass), as `wordCode`s. */
const PAIR_PARTICLE_WORDS = 'de da del della di du des la le van von der den ter bin binti ibn al el dos das'.split(' ');
const PAIR_PARTICLES = new Set(PAIR_PARTICLE_WORDS.map((w) => wordCode(w, 0, w.length)));

/** First two letters of the particles (`wordCode`s): most lower-case words fail here. */
const PARTICLE_HEADS = new Uint8Array(27 * 27);
for (const w of PAIR_PARTICLE_WORDS) PARTICLE_HEADS[wordCode(w, 0, 2)] = 1;

/** True when a name particle followed by a space or '-' starts at `p` ("de ", "van ", "al-"). */
function particleAt(text: string, p: number): boolean {
  const c1 = text.charCodeAt(p + 1);
  if (c1 < 97 || c1 > 122 || PARTICLE_HEADS[(text.charCodeAt(p) - 96) * 27 + (c1 - 96)] === 0) return false;
  let e = p;
  while (e - p <= 5 && e < text.length) {
    const c = text.charCodeAt(e);
    if (c < 97 || c > 122) break;
    e++;
  }
  const next = text.charCodeAt(e);
  return e - p >= 2 && e - p <= 5 && (next === 32 || next === 45) && PAIR_PARTICLES.has(wordCode(text, p, e));
}

/**
 * True when a spelled-out address may continue after "at " at `p`: a domain label, then a '.' or
 * a spaced "dot" (the first thing the normalizer's reading of " at " asks for).
 */
function spelledAtLandmark(text: string, p: number): boolean {
  let e = p;
  while (e < text.length && e - p < 63) {
    const c = text.charCodeAt(e);
    if ((c < 128 && CLASS[c] !== 0) || c === 45 || c === 95) e++;
    else break;
  }
  if (e === p) return false;
  let q = e;
  while (q < text.length && q - e < 2 && text.charCodeAt(q) === 32) q++;
  if (text.charCodeAt(q) === 46) return true;
  return q > e && (text.charCodeAt(q) | 32) === 100 && (text.charCodeAt(q + 1) | 32) === 111 && (text.charCodeAt(q + 2) | 32) === 116;
}

/**
 * True when the line break at `at` may sit inside an identifier, the only place the normalizer
 * joins one: after a digit, a separator or an address character (and spaces or tabs), and (past the indentation)
 * before a digit, a separator or a small letter. A superset of the normalizer's own rule.
 */
function lineBreakLandmark(text: string, at: number): boolean {
  let b = text.charCodeAt(at - 1) === 13 ? at - 1 : at;
  while (b > 0 && at - b < 4 && (text.charCodeAt(b - 1) === 32 || text.charCodeAt(b - 1) === 9)) b--;
  let e = at + 1;
  while (e < text.length && e - at <= 16 && (text.charCodeAt(e) === 32 || text.charCodeAt(e) === 9)) e++;
  const prev = b > 0 ? text.charCodeAt(b - 1) : 0;
  const next = e < text.length ? text.charCodeAt(e) : 0;
  // A capital O after the break may stand for a zero (the normalizer reads "O." as "0.").
  return (isMailCode(prev) || prev === 47) && ((isMailCode(next) && (!(next >= 65 && next <= 90) || next === 79)) || next === 47);
}

/**
 * The one pass over `text` a scan starts with: character features, normalizer landmarks, digit
 * runs, 17-character capital/digit tokens (VIN candidates), context words at word starts and
 * digit words. A plain function (not a method) so the engine optimizes the hot loop on its own;
 * locals in the loop, written back to the state at the end.
 */
function pass(s: ScanState, text: string, mask: number): void {
  const n = text.length;
  const kw = s.kw;
  let runStart = s.runStart;
  let runEnd = s.runEnd;
  let runs = 0;
  let vinStarts = s.vinStarts;
  let vins = 0;
  let capStarts = s.capStarts;
  let caps = 0;
  let f = 0;
  let flags = 0;
  let digitWords = 0;
  let kwEnd = 0;
  let camel = false;
  let i = 0;
  while (i < n) {
    let c = text.charCodeAt(i);
    if (c >= 128) {
      f |= F.NonAscii;
      flags |= P.Pair;
      if ((flags & P.Fold) === 0 && !foldsToItself(c)) flags |= P.Fold;
      i++;
      continue;
    }
    if (CLASS[c] === 0) {
      f |= FEATURE[c]!;
      if (c === 32) {
        // " at ", " AT ", " @ ": a spelled-out address may follow ("jroe at example dot org").
        const n1 = text.charCodeAt(i + 1);
        if (n1 === 64 ? text.charCodeAt(i + 2) === 32 && spelledAtLandmark(text, i + 3) : (n1 === 97 || n1 === 65) && (text.charCodeAt(i + 2) | 32) === 116 && text.charCodeAt(i + 3) === 32 && spelledAtLandmark(text, i + 4)) {
          flags |= P.Rewrite;
        }
        if ((flags & P.Pair) === 0 && i > 0) {
          const p0 = text.charCodeAt(i - 1);
          if (p0 < 128 && CLASS[p0]! >= 2 && ((n1 >= 65 && n1 <= 90) || (n1 >= 97 && n1 <= 122 && particleAt(text, i + 1)))) flags |= P.Pair;
        }
      } else if (c === 10) {
        if (lineBreakLandmark(text, i)) flags |= P.Rewrite;
      } else if (c === 38) {
        // "&#64;", "&commat;"
        const n1 = text.charCodeAt(i + 1);
        if (n1 === 35 || (n1 < 128 && CLASS[n1] !== 0)) flags |= P.Rewrite;
      } else if (c === 37) {
        // "%40" (not "80%")
        if (isHexCode(text.charCodeAt(i + 1)) && isHexCode(text.charCodeAt(i + 2))) flags |= P.Rewrite;
      } else if (c === 40 || c === 91 || c === 123 || c === 60) {
        // "(at)", "[dot]", "{ at }", "<at>"
        let q = i + 1;
        if (text.charCodeAt(q) === 32) q++;
        const n1 = text.charCodeAt(q) | 32;
        if (n1 === 97 || n1 === 100) flags |= P.Rewrite;
      }
      i++;
      continue;
    }
    const tokStart = i;
    // The next word of a camelCase key ("Phone" of "mobilePhone") is no capitalised word of prose.
    const piece = camel;
    if (c >= 65 && c <= 90 && !piece) {
      if (caps === capStarts.length) capStarts = s.capStarts = grown(capStarts);
      capStarts[caps++] = i;
    }
    camel = false;
    // Context words: a word start (not inside the last context word) walks the context-word trie
    // while the loop below reads the word (node -1: no walk, or it ended). Each word of a key is a
    // word start: after '_' ("guarantor_account") and after a camelCase boundary (below).
    const look = c >= 65 && i >= kwEnd;
    let node = look ? 0 : -1;
    let found = 0;
    let rewalk = false;
    // Capitals and digits only so far: still a VIN candidate.
    let upperOnly = true;
    while (i < n) {
      c = text.charCodeAt(i);
      if (c >= 128) break;
      const k = CLASS[c];
      if (k === 0) break;
      // A capital after a small letter starts the next word of a camelCase key, unless the walk
      // goes on through it ("homePhone" is listed whole as "homephone").
      if (k === 2 && i > tokStart && CLASS[text.charCodeAt(i - 1)] === 3 && (node < 0 || KW_NEXT[node * KW_WIDTH + KW_SYMBOL[c]!] === 0)) {
        camel = true;
        break;
      }
      if (node >= 0) {
        node = KW_NEXT[node * KW_WIDTH + KW_SYMBOL[c]!]!;
        if (node === 0) node = -1;
        else {
          const w = KW_WORD_AT[node]!;
          if (w !== 0 && found < 64) KW_FOUND[found++] = w - 1;
          // A context word going on through a digit run (none does today): walk it apart.
          if (k === 1) {
            rewalk = true;
            node = -1;
          }
        }
      }
      if (k === 1) {
        const rs = i;
        i++;
        while (i < n && (c = text.charCodeAt(i)) >= 48 && c <= 57) i++;
        if (runs === runStart.length) {
          runStart = s.runStart = grown(runStart);
          runEnd = s.runEnd = grown(runEnd);
        }
        runStart[runs] = rs;
        runEnd[runs] = i;
        runs++;
        // An O glued to the run ("555-O143"), or single digits one or two spaces apart ("1 2 3";
        // the normalizer collapses only single digits, so "4551 3374" is no landmark).
        const before = rs > 0 ? text.charCodeAt(rs - 1) | 32 : 0;
        const after = i < n ? text.charCodeAt(i) : 0;
        if (
          before === 111 ||
          (after | 32) === 111 ||
          (after === 32 && i - rs === 1 && (isDigitCode(text.charCodeAt(i + 1)) || (text.charCodeAt(i + 1) === 32 && isDigitCode(text.charCodeAt(i + 2)))))
        ) {
          flags |= P.Rewrite;
        }
        continue;
      }
      if (k === 2) f |= F.Upper;
      else if (upperOnly) upperOnly = false;
      i++;
      // The walk through small letters (symbol c - 96; no camelCase break or digit run can come
      // up): a tight loop of table steps until the word or the walk ends.
      if (node > 0 && !upperOnly) {
        while (i < n && (c = text.charCodeAt(i)) >= 97 && c <= 122) {
          node = KW_NEXT[node * KW_WIDTH + c - 96]!;
          i++;
          if (node === 0) {
            node = -1;
            break;
          }
          const w = KW_WORD_AT[node]!;
          if (w !== 0 && found < 64) KW_FOUND[found++] = w - 1;
        }
      }
      // The rest of a lower-case word, once no context word and no VIN can continue it: a tight
      // loop (most characters of prose are read here).
      if (node < 0 && !upperOnly) while (i < n && (c = text.charCodeAt(i)) >= 97 && c <= 122) i++;
    }
    if (look) {
      // The walk goes on past the word for context words of several words ("date of birth").
      if (rewalk) found = walkKeywords(text, tokStart, 0, 0);
      else if (node > 0 && i < n) found = walkKeywords(text, i, node, found);
      // A one-letter label ("T:", "F:") is a token of one letter before its colon.
      if (found > 0 || (i === tokStart + 1 && c === 58)) {
        const kind = pickKeyword(text, tokStart, mask, found);
        if (kind !== undefined) {
          kw.add(tokStart, lastKeywordEnd, kind, lastKeywordWord);
          kwEnd = lastKeywordEnd;
        }
      }
    }
    // VIN candidates and digit words are whole tokens, not words of a camelCase key.
    if (piece || camel) continue;
    if (upperOnly && i - tokStart === 17) {
      if (vins === vinStarts.length) vinStarts = s.vinStarts = grown(vinStarts);
      vinStarts[vins++] = tokStart;
    } else if (i - tokStart <= 5 && i - tokStart >= 2 && isDigitWord(text, tokStart, i)) digitWords++;
  }
  if (runs > 0) f |= F.Digit;
  s.runs = runs;
  s.vins = vins;
  s.caps = caps;
  s.features = f;
  s.flags = flags;
  s.digitWords = digitWords;
}

/** zero one two three four five six seven eight nine oh, in any case. */
const DIGIT_WORDS = new Set(['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'oh']);
/** First letters of digit words (lower case): most tokens are rejected on their first letter. */
const DIGIT_WORD_FIRST = new Uint8Array(128);
for (const w of DIGIT_WORDS) DIGIT_WORD_FIRST[w.charCodeAt(0)] = 1;

/** Digit words by first letter (lower case), for a comparison without slicing the text. */
const DIGIT_WORDS_BY_FIRST: Array<readonly string[] | undefined> = new Array<readonly string[] | undefined>(128).fill(undefined);
for (const w of DIGIT_WORDS) DIGIT_WORDS_BY_FIRST[w.charCodeAt(0)] = [...(DIGIT_WORDS_BY_FIRST[w.charCodeAt(0)] ?? []), w];

function isDigitWord(text: string, s: number, e: number): boolean {
  const c = text.charCodeAt(s) | 32;
  if (c >= 128 || DIGIT_WORD_FIRST[c] === 0) return false;
  // Most tokens ("the", "for", "of") fail on length or a letter: no slice, no lower-casing.
  outer: for (const w of DIGIT_WORDS_BY_FIRST[c]!) {
    if (w.length !== e - s) continue;
    for (let k = 1; k < w.length; k++) if ((text.charCodeAt(s + k) | 32) !== w.charCodeAt(k)) continue outer;
    return true;
  }
  return false;
}
