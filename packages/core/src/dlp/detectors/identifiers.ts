/**
 * Identifiers recognised by their context word ("MRN: 00482913", "Member ID XKJ882910344",
 * "serial # PJN402913H"), VINs by their check digit, and the configured institution patterns.
 */
import type { PhiType } from '../types.js';
import { Kw } from '../context.js';
import { validDate, validVin } from '../validate.js';
import { isAlnum, isDigit, isLetter, isUpper, type ScanState } from './state.js';

/** Context-bound identifier types. */
export type ContextIdType = 'MRN' | 'HEALTH_PLAN_ID' | 'ACCOUNT_NUMBER' | 'LICENSE_NUMBER' | 'DEVICE_ID';

/** Types read after a label: the context-bound identifiers and licence plates. */
type LabelledType = ContextIdType | 'VEHICLE_ID';

const TYPE_BY_KIND = new Map<Kw, LabelledType>([
  [Kw.Mrn, 'MRN'],
  [Kw.Plan, 'HEALTH_PLAN_ID'],
  [Kw.Account, 'ACCOUNT_NUMBER'],
  [Kw.License, 'LICENSE_NUMBER'],
  [Kw.Device, 'DEVICE_ID'],
  [Kw.Plate, 'VEHICLE_ID'],
]);

/** Words between a label and its value: "Account number is", "license no.", "serial # …". */
const FILLER = new Set([
  'no', 'num', 'nbr', 'number', 'numbers', 'id', 'ids', 'is', 'was', 'of', 'di', 'mbi', 'identifier',
  'value', 'beneficiary', 'member', 'card', 'plan', 'ending', 'in', 'on', 'file',
]);

/** Skips separators and filler words after a label; returns the value start or -1. */
function valueStart(text: string, pos: number): number {
  let p = pos;
  for (let words = 0; words < 4; ) {
    // Up to 6 separator characters: spaces, ':', '#', '=', '.', quotes, '('.
    let seps = 0;
    while (seps < 6 && p < text.length) {
      const c = text.charCodeAt(p);
      // space : # = . " ' ( tab - , { } [ ] > _ (XML: <patientId>48213</patientId>; keys: "mrn_no")
      if (c === 32 || c === 58 || c === 35 || c === 61 || c === 46 || c === 34 || c === 39 || c === 40 || c === 9 || c === 45 || c === 44 || c === 123 || c === 125 || c === 91 || c === 93 || c === 62 || c === 95) {
        p++;
        seps++;
      } else break;
    }
    let e = p;
    while (e < text.length && e - p < 12 && isLetter(text.charCodeAt(e))) e++;
    if (e > p && FILLER.has(text.slice(p, e).toLowerCase()) && !isDigit(text.charCodeAt(e) || 0)) {
      p = e;
      words++;
      continue;
    }
    // A key's number ("mrn_2": …, member_id_1=…): one or two digits that end the key.
    if (e === p && p > pos && text.charCodeAt(p - 1) === 95) {
      while (e < text.length && e - p < 2 && isDigit(text.charCodeAt(e))) e++;
      const after = text.charCodeAt(e);
      if (e > p && (after === 34 || after === 39 || after === 61 || after === 62 || after === 58)) {
        p = e;
        words++;
        continue;
      }
    }
    return p;
  }
  return p;
}

/**
 * The identifier at `p`: alphanumeric parts joined by single '-', '/' or ' ' (a part after a space
 * must hold a digit), ≥ 5 characters with ≥ 2 digits. A first part without digits must be a short
 * all-capitals prefix ("HAR 4400192", "RPH 33120").
 */
function valueEnd(text: string, p: number): number {
  let e = p;
  let digits = 0;
  let total = 0;
  let lastGood = -1;
  for (let part = 0; part < 6; part++) {
    const ps = e;
    let pd = 0;
    let upper = true;
    while (e < text.length && e - ps < 24) {
      const c = text.charCodeAt(e);
      if (isDigit(c)) pd++;
      else if (isLetter(c)) {
        if (!isUpper(c)) upper = false;
      } else break;
      e++;
    }
    const plen = e - ps;
    if (plen === 0 || isAlnum(text.charCodeAt(e) || 0)) break;
    if (pd === 0 && (part > 0 || !upper || plen > 4)) break;
    digits += pd;
    total += plen;
    if (digits >= 2 && total >= 5 && pd > 0) lastGood = e;
    const sep = text.charCodeAt(e);
    if ((sep === 45 || sep === 47 || sep === 32) && isAlnum(text.charCodeAt(e + 1) || 0)) {
      if (sep === 32 && !isDigit(text.charCodeAt(e + 1))) {
        // A space continues only into a part that starts with a digit.
        break;
      }
      e++;
    } else break;
  }
  return lastGood;
}

const DATE_SHAPE = /^(\d{1,4})([-/.])(\d{1,2})\2(\d{2}|\d{4})$/;
/** A calendar date ("03/14/2024", "2024-03-14"): after "Chart:" or "Member:" it is a date, read by the date detector. */
function dateShaped(value: string): boolean {
  const m = DATE_SHAPE.exec(value);
  if (m === null) return false;
  const [a, b, c] = [Number(m[1]), Number(m[3]), Number(m[4])];
  return m[1]!.length === 4 ? validDate(a, b, c) : m[1]!.length <= 2 && (validDate(undefined, a, b) || validDate(undefined, b, a));
}

