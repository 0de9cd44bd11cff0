/**
 * The normalized view the detectors scan, and the map back to the original text.
 *
 * Evasion resistance, in two layers, each recording where every output unit came from (the
 * second reads what the first decoded, so disguises nest):
 * - characters: HTML character references (`&#64;`, `&#x40;`, `&commat;`, accented letters
 *   such as `&uuml;`) and percent-encoding (`%40`) are decoded; per code point, every
 *   Default_Ignorable code point is dropped (zero-width characters, soft hyphen, LRM/RLM, bidi
 *   embeddings and isolates, invisible operators, the combining grapheme joiner, variation
 *   selectors, tag characters); every Unicode decimal digit (\p{Nd}: Arabic-Indic, Devanagari,
 *   Bengali, fullwidth …) folds to its ASCII digit; dash and space variants become '-' and ' ';
 *   everything else goes through NFKC (fullwidth letters).
 * - structure, rewrites of short stretches found by `findRewrites`: line breaks and indentation
 *   inside an identifier, spaced digits (`1 2 3 4 5 6 7 8 9`), digits spelled as words (`six one
 *   seven`), the letter O inside a digit run (`617-555-O143`), and spelled-out e-mail addresses
 *   (`jane dot roe at example dot org`, `jroe (at) example [dot] org`, `jroe{at}example.org`).
 * Text without a non-ASCII character and without a rewrite is returned as is (no allocation but
 * the result record). `normalize(text, features, false)` skips digit words (the scanner's first
 * pass; it reads them in a second pass when the text holds three or more).
 */

/** A normalized text and, when it differs from the original, the offset maps. */
export interface NormalizedText {
  readonly text: string;
  /** For each UTF-16 unit of `text`, the start of the original stretch it came from. */
  readonly starts: Int32Array | undefined;
  /** For each UTF-16 unit of `text`, the end (exclusive) of the original stretch it came from. */
  readonly ends: Int32Array | undefined;
}

/** One rewrite: original text[start, end) is read as `rep`. */
interface Rewrite {
  readonly start: number;
  readonly end: number;
  readonly rep: string;
}

/** Dash variants (hyphen, non-breaking hyphen, figure dash, en and em dash, horizontal bar, minus). */
function isDash(cp: number): boolean {
  return (cp >= 0x2010 && cp <= 0x2015) || cp === 0x2212 || cp === 0xfe63 || cp === 0xff0d;
}

/** Space variants (NBSP, en quad … hair space, narrow NBSP, medium math space, ideographic space). */
function isSpace(cp: number): boolean {
  return cp === 0x00a0 || (cp >= 0x2000 && cp <= 0x200a) || cp === 0x202f || cp === 0x205f || cp === 0x3000;
}

const IGNORABLE = /^\p{Default_Ignorable_Code_Point}$/u;
const DECIMAL = /^\p{Nd}$/u;

/** ASCII digit of a \p{Nd} code point: decimal digits come in contiguous runs of ten, zero first. */
function digitValue(cp: number): number {
  let k = 0;
  while (k < 9 && DECIMAL.test(String.fromCodePoint(cp - k - 1))) k++;
  // A run longer than ten (mathematical digits: five runs back to back) is still aligned on ten.
  let back = k;
  if (k === 9) {
    while (DECIMAL.test(String.fromCodePoint(cp - back - 1))) back++;
  }
  return back % 10;
}

// Per-code-point folding, cached: the same few characters (digits of one script, emoji) repeat.
const foldCache = new Map<number, string>();
function fold(cp: number): string {
  let s = foldCache.get(cp);
  if (s === undefined) {
    const ch = String.fromCodePoint(cp);
    if (IGNORABLE.test(ch)) s = '';
    else if (isDash(cp)) s = '-';
    else if (isSpace(cp)) s = ' ';
    else if (DECIMAL.test(ch)) s = String.fromCharCode(48 + digitValue(cp));
    else s = ch.normalize('NFKC');
    if (foldCache.size < 8192) foldCache.set(cp, s);
  }
  return s;
}

/** Per UTF-16 unit above U+007F: 1 when the view reads it as itself, 2 when it changes; 0 not yet known. */
const SAME = new Uint8Array(65536);

/**
 * True when the normalized view reads the UTF-16 unit `c` (above U+007F) as itself: an accented
 * letter, say, but not an invisible character, a foreign digit or a fullwidth letter. Surrogates
 * count as changed (their code point is looked at only by `normalize`).
 */
export function foldsToItself(c: number): boolean {
  let v = SAME[c]!;
  if (v === 0) {
    v = (c >= 0xd800 && c <= 0xdfff) || fold(c) !== String.fromCharCode(c) ? 2 : 1;
    SAME[c] = v;
  }
  return v === 1;
}

// One character class, no quantifier: the engine's scan loop is several times faster than a JS loop.
const NON_ASCII = /[^\x00-\x7f]/;

/** True when `text` has a character above U+007F. */
export function hasNonAscii(text: string): boolean {
  return NON_ASCII.test(text);
}

/**
 * Landmarks of a possible rewrite, one combined sticky-free pattern with literal prefixes: a
 * character reference, a percent escape, a line break, two spaced digits, a bracketed or bare
 * "at"/"dot", a digit word, an O next to a digit. Each hit is checked in code.
 */
