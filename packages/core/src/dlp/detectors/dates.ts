/**
 * Dates written with month names ("March 15, 2024", "Mar 15 2024", "15 Mar 2024", "15-Mar-2024",
 * "the 2nd of February 1938", "Feb 20", "March 2024": a month is a date element under Safe Harbor, only the year is not) and ages over 89 written in words ("ninety-two year old"). Both start from a context
 * word found by the keyword pass and read a bounded number of characters around it.
 */
import { Kw } from '../context.js';
import { validDate } from '../validate.js';
import { isDigit, isLetter, isUpper, type ScanState } from './state.js';

const MONTHS: Record<string, number> = {
  jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12,
};

/** Reads 1-4 digits at `p`; returns [value, end] or undefined. */
function digitsAt(text: string, p: number, min: number, max: number): [number, number] | undefined {
  let e = p;
  while (e < text.length && e - p < max + 1 && isDigit(text.charCodeAt(e))) e++;
  const n = e - p;
  if (n < min || n > max) return undefined;
  return [Number(text.slice(p, e)), e];
}

/** Skips an ordinal suffix ("15th", "1st", "2nd", "3rd"). */
function skipOrdinal(text: string, p: number): number {
  const two = text.slice(p, p + 2).toLowerCase();
  return two === 'st' || two === 'nd' || two === 'rd' || two === 'th' ? p + 2 : p;
}

/** DATE findings around capitalised month names. */
export function detectTextDates(s: ScanState): void {
  const { text, kw } = s;
  for (let k = 0; k < kw.count; k++) {
    if (kw.kinds[k] !== Kw.Month) continue;
    const ms = kw.starts[k]!;
    let me = kw.ends[k]!;
    // Capitalised month names only: "may", "mar", "dec" in lower case are words.
    if (!isUpper(text.charCodeAt(ms))) continue;
    const month = MONTHS[text.slice(ms, ms + 3).toLowerCase()]!;
    if (text.charCodeAt(me) === 46) me++;
    const ctx = kw.before(ms, Kw.Dob, 30) ? 0.97 : 0.85;

    // Dth of Month YYYY — "the 2nd of February 1938"
    if (text.charCodeAt(ms - 1) === 32 && text.slice(ms - 4, ms - 1).toLowerCase() === ' of') {
      let ds = ms - 4;
      const suffix = text.slice(ds - 2, ds).toLowerCase();
      if (suffix === 'st' || suffix === 'nd' || suffix === 'rd' || suffix === 'th') {
        ds -= 2;
        const de = ds;
        while (ds > 0 && de - ds < 2 && isDigit(text.charCodeAt(ds - 1))) ds--;
        const y = text.charCodeAt(me) === 32 || text.charCodeAt(me) === 44 ? digitsAt(text, me + (text.charCodeAt(me) === 44 ? 2 : 1), 4, 4) : undefined;
        if (ds < de && !isLetter(text.charCodeAt(ds - 1) || 0) && !isDigit(text.charCodeAt(ds - 1) || 0)) {
          const day = Number(text.slice(ds, de));
          if (y !== undefined && y[0] >= 1900 && y[0] <= 2099 && !isDigit(text.charCodeAt(y[1]) || 0) && validDate(y[0], month, day)) {
            s.emit('DATE', ds, y[1], ctx);
            continue;
          }
          if (y === undefined && validDate(undefined, month, day)) {
            s.emit('DATE', ds, me, ctx - 0.2);
            continue;
          }
        }
      }
    }
    // Month D[, YYYY] — "March 15, 2024", "Mar 15 2024", "Feb 20"; Month YYYY — "March 2024"
    const p = me;
    if (text.charCodeAt(p) === 32 || text.charCodeAt(p) === 45) {
      const y = digitsAt(text, p + 1, 4, 4);
      // Unless a day comes first ("15 Mar 2024", read below).
      const dayBefore = isDigit(text.charCodeAt(ms - 2) || 0) && (text.charCodeAt(ms - 1) === 32 || text.charCodeAt(ms - 1) === 45);
      if (y !== undefined && !dayBefore && y[0] >= 1900 && y[0] <= 2099 && !isDigit(text.charCodeAt(y[1]) || 0)) {
        s.emit('DATE', ms, y[1], ctx - 0.15);
        continue;
      }
      const d = digitsAt(text, p + 1, 1, 2);
      if (d !== undefined) {
        const day = d[0];
        let e = skipOrdinal(text, d[1]);
        if (isLetter(text.charCodeAt(e) || 0) || text.charCodeAt(e) === 58) continue; // "May 5pm", "Mar 3:30"
        let year: number | undefined;
        let q = e;
        if (text.charCodeAt(q) === 44) q++;
        if (text.charCodeAt(q) === 32 || text.charCodeAt(q) === 45) {
          const y = digitsAt(text, q + 1, 4, 4);
          if (y !== undefined && y[0] >= 1900 && y[0] <= 2099 && !isDigit(text.charCodeAt(y[1]) || 0)) {
            year = y[0];
            e = y[1];
          }
        }
        if (validDate(year, month, day)) {
          s.emit('DATE', ms, e, year === undefined ? ctx - 0.2 : ctx);
          continue;
        }
      }
    }
    // D Month YYYY — "15 Mar 2024", "15-Mar-2024"
    const before = text.charCodeAt(ms - 1);
    if (before === 32 || before === 45) {
      let ds = ms - 1;
      while (ds > 0 && ms - 1 - ds < 2 && isDigit(text.charCodeAt(ds - 1))) ds--;
      if (ds < ms - 1 && !isDigit(text.charCodeAt(ds - 1) || 0) && !isLetter(text.charCodeAt(ds - 1) || 0)) {
        const day = Number(text.slice(ds, ms - 1));
        const sepc = text.charCodeAt(me);
        if (sepc === 32 || sepc === 45 || sepc === 44) {
          const y = digitsAt(text, me + 1, 4, 4);
          if (y !== undefined && y[0] >= 1900 && y[0] <= 2099 && validDate(y[0], month, day)) {
            s.emit('DATE', ds, y[1], ctx);
          }
        }
      }
    }
  }
}

const UNITS: Record<string, number> = {
  one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9,
};
const WORD_AGE_SUFFIX = /[- ](?:years?[- ]old|year-old|yrs?[- ]old|years? of age)(?![a-z])/iy;

/** "ninety-two year old", "ninety years of age", "aged ninety". */
export function detectWordAges(s: ScanState): void {
  const { text, kw } = s;
  for (let k = 0; k < kw.count; k++) {
    if (kw.kinds[k] !== Kw.Ninety) continue;
    const start = kw.starts[k]!;
    let e = kw.ends[k]!;
    const sep = text.charCodeAt(e);
    if (sep === 45 || sep === 32) {
      let u = e + 1;
      while (u < text.length && u - e < 7 && isLetter(text.charCodeAt(u))) u++;
      if (UNITS[text.slice(e + 1, u).toLowerCase()] !== undefined) e = u;
    }
    WORD_AGE_SUFFIX.lastIndex = e;
    const m = WORD_AGE_SUFFIX.exec(text);
    if (m !== null) s.emit('AGE_OVER_89', start, e + m[0].length, 0.9);
    else if (kw.before(start, Kw.Age, 4)) s.emit('AGE_OVER_89', start, e, 0.85);
  }
}