/** MRN, health-plan, account, licence and device identifiers after their context words. */
export function detectContextIds(s: ScanState): void {
  const { text, kw } = s;
  for (let k = 0; k < kw.count; k++) {
    const type = TYPE_BY_KIND.get(kw.kinds[k]! as Kw);
    if (type === undefined || !s.wants(type)) continue;
    const p = valueStart(text, kw.ends[k]!);
    if (p - kw.ends[k]! > 30 || p >= text.length) continue;
    let e = valueEnd(text, p);
    if (e <= p || dateShaped(text.slice(p, e))) continue;
    // A context word glued to its digits ("MRN00482913") is part of the identifier as written.
    const start = p === kw.ends[k]! && isDigit(text.charCodeAt(p)) && isLetter(text.charCodeAt(p - 1)) ? kw.starts[k]! : p;
    s.emit(type, start, e, 0.9);
    // A list after one label: "serial numbers: 1822093341 (L), 1822093342 (R)". Items must have
    // the shape of the first (same length ± 2, digits-only or not).
    const len = e - p;
    const digitsOnly = /^[0-9]+$/.test(text.slice(p, e));
    for (let item = 0; item < 8; item++) {
      let q = e;
      if (text.charCodeAt(q) === 32 && text.charCodeAt(q + 1) === 40) {
        // A short note such as "(L)": look at most 8 characters ahead (never an open-ended search).
        let close = q + 2;
        while (close < text.length && close - q <= 8 && text.charCodeAt(close) !== 41) close++;
        if (text.charCodeAt(close) !== 41) break;
        q = close + 1;
      }
      if (text.startsWith(', ', q) || text.startsWith('; ', q) || text.startsWith(' / ', q)) q += text.charCodeAt(q) === 32 ? 3 : 2;
      else if (text.startsWith(' and ', q)) q += 5;
      else break;
      const ne = valueEnd(text, q);
      if (ne <= q || Math.abs(ne - q - len) > 2 || /^[0-9]+$/.test(text.slice(q, ne)) !== digitsOnly) break;
      s.emit(type, q, ne, 0.85);
      e = ne;
    }
  }
}

/**
 * GS1 UDI strings in human-readable form: "(01)" and the 14-digit GTIN, then further application
 * identifiers ("(17)250131(10)LOT42(21)SN123"). The whole string is the device identifier.
 */
export function detectUdi(s: ScanState): void {
  const { text } = s;
  let from = 0;
  for (let at = text.indexOf('(01)', from); at >= 0; at = text.indexOf('(01)', from)) {
    from = at + 4;
    let e = at + 4;
    while (e < text.length && e - at - 4 < 14 && isDigit(text.charCodeAt(e))) e++;
    if (e - at - 4 !== 14 || isAlnum(text.charCodeAt(e) || 0)) {
      if (!(e - at - 4 === 14 && text.charCodeAt(e) === 40)) continue;
    }
    // Further "(AI)value" groups, each AI 2-4 digits, each value ≤ 20 characters.
    for (let g = 0; g < 8 && text.charCodeAt(e) === 40; g++) {
      let q = e + 1;
      while (q < text.length && q - e - 1 < 4 && isDigit(text.charCodeAt(q))) q++;
      if (q - e - 1 < 2 || text.charCodeAt(q) !== 41) break;
      let v = q + 1;
      while (v < text.length && v - q - 1 < 20 && (isAlnum(text.charCodeAt(v)) || text.charCodeAt(v) === 45 || text.charCodeAt(v) === 46)) v++;
      if (v === q + 1) break;
      e = v;
    }
    s.emit('DEVICE_ID', at, e, 0.95);
    from = e;
  }
}

/** VIN: a 17-character token of capitals and digits without I, O, Q and with a valid check digit. */
export function detectVin(s: ScanState): void {
  for (let k = 0; k < s.vins; k++) {
    const start = s.vinStarts[k]!;
    if (validVin(s.text.slice(start, start + 17))) {
      s.emit('VEHICLE_ID', start, start + 17, s.kw.before(start, Kw.Vin, 30) ? 0.98 : 0.9);
    }
  }
}

/** A user pattern for an institution-specific identifier (see `ScannerOptions.institutionPatterns`). */
export interface CompiledInstitutionPattern {
  readonly type: ContextIdType;
  readonly regex: RegExp;
}

/** Runs the institution patterns (validated as backtracking-safe when the scanner is created). */
export function detectInstitution(s: ScanState, patterns: readonly CompiledInstitutionPattern[]): void {
  for (const { type, regex } of patterns) {
    if (!s.wants(type as PhiType)) continue;
    regex.lastIndex = 0;
    for (let m = regex.exec(s.text); m !== null; m = regex.exec(s.text)) {
      if (m[0].length === 0) {
        regex.lastIndex++;
        continue;
      }
      s.emit(type, m.index, m.index + m[0].length, 0.9);
    }
  }
}
