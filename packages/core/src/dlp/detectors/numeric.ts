/**
 * Detectors built on the digit runs of the text: SSN, credit card, NPI, phone and fax, numeric
 * dates, ZIP codes, IPv4 addresses, ages over 89 and DEA numbers. Each candidate is a few
 * consecutive runs joined by single separators, checked in code; every run is looked at a
 * bounded number of times, so the pass is linear in the text.
 */
import { isIPv4 } from 'node:net';
import { Kw } from '../context.js';
import { fullYear, validCard, validDate, validDea, validNpi, validSsn } from '../validate.js';
import { isDigit, isLetter, isUpper, isAlnum, type ScanState } from './state.js';

/**
 * State abbreviations that are also everyday tokens ("ID 44810", "IN 2 weeks"): a ZIP after
 * them needs a comma or HL7 caret before the abbreviation (", ID 83702").
 */
const AMBIGUOUS_STATES = new Set(['ID', 'IN', 'OR', 'ME', 'OK', 'HI', 'DE', 'PA', 'MD', 'OH', 'CO', 'LA', 'AS', 'MP', 'DC', 'GU', 'VI', 'PR', 'MO', 'MS']);

/** USPS state and territory abbreviations: a 5-digit number right after one is a ZIP code. */
const STATES = new Set(
  'AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR VI GU AS MP'.split(
    ' ',
  ),
);

/** Separators between SSN groups ('/', '_', '.' count only next to an SSN label). */
const SSN_SEP = (c: number) => c === 45 || c === 32 || c === 47 || c === 95 || c === 46;
/** Separators between card digit groups (the Luhn check makes any of them safe). */
const CARD_SEP = (c: number) => c === 32 || c === 45 || c === 46 || c === 47 || c === 95;
/** Separators between phone groups; '/' and '_' count only next to a phone or fax label. */
const PHONE_SEP = (c: number) => c === 45 || c === 46 || c === 32 || c === 47 || c === 95;
const USUAL_PHONE_SEP = (c: number) => c === 45 || c === 46 || c === 32;

const MONTH_ABBR = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
/** An extension right after a number: " ext 21", " ext. 4410", " x221", " extension 12". */
const EXTENSION = /^ ?(?:ext\.?|extension|x) ?[0-9]/i;

const PHONE_KINDS: readonly Kw[] = [Kw.Phone, Kw.Fax, Kw.NotId];

// "-year-old", " y/o", "yo", " years of age" …: literal alternatives, bounded.
const AGE_SUFFIX = /[- ]?(?:years?[- ]old|yrs?[- ]old|years? of age|y\/o|y\.o\.?|yo)(?![a-z])/iy;

/** Value of digit run k. */
function num(s: ScanState, k: number): number {
  return Number(s.text.slice(s.runStart[k]!, s.runEnd[k]!));
}
/** Length of digit run k. */
function len(s: ScanState, k: number): number {
  return s.runEnd[k]! - s.runStart[k]!;
}
/** The single separator between run k and k+1, or 0 when the gap is not one character. */
function sep(s: ScanState, k: number): number {
  return k + 1 < s.runs && s.runStart[k + 1]! - s.runEnd[k]! === 1 ? s.text.charCodeAt(s.runEnd[k]!) : 0;
}

/**
 * The separator between the groups of one identifier at runs k and k+1: a single character, or
 * one of '-' '.' '/' '_' with up to two spaces on either side ("617 - 555", "123 /45"), or two
 * spaces (read as ' '); 0 for anything else. Identifiers are written with mixed separators, so
 * each gap is read on its own.
 */
function gap(s: ScanState, k: number): number {
  if (k + 1 >= s.runs) return 0;
  const a = s.runEnd[k]!;
  const b = s.runStart[k + 1]!;
  if (b - a === 1) return s.text.charCodeAt(a);
  if (b - a > 5) return 0;
  let p = a;
  while (p < b && p - a < 2 && s.text.charCodeAt(p) === 32) p++;
  const lead = p - a;
  let punct = 0;
  const c = s.text.charCodeAt(p);
  if (p < b && (c === 45 || c === 46 || c === 47 || c === 95)) {
    punct = c;
    p++;
  }
  const q = p;
  while (p < b && p - q < 2 && s.text.charCodeAt(p) === 32) p++;
  if (p !== b) return 0;
  return punct !== 0 ? punct : lead === 2 ? 32 : 0;
}