const ALL_LANDMARKS =
  /\n|[0-9] {1,2}[0-9]|[[({<] ?(?:at|dot|AT|DOT|At|Dot) ?[\])}>]|(?:^|[^A-Za-z])(?:at|AT|At|@) |\b(?:zero|oh|one|two|three|four|five|six|seven|eight|nine|Zero|Oh|One|Two|Three|Four|Five|Six|Seven|Eight|Nine|ZERO|OH|ONE|TWO|THREE|FOUR|FIVE|SIX|SEVEN|EIGHT|NINE)\b|[0-9][Oo]|[Oo][0-9]/g;

/**
 * The same landmarks without the digit words, and a spelled "at" only after a space: the first
 * pass. Digit words are read in a second pass, only when the scan counted three of them.
 */
const SYMBOLS = /\n|[0-9] {1,2}[0-9]|[[({<] ?(?:at|dot|AT|DOT|At|Dot) ?[\])}>]| (?:at|AT|At|@) |[0-9][Oo]|[Oo][0-9]/g;
/** Characters (bits of detectors/state.ts `F`) that can start a symbol landmark: digit, '@', '<', '(' '[' '{', line break. */
const SYMBOL_FEATURES = 1 | 4 | 16 | 256 | 512;
/** Character references and percent escapes: the characters layer. */
const REFERENCES = /&#?[A-Za-z0-9]{1,8};?|%[0-9A-Fa-f]{2}/g;
/** Bit of detectors/state.ts `F` for '&' and '%'. */
const REFERENCE_FEATURE = 8;

const NAMED_ENTITIES: Record<string, string> = {
  amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', commat: '@', period: '.', hyphen: '-', dash: '-',
  minus: '-', ndash: '-', mdash: '-', lowbar: '_', sol: '/', num: '#', colon: ':', lpar: '(', rpar: ')',
  plus: '+', comma: ',', equals: '=', percnt: '%', dollar: '$', excl: '!', quest: '?', semi: ';', ast: '*',
};

/** HTML's named references of accented letters, `&uuml;` = u + combining diaeresis, composed. */
const ENTITY_MARKS: Record<string, string> = {
  grave: '\u0300', acute: '\u0301', circ: '\u0302', tilde: '\u0303', uml: '\u0308', ring: '\u030a', cedil: '\u0327', caron: '\u030c',
};
const ENTITY_LETTERS: Record<string, string> = {
  szlig: 'ß', aelig: 'æ', AElig: 'Æ', oslash: 'ø', Oslash: 'Ø', eth: 'ð', ETH: 'Ð', thorn: 'þ', THORN: 'Þ', oelig: 'œ', OElig: 'Œ',
};
const LETTER_ENTITY = /^([A-Za-z])(grave|acute|circ|tilde|uml|ring|cedil|caron)$/;

/** The letter a named reference stands for (case matters: `&Ouml;` is Ö), or undefined. */
function letterEntity(body: string): string | undefined {
  if (Object.hasOwn(ENTITY_LETTERS, body)) return ENTITY_LETTERS[body];
  const m = LETTER_ENTITY.exec(body);
  if (m === null) return undefined;
  // Read only where letter and mark compose to one code point (there is no "q acute"): a real letter.
  const composed = (m[1]! + ENTITY_MARKS[m[2]!]!).normalize('NFC');
  return composed.length === 1 ? composed : undefined;
}

const DIGIT_WORDS: Record<string, string> = {
  zero: '0', oh: '0', one: '1', two: '2', three: '3', four: '4', five: '5', six: '6', seven: '7', eight: '8', nine: '9',
};

/** Top-level domains a spelled-out address may end with. */
const TLDS = new Set(['com', 'org', 'net', 'edu', 'gov', 'mil', 'us', 'io', 'co', 'uk', 'ca', 'de', 'fr', 'info', 'biz', 'me', 'health', 'care', 'app', 'dev', 'ai', 'tv']);

const isDigitC = (c: number) => c >= 48 && c <= 57;
const isLetterC = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
const isAlnumC = (c: number) => isDigitC(c) || isLetterC(c);
/** Characters of an e-mail local part or domain. */
const isMailC = (c: number) => isAlnumC(c) || c === 46 || c === 95 || c === 45 || c === 43 || c === 64;
const isSepC = (c: number) => c === 45 || c === 46 || c === 47 || c === 95;

// The rewrites of the text being read (module state: one text at a time, no closure per call).
let rwOut: Rewrite[] | undefined;
let lastEnd = 0;
/** Records a rewrite unless it overlaps the previous one. */
function add(start: number, end: number, rep: string): void {
  if (start < lastEnd) return;
  (rwOut ??= []).push({ start, end, rep });
  lastEnd = end;
}

/** Character references (`&#64;`, `&#x40;`, `&commat;`) and percent escapes (`%40`) in `text`, or undefined. */
function findCharacterRewrites(text: string, feats: number): Rewrite[] | undefined {
  if (feats !== -1 && (feats & REFERENCE_FEATURE) === 0) return undefined;
  rwOut = undefined;
  lastEnd = 0;
  linkPos = -1;
  REFERENCES.lastIndex = 0;
  for (let m = REFERENCES.exec(text); m !== null; m = REFERENCES.exec(text)) {
    const at = m.index;
    if (text.charCodeAt(at) === 38) entity(text, at, m[0], add);
    else {
      const v = parseInt(m[0].slice(1), 16);
      // Inside a link a decoded space or quote would end the URL early: those stay encoded there.
      if (v >= 0x20 && v <= 0x7e && !((v === 0x20 || v === 0x22 || v === 0x27 || v === 0x3c || v === 0x3e) && inLink(text, at))) add(at, at + 3, String.fromCharCode(v));
    }
  }
  const out = rwOut;
  rwOut = undefined;
  return out;
}

