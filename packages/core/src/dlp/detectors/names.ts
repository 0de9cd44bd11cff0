/**
 * Person names through context: titles ("Mr.", "Dr."), labels ("Patient:", "Name:", "Caller:"),
 * relations ("daughter Janet"), salutations ("Dear Ms. Patel"), sign-offs ("Sincerely,\nJane Doe"),
 * JSON name keys ("family", "given", "firstName"), e-mail display names, '^'-separated names,
 * first-person cues in lower case ("this is maria"), the given-name lexicon (a known given name
 * and the capitalised words after it), and an optional list of known names.
 * Name words are capitalised in any script ("Inés Peñalver", "Łukasz", "O'Donnell", "Smith-Jones",
 * a middle initial "A.") and may hold particles ("van", "de", "bin").
 */
import { Kw } from '../context.js';
import {
  CUE_VERBS,
  EPONYM_FOLLOWERS,
  NEVER_NAME_WORDS,
  PARTICLES,
  PERSON_CUES,
  PERSON_VERBS,
  RELATION_NOUNS,
  WEAK_PERSON_CUES,
  STOP_AFTER_NAME,
  TERM_ENDING_AT,
  TERM_LIKE_WORDS,
  givenWeight,
  givenWeightAt,
  givenWeightOf,
  isTermWord,
  maybeGiven,
  maybeName,
  surnameWeight,
  wordHash,
} from './name-evidence.js';
import { F, P, isDigit, type ScanState } from './state.js';

/** Letter classes of UTF-16 units, filled on first use: 1 capital, 2 other letter or mark, 3 not a letter. */
const UCLASS = new Uint8Array(65536);
for (let c = 0; c < 128; c++) UCLASS[c] = c >= 65 && c <= 90 ? 1 : c >= 97 && c <= 122 ? 2 : 3;
const UPPER_RE = /^[\p{Lu}\p{Lt}]$/u;
const LETTER_RE = /^[\p{L}\p{M}]$/u;
function uclass(c: number): number {
  let v = UCLASS[c]!;
  if (v === 0) {
    const ch = String.fromCharCode(c);
    v = c >= 0xd800 && c <= 0xdfff ? 3 : UPPER_RE.test(ch) ? 1 : LETTER_RE.test(ch) ? 2 : 3;
    UCLASS[c] = v;
  }
  return v;
}
/** A capital letter in any script. */
const isUpper = (c: number): boolean => c < 128 ? c >= 65 && c <= 90 : uclass(c) === 1;
/** A small (or uncased) letter or a combining mark in any script. */
const isLower = (c: number): boolean => c < 128 ? c >= 97 && c <= 122 : uclass(c) === 2;
/** A letter in any script. */
const isLetter = (c: number): boolean => c < 128 ? (c >= 65 && c <= 90) || (c >= 97 && c <= 122) : uclass(c) !== 3;

/** True when text[q] is the apostrophe of a possessive "'s" ("Ana's mother"), not of "O'Brien". */
const isPossessive = (text: string, q: number): boolean =>
  (text.charCodeAt(q) === 39 || text.charCodeAt(q) === 0x2019) && (text.charCodeAt(q + 1) | 32) === 115 && !isLetter(text.charCodeAt(q + 2) || 0);

/** Capitalised words that follow labels but are not names. */
const NOT_NAMES = new Set(
  (
    'The This That These Those There Here Patient Pt Name Date Plan History Education Portal Safety Care Services ' +
    'Information Instructions Medicare Medicaid Insurance Unknown None Not Please Thank Thanks Dear Sincerely ' +
    'Regards Family Given Doctor Nurse Physician Provider Clinic Hospital Center Office Department Team Staff ' +
    'Mr Mrs Ms Miss Dr Mx Prof Professor Dra Sra Srta Mme Mlle Herr Frau MD NP PA RN DO Jr Sr Is Was Has Had And Or With Without For From To In On At Of By ' +
    'Reports Denies Presents Admitted Discharged Seen Called Returns Continue Follow Summary Note Notes Results ' +
    'Self Spouse Son Daughter Mother Father Wife Husband Brother Sister Guardian Emergency Contact Primary ' +
    'Secondary Home Work Cell Phone Fax Email Address Street Avenue Road January February March April May June ' +
    'July August September October November December Monday Tuesday Wednesday Thursday Friday Saturday Sunday ' +
    'Male Female Yes No Normal Negative Positive Pending Admission Discharge Consult Referral Request Records ' +
    'Chart Medical Record Account Member Policy Group Subscriber Office Visit Exam Lab Labs Test Tests Today ' +
    'Tomorrow Yesterday Morning Evening Night Room Bed Unit Floor Pain Fever Cough General Internal Surgery ' +
    'Cardiology Neurology Oncology Radiology Pharmacy Billing Social Work Case Management Hospice Home Health ' +
    'Scheduling Registration Admissions Appointments Referrals Reception Triage Intake Dispatch Support Helpdesk ' +
    'Manager Director Supervisor Coordinator Practitioner Assistant Resident Intern Fellow Attending Charge ' +
    'Technician Therapist Pharmacist Surgeon Specialist Provider Service Services Medicine Unit ' +
    // After a credential ("Marcy Fields RN License #…"): never a name.
    'License Licence Lic Number No ID Badge Cert Certification Certified Board Registered Credential State'
  ).split(' '),
);

/**
 * One-hash filters of case-folded `wordHash`es: a word whose hash is not in the filter of a list
 * is surely not in the list in any case, so the common word costs no slice and no lower-casing.
 */
function hashFilter(list: Iterable<string>): Uint8Array {
  const bits = new Uint8Array(1 << 13);
  for (const w of list) {
    const h = wordHash(w, 0, w.length);
    if (h >= 0) bits[(h >>> 3) & 8191]! |= 1 << (h & 7);
  }
  return bits;
}
/** False when the word with `wordHash` `h` (≥ 0) is surely not in the list of `filter`. */
const mayBeIn = (filter: Uint8Array, h: number): boolean => (filter[(h >>> 3) & 8191]! & (1 << (h & 7))) !== 0;
const NOT_NAMES_FILTER = hashFilter(NOT_NAMES);
/**
 * Small word lists looked up by case-folded `wordHash` and checked letter by letter, so that a
 * lookup needs no slice and no lower-casing: the value of the entry whose word is at text[b, e).
 */
class HashDict {
  private readonly byHash = new Map<number, Array<[string, number]>>();
  /** Words with letters outside ASCII ("fiancé"), looked up by their lower-case slice. */
  private readonly other = new Map<string, number>();
  /** One bit per hash (see `hashFilter`): most words are rejected before the map. */
  private readonly bits = new Uint8Array(1 << 13);
  add(words: Iterable<string>, value: number): this {
    for (const w of words) {
      const h = wordHash(w, 0, w.length);
      if (h < 0) {
        this.other.set(w, value);
        continue;
      }
      this.bits[(h >>> 3) & 8191]! |= 1 << (h & 7);
      const list = this.byHash.get(h) ?? [];
      if (!list.some(([x]) => x === w)) list.push([w, value]);
      this.byHash.set(h, list);
    }
    return this;
  }
  /** The value for the ASCII word text[b, e) in any case, or 0. */
  get(text: string, b: number, e: number): number {
    const h = wordHash(text, b, e);
    if (h < 0) return this.other.size === 0 ? 0 : (this.other.get(text.slice(b, e).toLowerCase()) ?? 0);
    if ((this.bits[(h >>> 3) & 8191]! & (1 << (h & 7))) === 0) return 0;
    const list = this.byHash.get(h);
    if (list === undefined) return 0;
    for (const [w, v] of list) if (w.length === e - b && sameFolded(text, b, w)) return v;
    return 0;
  }
}
/** True when text[b, b + w.length) is `w` (lower case) with ASCII letters in any case. */
function sameFolded(text: string, b: number, w: string): boolean {
  for (let k = 0; k < w.length; k++) if ((text.charCodeAt(b + k) | 32) !== w.charCodeAt(k)) return false;
  return true;
}
/** Cues before a run: 2 person cues and relations, 1 weak cues; 4 marks verbs before "to"/"with"/"by". */
const CUES_BEFORE = new HashDict().add(WEAK_PERSON_CUES, 1).add(PERSON_CUES, 2).add(RELATION_NOUNS, 2);
const CUE_VERB_DICT = new HashDict().add(CUE_VERBS, 1);
const RELATION_DICT = new HashDict().add(RELATION_NOUNS, 1);
/** Cues after a run: 1 person verbs and "who", 2 "is", 3 "was". */
/** Words never read as a single cued name (label words in lower case, pronouns, particles, never-name words). */
const NOT_A_CUED_NAME = new HashDict()
  .add([...NOT_NAMES].map((w) => w.toLowerCase()), 1)
  .add(STOP_AFTER_NAME, 1)
  .add(PARTICLES, 1)
  .add(NEVER_NAME_WORDS, 1);
const CUES_AFTER = new HashDict().add(PERSON_VERBS, 1).add(['who'], 1).add(['is'], 2).add(['was'], 3);
const NEVER_NAME_FILTER = hashFilter(NEVER_NAME_WORDS);
const TERM_FILTER = hashFilter(TERM_LIKE_WORDS());
const EPONYM_FILTER = hashFilter(EPONYM_FOLLOWERS);

const TITLE_FOLLOW = new Set(['mr', 'mrs', 'ms', 'miss', 'mx', 'dr']);
/** Labels that only name a person when followed by ':' (short everyday words otherwise). */
const NEEDS_COLON = new Set(['to', 'from', 're', 'cc', 'attn', 'name', 'given', 'family', 'covering']);
/** Labels that introduce a name with no colon when two name words follow. */
const TWO_WORDS_NO_COLON = new Set(['patient', 'pt', 'client', 'employee', 'guarantor', 'prescriber', 'provider', 'physician', 'attending', 'referring', 'surgeon', 'caller']);

/** Words read by the last `readName` call (a variable, so that a call allocates no tuple). */
let nameWords = 0;

/**
 * Reads up to 3 name words from `p` (separated by single spaces; lower-case particles such as
 * "van", "de la", "bin" between them). Returns the end of the last word (-1 when none) and leaves
 * how many words were read in `nameWords`.
 */
