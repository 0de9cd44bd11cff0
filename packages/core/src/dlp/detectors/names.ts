/**
 * Person names through context: titles ("Mr.", "Dr."), labels ("Patient:", "Name:", "Caller:"),
 * relations ("daughter Janet"), salutations ("Dear Ms. Patel"), sign-offs ("Sincerely,\nJane Doe"),
 * JSON name keys ("family", "given", "firstName"), and an optional list of known names.
 * Name words are capitalised ("O'Donnell", "Smith-Jones", a middle initial "A.").
 */
import { Kw } from '../context.js';
import { isLetter, isLower, isUpper, type ScanState } from './state.js';

/** Capitalised words that follow labels but are not names. */
const NOT_NAMES = new Set(
  (
    'The This That These Those There Here Patient Pt Name Date Plan History Education Portal Safety Care Services ' +
    'Information Instructions Medicare Medicaid Insurance Unknown None Not Please Thank Thanks Dear Sincerely ' +
    'Regards Family Given Doctor Nurse Physician Provider Clinic Hospital Center Office Department Team Staff ' +
    'Mr Mrs Ms Miss Dr Mx MD NP PA RN DO Jr Sr Is Was Has Had And Or With Without For From To In On At Of By ' +
    'Reports Denies Presents Admitted Discharged Seen Called Returns Continue Follow Summary Note Notes Results ' +
    'Self Spouse Son Daughter Mother Father Wife Husband Brother Sister Guardian Emergency Contact Primary ' +
    'Secondary Home Work Cell Phone Fax Email Address Street Avenue Road January February March April May June ' +
    'July August September October November December Monday Tuesday Wednesday Thursday Friday Saturday Sunday ' +
    'Male Female Yes No Normal Negative Positive Pending Admission Discharge Consult Referral Request Records ' +
    'Chart Medical Record Account Member Policy Group Subscriber Office Visit Exam Lab Labs Test Tests Today ' +
    'Tomorrow Yesterday Morning Evening Night Room Bed Unit Floor Pain Fever Cough General Internal Surgery ' +
    'Cardiology Neurology Oncology Radiology Pharmacy Billing Social Work Case Management Hospice Home Health ' +
    'Manager Director Supervisor Coordinator Practitioner Assistant Resident Intern Fellow Attending Charge ' +
    'Technician Therapist Pharmacist Surgeon Specialist Provider Service Services Medicine Unit'
  ).split(' '),
);

const TITLE_FOLLOW = new Set(['mr', 'mrs', 'ms', 'miss', 'mx', 'dr']);
/** Labels that only name a person when followed by ':' (short everyday words otherwise). */
const NEEDS_COLON = new Set(['to', 'from', 're', 'cc', 'attn', 'name', 'given', 'family']);
/** Labels that introduce a name with no colon when two name words follow. */
const TWO_WORDS_NO_COLON = new Set(['patient', 'pt', 'client', 'employee', 'guarantor', 'prescriber', 'provider', 'physician', 'attending', 'referring', 'surgeon', 'caller']);

/**
 * Reads up to 3 name words from `p` (separated by single spaces, or '^' in HL7). Returns the end
 * of the last word and how many words were read.
 */
function readName(text: string, p: number, allCaps: boolean): [number, number] {
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
        if (!allCaps && lower === 0 && !(text.charCodeAt(q - 1) === 39 || text.charCodeAt(q - 1) === 45)) break;
      } else if (c === 39 || c === 45 || c === 0x2019) {
        if (!isUpper(text.charCodeAt(q + 1)) && !isLower(text.charCodeAt(q + 1))) break;
      } else break;
      q++;
    }
    const word = text.slice(ws, q);
    if (q - ws === 1) {
      // A middle initial "A." between two words.
      if (words === 0 || text.charCodeAt(q) !== 46) break;
      q++;
    } else {
      if (!allCaps && lower === 0) break;
      if (NOT_NAMES.has(word) || (lower === 0 && NOT_NAMES.has(word[0] + word.slice(1).toLowerCase()))) break;
    }
    if (isLetter(text.charCodeAt(q) || 0)) break;
    if (q - ws > 1) end = q;
    words++;
    if (text.charCodeAt(q) === 32 && isUpper(text.charCodeAt(q + 1))) q++;
    else break;
  }
  return [end, words];
}

/** PERSON_NAME findings from context words, signatures, credentials and the optional name list. */
export function detectNames(s: ScanState, names: ReadonlySet<string> | undefined): void {
  const { text, kw } = s;
  for (let k = 0; k < kw.kinds.length; k++) {
    const kind = kw.kinds[k]!;
    const ks = kw.starts[k]!;
    const ke = kw.ends[k]!;
    // "Gregory Lamb, MD", "Marcy Fields RN": a name right before a credential.
    if (kind === Kw.Credential || (kind === Kw.NameLabel && text.charCodeAt(ks) === 82 && text.charCodeAt(ks + 1) === 78 && ke - ks === 2)) {
      nameBefore(s, ks);
      if (kind === Kw.Credential) continue;
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
      const label = text.slice(ks, ke).toLowerCase();
      const isJsonKey = text.charCodeAt(ks - 1) === 34 && text.charCodeAt(ke) === 34;
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
      if (!colon && TWO_WORDS_NO_COLON.has(label)) minWords = 2;
      if (label === 'dear' && TITLE_FOLLOW.has(text.slice(p, p + 4).replace(/[^a-z].*$/is, '').toLowerCase())) continue;
      conf = colon ? 0.85 : 0.75;
    }
    const [end, words] = readName(text, p, false);
    if (end > p && words >= minWords) s.emit('PERSON_NAME', p, end, conf);
  }
  detectSignatures(s);
  if (names !== undefined && names.size > 0) detectListedNames(s, names);
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
    const [end, words] = readName(text, p, false);
    if (end > p && words >= 2) {
      let q = end;
      if (s.code(q) === 46) q++;
      if (isLineEnd(s.code(q))) s.emit('PERSON_NAME', p, end, 0.75);
    }
  }
  // The last sentence of the text.
  let e = text.length;
  while (e > 0 && (s.code(e - 1) === 32 || isLineEnd(s.code(e - 1)) || s.code(e - 1) === 46)) e--;
  let b = e;
  for (let w = 0; w < 3 && b > 0; w++) {
    let k = b;
    while (k > 0 && b - k < 24 && (isLetter(s.code(k - 1)) || s.code(k - 1) === 39 || s.code(k - 1) === 45)) k--;
    if (k === b) break;
    b = k;
    if (s.code(b - 1) === 32 && isLetter(s.code(b - 2))) b--;
    else break;
  }
  const prev = s.code(b - 1);
  const prev2 = s.code(b - 2);
  if (b < e && (prev === 10 || (prev === 32 && (prev2 === 46 || prev2 === 33 || prev2 === 63)))) {
    const [end, words] = readName(text, b, false);
    if (end === e && words >= 2) s.emit('PERSON_NAME', b, end, 0.7);
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
    const [end, words] = readName(s.text, starts[i]!, false);
    if (end === e && words >= 2) {
      s.emit('PERSON_NAME', starts[i]!, end, 0.8);
      return;
    }
  }
}

/** JSON string value(s) of a name key; for "given" arrays, every string of the array. */
function emitJsonNames(s: ScanState, text: string, p: number, array: boolean): void {
  for (let n = 0; n < 4; n++) {
    const [end] = readName(text, p, true);
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
        const [ne] = readName(text, e + 1, false);
        if (ne > e + 1) end = ne;
      }
      s.emit('PERSON_NAME', i, end, 0.8);
      i = end;
    } else i = e;
  }
}