/** Structural rewrites found in `text` (already decoded by the characters layer), sorted and non-overlapping, or undefined. */
function findRewrites(text: string, feats: number, words: boolean): Rewrite[] | undefined {
  rwOut = undefined;
  lastEnd = 0;
  linkPos = -1;
  const LANDMARK = words ? ALL_LANDMARKS : SYMBOLS;
  if (!words && (feats & SYMBOL_FEATURES) === 0 && text.indexOf(' at ') < 0 && text.indexOf(' AT ') < 0 && text.indexOf(' At ') < 0) return undefined;
  LANDMARK.lastIndex = 0;
  for (let m = LANDMARK.exec(text); m !== null; m = LANDMARK.exec(text)) {
    const at = m.index;
    const c = text.charCodeAt(at);
    const next = LANDMARK.lastIndex;
    if (at < lastEnd) {
      LANDMARK.lastIndex = Math.max(next, lastEnd);
      continue;
    }
    if (c === 10) lineBreak(text, at, add);
    else if (m[0].length >= 3 && isDigitC(c) && (text.charCodeAt(at + 1) === 32)) {
      const e = spacedDigits(text, at, add);
      if (e > next) LANDMARK.lastIndex = e;
      else LANDMARK.lastIndex = at + 1;
    } else if (c === 91 || c === 40 || c === 123 || c === 60) bracketed(text, at, m[0], add);
    else if (m[0].endsWith(' ') && /(?:at|@) $/i.test(m[0])) {
      spelledAt(text, at + m[0].length - (m[0].endsWith('@ ') ? 2 : 3), add);
      LANDMARK.lastIndex = at + m[0].length - 1;
    } else if (isLetterC(c) && m[0].length >= 2 && !(m[0].length === 2 && (isDigitC(text.charCodeAt(at + 1)) || isDigitC(c)))) {
      const e = digitWords(text, at, add);
      if (e > next) LANDMARK.lastIndex = e;
    } else letterO(text, at, add);
    if (LANDMARK.lastIndex <= at) LANDMARK.lastIndex = at + 1;
  }
  const out = rwOut;
  rwOut = undefined;
  return out;
}

type Add = (start: number, end: number, rep: string) => void;

// The previous `inLink` answer and where it was asked: later escapes of the same token reuse it,
// so a flood of escapes costs linear time.
let linkPos = -1;
let linkRes = false;

/** True when `at` sits in a token (no whitespace, ≤ 2000 characters back) holding "://" or "www.". */
function inLink(text: string, at: number): boolean {
  if (linkPos >= 0 && linkPos < at) {
    let same = true;
    for (let k = linkPos; k < at; k++) {
      const c = text.charCodeAt(k);
      if (c <= 32 || c === 34) {
        same = false;
        break;
      }
      if (c === 58 && text.charCodeAt(k + 1) === 47 && text.charCodeAt(k + 2) === 47) linkRes = true;
    }
    if (same) {
      linkPos = at;
      return linkRes;
    }
  }
  linkPos = at;
  linkRes = scanBackForLink(text, at);
  return linkRes;
}

function scanBackForLink(text: string, at: number): boolean {
  let k = at - 1;
  while (k >= 0 && at - k <= 2000) {
    const c = text.charCodeAt(k);
    if (c <= 32 || c === 34) return false;
    if ((c === 58 && text.charCodeAt(k + 1) === 47 && text.charCodeAt(k + 2) === 47) || (c === 46 && text.startsWith('www', k - 3))) return true;
    k--;
  }
  return false;
}

/** `&#64;`, `&#x40;`, `&commat;` (the ';' may be missing after a numeric reference). */
function entity(text: string, at: number, m: string, add: Add): void {
  const semi = m.endsWith(';');
  const body = m.slice(1, semi ? -1 : undefined);
  let cp = -1;
  if (body.startsWith('#')) {
    const hex = body[1] === 'x' || body[1] === 'X';
    const digits = body.slice(hex ? 2 : 1);
    if (digits.length === 0 || !(hex ? /^[0-9A-Fa-f]+$/ : /^[0-9]+$/).test(digits)) return;
    cp = parseInt(digits, hex ? 16 : 10);
    if (!semi && isAlnumC(text.charCodeAt(at + m.length))) return;
    if (!(cp > 0 && cp <= 0x10ffff) || (cp >= 0xd800 && cp <= 0xdfff)) return;
    add(at, at + m.length, String.fromCodePoint(cp));
    return;
  }
  if (!semi) return;
  const lower = body.toLowerCase();
  const rep = Object.hasOwn(NAMED_ENTITIES, lower) ? NAMED_ENTITIES[lower] : letterEntity(body);
  if (rep !== undefined) add(at, at + m.length, rep);
}

/**
 * A line break (with the spaces or tabs around it) inside an identifier: between digits or
 * separators of a number ("123-45-\n6789", "617 555\r\n    0143", "617-555- \n 0143"), or inside
 * an e-mail address.
 */