function readName(text: string, p: number, allCaps: boolean): number {
  let end = -1;
  let words = 0;
  let q = p;
  for (let w = 0; w < 3; w++) {
    const ws = q;
    const c0 = text.charCodeAt(q);
    if (!isUpper(c0)) break;
    q++;
    let lower = 0;
    while (q < text.length && q - ws < 24) {
      const c = text.charCodeAt(q);
      if (isLower(c)) lower++;
      else if (isUpper(c)) {
        // "McDonald", "O'Neil", "DeShawn" keep inner capitals; all-caps only where allowed.
        if (!allCaps && lower === 0 && !(text.charCodeAt(q - 1) === 39 || text.charCodeAt(q - 1) === 45 || text.charCodeAt(q - 1) === 0x2019)) break;
      } else if (c === 39 || c === 45 || c === 0x2019) {
        if (!isLetter(text.charCodeAt(q + 1)) || isPossessive(text, q)) break;
      } else break;
      q++;
    }
    if (q - ws === 1) {
      // A middle initial "A." between two words.
      if (words === 0 || text.charCodeAt(q) !== 46) break;
      q++;
    } else {
      if (!allCaps && lower === 0) break;
      // Most words are in neither list: their case-folded hash says so without a slice.
      const h = wordHash(text, ws, q);
      if (h < 0 || mayBeIn(NOT_NAMES_FILTER, h)) {
        const word = text.slice(ws, q);
        if (NOT_NAMES.has(word) || (lower === 0 && NOT_NAMES.has(word[0] + word.slice(1).toLowerCase()))) break;
      }
      if (words > 0 && (h < 0 || mayBeIn(NEVER_NAME_FILTER, h)) && NEVER_NAME_WORDS.has(text.slice(ws, q).toLowerCase())) break;
    }
    if (isLetter(text.charCodeAt(q) || 0) || isDigit(text.charCodeAt(q) || 0)) break;
    if (q - ws > 1) end = q;
    words++;
    if (text.charCodeAt(q) !== 32) break;
    if (isUpper(text.charCodeAt(q + 1))) {
      q++;
      continue;
    }
    // Particles: "van der Berg", "de la Cruz", "bin Said" (each followed by a space).
    let r = q + 1;
    let particles = 0;
    while (particles < 2) {
      let pe = r;
      while (pe < text.length && pe - r < 5 && isLower(text.charCodeAt(pe))) pe++;
      if (pe === r || text.charCodeAt(pe) !== 32 || !PARTICLES.has(text.slice(r, pe))) break;
      r = pe + 1;
      particles++;
    }
    if (particles === 0) {
      // "al-Sayed", "el-Amin", "bin-Laden": a particle joined by a hyphen is part of the word.
      const j = q + 1;
      const c1 = text.charCodeAt(j);
      if ((c1 === 97 || c1 === 101 || c1 === 98) && /^(?:al|el|bin|ben|abu|ad|ash)-[\p{L}]/u.test(text.slice(j, j + 6))) {
        const we = wordEnd(text, j);
        if (we - j > 3 && !isLetter(text.charCodeAt(we) || 0)) {
          end = we;
          words++;
          q = we;
          if (text.charCodeAt(q) === 32 && isUpper(text.charCodeAt(q + 1))) {
            q++;
            continue;
          }
        }
      }
      break;
    }
    if (!isUpper(text.charCodeAt(r))) break;
    q = r;
  }
  // A trailing eponym noun ("Wilson disease") unmakes the name.
  if (end > 0 && text.charCodeAt(end) === 32) {
    let we = end + 1;
    while (we < text.length && we - end < 16 && isLetter(text.charCodeAt(we))) we++;
    const h = wordHash(text, end + 1, we);
    if ((h < 0 || mayBeIn(EPONYM_FILTER, h)) && EPONYM_FOLLOWERS.has(text.slice(end + 1, we).toLowerCase())) {
      nameWords = 0;
      return -1;
    }
  }
  nameWords = words;
  return end;
}

