/** Shared state of one scan: the normalized text, its digit runs and context words, and the output. */
import type { PhiType } from '../index.js';
import { KeywordIndex, keywordAt, lastKeywordEnd } from '../context.js';

/** A finding on the normalized text, before offsets are mapped back. */
export interface RawFinding {
  type: PhiType;
  start: number;
  end: number;
  confidence: number;
}

export const isDigit = (c: number): boolean => c >= 48 && c <= 57;
export const isUpper = (c: number): boolean => c >= 65 && c <= 90;
export const isLower = (c: number): boolean => c >= 97 && c <= 122;
export const isLetter = (c: number): boolean => isUpper(c) || isLower(c);
export const isAlnum = (c: number): boolean => isDigit(c) || isLetter(c);

/** Everything a built-in detector reads and writes during one scan. */
export class ScanState {
  /** Maximal runs of ASCII digits: run k is text[runStart[k], runEnd[k]). */
  readonly runStart: number[] = [];
  readonly runEnd: number[] = [];
  readonly kw: KeywordIndex;
  readonly out: RawFinding[] = [];

  /** Starts of 17-character tokens of capitals and digits (VIN candidates). */
  readonly vinStarts: number[] = [];

  constructor(
    readonly text: string,
    private readonly enabled: ReadonlySet<PhiType>,
  ) {
    // One pass: digit runs, alphanumeric tokens (for VINs) and context words at word starts.
    const n = text.length;
    const kw = new KeywordIndex();
    let runStart = -1;
    let tokStart = -1;
    let tokUpper = true;
    let kwEnd = 0;
    for (let i = 0; i <= n; i++) {
      const c = i < n ? text.charCodeAt(i) : 0;
      const digit = c >= 48 && c <= 57;
      const upper = c >= 65 && c <= 90;
      const lower = c >= 97 && c <= 122;
      if (digit) {
        if (runStart < 0) runStart = i;
      } else if (runStart >= 0) {
        this.runStart.push(runStart);
        this.runEnd.push(i);
        runStart = -1;
      }
      if (digit || upper || lower) {
        if (tokStart < 0) {
          tokStart = i;
          tokUpper = true;
          if (!digit && i >= kwEnd && (i === 0 || text.charCodeAt(i - 1) !== 95)) {
            const kind = keywordAt(text, i);
            if (kind !== undefined) {
              kw.add(i, lastKeywordEnd, kind);
              kwEnd = lastKeywordEnd;
            }
          }
        }
        if (lower) tokUpper = false;
      } else if (tokStart >= 0) {
        if (i - tokStart === 17 && tokUpper) this.vinStarts.push(tokStart);
        tokStart = -1;
      }
    }
    this.kw = kw;
  }

  /** Whether the caller asked for `type`. */
  wants(type: PhiType): boolean {
    return this.enabled.has(type);
  }

  emit(type: PhiType, start: number, end: number, confidence: number): void {
    if (end > start && this.enabled.has(type)) this.out.push({ type, start, end, confidence });
  }

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