/** Runs every digit-run detector over the scan state (see the module comment). */
export function detectNumeric(s: ScanState): void {
  const { text, runStart: rs, runEnd: re } = s;
  const R = s.runs;

  for (let i = 0; i < R; i++) {
    const a = rs[i]!;
    const L = len(s, i);
    const clean = s.leftClean(a);

    // --- SSN: 3-2-4 with '-' or ' ' (mixed too); '/', '_' or '.' only next to "SSN"; or 9 bare
    // digits next to "SSN".
    if (L === 3 && clean && i + 2 < R && len(s, i + 1) === 2 && len(s, i + 2) === 4) {
      const g1 = gap(s, i);
      const g2 = gap(s, i + 1);
      if (SSN_SEP(g1) && SSN_SEP(g2) && s.rightClean(re[i + 2]!) && validSsn(num(s, i), num(s, i + 1), num(s, i + 2))) {
        const ctx = s.kw.before(a, Kw.Ssn, 40);
        const usual = (g1 === 45 || g1 === 32) && (g2 === 45 || g2 === 32);
        if (ctx) s.emit('SSN', a, re[i + 2]!, 0.98);
        // "Lot 363-82-9446", "Accession 572-11-2384": an identifier of something else. Groups
        // separated by spaces only ("Counts: 346 77 5201 cells") are counts and codes as often as
        // SSNs: with no SSN label or context word before them they are not read.
        else if (usual && !(g1 === 32 && g2 === 32) && !s.kw.before(a, Kw.NotId, 25)) s.emit('SSN', a, re[i + 2]!, g1 === 45 && g2 === 45 ? 0.85 : 0.6);
      }
    }
    if (L === 9 && clean && s.rightClean(re[i]!) && s.kw.before(a, Kw.Ssn, 40)) {
      const d = text.slice(a, re[i]!);
      if (validSsn(Number(d.slice(0, 3)), Number(d.slice(3, 5)), Number(d.slice(5)))) s.emit('SSN', a, re[i]!, 0.95);
    }

    // --- Phone and fax (NANP): (AAA) EEE-SSSS, AAA-EEE-SSSS, AAA.EEE.SSSS, AAA EEE SSSS, +1 …
    if (L === 3 && i + 2 < R && len(s, i + 1) === 3 && len(s, i + 2) === 4) {
      const g2 = gap(s, i + 1);
      let ok = PHONE_SEP(g2);
      let usual = USUAL_PHONE_SEP(g2);
      let start = a;
      if (ok) {
        const between = text.slice(re[i]!, rs[i + 1]!);
        if (s.code(a - 1) === 40 && (between === ')' || between === ') ' || between === ')-')) {
          start = a - 1; // "(617) 555-0143"
        } else {
          const g1 = gap(s, i);
          ok = PHONE_SEP(g1);
          usual &&= USUAL_PHONE_SEP(g1);
        }
      }
      if (ok && start === a && !clean) {
        // "+1 617 555 0143", "1-800-555-0199": a leading country code.
        const p = i - 1;
        if (p >= 0 && len(s, p) === 1 && text.charCodeAt(rs[p]!) === 49 && re[p]! + 1 === a && s.leftClean(rs[p]!)) {
          start = s.code(rs[p]! - 1) === 43 ? rs[p]! - 1 : rs[p]!;
        } else ok = false;
      } else if (ok && start === a - 1) {
        const p = s.code(a - 2);
        if (isAlnum(p)) ok = false;
      }
      if (ok && s.rightClean(re[i + 2]!)) {
        const area = text.charCodeAt(a);
        const exch = text.charCodeAt(rs[i + 1]!);
        const kind = s.kw.nearest(start, PHONE_KINDS, 28);
        // The nearest label decides: "Fax:" → FAX, "Accession" → not a phone number; '/' or '_'
        // between groups only next to a phone or fax label.
        if (area >= 50 && exch >= 50 && kind !== Kw.NotId && (usual || kind !== undefined)) {
          start = countryCode(s, start);
          const end = extensionEnd(s, re[i + 2]!);
          if (kind === Kw.Fax) s.emit('FAX', start, end, 0.92);
          else s.emit('PHONE', start, end, kind === Kw.Phone ? 0.95 : 0.85);
        }
      }
    }
    if ((L === 10 || (L === 11 && text.charCodeAt(a) === 49)) && clean && s.rightClean(re[i]!)) {
      const off = L === 11 ? a + 1 : a;
      if (text.charCodeAt(off) >= 50 && text.charCodeAt(off + 3) >= 50) {
        const kind = s.kw.nearest(a, PHONE_KINDS, 28);
        const plus = s.code(a - 1) === 43;
        const end = extensionEnd(s, re[i]!);
        if (kind === Kw.Fax) s.emit('FAX', plus ? a - 1 : a, end, 0.85);
        else if (kind === Kw.Phone || (plus && L === 11)) s.emit('PHONE', plus ? a - 1 : a, end, plus ? 0.9 : 0.85);
        else if (kind !== Kw.NotId && end > re[i]!) s.emit('PHONE', a, end, 0.85); // "6175550143 ext 21"
      }
    }
    // E.164 outside NANP: "+442071838750", or in groups ("+44 20 7183 8750"): 8-15 digits after
    // '+', no leading 0 or 1.
    if (s.code(a - 1) === 43 && text.charCodeAt(a) !== 48 && text.charCodeAt(a) !== 49 && !isAlnum(s.code(a - 2))) {
      let k = i;
      let digits = L;
      // Groups of 2-8 digits after the first (the one after the country code may be one digit:
      // "+33 1 42 68 53 00"), each after one space or '-' ("+2 3 4 …" and "+4.5 …" are no phone
      // numbers).
      while (digits < 15 && k + 1 < R && len(s, k + 1) >= (k === i ? 1 : 2) && len(s, k + 1) <= 8 && (sep(s, k) === 32 || sep(s, k) === 45) && digits + len(s, k + 1) <= 15) {
        k++;
        digits += len(s, k);
      }
      if (digits >= 8 && digits <= 15 && (k > i || L >= 8) && s.rightClean(re[k]!)) {
        const kind = s.kw.nearest(a, PHONE_KINDS, 28);
        if (kind !== Kw.NotId) s.emit(kind === Kw.Fax ? 'FAX' : 'PHONE', a - 1, extensionEnd(s, re[k]!), 0.85);
      }
    }

    // --- NPI: 10 digits with the Luhn check over 80840 + number.
    if (L === 10 && clean && s.rightClean(re[i]!) && validNpi(text.slice(a, re[i]!))) {
      if (s.kw.before(a, Kw.Npi, 40)) s.emit('NPI', a, re[i]!, 0.97);
      else if (!s.kw.before(a, Kw.NotId, 25)) s.emit('NPI', a, re[i]!, 0.6);
    }

    // --- Credit cards: one run of 13-19 digits, or groups (4-4-4-4, 4-6-5, 4-4-4-4-3 …).
    if (clean) {
      if (L >= 13 && L <= 19 && s.rightClean(re[i]!) && validCard(text.slice(a, re[i]!)) && !s.kw.before(a, Kw.NotId, 25)) {
        s.emit('CREDIT_CARD', a, re[i]!, 0.9);
      } else if (L === 4) {
        const g = gap(s, i);
        if (CARD_SEP(g)) {
          // Add up group lengths first; build the digit string only at a plausible card length.
          let total = L;
          let best = -1;
          for (let k = i + 1; k < R && k <= i + 4; k++) {
            const lk = len(s, k);
            if (lk > 6) break;
            total += lk;
            if (total > 19) break;
            if (total >= 13 && s.rightClean(re[k]!)) {
              let digits = '';
              for (let q = i; q <= k; q++) digits += text.slice(rs[q]!, re[q]!);
              if (validCard(digits)) best = k;
            }
            // Mixed separators inside one number ("4111-1111 1111.1111") are one number.
            if (!CARD_SEP(gap(s, k))) break;
          }
          if (best >= 0) s.emit('CREDIT_CARD', a, re[best]!, 0.95);
        }
      }
    }

    // --- Numeric dates: M/D/YYYY, M-D-YY, YYYY-MM-DD, M.D.YYYY; YYYYMMDD next to "DOB".
    if (clean && i + 2 < R && L <= 4) {
      const g = sep(s, i);
      if ((g === 47 || g === 45 || g === 46) && sep(s, i + 1) === g) {
        const l1 = len(s, i + 1);
        const l2 = len(s, i + 2);
        const end = re[i + 2]!;
        const endOk = s.rightClean(end) || (s.code(end) === 84 && isDigit(s.code(end + 1))); // "2024-03-15T08:30"
        if (endOk) {
          let ok = false;
          if (L === 4 && g !== 46 && l1 <= 2 && l2 <= 2) {
            const y = num(s, i);
            ok = y >= 1900 && y <= 2099 && validDate(y, num(s, i + 1), num(s, i + 2));
          } else if (L <= 2 && l1 <= 2 && (l2 === 4 || (l2 === 2 && g !== 46))) {
            const y = num(s, i + 2);
            ok = (l2 === 2 || (y >= 1900 && y <= 2099)) && validDate(fullYear(y, l2), num(s, i), num(s, i + 1));
          }
          // An ISO 8601 date-time is one finding with its time ("2024-03-15T08:30:00Z").
          if (ok) s.emit('DATE', a, s.code(end) === 84 ? isoTimeEnd(s, end + 1) : end, s.kw.before(a, Kw.Dob, 30) ? 0.97 : 0.85);
        }
      }
    }
    // M/D with a date cue before it ("seen 3/14", "DOS: 11/2"): not a fraction, not part of M/D/Y.
    if (L <= 2 && clean && i + 1 < R && sep(s, i) === 47 && len(s, i + 1) <= 2 && s.rightClean(re[i + 1]!) && s.code(re[i + 1]!) !== 47) {
      if ((s.kw.before(a, Kw.Date, 16) || s.kw.before(a, Kw.Dob, 16)) && validDate(undefined, num(s, i), num(s, i + 1))) {
        s.emit('DATE', a, re[i + 1]!, 0.85);
      }
    }
    // DDMMMYYYY / DDMMMYY ("14MAR2024", "03Jan51"): a day, a month abbreviation, a year, glued.
    if (L <= 2 && clean && i + 1 < R && rs[i + 1]! - re[i]! === 3 && (len(s, i + 1) === 4 || len(s, i + 1) === 2) && s.rightClean(re[i + 1]!)) {
      const month = MONTH_ABBR.indexOf(text.slice(re[i]!, re[i]! + 3).toLowerCase()) + 1;
      const yl = len(s, i + 1);
      const y = num(s, i + 1);
      if (month > 0 && (yl === 2 || (y >= 1900 && y <= 2099)) && validDate(fullYear(y, yl), month, num(s, i))) {
        s.emit('DATE', a, re[i + 1]!, s.kw.before(a, Kw.Dob, 30) ? 0.95 : 0.85);
      }
    }
    // YYYYMMDD after a birth or date cue ("DOB 19620314", "admitted 20240719", "admitDate": …).
    if (L === 8 && clean && s.rightClean(re[i]!) && (s.kw.before(a, Kw.Dob, 20) || s.kw.before(a, Kw.Date, 20))) {
      const y = Number(text.slice(a, a + 4));
      if (y >= 1900 && y <= 2099 && validDate(y, Number(text.slice(a + 4, a + 6)), Number(text.slice(a + 6, a + 8)))) {
        s.emit('DATE', a, re[i]!, 0.9);
      }
    }

    // --- ZIP and ZIP+4: after a state abbreviation or a "ZIP"/"postal code" label.
    if (L === 5 && clean) {
      let end = re[i]!;
      let plus4 = false;
      if (sep(s, i) === 45 && len(s, i + 1) === 4 && s.rightClean(re[i + 1]!)) {
        end = re[i + 1]!;
        plus4 = true;
      }
      if (plus4 || s.rightClean(end)) {
        const ctx = s.kw.before(a, Kw.Zip, 20) || afterState(s, a);
        if (ctx) s.emit('ZIP_CODE', a, end, 0.95);
        else if (plus4) s.emit('ZIP_CODE', a, end, 0.6);
      }
    }

    // --- IPv4: four dotted runs of 1-3 digits, parsed.
    if (L <= 3 && i + 3 < R && sep(s, i) === 46 && sep(s, i + 1) === 46 && sep(s, i + 2) === 46) {
      const end = re[i + 3]!;
      const p = s.code(a - 1);
      // "Version 10.2.1.4" is a version number, not an address.
      if (!isAlnum(p) && p !== 46 && s.rightClean(end) && !s.kw.before(a, Kw.NotId, 12) && isIPv4(text.slice(a, end))) {
        s.emit('IP_ADDRESS', a, end, 0.9);
      }
    }

    // --- Ages over 89: "92-year-old", "95 yo", "age 91", "aged 90".
    if ((L === 2 || L === 3) && clean) {
      const v = num(s, i);
      if (v >= 90 && v <= 125) {
        AGE_SUFFIX.lastIndex = re[i]!;
        const m = AGE_SUFFIX.exec(text);
        if (m !== null) s.emit('AGE_OVER_89', a, re[i]! + m[0].length, 0.9);
        else if (s.kw.before(a, Kw.Age, 4) && s.rightClean(re[i]!)) s.emit('AGE_OVER_89', a, re[i]!, 0.85);
      }
    }

    // --- DEA: two letters then 7 digits, with the DEA check digit.
    if (L === 7 && s.rightClean(re[i]!)) {
      const c1 = s.code(a - 2);
      const c2 = s.code(a - 1);
      if (isUpper(c1) && (isUpper(c2) || c2 === 57) && !isAlnum(s.code(a - 3)) && validDea(text.slice(a - 2, re[i]!))) {
        s.emit('DEA_NUMBER', a - 2, re[i]!, s.kw.before(a - 2, Kw.Dea, 30) ? 0.97 : 0.85);
      }
    }
  }
}