function lineBreak(text: string, at: number, add: Add): void {
  let b = text.charCodeAt(at - 1) === 13 ? at - 1 : at;
  while (b > 0 && at - b < 4 && (text.charCodeAt(b - 1) === 32 || text.charCodeAt(b - 1) === 9)) b--;
  let e = at + 1;
  while (e < text.length && e - at <= 16 && (text.charCodeAt(e) === 32 || text.charCodeAt(e) === 9)) e++;
  let prev = b > 0 ? text.charCodeAt(b - 1) : 0;
  let next = e < text.length ? text.charCodeAt(e) : 0;
  if (prev === 0 || next === 0) return;
  // An O standing for a zero next to the break ("697-o\n2-3164"): the whole token is read by
  // `letterO`, which joins the break as this function does.
  const oBefore = oDigit(text, b - 1, -1);
  const oAfter = oDigit(text, e, 1);
  if ((oBefore || oAfter) && !inLetterO && letterO(text, oBefore ? b - 1 : e, add)) return;
  if (oBefore) prev = 48;
  if (oAfter) next = 48;
  // A line ending in '.' ends a sentence ("… 120/80.\n2. Labs"), not a number, unless the '.'
  // separates the groups of a dotted number ("617.555.\n0143").
  const sepBefore = isSepC(prev) && isDigitC(text.charCodeAt(b - 2)) && (prev !== 46 || dottedGroups(text, b - 1) || dottedAfter(text, e));
  const numberish = (isDigitC(prev) || sepBefore) && (isDigitC(next) || (isSepC(next) && isDigitC(text.charCodeAt(e + 1))));
  if (numberish) {
    if (isDigitC(next)) {
      // "… 0143\n2. Follow up": a numbered list item is not a continuation.
      let q = e;
      while (q < text.length && q - e < 40 && (isDigitC(text.charCodeAt(q)) || isSepC(text.charCodeAt(q)) || oDigit(text, q, 1))) q++;
      const after = text.charCodeAt(q);
      if (isLetterC(after) || (text.charCodeAt(q - 1) === 46 && (after === 32 || after === 41))) return;
      if (text.charCodeAt(q - 1) === 41 || after === 41) return;
      if (isDigitC(prev)) {
        // Digits on both sides: the break stands for the separator the number uses when it falls
        // between two groups ("617 555\n0143", "123-45\n6789"), for nothing inside a group
        // ("786-2\n8-7265"). Inside a group, the two pieces together are no longer than a group
        // of any of the numbers read here (4 digits).
        let k = b - 1;
        while (k > 0 && b - k < 8 && isDigitC(text.charCodeAt(k - 1))) k--;
        let q2 = e;
        while (q2 < text.length && q2 - e < 8 && isDigitC(text.charCodeAt(q2))) q2++;
        let sep = isDigitC(text.charCodeAt(k - 2)) ? text.charCodeAt(k - 1) : 0;
        // No separator before the break: the one after the next group, if any ("623\n68-2556").
        if (!(sep === 32 || sep === 45 || sep === 46)) sep = isDigitC(text.charCodeAt(q2 + 1)) ? text.charCodeAt(q2) : 0;
        if ((sep === 32 || sep === 45 || sep === 46) && b - k + (q2 - e) > 4) {
          add(b, e, String.fromCharCode(sep));
          return;
        }
      }
    }
    add(b, e, '');
    return;
  }
  // Inside an e-mail address: mail characters on both sides and an '@' within the joined token.
  if (!isMailC(prev) || !isMailC(next) || (next >= 65 && next <= 90)) return;
  let hasAt = prev === 64 || next === 64;
  for (let k = b - 1; !hasAt && k >= 0 && b - k <= 64 && isMailC(text.charCodeAt(k)); k--) if (text.charCodeAt(k) === 64) hasAt = true;
  for (let k = e; !hasAt && k < text.length && k - e <= 64 && isMailC(text.charCodeAt(k)); k++) if (text.charCodeAt(k) === 64) hasAt = true;
  if (hasAt) add(b, e, '');
}

/**
 * True when text[k] is an O or o standing for a zero, seen from a line break `away` from it: a
 * digit, separator or O beyond it, or a digit before it and no letter beyond ("757o", "425O ").
 */
function oDigit(text: string, k: number, away: number): boolean {
  const c = text.charCodeAt(k);
  if (c !== 79 && c !== 111) return false;
  const far = text.charCodeAt(k + away);
  return isDigitC(far) || isSepC(far) || far === 79 || far === 111 || (isDigitC(text.charCodeAt(k - away)) && !isLetterC(far));
}

/** True when a dotted group of a number starts at `p` ("555.0143" after "617.\n"). */
function dottedAfter(text: string, p: number): boolean {
  let k = p;
  while (k < text.length && k - p < 4 && isDigitC(text.charCodeAt(k))) k++;
  return k > p && text.charCodeAt(k) === 46 && isDigitC(text.charCodeAt(k + 1));
}

/** True when the '.' at `dot` ends a dotted group of a number ("617.555." before it). */
function dottedGroups(text: string, dot: number): boolean {
  let k = dot;
  while (k > 0 && dot - k < 4 && isDigitC(text.charCodeAt(k - 1))) k--;
  return k < dot && text.charCodeAt(k - 1) === 46 && isDigitC(text.charCodeAt(k - 2));
}

/**
 * Single digits separated by one space, or two throughout ("1 2 3 4 5 6 7 8 9", "1  2  3 …",
 * "6 1 7 - 5 5 5 - 0 1 4 3"): at least 7 digits, the spaces dropped. Returns the end of the
 * stretch read.
 */
