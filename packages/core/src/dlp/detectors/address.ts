/**
 * Street addresses: a house number, up to four capitalised (or all-capital) words ending in a
 * street suffix, and an optional unit ("Apt 4B", "Suite 1200", "#12"); and post-office boxes.
 */
import { Kw } from '../context.js';
import { isAlnum, isDigit, isLetter, isUpper, type ScanState } from './state.js';

const SUFFIXES = new Set(
  (
    'street st avenue ave av road rd boulevard blvd lane ln drive dr court ct circle cir way place pl terrace ter ' +
    'parkway pkwy highway hwy square sq trail trl plaza plz alley aly row path pike turnpike tpke crossing xing ' +
    'loop commons common point pt ridge landing ldg heights hts park center ctr broadway expressway expy freeway fwy'
  ).split(' '),
);
const DIRECTIONS = new Set(['n', 's', 'e', 'w', 'ne', 'nw', 'se', 'sw', 'north', 'south', 'east', 'west']);
const UNITS = new Set(['apt', 'apartment', 'suite', 'ste', 'unit', 'rm', 'room', 'fl', 'floor', 'bldg', 'building']);

/** Reads one word of letters (max 20) at `p`; returns its end or -1. */
function word(text: string, p: number): number {
  let e = p;
  while (e < text.length && e - p < 20 && isLetter(text.charCodeAt(e))) e++;
  return e > p && !isAlnum(text.charCodeAt(e) || 0) ? e : -1;
}

/** A unit after the street: ", Apt 4B", " Unit 5", " #12". Returns the new end or `p`. */
function unit(text: string, p: number): number {
  let q = p;
  if (text.charCodeAt(q) === 44) q++;
  if (text.charCodeAt(q) !== 32) return p;
  q++;
  let afterLabel = q;
  if (text.charCodeAt(q) === 35) afterLabel = q + 1;
  else {
    const e = word(text, q);
    if (e < 0 && !(isLetter(text.charCodeAt(q)) && text.charCodeAt(q + 2) === 46)) return p;
    const w = text.slice(q, e < 0 ? q : e).toLowerCase();
    if (!UNITS.has(w)) return p;
    afterLabel = e;
    if (text.charCodeAt(afterLabel) === 46) afterLabel++;
    if (text.charCodeAt(afterLabel) === 32) afterLabel++;
    if (text.charCodeAt(afterLabel) === 35) afterLabel++;
  }
  let v = afterLabel;
  while (v < text.length && v - afterLabel < 8 && (isAlnum(text.charCodeAt(v)) || text.charCodeAt(v) === 45)) v++;
  if (v === afterLabel || isAlnum(text.charCodeAt(v) || 0)) return p;
  let hasDigit = false;
  for (let k = afterLabel; k < v; k++) if (isDigit(text.charCodeAt(k))) hasDigit = true;
  return hasDigit || v - afterLabel <= 2 ? v : p;
}

/** STREET_ADDRESS findings: street lines from house numbers, and PO boxes from their keyword. */
export function detectAddresses(s: ScanState): void {
  const { text, runStart: rs, runEnd: re } = s;
  for (let i = 0; i < s.runs; i++) {
    const a = rs[i]!;
    const L = re[i]! - a;
    if (L > 6 || !s.leftClean(a)) continue;
    let p = re[i]!;
    // "12B Elm St": one letter glued to the number.
    if (isUpper(text.charCodeAt(p)) && text.charCodeAt(p + 1) === 32) p++;
    if (text.charCodeAt(p) !== 32) continue;
    p++;
    let end = -1;
    for (let w = 0; w < 5; w++) {
      const c = text.charCodeAt(p);
      let e: number;
      if (isDigit(c)) {
        // Ordinal street names: "5th Ave", "42nd Street".
        let q = p;
        while (q < text.length && q - p < 3 && isDigit(text.charCodeAt(q))) q++;
        e = word(text, q);
        if (e < 0 || e - q !== 2) break;
      } else {
        if (!isUpper(c)) break;
        e = word(text, p);
        if (e < 0) break;
      }
      const lw = text.slice(p, e).toLowerCase();
      if (w > 0 && SUFFIXES.has(lw)) {
        end = e;
        if (text.charCodeAt(end) === 46) end++;
        break;
      }
      if (w === 0 && DIRECTIONS.has(lw) && text.charCodeAt(e) === 46) e++;
      if (text.charCodeAt(e) !== 32) break;
      p = e + 1;
    }
    if (end < 0) continue;
    end = unit(text, end);
    s.emit('STREET_ADDRESS', a, end, 0.85);
  }

  // PO boxes: "PO Box 1187", "P.O. Box 442", "P O Box 9201".
  const { kw } = s;
  for (let k = 0; k < kw.count; k++) {
    if (kw.kinds[k] !== Kw.PoBox) continue;
    let p = kw.ends[k]!;
    if (text.charCodeAt(p) !== 32) continue;
    p++;
    let e = p;
    while (e < text.length && e - p < 8 && isDigit(text.charCodeAt(e))) e++;
    if (e > p && !isAlnum(text.charCodeAt(e) || 0)) s.emit('STREET_ADDRESS', kw.starts[k]!, e, 0.9);
  }
}
