/** Shared state of one scan: the normalized text, its digit runs and context words, and the output. */
import type { PhiType } from '../types.js';
import { KeywordIndex, keywordAt, lastKeywordEnd } from '../context.js';
import { NormalizeBuffers } from '../normalize.js';

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
const CLASS = new Uint8Array(123);
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
 * Everything a built-in detector reads and writes during one scan. A scanner keeps one and resets
 * it for each text, so a scan allocates no arrays of its own.
 */
export class ScanState {
  /** Maximal runs of ASCII digits: run k is text[runStart[k], runEnd[k]). */
  readonly runStart: number[] = [];
  readonly runEnd: number[] = [];
  readonly kw = new KeywordIndex();
  /** Typed arrays the normalized view and its offset maps are written into, reused. */
  readonly buffers = new NormalizeBuffers();
  /** Findings so far; the shared `NO_OUT` until the first one (a scan without findings allocates no array). */
  out: RawFinding[] = NO_OUT;
  /** Starts of 17-character tokens of capitals and digits (VIN candidates). */
  readonly vinStarts: number[] = [];
  text = '';
  /** Character features of `text` (see `features`). */
  features = 0;
  /** True while a scan uses this state (a detector that scans again gets a fresh one). */
  busy = false;
  /** Number of digit words ("one", "five", "oh") in the text. */
  digitWords = 0;

  constructor(
    private readonly enabled: ReadonlySet<PhiType>,
    private readonly mask: number,
  ) {}

  /** Starts a scan of `text`: tokenizes it into digit runs, VIN candidates and context words. */
  reset(text: string, feats: number): void {
    this.text = text;
    this.features = feats;
    this.runStart.length = 0;
    this.runEnd.length = 0;
    this.vinStarts.length = 0;
    this.out = NO_OUT;
    this.kw.clear();
    this.digitWords = tokenize(text, this.mask, this.runStart, this.runEnd, this.vinStarts, this.kw);
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

/**
 * One pass over the tokens of `text`: digit runs, 17-character capital/digit tokens (VIN
 * candidates) and context words at word starts. A plain function (not the constructor) so the
 * engine optimizes the hot loop on its own.
 */
function tokenize(
  text: string,
  mask: number,
  runStart: number[],
  runEnd: number[],
  vinStarts: number[],
  kw: KeywordIndex,
): number {
  // Tight inner loops per character class; no allocation but the pushes.
  const n = text.length;
  let digitWords = 0;
  let kwEnd = 0;
  let i = 0;
  while (i < n) {
    let c = text.charCodeAt(i);
    if (c > 122 || CLASS[c] === 0) {
      i++;
      continue;
    }
    const tokStart = i;
    if (c >= 65 && i >= kwEnd && (i === 0 || text.charCodeAt(i - 1) !== 95)) {
      const kind = keywordAt(text, i, mask);
      if (kind !== undefined) {
        kw.add(i, lastKeywordEnd, kind);
        kwEnd = lastKeywordEnd;
      }
    }
    // Capitals and digits only so far: still a VIN candidate.
    let upperOnly = true;
    while (i < n) {
      c = text.charCodeAt(i);
      if (c > 122) break;
      const k = CLASS[c];
      if (k === 0) break;
      if (k === 1) {
        const rs = i;
        i++;
        while (i < n && (c = text.charCodeAt(i)) >= 48 && c <= 57) i++;
        runStart.push(rs);
        runEnd.push(i);
        continue;
      }
      if (k === 3 && upperOnly) upperOnly = false;
      i++;
    }
    if (upperOnly && i - tokStart === 17) vinStarts.push(tokStart);
    else if (i - tokStart <= 5 && i - tokStart >= 2 && isDigitWord(text, tokStart, i)) digitWords++;
  }
  return digitWords;
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