/** PERSON_NAME findings from context words, signatures, credentials and the optional name list. */
export function detectNames(s: ScanState, names: ReadonlySet<string> | undefined): void {
  const { text, kw } = s;
  for (let k = 0; k < kw.count; k++) {
    const kind = kw.kinds[k]!;
    const ks = kw.starts[k]!;
    const ke = kw.ends[k]!;
    // "Gregory Lamb, MD", "Marcy Fields RN": a name right before a credential.
    if (kind === Kw.Credential || (kind === Kw.NameLabel && text.charCodeAt(ks) === 82 && text.charCodeAt(ks + 1) === 78 && ke - ks === 2)) {
      nameBefore(s, ks);
      // "RN" is a credential after a name; what follows it ("RN License #…") is not a name.
      continue;
    }
    if (kind !== Kw.Title && kind !== Kw.NameLabel && kind !== Kw.Signoff) continue;
    let p = ke;
    let conf = 0.85;
    let minWords = 1;
    if (kind === Kw.Title) {
      // "Dr. Smith", "Mrs Jones": the title is capitalised and followed by '.' or a space.
      if (!isUpper(text.charCodeAt(ks))) continue;
      if (text.charCodeAt(p) === 46) p++;
      if (text.charCodeAt(p) !== 32) continue;
      p++;
    } else if (kind === Kw.Signoff) {
      // "Sincerely,\nJane Doe", "Thanks, Ahmed Karimi"
      if (text.charCodeAt(p) !== 44) continue;
      p++;
      let ws = 0;
      while (ws < 4 && (text.charCodeAt(p) === 32 || text.charCodeAt(p) === 10 || text.charCodeAt(p) === 13)) {
        p++;
        ws++;
      }
      if (ws === 0) continue;
      minWords = 2;
      conf = 0.8;
    } else {
      // The context word as listed: the label's text, lower-cased, without a slice.
      const label = kw.words[k]!;
      // A key that is the label ("name", "patientName"), or one ending in "Name" after a word of a
      // person ("contactName", "guarantor_name", "emergencyContactName"; not "drugName").
      const isJsonKey = text.charCodeAt(ke) === 34 && (text.charCodeAt(ks - 1) === 34 || (label === 'name' && personKey(text, ks)));
      if (isJsonKey) {
        // "family": "Smith", "given": ["John", "Paul"]
        p = ke + 1;
        let guard = 0;
        while (guard < 4 && (text.charCodeAt(p) === 58 || text.charCodeAt(p) === 32 || text.charCodeAt(p) === 91)) {
          p++;
          guard++;
        }
        if (text.charCodeAt(p) !== 34) continue;
        p++;
        // FHIR: "text" is a name only inside a HumanName ("name": [{ "text": … }]); "display"
        // only in a reference to a person ("reference": "Patient/…", "display": …).
        if (label === 'text' && !/"name"\s{0,2}:\s{0,2}\[?\s{0,2}\{\s{0,2}$/.test(text.slice(Math.max(0, ks - 24), ks - 1))) continue;
        if (label === 'display' && !/"(?:Patient|Practitioner|RelatedPerson|Person)\/[^"]{0,64}"\s{0,2},\s{0,2}$/.test(text.slice(Math.max(0, ks - 90), ks - 1))) continue;
        emitJsonNames(s, text, p, label === 'given');
        continue;
      }
      // "text" and "display" are name keys only in FHIR JSON (above).
      if (label === 'text' || label === 'display') continue;
      let colon = false;
      let guard = 0;
      while (guard < 3 && (text.charCodeAt(p) === 58 || text.charCodeAt(p) === 44 || text.charCodeAt(p) === 32)) {
        if (text.charCodeAt(p) === 58) colon = true;
        p++;
        guard++;
      }
      if (guard === 0) continue;
      if (NEEDS_COLON.has(label) && !colon) continue;
      // "From: \"Ana O'Brien\" <ana@…>": a quoted display name.
      if (text.charCodeAt(p) === 34) p++;
      if (FIRST_PERSON.has(label) && !isUpper(text.charCodeAt(p))) {
        lowerCaseName(s, p, label);
        continue;
      }
      if (!colon && TWO_WORDS_NO_COLON.has(label)) minWords = 2;
      if (label === 'dear' && TITLE_FOLLOW.has(text.slice(p, p + 4).replace(/[^a-z].*$/is, '').toLowerCase())) continue;
      conf = colon ? 0.85 : 0.75;
    }
    // A labelled name with a colon may be written family name first, in capitals ("Patient:
    // WHITAKER, HAROLD"); after any cue a name may start with an initial ("Dr. J. Whitaker").
    // A title or a sign-off may also be followed by capitals ("Mrs. BETTINA WHITAKER"); a sign-off
    // by the inverted form too ("Regards,\nWhitaker, Anselm, RN").
    const strong = kind === Kw.NameLabel && conf >= 0.85;
    const end = cuedName(text, p, strong || kind === Kw.Signoff, strong || kind === Kw.Signoff || kind === Kw.Title, strong ? Evidence.Form : Evidence.Known);
    const words = nameWords;
    // A label read without a colon ("Seen by Dermatology", "Wife Mercy Hospital") or a sign-off
    // needs no clinical or facility term in the run or right after it.
    const loose = kind === Kw.Signoff || (kind === Kw.NameLabel && conf < 0.85);
    if (end > p && words >= minWords && !(loose && (termVeto(text, p, end) || termAfter(text, end) || neverIn(text, p, end)))) s.emit('PERSON_NAME', p, end, conf);
  }
  const feats = s.features;
  detectSignatures(s);
  // One line that does not start with a space holds no signature block (see signatureLine).
  if ((feats & F.Newline) !== 0 || text.charCodeAt(0) === 32) detectSignatureBlock(s);
  // Given-name runs and single cued words, in one visit of the capitalised words.
  if (s.caps > 0 || (feats & F.NonAscii) !== 0) detectLexiconNames(s);
  if ((s.flags & P.Pair) !== 0) detectPairNames(s);
  if (s.caps > 0) detectCuedForms(s);
  if (s.out.length > 0) extendNameLists(s);
  if ((feats & F.Lt) !== 0) detectDisplayNames(s);
  if ((feats & F.Caret) !== 0) detectCaretNames(s);
  if (names !== undefined && names.size > 0) detectListedNames(s, names);
  if (s.out.length > 0) detectRepeatedNames(s);
  if ((feats & F.Upper) === 0 && PORTAL_CUE.test(text)) detectPortalNames(s);
}

type RawName = { start: number; end: number };

/** Exact (case-sensitive) hash of text[b, e), any script. */
function exactHash(text: string, b: number, e: number): number {
  let h = 0x811c9dc5;
  for (let i = b; i < e; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * A word of a name found elsewhere in the same text, written again on its own ("Caller: Sebastião
 * Quaresma … Sebastião called", "Gonçalo Assunção … Gonçalo's mother", "Ifeanyi Onyekachi …
 * Mr. Onyekachi"). Only title-case words of three letters or more are carried, never a particle,
 * a title, a label word, a clinical, place or facility term or a never-name word; a repeat is
 * not read before an eponym noun ("Graves disease") nor next to a capitalised term ("Mount Sinai",
 * "Ruiz Medical Center"). The words are matched exactly, case included, at the starts of
 * capitalised words; a repeat that starts a run of name words followed by a cue is read with the
 * run (see repeatRun).
 */
function detectRepeatedNames(s: ScanState): void {
  const { text, out } = s;
  const n0 = out.length;
  // The carried words' exact hashes (at most 64, in an open-addressed table) and a filter of
  // their first three letters: most capitalised words fail the filter, unread. Module buffers, left
  // clear at the end of every call: no allocation and no clearing of the whole buffer per call.
  let nk = 0;
  let count = 0;
  for (let k = 0; k < n0; k++) {
    const f = out[k]!;
    if (f.type !== 'PERSON_NAME') continue;
    count++;
    if (f.confidence < 0.6 || nk === KEYS.length) continue;
    let q = f.start;
    while (q < f.end) {
      if (!isUpper(text.charCodeAt(q)) || !isLower(text.charCodeAt(q + 1)) || (q > f.start && isLetter(text.charCodeAt(q - 1)))) {
        q++;
        continue;
      }
      const e = wordEnd(text, q);
      if (e - q >= 3 && e <= f.end && !isLetter(text.charCodeAt(e) || 0) && nk < KEYS.length) {
        const h = exactHash(text, q, e);
        let slot = h & 255;
        while (SLOT_KEY[slot] !== -1 && KEYS[SLOT_KEY[slot]!] !== h) slot = (slot + 1) & 255;
        if (SLOT_KEY[slot] === -1) {
          // Whether the word may be carried is asked only once it is seen again (most are not).
          KEYOK[nk] = 0;
          KEYS[nk] = h;
          KEYSLOT[nk] = slot;
          SLOT_KEY[slot] = nk;
          const hd = (text.charCodeAt(q) * 961 + text.charCodeAt(q + 1) * 31 + text.charCodeAt(q + 2)) & 4095;
          KEYHEAD[nk++] = hd;
          HEADS[hd >> 3]! |= 1 << (hd & 7);
        }
      }
      q = e > q ? e : q + 1;
    }
  }
  if (nk === 0) return;
  let order: RawName[] | undefined;
  let maxEnd: Int32Array | undefined;
  // A repeat inside a name found so far is no new name: the names by start, with the greatest end up to each.
  const covered = (b: number, e: number): boolean => {
    if (count <= 16) {
      for (let k = 0; k < n0; k++) if (out[k]!.type === 'PERSON_NAME' && out[k]!.start < e && b < out[k]!.end) return true;
      return false;
    }
    if (order === undefined) {
      order = [];
      for (let k = 0; k < n0; k++) if (out[k]!.type === 'PERSON_NAME') order.push(out[k]!);
      order.sort((x, y) => x.start - y.start);
      maxEnd = new Int32Array(count);
      for (let j = 0, m = -1; j < count; j++) maxEnd[j] = m = Math.max(m, order[j]!.end);
    }
    let lo = 0;
    let hi = count;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (order[mid]!.start < e) lo = mid + 1;
      else hi = mid;
    }
    return lo > 0 && maxEnd![lo - 1]! > b;
  };
  const n = text.length;
  const ascii = (s.features & F.NonAscii) === 0;
  const { capStarts } = s;
  let next = 0;
  let i = 0;
  while (i < n) {
    if (ascii) {
      while (next < s.caps && capStarts[next]! < i) next++;
      if (next === s.caps) break;
      i = capStarts[next++]!;
    } else if (!isUpper(text.charCodeAt(i))) {
      i++;
      continue;
    }
    const hd = (text.charCodeAt(i) * 961 + text.charCodeAt(i + 1) * 31 + text.charCodeAt(i + 2)) & 4095;
    if ((HEADS[hd >> 3]! & (1 << (hd & 7))) === 0) {
      i++;
      continue;
    }
    const before = i > 0 ? text.charCodeAt(i - 1) : 32;
    if (isLetter(before) || isDigit(before) || before === 39 || before === 0x2019 || before === 45 || before === 95) {
      i++;
      continue;
    }
    const e = wordEnd(text, i);
    if (e - i >= 3 && !isLetter(text.charCodeAt(e) || 0) && !isDigit(text.charCodeAt(e) || 0)) {
      const h = exactHash(text, i, e);
      let slot = h & 255;
      while (SLOT_KEY[slot] !== -1 && KEYS[SLOT_KEY[slot]!] !== h) slot = (slot + 1) & 255;
      const j = SLOT_KEY[slot]!;
      if (j !== -1 && !covered(i, e)) {
        if (KEYOK[j] === 0) KEYOK[j] = carried(text, i, e) ? 1 : -1;
        if (KEYOK[j] === 1 && !eponymAfter(text, e) && !termBefore(text, i) && !termAfter(text, e) && !everydayAtStart(text, i, e)) s.emit('PERSON_NAME', i, repeatRun(text, i, e), 0.6);
      }
    }
    i = e > i ? e : i + 1;
  }
  for (let j = 0; j < nk; j++) {
    SLOT_KEY[KEYSLOT[j]!] = -1;
    HEADS[KEYHEAD[j]! >> 3] = 0;
  }
}
const KEYS = new Uint32Array(64);
const KEYOK = new Int8Array(64);
const KEYSLOT = new Uint8Array(64);
const KEYHEAD = new Uint16Array(64);
const SLOT_KEY = new Int8Array(256).fill(-1);
const HEADS = new Uint8Array(512);

/**
 * The end of a repeated word's name: the word alone, or the run of capitalised name words it
 * starts when a cue stands right after the run ("Gonçalo Assunção's A1c", "Ruairí MacNeacail
 * reported") and no term or never-name word is in it.
 */
function repeatRun(text: string, i: number, e: number): number {
  if (text.charCodeAt(e) !== 32 || !isUpper(text.charCodeAt(e + 1)) || !isLower(text.charCodeAt(e + 2))) return e;
  const end = readName(text, i, false);
  if (end <= e || nameWords > 3 || termVeto(text, e + 1, end) || neverIn(text, e + 1, end)) return e;
  return isPossessive(text, end) || rightCue(text, end) !== 0 ? end : e;
}

/**
 * True when the repeated word text[b, e) starts a sentence, is an ambiguous given name that is
 * also an everyday word ("Grant application pending", "Hope is that …", "Mark the site") and
 * has no person cue after it ("Grant called back" is read).
 */
function everydayAtStart(text: string, b: number, e: number): boolean {
  if (wordHash(text, b, e) < 0 || !sentenceStart(text, b) || givenWeight(text.slice(b, e).toLowerCase()) !== 1) return false;
  return !isPossessive(text, e) && rightCue(text, e) === 0 && repeatRun(text, b, e) === e;
}

/** True when the name word text[b, e) may be carried to its other occurrences (see detectRepeatedNames). */
function carried(text: string, b: number, e: number): boolean {
  const h = wordHash(text, b, e);
  if (h >= 0 && mayBeIn(NOT_NAMES_FILTER, h) && NOT_NAMES.has(text.slice(b, e))) return false;
  const low = text.slice(b, e).toLowerCase();
  if (PARTICLES.has(low) || NEVER_NAME_WORDS.has(low) || TITLE_FOLLOW.has(low) || RELATION_DICT.get(text, b, e) !== 0) return false;
  return givenWeight(low) > 0 || surnameWeight(low) > 0 || !isTermWord(low);
}

/** What a name in capitals or family name first needs besides its cue (see `cuedName`). */
const enum Evidence {
  /** Nothing: after a label with a colon or a JSON name key the form is the evidence. */
  Form = 0,
  /** Capitals a word a lexicon knows well, "FAMILY, GIVEN" such a word in either part (sign-offs, titles, relations). */
  Known = 1,
  /** As Known, and a given name the lexicon knows after the comma in capitals too (other cues in prose). */
  Given = 2,
}

/**
 * The end of a name right after a cue at `p` (its word count in `nameWords`), or `p`: a name
 * as `readName` reads it, also after a leading initial ("J. Whitaker"); with `capitals` (a
 * strong cue or a sign-off) also written in capitals ("DENISE ABERNETHY"); after a strong cue (a
 * label with a colon, a JSON name key) also family name first ("WHITAKER, HAROLD", "Whitaker,
 * Harold"). Capitals and the inverted form need two words, so
 * an acronym after a label ("Patient: NKDA") is no name. `evidence` says what else they need.
 */
function cuedName(text: string, p: number, strong: boolean, capitals: boolean, evidence: Evidence = Evidence.Form): number {
  // "J. Whitaker": an initial (a word of the name), then the name.
  let q = p;
  let initial = 0;
  if (isUpper(text.charCodeAt(q)) && text.charCodeAt(q + 1) === 46 && text.charCodeAt(q + 2) === 32 && isUpper(text.charCodeAt(q + 3))) {
    q += 3;
    initial = 1;
  }
  let end = readName(text, q, false);
  let words = nameWords;
  let caps = false;
  if (end <= q && capitals) {
    // In capitals, every word ("DOE JANE", not "ABC Corp"): two words, or one and ", GIVEN" below.
    end = readName(text, q, true);
    words = nameWords;
    caps = true;
    if (end > q && ((words < 2 && text.charCodeAt(end) !== 44) || hasLower(text, q, end))) end = q;
    // Capitals are also headings, orders and tests ("FULL CODE", "URINE CULTURE", "DIET AS
    // TOLERATED"): except after a label, a word of the run must be a name a lexicon knows well; no
    // term may follow ("SAINT MARY MEDICAL CENTER"). "FAMILY, GIVEN" is weighed below.
    if (end > q && text.charCodeAt(end) !== 44 && ((evidence !== Evidence.Form && !knownIn(text, q, end)) || termAfter(text, end))) end = q;
  }
  if (end <= q) {
    nameWords = 0;
    return p;
  }
  const plain = end;
  const plainWords = words;
  if (strong && text.charCodeAt(end) === 44 && text.charCodeAt(end + 1) === 32) {
    // "Whitaker, Harold", "WHITAKER, HAROLD A": the given names after the comma, one or two
    // words, written like the family name (capitals after capitals), the first a known given name.
    const g = readName(text, end + 2, caps);
    // Written capitalised, the first given name must be one the lexicon knows ("Comfortable,
    // Resting" is no name); in capitals after a label the form is the evidence, after a sign-off,
    // a title or a relation a known word of either part ("CULTURES, PENDING" has none).
    if (g > end + 2 && nameWords <= 2 && hasLower(text, end + 2, g) === !caps && ((caps && (evidence === Evidence.Form || (evidence === Evidence.Known && knownIn(text, q, g)))) || knownGiven(text.slice(end + 2, wordEnd(text, end + 2))))) {
      words += nameWords;
      end = g;
    }
  }
  // One word in capitals is an acronym as often as a name ("Dr. ICU, …"): capitals need two.
  if (caps && words < 2) {
    nameWords = 0;
    return p;
  }
  // Capitals and the inverted form are read only where no clinical, drug or facility word is in
  // the run ("Name: LISINOPRIL TABLET", "Name: Hemoglobin, Total"), and capitals only where every
  // word has a vowel (acronyms such as "CBC, CMP" have none).
  if ((caps || end > plain) && (termVeto(text, q, end) || neverIn(text, q, end) || (caps && !vowelInEachWord(text, q, end)))) {
    if (caps) {
      nameWords = 0;
      return p;
    }
    end = plain;
    words = plainWords;
  }
  nameWords = words + initial;
  return end;
}

/** A word written in capitals as it is capitalised ("ESTEBAN" → "Esteban"; "Mei-Ling" as is). */
function capitalised(w: string): string {
  return hasLower(w, 0, w.length) ? w : w[0]! + w.slice(1).toLowerCase();
}

/** True when the lexicon knows the given name `w` in any case, or its first part ("Mei-Ling"). */
function knownGiven(w: string): boolean {
  const word = capitalised(w);
  if (givenWeightOf(word) > 0) return true;
  const dash = word.indexOf('-');
  return dash >= 2 && givenWeightOf(word.slice(0, dash)) > 0;
}

/**
 * True when a word of text[s, e) (a hyphen's parts too: "Schmidt-Weber") is strong lexicon
 * evidence: a strong given name or a census surname, and no clinical or place term.
 */
function knownIn(text: string, s: number, e: number): boolean {
  for (const tok of text.slice(s, e).toLowerCase().split(/[ -]/)) {
    if (tok.length < 2 || PARTICLES.has(tok) || NEVER_NAME_WORDS.has(tok)) continue;
    if (givenWeight(tok) === 2 || surnameWeight(tok) > 0) return true;
  }
  return false;
}

/** True when every word of text[s, e) (ASCII letters between non-letters) holds a vowel or Y. */
function vowelInEachWord(text: string, s: number, e: number): boolean {
  let inWord = false;
  let vowel = false;
  for (let k = s; k <= e; k++) {
    const c = k < e ? text.charCodeAt(k) | 32 : 0;
    if (c >= 97 && c <= 122) {
      inWord = true;
      if (c === 97 || c === 101 || c === 105 || c === 111 || c === 117 || c === 121) vowel = true;
    } else if (inWord) {
      if (!vowel) return false;
      inWord = false;
      vowel = false;
    }
  }
  return true;
}

/** True when text[s, e) holds a small letter. */
function hasLower(text: string, s: number, e: number): boolean {
  for (let k = s; k < e; k++) if (isLower(text.charCodeAt(k))) return true;
  return false;
}

/** Cues after which a portal message names its writer, often in lower case ("this is maria"). */
const FIRST_PERSON = new Set(['this is', 'i am', 'my name is']);

/**
 * True when a word of text[p, end) that no lexicon knows reads as a clinical, place or facility
 * term. An ASCII word in no term list and with no term ending is passed over without a slice.
 */
function termVeto(text: string, p: number, end: number): boolean {
  let q = p;
  while (q < end) {
    let we = q;
    while (we < end && text.charCodeAt(we) !== 32) we++;
    if (we - q >= 2 && text.charCodeAt(we - 1) !== 46) {
      const h = wordHash(text, q, we);
      let maybe = h < 0 || mayBeIn(TERM_FILTER, h);
      if (!maybe) {
        TERM_ENDING_AT.lastIndex = q;
        maybe = TERM_ENDING_AT.test(text) && TERM_ENDING_AT.lastIndex === we;
      }
      if (maybe) {
        const low = text.slice(q, we).toLowerCase();
        if (!PARTICLES.has(low) && givenWeight(low) === 0 && surnameWeight(low) === 0 && isTermWord(low)) return true;
      }
    }
    q = we + 1;
  }
  return false;
}

/** A letter word at `p` (any script, apostrophes and hyphens inside): its end, or `p`. */
function wordEnd(text: string, p: number): number {
  let e = p;
  while (e < text.length && e - p < 24) {
    const c = text.charCodeAt(e);
    if (isLetter(c)) e++;
    else if ((c === 39 || c === 45 || c === 0x2019) && e > p && isLetter(text.charCodeAt(e + 1)) && !isPossessive(text, e)) e++;
    else break;
  }
  return e;
}

/**
 * A lower-case name after a first-person cue: a known given name, and a second word unless it is
 * a common word ("this is maria lopez", "this is maria calling").
 */
function lowerCaseName(s: ScanState, p: number, label: string): void {
  const { text } = s;
  const e1 = wordEnd(text, p);
  if (e1 - p < 2) return;
  const w1 = text.slice(p, e1).toLowerCase();
  if (STOP_AFTER_NAME.has(w1) || NEVER_NAME_WORDS.has(w1) || NOT_A_WRITER.has(w1) || isTermWord(w1)) return;
  if (givenWeight(w1) === 0) {
    // A word no lexicon knows: a name after "my name is", or after "this is" when what follows
    // reads as the rest of an introduction ("this is wojciech again", "this is ayse, …").
    if (label === 'i am') return;
    if (label === 'this is' && !INTRO_AFTER.test(text.slice(e1, e1 + 10))) return;
  }
  let end = e1;
  // Up to two more words ("maria lopez", "joao du plessis"), particles included.
  let q = e1;
  for (let w = 0; w < 3 && text.charCodeAt(q) === 32; w++) {
    const e2 = wordEnd(text, q + 1);
    const w2 = text.slice(q + 1, e2).toLowerCase();
    if (PARTICLES.has(w2) && w < 2) {
      q = e2;
      continue;
    }
    if (e2 - q > 2 && !STOP_AFTER_NAME.has(w2) && !NOT_A_WRITER.has(w2) && !w2.endsWith('ing') && !NEVER_NAME_WORDS.has(w2) && !isTermWord(w2) && !isLetter(text.charCodeAt(e2) || 0)) {
      end = e2;
      q = e2;
      // A one-letter middle initial: "solene b lopes".
    } else if (e2 - q === 2 && w < 2 && text.charCodeAt(e2) === 32) {
      q = e2;
      continue;
    } else break;
  }
  s.emit('PERSON_NAME', p, end, 0.75);
}

/** What follows a writer's name in an introduction ("this is maria again", "this is ayşe, …"). */
const INTRO_AFTER = /^(?:,|\.|!| again\b| here\b| from\b| calling\b| writing\b| the\b| and\b| [a-z]+ (?:again|here|from|calling|writing)\b|$)/;
/** Words after "this is" / "i am" that describe, not name, the writer. */
const NOT_A_WRITER = new Set(
  (
    'urgent important serious ridiculous confusing frustrating crazy weird strange odd fine good great bad worse better ' +
    'sick tired worried scared concerned confused sorry ok okay correct right wrong true false new same real really very ' +
    'still also just not no yes regarding about for re in on at to me him her them us it that what who how why when where ' +
    'getting going having feeling taking trying wondering asking writing calling texting messaging emailing following'
  ).split(' '),
);

/** True when the word ending at `e` starts a sentence (text start, or after . ! ? or a line break). */
function sentenceStart(text: string, b: number): boolean {
  let k = b - 1;
  while (k >= 0 && text.charCodeAt(k) === 32) k--;
  if (k < 0) return true;
  const c = text.charCodeAt(k);
  return c === 46 || c === 33 || c === 63 || c === 10 || c === 13 || c === 34 || c === 58 || c === 45 || c === 62;
}

/**
 * Names found by the given-name lexicon: a known given name followed by capitalised name words
 * ("… spoke with Maria Delgado about …"), or a strong given name on its own inside a sentence.
 * Weak (ambiguous) given names need a second name word and a position inside a sentence.
 */
function detectLexiconNames(s: ScanState): void {
  const { text, capStarts } = s;
  const n = text.length;
  // In ASCII text a capitalised word starts only where the scan's pass saw a token start with a
  // capital: visit those, not every character.
  const ascii = (s.features & F.NonAscii) === 0;
  let next = 0;
  let i = 0;
  while (i < n) {
    if (ascii) {
      while (next < s.caps && capStarts[next]! < i) next++;
      if (next === s.caps) break;
      i = capStarts[next++]!;
    }
    const c = text.charCodeAt(i);
    if (!isUpper(c) || (i > 0 && (isLetter(text.charCodeAt(i - 1)) || isDigit(text.charCodeAt(i - 1)) || text.charCodeAt(i - 1) === 39))) {
      i++;
      continue;
    }
    const e = wordEnd(text, i);
    const len = e - i;
    const h = wordHash(text, i, e);
    // A word standing alone between cues ("seen with Torsten, his partner").
    if (len >= 2 && len <= 20 && !(text.charCodeAt(e) === 32 && isUpper(text.charCodeAt(e + 1))) && cuedWord(s, i, e, h)) {
      i = e;
      continue;
    }
    if (len < 2 || len > 15) {
      i = e > i ? e : i + 1;
      continue;
    }
    const weight = h >= 0 ? (maybeGiven(h) ? givenWeightAt(text, i, e, h) : 0) : givenWeightOf(text.slice(i, e));
    if (weight === 0 || isDigit(text.charCodeAt(e) || 0) || text.charCodeAt(e) === 95) {
      i = e;
      continue;
    }
    const inside = !sentenceStart(text, i);
    // A weak given name starting a sentence is read by nothing below: skip it unread.
    if (weight === 1 && !inside) {
      i = e;
      continue;
    }
    const end = readName(text, i, false);
    const words = nameWords;
    // Part of a longer proper noun: after a capitalised facility or clinical word ("Memorial Sloan
    // Kettering"), or before a term ("Rocky Mountain spotted fever").
    if (end > e && (termBefore(text, i) || termVeto(text, e + 1, end))) {
      i = end;
      continue;
    }
    if (end > e && words >= 2 && (weight === 2 || inside)) {
      s.emit('PERSON_NAME', i, end, weight === 2 ? 0.8 : 0.7);
      i = end;
      continue;
    }
    // A single given name inside a sentence, after a lower-case word: "spoke with Maria about it".
    if (end === e && weight === 2 && text.charCodeAt(i - 1) === 32 && lowerWordBefore(text, i) && !NEVER_NAME_WORDS.has(text.slice(i, e).toLowerCase())) {
      s.emit('PERSON_NAME', i, e, 0.65);
    }
    i = e;
  }
}

/**
 * Names written in the forms of records, read after a person cue in prose ("Spoke with the
 * patient's husband BRENNAN, ESTEBAN", "signed by Ramaswamy, Esteban", "caregiver S. McAllister",
 * "his son FATIMA CASTELLANOS"): family name first, in capitals or after an initial. The cue must
 * be strong (a relation, a person cue, a verb before "to"/"with"/"by"), a given name after the
 * comma and a word in capitals must be known to a lexicon, and no clinical, drug or facility word
 * may be in the run or right after it, nor a fourth capitalised word (a heading).
 */
function detectCuedForms(s: ScanState): void {
  const { text, capStarts } = s;
  // Capitals and initials: one look at the second letter passes over most capitalised words.
  for (let k = 0; k < s.caps; k++) {
    const i = capStarts[k]!;
    if (text.charCodeAt(i - 1) !== 32) continue;
    const c1 = text.charCodeAt(i + 1);
    if (c1 === 46) {
      if (text.charCodeAt(i + 2) === 32 && isUpper(text.charCodeAt(i + 3))) cuedFormAt(s, i, -1);
      continue;
    }
    if (c1 < 65 || c1 > 90) continue;
    // A word in capitals followed by another ("BRENNAN ESTEBAN") or ", " and one ("BRENNAN, E…").
    let e = i + 2;
    while (e - i < 24) {
      const c = text.charCodeAt(e);
      if ((c >= 65 && c <= 90) || c === 45 || c === 39) e++;
      else break;
    }
    const c = text.charCodeAt(e);
    if ((c === 32 && isUpper(text.charCodeAt(e + 1))) || (c === 44 && text.charCodeAt(e + 1) === 32 && isUpper(text.charCodeAt(e + 2)))) cuedFormAt(s, i, -1);
  }
  // Family name first, capitalised ("Ramaswamy, Esteban"): read from each ", " before a capital.
  for (let c = text.indexOf(', '); c > 0; c = text.indexOf(', ', c + 2)) {
    if (!isUpper(text.charCodeAt(c + 2))) continue;
    let b = c;
    while (b > 0 && c - b < 24) {
      const ch = text.charCodeAt(b - 1);
      if (isLetter(ch) || ch === 45 || ch === 39 || ch === 0x2019) b--;
      else break;
    }
    if (c - b >= 2 && text.charCodeAt(b - 1) === 32 && isUpper(text.charCodeAt(b)) && isLower(text.charCodeAt(b + 1))) {
      cuedFormAt(s, b, c);
      ageSexRow(s, b, c);
    }
  }
}

/** An age and sex right after a name in a list row: "  62M", " 47 F", " (81 y/o F)", " - 58yo". */
const AGE_SEX_AFTER = / {1,4}(?:\(|- )?\d{1,3} ?(?:[MF]|y\/?o|yo|-year-old)(?![\p{L}\p{N}])/uy;

/**
 * A row of a census or sign-out list: "Bed 12  Diallo, Amadou  62M  CHF exacerbation". The family
 * name (one word) starts the row or follows a bed or room number; the given names after the comma
 * are one or two capitalised words; the age and sex right after the name are the evidence. No
 * clinical, drug or facility word may be in the name, and a word of it must be known to a lexicon
 * or written with letters outside ASCII.
 */
function ageSexRow(s: ScanState, b: number, comma: number): void {
  const { text } = s;
  // What stands before the family name on its line: nothing, or a bed / room number ("Bed 12  ", "4. ").
  let k = b - 1;
  while (k >= 0 && text.charCodeAt(k) === 32) k--;
  if (k >= 0 && text.charCodeAt(k) !== 10 && text.charCodeAt(k) !== 13) {
    if (!isDigit(text.charCodeAt(k)) && text.charCodeAt(k) !== 46 && text.charCodeAt(k) !== 41) return;
    let ls = k;
    while (ls > 0 && text.charCodeAt(ls - 1) !== 10 && text.charCodeAt(ls - 1) !== 13 && k - ls < 16) ls--;
    if (ls > 0 && text.charCodeAt(ls - 1) !== 10 && text.charCodeAt(ls - 1) !== 13) return;
    if (!/^(?:(?:bed|rm|room|bay|pt|#)\.? ?)?[A-Z]?\d{1,4}[A-Z]?[.)]?$/i.test(text.slice(ls, k + 1))) return;
  }
  const g = readName(text, comma + 2, false);
  if (g <= comma + 2 || nameWords > 2) return;
  AGE_SEX_AFTER.lastIndex = g;
  if (!AGE_SEX_AFTER.test(text)) return;
  if (termVeto(text, b, g) || neverIn(text, b, comma) || neverIn(text, comma + 2, g)) return;
  // A word a lexicon knows, or letters outside ASCII: "Sepsis, Urinary 70F" is a problem, not a person.
  if (!knownIn(text, b, g) && !nonAsciiIn(text, b, g)) return;
  s.emit('PERSON_NAME', b, g, 0.75);
}

/** True when text[b, e) has a character outside ASCII. */
function nonAsciiIn(text: string, b: number, e: number): boolean {
  for (let i = b; i < e; i++) if (text.charCodeAt(i) >= 128) return true;
  return false;
}

/** Weighs a name in a form of records at `i` (`comma`: the comma of "Family, Given", or -1) after its cue. */
function cuedFormAt(s: ScanState, i: number, comma: number): void {
  const { text } = s;
  // After a relation written in small letters ("her daughter", "caregiver") or a person label
  // ("Emergency contact:") a known word of either part of "FAMILY, GIVEN" is enough; after other
  // cues its given name must be known.
  // The cheapest test first: most capitalised words have no cue before them.
  const cue = cueBefore(text, i);
  const label = cue !== 2 && personLabelBefore(text, i);
  if (cue !== 2 && !label) return;
  const relation = label || relationBefore(text, i);
  const end = cuedName(text, i, true, true, relation ? Evidence.Known : Evidence.Given);
  if (end <= i || nameWords < 2) return;
  // A list is no inverted name: "three children, Aiden, Brooklyn and Marisela", "Ruth, Carl and …"
  // (a given name first that is no census surname, or another item after).
  if (comma > 0 && (end <= comma || listAfter(text, end) || (givenWeightOf(text.slice(i, comma)) === 2 && surnameWeight(text.slice(i, comma).toLowerCase()) === 0))) return;
  if (termVeto(text, i, end) || neverIn(text, i, end) || termAfter(text, end)) return;
  if (text.charCodeAt(end) === 32 && isUpper(text.charCodeAt(end + 1))) return;
  s.emit('PERSON_NAME', i, end, 0.75);
}

/**
 * E-mail display names: "Ana O'Brien <ana.obrien@example.org>", "\"Ana O'Brien\" <…>".
 */
function detectDisplayNames(s: ScanState): void {
  const { text } = s;
  let from = 0;
  for (let lt = text.indexOf('<', from); lt >= 0; lt = text.indexOf('<', from)) {
    from = lt + 1;
    // An address inside: '@' before '>' within 80 characters.
    let hasAt = false;
    let k = lt + 1;
    for (; k < text.length && k - lt < 80; k++) {
      const c = text.charCodeAt(k);
      if (c === 64) hasAt = true;
      else if (c === 62 || c === 32 || c === 10) break;
    }
    if (!hasAt || text.charCodeAt(k) !== 62) continue;
    let e = lt;
    if (text.charCodeAt(e - 1) === 32) e--;
    if (text.charCodeAt(e - 1) === 34) e--;
    // Starts of up to four words before the address, nearest first; the farthest one from
    // which the name words run exactly to the address wins ("cc Priya Raman <…>").
    const starts: number[] = [];
    let b = e;
    for (let w = 0; w < 4; w++) {
      let q = b;
      while (q > 0 && b - q < 24 && (isLetter(text.charCodeAt(q - 1)) || text.charCodeAt(q - 1) === 39 || text.charCodeAt(q - 1) === 45 || text.charCodeAt(q - 1) === 46 || text.charCodeAt(q - 1) === 0x2019)) q--;
      if (q === b) break;
      starts.push(q);
      b = q;
      if (text.charCodeAt(b - 1) === 32 && isLetter(text.charCodeAt(b - 2))) b--;
      else break;
    }
    for (let k = starts.length - 1; k >= 0; k--) {
      const end = readName(text, starts[k]!, true);
      const words = nameWords;
      if (end === e && words >= 1) {
        s.emit('PERSON_NAME', starts[k]!, end, 0.85);
        break;
      }
    }
  }
}

/** '^'-separated names outside HL7 segments: "DOE^JANE^A", "Peñalver^Inés" (family^given). */
function detectCaretNames(s: ScanState): void {
  const { text } = s;
  let from = 0;
  for (let c = text.indexOf('^', from); c >= 0; c = text.indexOf('^', from)) {
    from = c + 1;
    let b = c;
    while (b > 0 && c - b < 24 && (isLetter(text.charCodeAt(b - 1)) || text.charCodeAt(b - 1) === 39 || text.charCodeAt(b - 1) === 45)) b--;
    if (c - b < 2 || !isUpper(text.charCodeAt(b))) continue;
    const g = c + 1;
    const ge = wordEnd(text, g);
    if (ge - g < 2 || !isUpper(text.charCodeAt(g)) || givenWeight(text.slice(g, ge).toLowerCase()) === 0) continue;
    if (NEVER_NAME_WORDS.has(text.slice(b, c).toLowerCase())) continue;
    let end = ge;
    // A middle name or initial: "^A" / "^ANN".
    if (text.charCodeAt(ge) === 94 && isUpper(text.charCodeAt(ge + 1))) {
      const me = wordEnd(text, ge + 1);
      if (me > ge + 1 && text.charCodeAt(me) !== 94) end = me;
      else if (me > ge + 1 && me - ge <= 25) end = me;
    }
    s.emit('PERSON_NAME', b, end, 0.85);
    from = end;
  }
}

const isLineEnd = (c: number) => c === 0 || c === 10 || c === 13;

/**
 * Signatures of messages: "- Omar Haddad" or "-Bill Harmon" ending a line, and a text that ends
 * with a sentence made of two or three name words ("… Thanks. Lisa Marchetti").
 */
function detectSignatures(s: ScanState): void {
  const { text } = s;
  let from = 0;
  for (let dash = text.indexOf('-', from); dash >= 0; dash = text.indexOf('-', from)) {
    from = dash + 1;
    const before = s.code(dash - 1);
    if (!(dash === 0 || before === 32 || isLineEnd(before) || before === 46 || before === 33)) continue;
    let p = dash + 1;
    if (s.code(p) === 32) p++;
    const end = readName(text, p, false);
    const words = nameWords;
    if (end > p && words >= 2 && !termVeto(text, p, end)) {
      let q = end;
      if (s.code(q) === 46) q++;
      if (isLineEnd(s.code(q))) s.emit('PERSON_NAME', p, end, 0.75);
    }
  }
  // The last sentence of the text.
  // Read backwards with one charCodeAt per step (k - 1 is always inside the text).
  let e = text.length;
  while (e > 0) {
    const c = text.charCodeAt(e - 1);
    if (c === 32 || isLineEnd(c) || c === 46) e--;
    else break;
  }
  let b = e;
  for (let w = 0; w < 3 && b > 0; w++) {
    let k = b;
    while (k > 0 && b - k < 24) {
      const c = text.charCodeAt(k - 1);
      if (isLetter(c) || c === 39 || c === 45) k--;
      else break;
    }
    if (k === b) break;
    b = k;
    if (s.code(b - 1) === 32 && isLetter(s.code(b - 2))) b--;
    else break;
  }
  const prev = s.code(b - 1);
  const prev2 = s.code(b - 2);
  if (b < e && (prev === 10 || (prev === 32 && (prev2 === 46 || prev2 === 33 || prev2 === 63)))) {
    const end = readName(text, b, false);
    const words = nameWords;
    if (end === e && words >= 2 && !termVeto(text, b, end)) s.emit('PERSON_NAME', b, end, 0.7);
  }
}

const isNameChar = (c: number) => isLetter(c) || c === 39 || c === 45 || c === 46;

/** Two or three name words ending right before `pos` (after ", " or " "). */
function nameBefore(s: ScanState, pos: number): void {
  let e = pos;
  if (s.code(e - 1) === 32) e--;
  if (s.code(e - 1) === 44) e--;
  if (e === pos || !isLetter(s.code(e - 1))) return;
  // Starts of up to three capitalised words before `e`, nearest first.
  const starts: number[] = [];
  let b = e;
  while (starts.length < 3) {
    let k = b;
    while (k > 0 && b - k < 24 && isNameChar(s.code(k - 1))) k--;
    if (k === b || !isUpper(s.code(k))) break;
    starts.push(k);
    if (s.code(k - 1) !== 32) break;
    b = k - 1;
  }
  // The longest run of name words that ends exactly at `e`.
  for (let i = starts.length - 1; i >= 1; i--) {
    const end = readName(s.text, starts[i]!, false);
    const words = nameWords;
    if (end === e && words >= 2) {
      s.emit('PERSON_NAME', starts[i]!, end, 0.8);
      return;
    }
  }
}

/** JSON string value(s) of a name key; for "given" arrays, every string of the array. */
function emitJsonNames(s: ScanState, text: string, p: number, array: boolean): void {
  for (let n = 0; n < 4; n++) {
    // "patientName": "Whitaker, Harold" reads family name first too; else as before.
    const inverted = cuedName(text, p, true, true);
    let end = inverted > p && text.charCodeAt(inverted) === 34 ? inverted : readName(text, p, true);
    // Two or more words in capitals only as `cuedName` weighs them ("CHIEF COMPLAINT" is none).
    if (end !== inverted && nameWords >= 2 && !hasLower(text, p, end)) end = -1;
    if (end > p && text.charCodeAt(end) === 34) {
      s.emit('PERSON_NAME', p, end, 0.9);
    }
    if (!array) break;
    // The closing quote within 60 characters (a bounded look, never an open-ended search).
    let close = p;
    while (close < text.length && close - p < 60 && text.charCodeAt(close) !== 34) close++;
    if (text.charCodeAt(close) !== 34) break;
    // Next element: `", "`
    let q = close + 1;
    if (text.charCodeAt(q) !== 44) break;
    q++;
    if (text.charCodeAt(q) === 32) q++;
    if (text.charCodeAt(q) !== 34) break;
    p = q + 1;
  }
}

/** Capitalised words found in the configured name list, with a following capitalised surname. */
function detectListedNames(s: ScanState, names: ReadonlySet<string>): void {
  const { text } = s;
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (!isUpper(c) || isLetter(text.charCodeAt(i - 1) || 0)) {
      i++;
      continue;
    }
    let e = i + 1;
    while (e < n && e - i < 30 && isLower(text.charCodeAt(e))) e++;
    if (e - i >= 2 && !isLetter(text.charCodeAt(e) || 0) && names.has(text.slice(i, e).toLowerCase())) {
      let end = e;
      if (text.charCodeAt(e) === 32 && isUpper(text.charCodeAt(e + 1))) {
        const ne = readName(text, e + 1, false);
        if (ne > e + 1) end = ne;
      }
      s.emit('PERSON_NAME', i, end, 0.8);
      i = end;
    } else i = e;
  }
}

/**
 * A candidate start: a capitalised word (any script, apostrophes and hyphens inside) followed by a
 * space and another capital or a particle. One global pattern over the text; the words are then
 * read by `readName` and weighed.
 */
const PAIR_START = /\p{Lu}[\p{Ll}\p{M}]+(?:['’-]\p{L}[\p{Ll}\p{M}]*)* (?=\p{Lu}|(?:de|da|del|della|di|du|des|la|le|van|von|der|den|ter|bin|binti|ibn|al|el|dos|das)[ -])/gu;
/** Label nouns before a colon that introduce a person ("Emergency contact: …", "Next of kin: …"). */
const PERSON_LABEL_NOUNS = new Set(
  'contact kin representative parent informant historian caregiver companion sponsor insured author signer witness translator interpreter guardian spouse partner'.split(' '),
);

/** Words of a person before "Name" in a JSON key ("contactName", "subscriber_name"). */
const PERSON_KEY_WORDS = new Set([
  ...PERSON_LABEL_NOUNS,
  ...TWO_WORDS_NO_COLON,
  ...RELATION_NOUNS,
  ...'member subscriber insured policyholder responsible doctor nurse referrer referring ordering rendering legal'.split(' '),
]);

/**
 * True when the key part at `ks` (a JSON key's last word, after its opening quote within 40
 * characters of letters, '_' and '-') follows a word of a person: "guarantorName", "next_of_kin_name".
 */
function personKey(text: string, ks: number): boolean {
  let b = ks;
  while (b > 0 && ks - b < 40) {
    const c = text.charCodeAt(b - 1);
    if (!(isLetter(c) || c === 95 || c === 45)) break;
    b--;
  }
  if (text.charCodeAt(b - 1) !== 34 || b === ks) return false;
  let e = ks;
  while (e > b && (text.charCodeAt(e - 1) === 95 || text.charCodeAt(e - 1) === 45)) e--;
  // The word before: after the last '_' / '-' or from its capital (camelCase).
  let w = e;
  while (w > b && isLetter(text.charCodeAt(w - 1))) {
    w--;
    if (isUpper(text.charCodeAt(w))) break;
  }
  return e - w >= 2 && PERSON_KEY_WORDS.has(text.slice(w, e).toLowerCase());
}

/** True when another item of a list follows `e`: ", Word", " and …", " or …", " & …". */
function listAfter(text: string, e: number): boolean {
  const c = text.charCodeAt(e);
  if (c === 44) return text.charCodeAt(e + 1) === 32 && isUpper(text.charCodeAt(e + 2));
  return c === 32 && (startsWithWord(text, e + 1, 'and') || startsWithWord(text, e + 1, 'or') || text.charCodeAt(e + 1) === 38);
}

/** True when the word before `i` (one space) is a relation in small letters ("daughter", "caregiver"). */
function relationBefore(text: string, i: number): boolean {
  if (text.charCodeAt(i - 1) !== 32) return false;
  let b = i - 1;
  while (b > 0 && i - 1 - b < 17 && (isLower(text.charCodeAt(b - 1)) || text.charCodeAt(b - 1) === 45)) b--;
  return b < i - 1 && !isLetter(text.charCodeAt(b - 1) || 0) && RELATION_DICT.get(text, b, i - 1) !== 0;
}

/** True when a person label and its colon stand before `i` ("Emergency contact: …", "Next of kin: …"). */
function personLabelBefore(text: string, i: number): boolean {
  let k = i - 1;
  while (k >= 0 && i - k < 4 && text.charCodeAt(k) === 32) k--;
  if (k < 1 || text.charCodeAt(k) !== 58 || !isLetter(text.charCodeAt(k - 1))) return false;
  let b = k;
  while (b > 0 && k - b < 16 && isLetter(text.charCodeAt(b - 1))) b--;
  return PERSON_LABEL_NOUNS.has(text.slice(b, k).toLowerCase());
}

/** The lower-case word ending right before `i` (after one space), or ''. */
function prevWord(text: string, i: number): string {
  if (text.charCodeAt(i - 1) !== 32) return '';
  let k = i - 1;
  while (k > 0 && i - 1 - k < 16 && isLower(text.charCodeAt(k - 1))) k--;
  return k < i - 1 && !isLetter(text.charCodeAt(k - 1) || 0) ? text.slice(k, i - 1) : '';
}

/**
 * Runs of two or three capitalised words weighed by the lexicons and their place in the text: a
 * known given name and a census surname; one of them inside a sentence after a lower-case word;
 * or, when no lexicon knows them, a person cue before them ("spoke with", "her neighbor", ":" of
 * "Emergency contact:"). Any word that reads as a clinical, place or facility term vetoes the run.
 */
function detectPairNames(s: ScanState): void {
  const { text } = s;
  const re = PAIR_START;
  re.lastIndex = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const i = m.index;
    // The run starts a word: no letter, digit, apostrophe, '_' or '-' glued before it.
    const before = text.charCodeAt(i - 1);
    if (i > 0 && (isLetter(before) || isDigit(before) || before === 39 || before === 0x2019 || before === 95 || before === 45)) continue;
    // Cheap checks first: where the run stands, and the first word's lexicon weight.
    const prev = prevWord(text, i);
    const inside = prev !== '' || text.charCodeAt(i - 2) === 44 || text.charCodeAt(i - 2) === 59;
    let labelled = false;
    if (!inside) {
      // "Emergency contact: Leandro Popescu"
      let k = i - 1;
      while (k >= 0 && text.charCodeAt(k) === 32) k--;
      if (text.charCodeAt(k) === 58) {
        let b = k;
        while (b > 0 && k - b < 16 && isLetter(text.charCodeAt(b - 1))) b--;
        labelled = PERSON_LABEL_NOUNS.has(text.slice(b, k).toLowerCase());
      }
    }
    const g1 = givenWeightOf(m[0].slice(0, -1));
    // A run that starts with a capitalised cue ("Informed Santiago Peralta", "Grandson Kwame …"):
    // the run after the cue is read on its own.
    if (sentenceStart(text, i) && isCueWord(text, i, i + m[0].length - 1)) {
      re.lastIndex = i + m[0].length;
      continue;
    }
    // Runs that start with a known given name are read by `detectLexiconNames`.
    if (g1 === 2 || (g1 === 1 && inside)) continue;
    // A cue before the run: "spoke with", "her son", a capitalised cue starting the sentence
    // ("Grandson Kwame Asante", "Informed Santiago Peralta"), "mother, …".
    const cue = cueBefore(text, i);
    // A run at the start of a sentence with no cue needs a known given name (strong ones are read
    // by `detectLexiconNames`; weak ones need a cue after the run): others are not read at all.
    const startRun = !inside && !labelled && cue < 2;
    if (startRun && g1 === 0) continue;
    const end = readName(text, i, false);
    const words = nameWords;
    if (end <= i || words < 2) continue;
    re.lastIndex = end;
    // A fourth capitalised word or a digit after the run: a heading or a product, not a name.
    const after = text.charCodeAt(end);
    if ((after === 32 && isUpper(text.charCodeAt(end + 1))) || isDigit(after)) continue;
    let given = 0;
    let surname = 0;
    let veto = false;
    let nonAscii = false;
    let first = true;
    for (const tok of text.slice(i, end).split(' ')) {
      if (tok.length < 2 || tok.endsWith('.')) continue; // an initial
      const low = tok.toLowerCase();
      if (PARTICLES.has(low)) continue;
      for (let k = 0; k < tok.length && !nonAscii; k++) if (tok.charCodeAt(k) > 127) nonAscii = true;
      const g = first ? givenWeightOf(tok) : 0;
      let sn = first ? 0 : surnameWeight(low);
      if (!first && sn === 0 && low.includes('-')) for (const part of low.split('-')) sn = Math.max(sn, surnameWeight(part)) as 0 | 1 | 2;
      if (g === 0 && sn === 0 && givenWeight(low) === 0 && isTermWord(low)) veto = true;
      if (first) given = g;
      else surname = Math.max(surname, sn);
      first = false;
    }
    if (veto) continue;
    // A cue after the run: a person verb ("… reported"), ", who", ", his partner", "'s mother".
    const rc = rightCue(text, end);
    const strong = labelled || cue === 2 || (rc > 0 && !startRun);
    let conf = 0;
    if (given > 0 && surname > 0) conf = inside || strong || given === 2 || surname === 2 || rc > 0 ? 0.8 : 0;
    else if (given > 0 || surname > 0) conf = strong || cue === 1 || (inside && (given === 2 || surname === 2)) || (startRun && rc > 0) ? 0.7 : 0;
    else conf = strong || (inside && nonAscii) ? 0.6 : 0;
    if (conf > 0) s.emit('PERSON_NAME', i, end, conf);
  }
}

/**
 * The signature block at the end of a message: a line of one to three name words (optionally
 * ", RN" or another credential after them) among the last three lines, after a blank line, a "--"
 * delimiter or a one-line sign-off ending with a comma ("Best,", "Warmly,"). A name line followed
 * by a credential is a signature wherever it stands.
 */
function detectSignatureBlock(s: ScanState): void {
  const { text } = s;
  let le = text.length;
  for (let line = 0; line < 3 && le > 0; line++) {
    // Skip trailing blank lines.
    while (le > 0 && (text.charCodeAt(le - 1) === 10 || text.charCodeAt(le - 1) === 13 || text.charCodeAt(le - 1) === 32)) le--;
    if (le === 0) return;
    let ls = le;
    while (ls > 0 && text.charCodeAt(ls - 1) !== 10 && text.charCodeAt(ls - 1) !== 13 && le - ls < 80) ls--;
    if (ls > 0 && text.charCodeAt(ls - 1) !== 10 && text.charCodeAt(ls - 1) !== 13) return;
    signatureLine(s, ls, le);
    le = ls;
  }
}

const CREDENTIAL_TAIL = /^, ?(?:[A-Z][A-Za-z]{0,5}(?:-[A-Z])?)(?:, ?[A-Z][A-Za-z]{0,5})*\.?$/;

function signatureLine(s: ScanState, ls: number, le: number): void {
  const { text } = s;
  let p = ls;
  while (p < le && text.charCodeAt(p) === 32) p++;
  if (p === 0 || !isUpper(text.charCodeAt(p))) return;
  let lineEnd = le;
  if (text.charCodeAt(lineEnd - 1) === 46) lineEnd--;
  let end = readName(text, p, false);
  let words = nameWords;
  let credential = end > p && end < lineEnd && CREDENTIAL_TAIL.test(text.slice(end, le));
  // Only a line that may be a name in a form of records ("Nakashima, Yolanda", "D. Delacroix",
  // "HAUGEN, MEI-LING") is read again, below, once the line before it is known.
  const c1 = text.charCodeAt(p + 1);
  const recordForm = c1 === 46 || isUpper(c1) || (end > p && text.charCodeAt(end) === 44 && text.charCodeAt(end + 1) === 32);
  if (!recordForm && (end <= p || (end !== lineEnd && !credential))) return;
  // What stands before the line: a blank line, "--", or a short sign-off ending with ','.
  let pe = ls - 1;
  if (text.charCodeAt(pe) === 10 && text.charCodeAt(pe - 1) === 13) pe--;
  let pb = pe;
  while (pb > 0 && text.charCodeAt(pb - 1) !== 10 && text.charCodeAt(pb - 1) !== 13) pb--;
  const prevLine = text.slice(pb, pe).trim();
  const blank = prevLine === '';
  const delimiter = prevLine === '--' || prevLine === '—' || prevLine === '-';
  const signoff = prevLine.endsWith(',') && prevLine.length <= 24 && !/\d/.test(prevLine);
  if (!(blank || delimiter || signoff || credential)) return;
  // After "--" or a sign-off the name may be written as in a record; after a blank line alone
  // capitals are a heading.
  if (recordForm && (delimiter || signoff)) {
    end = cuedName(text, p, true, true, Evidence.Known);
    words = nameWords;
    credential = end > p && end < lineEnd && CREDENTIAL_TAIL.test(text.slice(end, le));
  }
  if (end <= p || (end !== lineEnd && !credential)) return;
  // Every word must read as a name word; one word needs a delimiter, a sign-off or a lexicon name.
  let known = false;
  for (const raw of text.slice(p, end).split(' ')) {
    const tok = raw.endsWith(',') ? raw.slice(0, -1) : raw;
    if (tok.length < 2 || tok.endsWith('.')) continue;
    const low = tok.toLowerCase();
    if (PARTICLES.has(low)) continue;
    const lex = givenWeight(low) > 0 || surnameWeight(low) > 0;
    if (!lex && isTermWord(low)) return;
    if (lex) known = true;
  }
  if (words < 2 && !(delimiter || signoff || (credential && known) || (known && blank && givenWeight(text.slice(p, end).toLowerCase()) === 2))) return;
  // A lone name line with nothing before it in the text is not a signature.
  if (pb === 0 && blank && !credential) return;
  s.emit('PERSON_NAME', p, end, credential || delimiter || signoff ? 0.8 : 0.7);
}

/** True when a word of text[p, end) is never a name here ("Candida", "Mercy", "Graves"), given name or not. */
function neverIn(text: string, p: number, end: number): boolean {
  for (const tok of text.slice(p, end).split(' ')) if (NEVER_NAME_WORDS.has(tok.toLowerCase())) return true;
  return false;
}

/** True when text[b, e) is a person cue or a relation ("Informed", "Grandson"), in any case. */
function isCueWord(text: string, b: number, e: number): boolean {
  return CUES_BEFORE.get(text, b, e) === 2;
}

/** True when the capitalised word after `end` (one space) is a clinical, facility or place term ("Mercy Hospital"). */
function termAfter(text: string, end: number): boolean {
  if (text.charCodeAt(end) !== 32 || !isUpper(text.charCodeAt(end + 1))) return false;
  const we = wordEnd(text, end + 1);
  const low = text.slice(end + 1, we).toLowerCase();
  return NEVER_NAME_WORDS.has(low) || (givenWeight(low) === 0 && surnameWeight(low) === 0 && isTermWord(low));
}

/** True when a capitalised clinical, facility or place word stands right before `i` ("Memorial Sloan …"). */
function termBefore(text: string, i: number): boolean {
  if (text.charCodeAt(i - 1) !== 32) return false;
  let b = i - 1;
  while (b > 0 && i - 1 - b < 16 && isLetter(text.charCodeAt(b - 1))) b--;
  // A title-case word ("Memorial"), not a credential in capitals ("RN Diane Foster").
  if (b === i - 1 || !isUpper(text.charCodeAt(b)) || !isLower(text.charCodeAt(b + 1))) return false;
  const low = text.slice(b, i - 1).toLowerCase();
  return givenWeight(low) === 0 && surnameWeight(low) === 0 && isTermWord(low);
}

/** True when the word before `i` (one space) is written in small letters ("with", not "Puerto"). */
function lowerWordBefore(text: string, i: number): boolean {
  let k = i - 2;
  if (!isLower(text.charCodeAt(k))) return false;
  while (k > 0 && i - k < 24 && isLower(text.charCodeAt(k - 1))) k--;
  return isLower(text.charCodeAt(k)) && !isLetter(text.charCodeAt(k - 1) || 0);
}

/** End of the lower-case ASCII word at `p` (at most 16 letters, '-' inside), or `p`. */
function lowerWordEnd(text: string, p: number): number {
  let e = p;
  while (e < text.length && e - p < 16) {
    const c = text.charCodeAt(e);
    if ((c >= 97 && c <= 122) || (c === 45 && e > p)) e++;
    else break;
  }
  return e;
}

/**
 * Strength of the cue before the word at `i`: 2 for a person cue ("spoke with", "her son",
 * "forwarded to", "mother, ", or one starting the sentence: "Husband Tomás", "Informed Santiago"),
 * 1 for a weak one ("and", "per", "to"), 0 for none. Most words fail the hash filter, unsliced.
 */
function cueBefore(text: string, i: number): 0 | 1 | 2 {
  let k = i - 1;
  if (text.charCodeAt(k) !== 32) return 0;
  const comma = text.charCodeAt(k - 1) === 44;
  if (comma) k--;
  let b = k;
  while (b > 0 && k - b < 17 && (isLetter(text.charCodeAt(b - 1)) || (text.charCodeAt(b - 1) === 45 && b < k))) b--;
  if (b === k || k - b > 16) return 0;
  const v = comma ? RELATION_DICT.get(text, b, k) * 2 : CUES_BEFORE.get(text, b, k);
  if (v === 0) return 0;
  // A capitalised cue counts only where a sentence starts.
  if (isUpper(text.charCodeAt(b)) && !sentenceStart(text, b)) return 0;
  if (v === 2) return 2;
  // "forwarded to", "discussed with", "handed off to": a verb of people before the preposition.
  if (text.charCodeAt(b - 1) === 32) {
    let a = b - 1;
    while (a > 0 && b - 1 - a < 16 && isLetter(text.charCodeAt(a - 1))) a--;
    if (a < b - 1 && !isLetter(text.charCodeAt(a - 1) || 0) && CUE_VERB_DICT.get(text, a, b - 1) !== 0) return 2;
  }
  return 1;
}

/** True when text[p, p + w.length) is the word `w` (then a non-letter). */
const wordAt = (text: string, p: number, w: string): boolean => text.startsWith(w, p) && !isLetter(text.charCodeAt(p + w.length) || 0);

/**
 * The cue after a run ending at `e`: 2 for a possessive of a relation ("Ana's mother"), 1 for a
 * person verb ("… reported", "… is a 67-year-old", "… was admitted"), "who" or an apposition
 * (", who", ", his partner", ", her …"), 0 for none.
 */
function rightCue(text: string, e: number): 0 | 1 | 2 {
  const c = text.charCodeAt(e);
  if (c === 39 || c === 0x2019) {
    if (!isPossessive(text, e) || text.charCodeAt(e + 2) !== 32) return 0;
    const we = lowerWordEnd(text, e + 3);
    return we > e + 3 && RELATION_DICT.get(text, e + 3, we) !== 0 ? 2 : 0;
  }
  if (c === 44) {
    if (text.charCodeAt(e + 1) !== 32) return 0;
    const p = e + 2;
    return wordAt(text, p, 'who') || wordAt(text, p, 'his') || wordAt(text, p, 'her') || wordAt(text, p, 'their') ? 1 : 0;
  }
  if (c !== 32) return 0;
  const p = e + 1;
  const we = lowerWordEnd(text, p);
  if (we === p || isLetter(text.charCodeAt(we) || 0)) return 0;
  const v = CUES_AFTER.get(text, p, we);
  if (v === 1) return 1;
  if (v !== 0) {
    const w = v === 2 ? 'is' : 'was';
    // "is a 67-year-old", "was admitted overnight"
    const q = we + 1;
    if (text.charCodeAt(we) !== 32) return 0;
    if ((wordAt(text, q, 'a') || wordAt(text, q, 'an')) && isDigit(text.charCodeAt(q + (text.charCodeAt(q + 1) === 32 ? 2 : 3)))) return 1;
    return w === 'was' && (wordAt(text, q, 'admitted') || wordAt(text, q, 'discharged') || wordAt(text, q, 'seen') || wordAt(text, q, 'brought') || wordAt(text, q, 'found') || wordAt(text, q, 'transferred')) ? 1 : 0;
  }
  return 0;
}

/** True when the word after `e` (one space) turns the word before it into an eponym ("Bell palsy"). */
function eponymAfter(text: string, e: number): boolean {
  if (text.charCodeAt(e) !== 32) return false;
  let we = e + 1;
  while (we < text.length && we - e < 16 && isLetter(text.charCodeAt(we))) we++;
  const h = wordHash(text, e + 1, we);
  return (h < 0 || mayBeIn(EPONYM_FILTER, h)) && EPONYM_FOLLOWERS.has(text.slice(e + 1, we).toLowerCase());
}

/**
 * One capitalised word text[b, e) standing alone between cues: after a person cue ("seen with
 * Torsten, his partner", "Discussed with Wójcik"), before a person verb ("Corinne tolerated the
 * procedure"), before "'s" and a relation ("Ana's mother"). A word no lexicon knows needs a cue on
 * both sides or letters outside ASCII; at the start of a sentence the word must be a strong given
 * name or a census surname. Clinical, place and facility terms, eponyms and label words are never
 * read. Emits and returns true when the word is a name.
 */
function cuedWord(s: ScanState, b: number, e: number, h: number): boolean {
  const { text } = s;
  const before = text.charCodeAt(b - 1);
  if (b > 0 && (isLetter(before) || isDigit(before) || before === 39 || before === 0x2019 || before === 45 || before === 95)) return false;
  // A small letter after the capital ("Ana", not "ANA"); nothing glued after the word.
  if (!isLower(text.charCodeAt(b + 1))) return false;
  const after = text.charCodeAt(e);
  if (isDigit(after) || after === 95) return false;
  // Cheapest first: a cue after the word is needed unless a strong cue stands before it, and an
  // ASCII word no lexicon may know needs a cue on both sides.
  const known = h < 0 || maybeName(h);
  const rc = rightCue(text, e);
  if (rc === 0 && !known) return false;
  const cue = rc === 2 && !known ? 0 : cueBefore(text, b);
  if (cue < 2 && rc === 0) return false;
  if (!known && rc !== 2 && !(cue === 2 && rc === 1)) return false;
  // Label words, pronouns, particles and never-name words: rejected before any slice.
  if (NOT_A_CUED_NAME.get(text, b, e) !== 0 || eponymAfter(text, e)) return false;
  if (h < 0 && NOT_NAMES.has(text.slice(b, e))) return false;
  const low = text.slice(b, e).toLowerCase();
  if (NEVER_NAME_WORDS.has(low) || PARTICLES.has(low) || STOP_AFTER_NAME.has(low)) return false;
  const g = givenWeight(low);
  const sn = surnameWeight(low);
  if (g === 0 && sn === 0 && isTermWord(low)) return false;
  const nonAscii = h < 0;
  const start = sentenceStart(text, b);
  let ok: boolean;
  // At the start of a sentence a word no lexicon knows needs letters outside ASCII ("Gonçalo's mother").
  if (rc === 2) ok = start ? g > 0 || sn > 0 || nonAscii : true;
  // An ambiguous given name ("Christian", "Jordan") needs a cue after it as well.
  else if (cue === 2) ok = g === 2 || (sn > 0 && g === 0) || nonAscii || rc === 1;
  else if (start) ok = g === 2 || sn > 0;
  else ok = g > 0 || sn > 0 || nonAscii;
  if (ok) s.emit('PERSON_NAME', b, e, 0.7);
  return ok;
}

/**
 * The list item right before a found name: "Ana and Luis Ortega", "Ruth, Carl Ellingson". One to
 * three capitalised words ending at the separator, read whole by `readName`, with no capitalised
 * word before them; one word needs a lexicon or letters outside ASCII.
 */
function itemBefore(s: ScanState, start: number): void {
  const { text } = s;
  let q: number;
  if (text.charCodeAt(start - 1) !== 32) return;
  if (text.charCodeAt(start - 2) === 44) q = start - 2;
  else if (text.charCodeAt(start - 2) === 100 && text.charCodeAt(start - 3) === 110 && text.charCodeAt(start - 4) === 97 && text.charCodeAt(start - 5) === 32) {
    q = text.charCodeAt(start - 6) === 44 ? start - 6 : start - 5;
  } else return;
  // Starts of up to three capitalised words before `q`, nearest first.
  let b = q;
  let best = -1;
  for (let w = 0; w < 3; w++) {
    let k = b;
    while (k > 0 && b - k < 24 && (isLetter(text.charCodeAt(k - 1)) || text.charCodeAt(k - 1) === 39 || text.charCodeAt(k - 1) === 45)) k--;
    if (k === b || !isUpper(text.charCodeAt(k)) || !isLower(text.charCodeAt(k + 1))) break;
    if (readName(text, k, false) === q) best = k;
    if (text.charCodeAt(k - 1) !== 32) break;
    b = k - 1;
  }
  if (best < 0) return;
  // A capitalised word before the run makes it the tail of a longer title-case phrase.
  if (text.charCodeAt(best - 1) === 32) {
    let k = best - 1;
    while (k > 0 && best - 1 - k < 24 && isLetter(text.charCodeAt(k - 1))) k--;
    if (k < best - 1 && isUpper(text.charCodeAt(k)) && !sentenceStart(text, k)) return;
    if (k < best - 1 && isUpper(text.charCodeAt(k)) && !isCueWord(text, k, best - 1)) return;
  }
  readName(text, best, false);
  const words = nameWords;
  if (termVeto(text, best, q)) return;
  if (words < 2) {
    const low = text.slice(best, q).toLowerCase();
    if (NEVER_NAME_WORDS.has(low) || !(givenWeight(low) > 0 || surnameWeight(low) > 0 || wordHash(text, best, q) < 0)) return;
  }
  for (let j = 0; j < s.out.length; j++) if (s.out[j]!.type === 'PERSON_NAME' && s.out[j]!.start < q && best < s.out[j]!.end) return;
  s.emit('PERSON_NAME', best, q, 0.7);
}

/** True when text[p…] starts with the letters of `w` and a space. */
const startsWithWord = (text: string, p: number, w: string): boolean => text.startsWith(w, p) && text.charCodeAt(p + w.length) === 32;

/**
 * Names listed after a found name: "Ruth Ellingson, Carl Ellingson and Matthew Oduya",
 * "Giulia Ferraro, Mateus Albuquerque, Zofia Krawczyk". Each item is read by `readName`; a
 * clinical or place term, a state code after the item ("…, Palo Alto, CA") or a lone word no
 * lexicon knows ends the list.
 */
function extendNameLists(s: ScanState): void {
  const { text, out } = s;
  for (let k = 0; k < out.length && k < 256; k++) {
    const f = out[k]!;
    if (f.type !== 'PERSON_NAME') continue;
    itemBefore(s, f.start);
    let q = f.end;
    if (isPossessive(text, q)) q += 2;
    if (text.charCodeAt(q) === 44 && text.charCodeAt(q + 1) === 32) {
      q += 2;
      if (startsWithWord(text, q, 'and')) q += 4;
    } else if (text.charCodeAt(q) === 32 && (startsWithWord(text, q + 1, 'and') || startsWithWord(text, q + 1, 'or'))) {
      q += text.charCodeAt(q + 1) === 97 ? 5 : 4;
    } else if (text.charCodeAt(q) === 32 && text.charCodeAt(q + 1) === 38 && text.charCodeAt(q + 2) === 32) {
      q += 3;
    } else continue;
    if (!isUpper(text.charCodeAt(q)) || !isLower(text.charCodeAt(q + 1))) continue;
    const end = readName(text, q, false);
    const words = nameWords;
    if (end <= q || termVeto(text, q, end) || isDigit(text.charCodeAt(end + 1))) continue;
    // "…, Palo Alto, CA": a place, not a person.
    if (text.charCodeAt(end) === 44 && text.charCodeAt(end + 1) === 32 && isUpper(text.charCodeAt(end + 2)) && isUpper(text.charCodeAt(end + 3)) && !isLetter(text.charCodeAt(end + 4) || 0)) continue;
    if (words < 2) {
      const low = text.slice(q, end).toLowerCase();
      if (NEVER_NAME_WORDS.has(low) || !(givenWeight(low) === 2 || surnameWeight(low) > 0 || wordHash(text, q, end) < 0)) continue;
    }
    let seen = false;
    for (let j = 0; j < out.length && !seen; j++) seen = out[j]!.type === 'PERSON_NAME' && out[j]!.start === q;
    if (!seen) s.emit('PERSON_NAME', q, end, 0.7);
  }
}

/**
 * Cues of a lower-case portal message ("my daughter ana", "dr okafor", "hi dr. patel", "thanks,\nana",
 * "- tomasz", a name alone on the last line): the scanner's pre-filter lets text holding one reach the
 * pass, and `detectPortalNames` reads the name after it. Read only in text with no capital letter.
 */
export const PORTAL_CUE =
  /(?<![a-z])(?:my (?:mother|father|mom|dad|mum|wife|husband|son|daughter|sister|brother|partner|spouse|grandmother|grandfather|grandma|grandpa|aunt|uncle|friend|caregiver|neighbor|boyfriend|girlfriend)|dr|doctor|nurse|hi|hello|hey|dear|thanks|thank you|thx|regards|cheers|sincerely)(?![a-z])|(?:^|\s)-[ \t]?\p{L}+(?: \p{L}+)?[ \t.!]*$|\n[ \t]*\p{L}+(?: \p{L}+)?[ \t.!]*$/u;

/** The cue at the start of each reading (group 1 relation, 2 title, 3 greeting, 4 sign-off, 5 dash, 6 last line). */
const PORTAL_AT =
  /(?:(?<![\p{L}'])(?:my (mother|father|mom|dad|mum|wife|husband|son|daughter|sister|brother|partner|spouse|grandmother|grandfather|grandma|grandpa|aunt|uncle|friend|caregiver|neighbor|boyfriend|girlfriend)(?!\p{L})|(dr\.|(?:dr|doctor|nurse)(?!\p{L}))|(hi|hello|hey|dear)(?!\p{L})|(thanks|thank you|thx|regards|cheers|sincerely)(?!\p{L})[,.!]?[ \t]*(?:\r?\n[ \t]*)?(?:-[ \t]*)?)|(?<=^|\s)(-)|(\n))[ \t]*/gu;

/** Everyday words that follow such a cue and are not a name ("my mom said", "hi team,", "thanks, bye", "nurse line"). */
const PORTAL_PLAIN = new Set(
  (`
  said says told asked wants wanted needs needed feels felt got gets went came called calls took gave keeps kept thinks
  thought seems looks hurt fell fever sick ok okay fine well better worse home now today tomorrow yesterday tonight too
  bye lol team all everyone everybody guys folks doc doctor nurse dr there again much lot you u so sent from iphone
  android appointment appt office visit visits line note notes call practitioner message portal question quick please
  come go see get take make send need want have know think feel tell ask give let put run try use work wait check pick
  drop bring stop start pay book cancel move change
  pls sorry hope help advance morning afternoon evening night week later soon yes no
  `).trim().split(/\s+/),
);

/** Words of a lower-case portal name: lower-case start, a lexicon word or none of the everyday ones. */
function portalWord(text: string, b: number, e: number, known: boolean): boolean {
  if (e - b < 2 || !isLower(text.charCodeAt(b))) return false;
  const low = text.slice(b, e).toLowerCase();
  if (STOP_AFTER_NAME.has(low) || NOT_A_WRITER.has(low) || NEVER_NAME_WORDS.has(low) || PORTAL_PLAIN.has(low) || PARTICLES.has(low)) return false;
  if (givenWeight(low) > 0 || surnameWeight(low) > 0) return true;
  // A word no lexicon knows: outside ASCII ("łukasz"), or with no clinical, verb or adverb form.
  if (wordHash(text, b, e) < 0) return !isTermWord(low);
  if (known) return false;
  return !isTermWord(low) && !/(?:ing|ed|ly|s|ment|tion)$/.test(low);
}

/** True when text[e, …) ends the name: punctuation, a line break, the end, or an everyday word. */
function portalBoundary(text: string, e: number): boolean {
  if (e >= text.length) return true;
  const c = text.charCodeAt(e);
  if (c !== 32) return !isLetter(c);
  const e2 = wordEnd(text, e + 1);
  const low = text.slice(e + 1, e2).toLowerCase();
  return STOP_AFTER_NAME.has(low) || PORTAL_PLAIN.has(low) || NOT_A_WRITER.has(low) || low.endsWith('ed') || low.endsWith('s');
}

/** True when only spaces, punctuation and line breaks follow text[e, …). */
function atEnd(text: string, e: number): boolean {
  for (let k = e; k < text.length; k++) {
    const c = text.charCodeAt(k);
    if (c !== 32 && c !== 10 && c !== 13 && c !== 9 && c !== 46 && c !== 33 && c !== 44) return false;
  }
  return true;
}

/**
 * Names in an all-lower-case portal message, by the class of cue before them: a relation ("my
 * husband tomasz kowalczyk"), a title ("dr. nguyen", "nurse kelly"), a greeting ("hi ana,"), a
 * sign-off ("thanks,\nana", "thx, ngozi"), a dash ("- tomasz") or a last line of one or two words.
 * A word no lexicon knows is read after a relation, a title, a sign-off or a dash only when it ends
 * the name (punctuation, the end, an everyday word); after a greeting only before ',' '!' or a line
 * break; on a last line only a lexicon word. A sign-off, a dash and a last line end the message.
 */
function detectPortalNames(s: ScanState): void {
  const { text } = s;
  PORTAL_AT.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = PORTAL_AT.exec(text)) !== null) {
    if (m[0].length === 0) {
      PORTAL_AT.lastIndex++;
      continue;
    }
    const p = m.index + m[0].length;
    const relation = m[1] !== undefined;
    const title = m[2] !== undefined;
    const greeting = m[3] !== undefined;
    const closing = m[4] !== undefined || m[5] !== undefined || m[6] !== undefined;
    const lastLine = m[6] !== undefined;
    if (greeting) {
      // "hi dr. patel": the title reads the name.
      const e = wordEnd(text, p);
      if (/^(?:dr\.?|doctor|nurse)$/.test(text.slice(p, e).toLowerCase())) continue;
    }
    // A sign-off must follow a line break, a comma or a space before the name; a title a '.' or a space.
    if (p === m.index + m[0].trimEnd().length && !closing) continue;
    const e1 = wordEnd(text, p);
    if (!portalWord(text, p, e1, lastLine)) continue;
    let end = e1;
    // A second word: a surname ("tomasz kowalczyk"), read on the same terms.
    if (text.charCodeAt(e1) === 32) {
      const e2 = wordEnd(text, e1 + 1);
      if (e2 > e1 + 1 && portalWord(text, e1 + 1, e2, lastLine) && portalBoundary(text, e2)) end = e2;
    }
    const low = text.slice(p, e1).toLowerCase();
    const known = givenWeight(low) > 0 || surnameWeight(low) > 0;
    if (greeting) {
      const c = text.charCodeAt(end);
      if (!(end >= text.length || c === 44 || c === 33 || c === 10 || c === 13 || (known && c === 46))) continue;
    } else if (closing) {
      if (!atEnd(text, end)) continue;
    } else if (!known && !portalBoundary(text, end)) continue;
    if (!known && end === e1 && !portalBoundary(text, end)) continue;
    let overlap = false;
    for (const f of s.out) if (f.type === 'PERSON_NAME' && f.start < end && f.end > p) overlap = true;
    if (!overlap) s.emit('PERSON_NAME', p, end, 0.75);
  }
}