function spacedDigits(text: string, at: number, add: Add): number {
  if (isAlnumC(text.charCodeAt(at - 1))) return at + 1;
  let p = at;
  let digits = 0;
  let spacing = 0;
  const gaps: Array<[number, number, string]> = [];
  for (;;) {
    if (!isDigitC(text.charCodeAt(p)) || isDigitC(text.charCodeAt(p + 1))) break;
    digits++;
    p++;
    // A gap: one space, or " - " / "-" / " -" / "- ".
    let q = p;
    let sp = 0;
    while (text.charCodeAt(q) === 32 && sp < 2) {
      q++;
      sp++;
    }
    let dash = false;
    if (text.charCodeAt(q) === 45 || text.charCodeAt(q) === 46 || text.charCodeAt(q) === 47) {
      dash = true;
      q++;
      while (text.charCodeAt(q) === 32 && sp < 4) {
        q++;
        sp++;
      }
    }
    // Spaces alone: the same one or two throughout ("1 2 3", "1  2  3").
    if (!dash) spacing ||= sp;
    if (q === p || !isDigitC(text.charCodeAt(q)) || (!dash && sp !== spacing)) break;
    gaps.push([p, q, dash ? '-' : '']);
    p = q;
  }
  if (digits < 7 || isAlnumC(text.charCodeAt(p))) return p;
  for (const [s, e, rep] of gaps) if (e - s !== rep.length || rep === '') add(s, e, rep);
  return p;
}

const isOpen = (c: number) => c === 40 || c === 91 || c === 123 || c === 60;
const isClose = (c: number) => c === 41 || c === 93 || c === 125 || c === 62;
/** True when text[p, p + word.length) is `word` in any case (word in lower case). */
function wordIs(text: string, p: number, word: string): boolean {
  for (let k = 0; k < word.length; k++) if ((text.charCodeAt(p + k) | 32) !== word.charCodeAt(k)) return false;
  return true;
}
/** End of a bracketed `word` opening at `p` ("(dot)", "[ at ]", "{at}", "<dot>"), or -1. */
function bracketedWordAt(text: string, p: number, word: string): number {
  if (!isOpen(text.charCodeAt(p))) return -1;
  let q = p + 1;
  if (text.charCodeAt(q) === 32) q++;
  if (!wordIs(text, q, word)) return -1;
  q += word.length;
  if (text.charCodeAt(q) === 32) q++;
  return isClose(text.charCodeAt(q)) ? q + 1 : -1;
}
/** Start of a bracketed `word` closing at `end` (exclusive), or -1. */
function bracketedWordBefore(text: string, end: number, word: string): number {
  if (!isClose(text.charCodeAt(end - 1))) return -1;
  let q = end - 1;
  if (text.charCodeAt(q - 1) === 32) q--;
  q -= word.length;
  if (q < 1 || !wordIs(text, q, word)) return -1;
  if (text.charCodeAt(q - 1) === 32) q--;
  return isOpen(text.charCodeAt(q - 1)) ? q - 1 : -1;
}

/** Set by `dotAfter`: the dot it read is a bare '.' (nothing to rewrite). */
let plainDot = false;
/**
 * The end of a dot written out at `p` (after a label): ".", " . ", " dot " (any case, one or two
 * spaces around), or a bracketed "(dot)" / "[dot]" / "{dot}" / "<dot>" with or without spaces;
 * -1 when there is none or no label follows.
 */
function dotAfter(text: string, p: number): number {
  let q = p;
  while (q - p < 2 && text.charCodeAt(q) === 32) q++;
  const spaced = q > p;
  const c = text.charCodeAt(q);
  let e: number;
  let word = false;
  if (c === 46) e = q + 1;
  else if (isOpen(c)) e = bracketedWordAt(text, q, 'dot');
  else if (spaced && wordIs(text, q, 'dot') && !isAlnumC(text.charCodeAt(q + 3))) {
    e = q + 3;
    word = true;
  } else return -1;
  if (e < 0) return -1;
  let r = e;
  while (r - e < 2 && text.charCodeAt(r) === 32) r++;
  if (word && r === e) return -1;
  plainDot = c === 46 && !spaced && r === e;
  return isAlnumC(text.charCodeAt(r)) ? r : -1;
}
/** Mirror of `dotAfter`: the start of a dot written out that ends at `end` (a label follows it), or -1. */
function dotBefore(text: string, end: number): number {
  let q = end;
  while (end - q < 2 && text.charCodeAt(q - 1) === 32) q--;
  const spaced = q < end;
  const c = text.charCodeAt(q - 1);
  let s: number;
  let word = false;
  if (c === 46 && spaced) s = q - 1;
  else if (isClose(c)) s = bracketedWordBefore(text, q, 'dot');
  else if (spaced && q >= 3 && wordIs(text, q - 3, 'dot') && !isAlnumC(text.charCodeAt(q - 4))) {
    s = q - 3;
    word = true;
  } else return -1;
  if (s < 0) return -1;
  let r = s;
  while (s - r < 2 && text.charCodeAt(r - 1) === 32) r--;
  if (word && r === s) return -1;
  return r > 0 && isAlnumC(text.charCodeAt(r - 1)) ? r : -1;
}

