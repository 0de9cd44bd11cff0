/**
 * Free-text detectors for the Safe Harbor identifier classes a general PHI scanner misses
 * (45 CFR 164.514(b)(2)(i)): place names smaller than a state, partial dates, HL7 timestamps,
 * birth years and ages of 90 and over, licence plates, passport numbers, MAC addresses, IMEIs,
 * GS1 UDIs, names written in lower case after a cue, and spelled-out e-mail addresses. They are
 * ordinary custom detectors (`createScanner({ detectors })`); `createSafeHarbor` adds them to its
 * default scanner. Every pattern here is linear time: bounded repetition over disjoint classes.
 */
import type { CustomDetector, DetectedSpan } from '../dlp/index.js';
import { US_COUNTY_NAMES, US_PLACE_NAMES } from './us-places.js';
import { option, optionsSchema } from '../options.js';

/** Options of {@link safeHarborDetectors}. */
export interface SafeHarborDetectorOptions {
  /** "Today", for birth years of people aged 90 and over. Default: the current time. */
  readonly now?: () => Date;
  /** Place names to look for (towns, cities, counties). Default: the US lists of `us-places.ts`. */
  readonly places?: Iterable<string>;
  /** County names (matched before `County`, `Parish`, `Borough`). Default: the US county list. */
  readonly counties?: Iterable<string>;
}

function* spans(re: RegExp, text: string, group = 0, accept: (m: RegExpExecArray) => boolean = () => true): Iterable<DetectedSpan> {
  re.lastIndex = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    if (m[0].length === 0) {
      re.lastIndex++;
      continue;
    }
    const g = m[group];
    if (g === undefined || !accept(m)) continue;
    const start = m.index + m[0].indexOf(g);
    yield { start, end: start + g.length };
  }
}
const pattern = (type: CustomDetector['type'], re: RegExp, group = 0, accept?: (m: RegExpExecArray) => boolean): CustomDetector => ({
  type,
  find: (text: string) => spans(re, text, group, accept),
});

const MONTH = '(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)';
const DAY = '(?:0?[1-9]|[12]\\d|3[01])(?:st|nd|rd|th)?';

/** Partial dates: `03/2025`, `March 2025`, `14 March`, `14th of March`, `March 14th` (164.514(b)(2)(i)(C)). */
const partialDates: CustomDetector[] = [
  pattern('DATE', /(?<![\d/.-])(?:0?[1-9]|1[0-2])[/.-](?:19|20)\d{2}(?![\d/.-])/g),
  pattern('DATE', new RegExp(`\\b${MONTH}\\.?,?\\s{1,3}(?:of\\s{1,3})?(?:19|20)\\d{2}\\b`, 'gi')),
  pattern('DATE', new RegExp(`\\b${DAY}\\s{1,3}(?:of\\s{1,3})?${MONTH}\\b\\.?`, 'gi')),
  pattern('DATE', new RegExp(`\\b${MONTH}\\.?\\s{1,3}${DAY}\\b(?!\\s{0,3}(?:mg|ml|mcg|kg|g|%|units?|mmol|years?)\\b)`, 'gi')),
];

/** HL7 v2 DTM timestamps: `YYYYMMDD`, `YYYYMMDDHHMM[SS[.S…]][±ZZZZ]`. */
const hl7Timestamps = pattern(
  'DATE',
  /(?<![\d.])(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?:(?:[01]\d|2[0-3])[0-5]\d(?:[0-5]\d(?:\.\d{1,4})?)?)?(?:[+-](?:[01]\d|2[0-3])[0-5]\d)?(?![\d])/g,
);