/** End of the time of an ISO 8601 date-time at `p` (after 'T'): hh:mm[:ss[.fff]][Z|±hh:mm], or `p - 1` (the 'T' left out) when none. */
function isoTimeEnd(s: ScanState, p: number): number {
  const m = ISO_TIME.exec(s.text.slice(p, p + 24));
  return m === null ? p - 1 : p + m[0].length;
}
const ISO_TIME = /^[0-2][0-9]:[0-5][0-9](?::[0-5][0-9](?:\.[0-9]{1,6})?)?(?:Z|[+-][0-2][0-9]:?[0-5][0-9])?/;

/** The start of a phone number at `start` with its "+1 " / "+1-" country code before it ("+1 (617) 555-0143"). */
function countryCode(s: ScanState, start: number): number {
  let p = start;
  if (s.code(p - 1) === 32 || s.code(p - 1) === 45) p--;
  return p < start && s.code(p - 1) === 49 && s.code(p - 2) === 43 && !isAlnum(s.code(p - 3)) ? p - 2 : start;
}

/** The end of a phone number ending at `end` with its extension (" ext. 21", " x221", " extension 12"), or `end`. */
function extensionEnd(s: ScanState, end: number): number {
  const m = EXTENSION.exec(s.text.slice(end, end + 12));
  if (m === null) return end;
  let e = end + m[0].length - 1;
  while (e < s.text.length && e - end < 18 && isDigit(s.code(e))) e++;
  return isAlnum(s.code(e)) ? end : e;
}

/** True when a state abbreviation (then up to two of " ,^") sits right before `pos`. */
function afterState(s: ScanState, pos: number): boolean {
  let p = pos - 1;
  let skipped = 0;
  while (skipped < 2 && (s.code(p) === 32 || s.code(p) === 44 || s.code(p) === 94)) {
    p--;
    skipped++;
  }
  if (skipped === 0) return false;
  const c1 = s.code(p - 1);
  const c2 = s.code(p);
  if (!isUpper(c1) || !isUpper(c2) || isLetter(s.code(p - 2))) return false;
  const st = String.fromCharCode(c1, c2);
  if (!STATES.has(st)) return false;
  if (AMBIGUOUS_STATES.has(st)) {
    let q = p - 2;
    if (s.code(q) === 32) q--;
    return s.code(q) === 44 || s.code(q) === 94;
  }
  return true;
}