/** End of a domain label or local-part word starting at `p` (letters, digits, '-', '_'). */
function labelEnd(text: string, p: number): number {
  let e = p;
  while (e < text.length && e - p < 63 && (isAlnumC(text.charCodeAt(e)) || text.charCodeAt(e) === 45 || text.charCodeAt(e) === 95)) e++;
  return e;
}

/**
 * An address written out around the "at" between `atStart` and `atEnd` (" at ", " @ ", "(at)",
 * "{ at }" …): a domain of labels joined by dots written out (`dotAfter`) ending in a known
 * top-level domain, and a local part of words joined the same way. Records the rewrites (the
 * "at" to '@', every dot to '.') and returns true, or records nothing and returns false.
 */
function spelledAddress(text: string, atStart: number, atEnd: number, add: Add): boolean {
  // Domain: label (dot label)+, the last a top-level domain.
  let e = labelEnd(text, atEnd);
  if (e === atEnd) return false;
  const dots: number[] = [];
  let last = atEnd;
  for (let k = 0; k < 5; k++) {
    const r = dotAfter(text, e);
    if (r < 0) break;
    const plain = plainDot;
    const e2 = labelEnd(text, r);
    if (e2 === r) break;
    if (!plain) dots.push(e, r);
    last = r;
    e = e2;
  }
  if (last === atEnd || !TLDS.has(text.slice(last, e).toLowerCase()) || isAlnumC(text.charCodeAt(e))) return false;
  // Local part, backwards: word (dot word)*; a word may hold '.', '+', '-', '_' itself.
  let ls = atStart;
  const isLocal = (c: number) => isAlnumC(c) || c === 46 || c === 95 || c === 45 || c === 43;
  let k = ls;
  while (k > 0 && ls - k < 64 && isLocal(text.charCodeAt(k - 1))) k--;
  if (k === ls || !isAlnumC(text.charCodeAt(ls - 1))) return false;
  const localDots: number[] = [];
  for (let n = 0; n < 3; n++) {
    const d = dotBefore(text, k);
    if (d < 0) break;
    let w = d;
    while (w > 0 && d - w < 64 && isLocal(text.charCodeAt(w - 1))) w--;
    if (w === d) break;
    localDots.push(d, k);
    k = w;
    ls = w;
  }
  for (let n = localDots.length - 2; n >= 0; n -= 2) add(localDots[n]!, localDots[n + 1]!, '.');
  add(atStart, atEnd, '@');
  for (let n = 0; n < dots.length; n += 2) add(dots[n]!, dots[n + 1]!, '.');
  return true;
}

/** "(at)", "[dot]", "{at}", "<at>" with optional inner spaces and the spaces around. */
function bracketed(text: string, at: number, m: string, add: Add): void {
  const isAt = /at/i.test(m);
  let s = at;
  let e = at + m.length;
  while (s > 0 && at - s < 2 && text.charCodeAt(s - 1) === 32) s--;
  while (e < text.length && e - (at + m.length) < 2 && text.charCodeAt(e) === 32) e++;
  if (!isAlnumC(text.charCodeAt(s - 1)) || !isAlnumC(text.charCodeAt(e))) return;
  // A whole address written out around it, when there is one; else the bracket alone.
  if (isAt && spelledAddress(text, s, e, add)) return;
  add(s, e, isAt ? '@' : '.');
}

/** A spelled-out address around " at " / " @ " at `pos` (the start of "at" or "@"). */
function spelledAt(text: string, pos: number, add: Add): void {
  const atLen = text.charCodeAt(pos) === 64 ? 1 : 2;
  if (text.charCodeAt(pos - 1) !== 32) return;
  let e = pos + atLen + 1;
  if (text.charCodeAt(e) === 32) e++;
  let s = pos - 1;
  if (text.charCodeAt(s - 1) === 32) s--;
  spelledAddress(text, s, e, add);
}

/**
 * Digits spelled as words, mixed with digit runs ("six one seven five five five zero one four
 * three", "617 five five five 0143"): at least three words and seven digits in all. Returns the
 * end of the stretch read.
 */
function digitWords(text: string, at: number, add: Add): number {
  const parts: Array<[number, number, string]> = [];
  const gaps: Array<[number, number, string]> = [];
  let p = at;
  // A digit run just before the first word belongs to the number ("617 five five five …").
  if (text.charCodeAt(at - 1) === 32 && isDigitC(text.charCodeAt(at - 2))) {
    let q = at - 1;
    while (q > 0 && at - q < 11 && isDigitC(text.charCodeAt(q - 1))) q--;
    if (!isAlnumC(text.charCodeAt(q - 1))) p = q;
  }
  let words = 0;
  let digits = 0;
  for (;;) {
    let e = p;
    while (e < text.length && e - p < 6 && isLetterC(text.charCodeAt(e))) e++;
    let rep: string | undefined;
    if (e > p) {
      if (isAlnumC(text.charCodeAt(e))) break;
      rep = DIGIT_WORDS[text.slice(p, e).toLowerCase()];
      if (rep !== undefined) words++;
    } else {
      while (e < text.length && e - p < 10 && isDigitC(text.charCodeAt(e))) e++;
      if (e > p && !isAlnumC(text.charCodeAt(e))) rep = text.slice(p, e);
    }
    if (rep === undefined) break;
    parts.push([p, e, rep]);
    digits += rep.length;
    // Gap: spaces, one '-' or ',' or the word "dash" / "hyphen" (a group break, read as '-').
    let q = e;
    let sep = '';
    let n = 0;
    while (q < text.length && n < 4) {
      const c = text.charCodeAt(q);
      if (c === 32) q++;
      else if ((c === 45 || c === 44) && sep === '') {
        sep = '-';
        q++;
      } else if (sep === '' && text.charCodeAt(q - 1) === 32 && (c | 32) === 100 && /^dash /i.test(text.slice(q, q + 5))) {
        sep = '-';
        q += 4;
      } else if (sep === '' && text.charCodeAt(q - 1) === 32 && (c | 32) === 104 && /^hyphen /i.test(text.slice(q, q + 7))) {
        sep = '-';
        q += 6;
      } else break;
      n++;
    }
    if (q === e) break;
    gaps.push([e, q, sep]);
    p = q;
  }
  if (words < 3 || digits < 7 || parts.length === 0) return p;
  const end = parts[parts.length - 1]![1];
  for (let k = 0; k < parts.length; k++) {
    const [s, e, rep] = parts[k]!;
    if (rep !== text.slice(s, e)) add(s, e, rep);
    const g = gaps[k];
    if (g !== undefined && k + 1 < parts.length) add(g[0], g[1], g[2]);
  }
  return end;
}