/** Birth years and ages that put a person at 90 or over (164.514(b)(2)(i)(C)). */
function agesOver89(now: () => Date): CustomDetector[] {
  const born = /\b(?:born(?:\s{1,3}in)?|b\.|year\s{1,3}of\s{1,3}birth|birth\s{0,3}year|yob|dob)\s{0,3}[:-]?\s{0,3}((?:18|19|20)\d{2})\b/gi;
  const age = /\b((?:9\d|1[0-2]\d))(?:\s{0,2}-?\s{0,2}(?:years?|yrs?)[\s-]{0,3}old|\s{0,2}(?:yo|y\/o|y\.o\.|yrs?|years?)\b)|\b(?:aged?|age\s{0,3}:)\s{0,3}((?:9\d|1[0-2]\d))\b/gi;
  return [
    pattern('AGE_OVER_89', born, 1, (m) => now().getUTCFullYear() - Number(m[1]) >= 90),
    { type: 'AGE_OVER_89', find: (text) => spans(age, text, 0) },
  ];
}

/** Licence plates and passport numbers after their cue word (164.514(b)(2)(i)(K), (L)). */
const plates = pattern(
  'VEHICLE_ID',
  /\b(?:licen[cs]e\s{1,3}plate|plate|tag|registration)(?:\s{1,3}(?:no\.?|number|#))?\s{0,3}[:#]?\s{0,3}([A-Z0-9]{1,4}[- ]?[A-Z0-9]{1,5})\b/gi,
  1,
  (m) => (/\d/.test(m[1]!) && /[A-Za-z]/.test(m[1]!)) || /\d{2,}/.test(m[1]!),
);
const passports = pattern('LICENSE_NUMBER', /\bpassport(?:\s{1,3}(?:no\.?|number|#))?\s{0,3}[:#]?\s{0,3}([A-Z0-9]{6,9})\b/gi, 1, (m) => /\d/.test(m[1]!));

/** Device identifiers: MAC addresses, IMEIs (Luhn-valid), GS1 and HIBCC UDIs (164.514(b)(2)(i)(M)). */
function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return sum % 10 === 0;
}
const devices: CustomDetector[] = [
  pattern('DEVICE_ID', /\b[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}\b|\b[0-9A-Fa-f]{2}(?:-[0-9A-Fa-f]{2}){5}\b|\b[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\b/g),
  pattern('DEVICE_ID', /(?<![\d-])\d{2}[- ]?\d{6}[- ]?\d{6}[- ]?\d(?![\d-])/g, 0, (m) => luhn(m[0].replace(/\D/g, ''))),
  pattern('DEVICE_ID', /\bIMEI(?:SV)?\s{0,3}[:#]?\s{0,3}(\d{14,16})\b/gi, 1),
  pattern('DEVICE_ID', /\(01\)\s?\d{14}(?:\s?\(\d{2,4}\)[^\s()]{1,20}){0,6}/g),
  pattern('DEVICE_ID', /\bUDI\s{0,3}[:#]?\s{0,3}([0-9A-Za-z+/$.%()-]{8,80})/g, 1),
  pattern('DEVICE_ID', /(?<![\w+])\+[A-Z][A-Z0-9]{3}[A-Z0-9]{1,18}(?:\/[A-Z0-9$+%]{1,30})?(?![\w])/g, 0, (m) => /\d/.test(m[0])),
];

// Words that end a name after a cue ("spoke with the nurse", "called back").
const NOT_NAME = new Set(
  'a an the and or but with without to of in on at for from by is was were be been has had have he she they his her their it this that back again today yesterday tomorrow patient pt family nurse doctor physician team office pharmacy clinic hospital lab about regarding re no not none unknown denies reports states'.split(' '),
);
/** Names after a cue word, in any case: `name: jane doe`, `spoke with bob smith`, `mrs. okafor` (164.514(b)(2)(i)(A)). */
const cuedNames: CustomDetector = {
  type: 'PERSON_NAME',
  *find(text) {
    const cue = /\b(?:(?:patient|pt|legal|full|maiden)\s{1,3}name|name|named|called|signed\s{1,3}by|spoke\s{1,3}(?:with|to)|guardian|caregiver|(?:emergency\s{1,3})?contact|mr|mrs|ms|miss|mx|dr)\b\.?\s{0,3}(?:is\s{1,3}|was\s{1,3}|[:-]\s{0,3})?/gi;
    const word = /[A-Za-z][A-Za-z'’-]{1,30}/y;
    cue.lastIndex = 0;
    for (let m = cue.exec(text); m !== null; m = cue.exec(text)) {
      let at = m.index + m[0].length;
      let start = -1;
      let end = -1;
      for (let n = 0; n < 3; n++) {
        word.lastIndex = at;
        const w = word.exec(text);
        if (w === null || NOT_NAME.has(w[0].toLowerCase())) break;
        if (start === -1) start = w.index;
        end = w.index + w[0].length;
        at = end;
        if (text[at] !== ' ') break;
        at++;
      }
      if (start !== -1) {
        yield { start, end };
        cue.lastIndex = Math.max(cue.lastIndex, end);
      }
    }
  },
};

const TLD = new Set('com org net edu gov mil int io co us uk ca de fr info biz me health care app dev ai nl au jp'.split(' '));
/** Spelled-out e-mail addresses: `jane dot doe at example dot org`, `jane(at)example(dot)com` (164.514(b)(2)(i)(F)). */
const spelledEmails = pattern(
  'EMAIL',
  /(?<![a-z0-9._%+-])[a-z0-9_%+-]{1,64}(?:(?:\s?[([{]dot[)\]}]\s?| dot |\.)[a-z0-9_%+-]{1,64}){0,4}(?:\s?[([{]at[)\]}]\s?| at | ?@ ?)[a-z0-9-]{1,63}(?:(?:\s?[([{]dot[)\]}]\s?| dot |\.)[a-z0-9-]{1,63}){1,4}(?![a-z0-9-])/gi,
  0,
  (m) => /dot|[([{]at[)\]}]| at /i.test(m[0]) && TLD.has(m[0].split(/\s?[([{]dot[)\]}]\s?| dot |\./i).at(-1)!.toLowerCase()),
);

/** Splits a `|` list or an iterable into a lower-case lookup keyed by the first word. */
/** A word of a place name, in the text and in the lists alike. */
const PLACE_WORD = /[\p{L}][\p{L}'’.-]{0,30}/gu;

function index(names: Iterable<string> | string): Map<string, string[][]> {
  const byFirst = new Map<string, string[][]>();
  for (const raw of typeof names === 'string' ? names.split('|') : names) {
    // Words as the scan reads them (letters only, so "&" and digits are not words), trailing
    // periods and apostrophes dropped ("St. Louis").
    const words = Array.from(raw.toLowerCase().matchAll(PLACE_WORD), (m) => m[0].replace(/[.’']+$/, '')).filter(Boolean);
    if (words.length === 0 || words.length > 6) continue;
    const list = byFirst.get(words[0]!) ?? [];
    list.push(words);
    byFirst.set(words[0]!, list);
  }
  // Longest first, so "West Newton" wins over "West".
  for (const list of byFirst.values()) list.sort((a, b) => b.length - a.length);
  return byFirst;
}

/** The longest listed name starting at word `i` of `words`, as a word count (0 when none). */
function longest(byFirst: Map<string, string[][]>, words: readonly { w: string }[], i: number): number {
  for (const cand of byFirst.get(words[i]!.w) ?? []) {
    if (i + cand.length > words.length) continue;
    let ok = true;
    for (let j = 1; j < cand.length && ok; j++) ok = words[i + j]!.w === cand[j];
    if (ok) return cand.length;
  }
  return 0;
}

const US_STATES =
  'al ak az ar ca co ct de dc fl ga hi id il in ia ks ky la me md ma mi mn ms mo mt ne nv nh nj nm ny nc nd oh ok or pa ri sc sd tn tx ut vt va wa wv wi wy pr gu vi as mp fm mh pw aa ae ap alabama alaska arizona arkansas california colorado connecticut delaware florida georgia hawaii idaho illinois indiana iowa kansas kentucky louisiana maine maryland massachusetts michigan minnesota mississippi missouri montana nebraska nevada ohio oklahoma oregon pennsylvania tennessee texas utah vermont virginia washington wisconsin wyoming';
const STATE = new Set(US_STATES.split(' '));
const PLACE_CUE = new Set('in from near to of lives resident moved town city village township county born residing located'.split(' '));
const COUNTY_WORD = new Set(['county', 'parish', 'borough']);

/**
 * Place names smaller than a state (164.514(b)(2)(i)(B)), found where the text says they are
 * places: `<county> County|Parish|Borough`, `<town>, <state>`, or a capitalised town name after
 * `in`, `from`, `near`, `lives in`, `town of`…. Bare words that happen to be town names
 * ("Normal", "Hope") are left alone elsewhere.
 */
function placeNames(places: Iterable<string> | string, counties: Iterable<string> | string): CustomDetector {
  const towns = index(places);
  const countyIndex = index(counties);
  const WORD = new RegExp(PLACE_WORD.source, PLACE_WORD.flags);
  return {
    type: 'STREET_ADDRESS',
    *find(text) {
      const words: { w: string; start: number; end: number; cap: boolean }[] = [];
      WORD.lastIndex = 0;
      for (let m = WORD.exec(text); m !== null; m = WORD.exec(text)) {
        const raw = m[0].replace(/[.’']+$/, '');
        words.push({ w: raw.toLowerCase(), start: m.index, end: m.index + raw.length, cap: /^\p{Lu}/u.test(raw) });
      }
      for (let i = 0; i < words.length; i++) {
        // "<county> County"
        const c = longest(countyIndex, words, i);
        if (c > 0 && i + c < words.length && COUNTY_WORD.has(words[i + c]!.w) && words[i]!.cap) {
          yield { start: words[i]!.start, end: words[i + c]!.end };
          i += c;
          continue;
        }
        const t = longest(towns, words, i);
        if (t === 0 || !words[i]!.cap) continue;
        const last = words[i + t - 1]!;
        const next = words[i + t];
        // "<town>, <state>"
        const withState = next !== undefined && STATE.has(next.w) && /^\s*,\s*$/.test(text.slice(last.end, next.start));
        const cued = i > 0 && PLACE_CUE.has(words[i - 1]!.w) && /^\s+$/.test(text.slice(words[i - 1]!.end, words[i]!.start));
        if (withState || cued) {
          yield { start: words[i]!.start, end: last.end };
          i += t - 1;
        }
      }
    },
  };
}

const iterable = (v: unknown): boolean => typeof (v as Iterable<unknown>)[Symbol.iterator] === 'function';
const OPTIONS = optionsSchema<SafeHarborDetectorOptions>('safeHarborDetectors', {
  now: option.func('a function returning the current Date'),
  places: option.custom('an iterable of place names (an array or a Set)', ['array', 'object'], iterable),
  counties: option.custom('an iterable of county names (an array or a Set)', ['array', 'object'], iterable),
});

// Indexing the US lists takes a few milliseconds: once per process.
let usPlaces: CustomDetector | undefined;

/**
 * The Safe Harbor residual detectors, for `createScanner({ detectors })`: partial dates, HL7
 * timestamps, birth years and ages of 90+, plates, passports, MAC/IMEI/UDI, cued names in any
 * case, spelled-out e-mails and place names smaller than a state.
 */
export function safeHarborDetectors(options: SafeHarborDetectorOptions = {}): CustomDetector[] {
  OPTIONS.parse(options);
  const now = options.now ?? (() => new Date());
  return [
    ...partialDates,
    hl7Timestamps,
    ...agesOver89(now),
    plates,
    passports,
    ...devices,
    cuedNames,
    spelledEmails,
    options.places === undefined && options.counties === undefined ? (usPlaces ??= placeNames(US_PLACE_NAMES, US_COUNTY_NAMES)) : placeNames(options.places ?? US_PLACE_NAMES, options.counties ?? US_COUNTY_NAMES),
  ];
}
