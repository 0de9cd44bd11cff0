/** Checksum and plausibility rules for identifiers that carry one. Pure functions over strings of ASCII. */

/** Luhn (mod 10) over the digits of `digits` (ASCII digits only). */
export function luhn(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/**
 * SSA rules for a 9-digit SSN: area not 000, 666 or 900-999; group not 00; serial not 0000.
 * (Randomised issuance since 2011 keeps these exclusions.)
 */
export function validSsn(area: number, group: number, serial: number): boolean {
  return area !== 0 && area !== 666 && area < 900 && group !== 0 && serial !== 0;
}

/** NPI: 10 digits, first 1 or 2, Luhn check digit computed over the ISO prefix 80840 + the number. */
export function validNpi(digits: string): boolean {
  if (digits.length !== 10) return false;
  const first = digits.charCodeAt(0);
  if (first !== 49 && first !== 50) return false;
  return luhn('80840' + digits);
}

/** The digit at `i` (NaN past the end, as `charCodeAt`). */
const digitAt = (digits: string, i: number): number => digits.charCodeAt(i) - 48;

/** Card brands by IIN prefix and allowed lengths. */
export function cardBrand(digits: string): string | undefined {
  const n = digits.length;
  const p2 = digitAt(digits, 0) * 10 + digitAt(digits, 1);
  const p3 = p2 * 10 + digitAt(digits, 2);
  const p4 = p3 * 10 + digitAt(digits, 3);
  const p6 = (p4 * 10 + digitAt(digits, 4)) * 10 + digitAt(digits, 5);
  if (digits[0] === '4' && (n === 13 || n === 16 || n === 19)) return 'visa';
  if (((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) && n === 16) return 'mastercard';
  if ((p2 === 34 || p2 === 37) && n === 15) return 'amex';
  if ((p4 === 6011 || p2 === 65 || (p3 >= 644 && p3 <= 649) || (p6 >= 622126 && p6 <= 622925)) && n >= 16 && n <= 19)
    return 'discover';
  if (p4 >= 3528 && p4 <= 3589 && n >= 16 && n <= 19) return 'jcb';
  if ((p2 === 36 || p2 === 38 || p2 === 39 || (p3 >= 300 && p3 <= 305)) && n >= 14 && n <= 19) return 'diners';
  if (p2 === 62 && n >= 16 && n <= 19) return 'unionpay';
  if ((p2 === 50 || (p2 >= 56 && p2 <= 69)) && n >= 12 && n <= 19) return 'maestro';
  return undefined;
}

/** A card number: known brand prefix and length, and a valid Luhn check digit. */
export function validCard(digits: string): boolean {
  return digits.length >= 12 && luhn(digits) && cardBrand(digits) !== undefined;
}

/** DEA registrant-type letters (first character of a DEA number). */
const DEA_FIRST = new Set('ABCDEFGHJKLMPRSTUX');

/**
 * DEA number: registrant letter, a letter (or 9), 7 digits where
 * (d1 + d3 + d5) + 2 × (d2 + d4 + d6) ends in d7.
 */
export function validDea(id: string): boolean {
  if (id.length !== 9) return false;
  const a = id[0]!.toUpperCase();
  const b = id.charCodeAt(1);
  if (!DEA_FIRST.has(a)) return false;
  const isLetter = (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || b === 57;
  if (!isLetter) return false;
  const d: number[] = [];
  for (let i = 2; i < 9; i++) {
    const c = id.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return false;
    d.push(c);
  }
  const sum = d[0]! + d[2]! + d[4]! + 2 * (d[1]! + d[3]! + d[5]!);
  return sum % 10 === d[6];
}

const VIN_WEIGHTS = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2];
/** Transliteration of VIN letters (I, O, Q are not allowed and map to -1). */
function vinValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97) c -= 32;
  // A-H → 1-8, J-R → 1-9 (no O, Q), S-Z → 2-9
  if (c >= 65 && c <= 72) return c - 64;
  if (c === 73 || c === 79 || c === 81) return -1;
  if (c >= 74 && c <= 82) return c - 73;
  if (c >= 83 && c <= 90) return c - 81;
  return -1;
}

/** VIN (ISO 3779 / 49 CFR 565): 17 characters without I, O, Q; check digit at position 9 (mod 11, 10 = X). */
export function validVin(vin: string): boolean {
  if (vin.length !== 17) return false;
  let sum = 0;
  let letters = 0;
  let digits = 0;
  for (let i = 0; i < 17; i++) {
    const c = vin.charCodeAt(i);
    const v = vinValue(c);
    if (v < 0) return false;
    if (c <= 57) digits++;
    else letters++;
    sum += v * VIN_WEIGHTS[i]!;
  }
  if (letters === 0 || digits < 3) return false;
  const check = sum % 11;
  const c9 = vin[8]!.toUpperCase();
  return check === 10 ? c9 === 'X' : c9 === String(check);
}

const DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Calendar plausibility: month 1-12, day within the month (Feb 29 only in leap years when the year is known). */
export function validDate(year: number | undefined, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  if (day > DAYS[month - 1]!) return false;
  if (month === 2 && day === 29 && year !== undefined) {
    return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  }
  return true;
}

/** Expands a two-digit year (00-99) to 19xx/20xx for leap-year checks. */
export function fullYear(y: number, digits: number): number {
  return digits === 2 ? (y < 50 ? 2000 + y : 1900 + y) : y;
}