const isDigitOrO = (c: number) => isDigitC(c) || c === 79 || c === 111;
/** A digit at k, or an O next to another digit or O on the side away from `from` ("2O9", not "on"). */
const groupEdge = (text: string, k: number, away: number) => isDigitC(text.charCodeAt(k)) || (isDigitOrO(text.charCodeAt(k)) && isDigitOrO(text.charCodeAt(k + away)));
/** A character of a digit-and-O token at k: a letter, digit or separator, or one space between two groups of digits and O's. */
const inOToken = (text: string, k: number) => {
  const c = text.charCodeAt(k);
  return isAlnumC(c) || isSepC(c) || (c === 32 && groupEdge(text, k - 1, -1) && groupEdge(text, k + 1, 1));
};

const isBlank = (c: number) => c === 32 || c === 9 || c === 13 || c === 10;
/**
 * The far end of a line break (spaces, tabs, CR, LF; at most 8, one LF) starting at `k` and
 * going `dir` (1 forward, -1 back), when a group of digits or O's stands beyond it; else -1.
 */
function acrossBreak(text: string, k: number, dir: number): number {
  let j = k;
  let lf = 0;
  while (Math.abs(j - k) < 8 && isBlank(text.charCodeAt(j))) {
    if (text.charCodeAt(j) === 10) lf++;
    j += dir;
  }
  return lf === 1 && (isDigitOrO(text.charCodeAt(j)) || isSepC(text.charCodeAt(j))) ? j : -1;
}

/**
 * The letter O inside a token otherwise made of digits and separators, 7+ long ("617-555-O143",
 * "2O9 69o 94O3"), also across a line break ("697-o\n2-3164"; the break is read as `lineBreak`
 * reads it).
 */
/** True while `letterO` reads a break itself (so `lineBreak` does not hand the token back). */
let inLetterO = false;
function letterO(text: string, at: number, add: Add): boolean {
  let s = at;
  while (s > 0 && at - s < 32) {
    if (inOToken(text, s - 1)) s--;
    else {
      const j = isBlank(text.charCodeAt(s - 1)) ? acrossBreak(text, s - 1, -1) : -1;
      if (j < 0) break;
      s = j + 1;
    }
  }
  let e = at + 1;
  while (e < text.length && e - at < 32) {
    if (inOToken(text, e)) e++;
    else {
      const j = isBlank(text.charCodeAt(e)) ? acrossBreak(text, e, 1) : -1;
      if (j < 0) break;
      e = j;
    }
  }
  while (e > s && isSepC(text.charCodeAt(e - 1))) e--;
  let digits = 0;
  let os = 0;
  for (let k = s; k < e; k++) {
    const c = text.charCodeAt(k);
    if (isDigitC(c)) digits++;
    else if (c === 79 || c === 111) os++;
    else if (!isSepC(c) && !isBlank(c)) return false;
  }
  // As long as an identifier (7+ characters) with at least one real digit: "O1-O1-OOO1".
  if (digits === 0 || digits + os < 7) return false;
  for (let k = s; k < e; k++) {
    const c = text.charCodeAt(k);
    if (c === 79 || c === 111) add(k, k + 1, '0');
    else if (c === 10) {
      inLetterO = true;
      lineBreak(text, k, add);
      inLetterO = false;
    }
  }
  return true;
}

/**
 * Typed arrays one layer of `normalize` writes into: output code units and, for each, the span of
 * the layer's input it came from.
 */
class LayerBuffer {
  units = new Uint16Array(256);
  starts = new Int32Array(256);
  ends = new Int32Array(256);
}

/**
 * Buffers `normalize` writes into, owned by one scan state and reused from text to text: a scan
 * allocates no typed arrays once they are large enough. The maps a call returns are views of
 * them, valid until the next call with the same buffers.
 */
export class NormalizeBuffers {
  /** The characters layer (references, escapes, folding). */
  readonly chars = new LayerBuffer();
  /** The structure layer (line breaks, spacing, spelled-out parts), and the composed maps. */
  readonly structure = new LayerBuffer();
}

/** Grows `b` to hold `need` units, contents kept. */
function grow(b: LayerBuffer, need: number): void {
  if (need <= b.units.length) return;
  const size = Math.max(need, b.units.length * 2);
  const u2 = new Uint16Array(size);
  u2.set(b.units);
  b.units = u2;
  const s2 = new Int32Array(size);
  s2.set(b.starts);
  b.starts = s2;
  const e2 = new Int32Array(size);
  e2.set(b.ends);
  b.ends = e2;
}

/**
 * Writes `rep` at unit `out`, each unit coming from the input span [s, e); returns the new
 * count. Module functions, not closures: `normalize` creates no function per call.
 */
function put(b: LayerBuffer, out: number, rep: string, s: number, e: number): number {
  grow(b, out + rep.length);
  const { units, starts, ends } = b;
  for (let k = 0; k < rep.length; k++) {
    units[out] = rep.charCodeAt(k);
    starts[out] = s;
    ends[out] = e;
    out++;
  }
  return out;
}

/**
 * Writes `text` with its rewrites applied and every code point above U+007F folded into `b`;
 * returns the number of units written.
 */
function apply(text: string, rewrites: Rewrite[] | undefined, b: LayerBuffer): number {
  const n = text.length;
  grow(b, n + 16);
  let { units, starts, ends } = b;
  let out = 0;
  let r = 0;
  let nextRw = rewrites !== undefined && rewrites.length > 0 ? rewrites[0]!.start : n;
  let i = 0;
  while (i < n) {
    if (i === nextRw) {
      const rw = rewrites![r++]!;
      // A decoded reference may itself be invisible or a foreign digit: fold it too.
      let rep = rw.rep;
      if (rep.length > 0 && rep.charCodeAt(0) > 0x7f) rep = fold(rep.codePointAt(0)!);
      out = put(b, out, rep, rw.start, rw.end);
      ({ units, starts, ends } = b);
      i = rw.end;
      nextRw = r < rewrites!.length ? rewrites![r]!.start : n;
      continue;
    }
    const c = text.charCodeAt(i);
    if (c <= 0x7f) {
      if (out === units.length) {
        grow(b, out + 1);
        ({ units, starts, ends } = b);
      }
      units[out] = c;
      starts[out] = i;
      ends[out] = i + 1;
      out++;
      i++;
      continue;
    }
    const cp = text.codePointAt(i)!;
    const width = cp > 0xffff ? 2 : 1;
    out = put(b, out, fold(cp), i, i + width);
    ({ units, starts, ends } = b);
    i += width;
  }
  return out;
}

/** The string of the first `count` units of `b`. */
function decode(b: LayerBuffer, count: number): string {
  let s = '';
  for (let k = 0; k < count; k += 8192) {
    s += String.fromCharCode.apply(null, b.units.subarray(k, Math.min(count, k + 8192)) as unknown as number[]);
  }
  return s;
}

/**
 * The normalized view of `text`, in two layers, each recording where its output units came from:
 * characters first (references, percent escapes, invisible characters, digits of any script,
 * NFKC), then structure on the decoded text (line breaks, spaced digits, digit words, the letter
 * O, spelled-out addresses). Layered, a disguise inside a disguise is read like a single one: a
 * line break after `&#45;`, invisible characters inside `jroe (at) example (dot) org`, a foreign
 * digit before a line break. The maps returned point into the original text.
 */
export function normalize(text: string, feats = -1, words = true, buffers: NormalizeBuffers = new NormalizeBuffers()): NormalizedText {
  // Layer 1: characters. Bit 1024 of the scanner's features: a non-ASCII character (known already, or looked for).
  const refs = findCharacterRewrites(text, feats);
  const folds = feats === -1 ? hasNonAscii(text) : (feats & 1024) !== 0;
  let t1 = text;
  let map1: LayerBuffer | undefined;
  if (refs !== undefined || folds) {
    const count = apply(text, refs, buffers.chars);
    t1 = decode(buffers.chars, count);
    if (t1 !== text) map1 = buffers.chars;
  }
  // Layer 2: structure, on the decoded text (its features unknown when layer 1 changed it).
  const rewrites = findRewrites(t1, map1 === undefined ? feats : -1, words);
  if (rewrites === undefined) {
    if (map1 === undefined) return { text, starts: undefined, ends: undefined };
    return { text: t1, starts: map1.starts.subarray(0, t1.length), ends: map1.ends.subarray(0, t1.length) };
  }
  const b = buffers.structure;
  const out = apply(t1, rewrites, b);
  if (map1 !== undefined) {
    // Compose: a unit of layer 2 came from layer-1 units [s, e), which came from the original.
    const { starts, ends } = b;
    const s1 = map1.starts;
    const e1 = map1.ends;
    for (let k = 0; k < out; k++) {
      const e = ends[k]!;
      starts[k] = s1[starts[k]!]!;
      ends[k] = e1[e - 1]!;
    }
  }
  return { text: decode(b, out), starts: b.starts.subarray(0, out), ends: b.ends.subarray(0, out) };
}

/** Maps a span of the normalized text back to the original text, in place (no tuple per span). */
export function mapSpan(norm: NormalizedText, span: { start: number; end: number }): void {
  const { starts, ends } = norm;
  if (starts === undefined || ends === undefined) return;
  if (span.end <= span.start) span.end = span.start = starts[span.start] ?? 0;
  else {
    span.end = ends[span.end - 1]!;
    span.start = starts[span.start]!;
  }
}
