/**
 * Context words: the scan state's single pass over the text records where words like "SSN",
 * "Fax", "MRN", "Dr." or month names start (see `keywordAt`). Detectors then ask "is there a keyword of
 * kind K just before offset p?" by binary search, so context costs O(log n) per candidate.
 */
import type { PhiType } from './types.js';

/** Kinds of context word. */
export const Kw = {
  Ssn: 1,
  Npi: 2,
  Dea: 3,
  Vin: 4,
  Dob: 5,
  Zip: 6,
  Phone: 7,
  Fax: 8,
  Mrn: 9,
  Plan: 10,
  Account: 11,
  License: 12,
  Device: 13,
  Age: 14,
  NameLabel: 15,
  Title: 16,
  Signoff: 17,
  Month: 18,
  Ninety: 19,
  PoBox: 20,
  Date: 21,
  NotId: 22,
  Credential: 23,
  Plate: 24,
} as const;
/** A context-word kind. */
export type Kw = (typeof Kw)[keyof typeof Kw];

/**
 * Context words by kind. Spaces are literal single spaces. Kinds in PREFIX_KINDS also match as
 * the start of a longer word ("accounts", "subscriberId"); the others need a word end.
 */
const WORDS: ReadonlyArray<readonly [Kw, string]> = [
  [Kw.Ssn, 'ssn,ss#,ss #,ss no,ss number,social security,soc sec,soc. sec,soc.sec,tax id'],
  [Kw.Npi, 'npi,npis,national provider identifier'],
  [Kw.Dea, 'dea'],
  [Kw.Vin, 'vin,vins,vehicle identification number'],
  [Kw.Dob, 'dob,d.o.b,date of birth,birth date,birthdate,born,birthday'],
  [Kw.Zip, 'zip code,zipcode,zip,postal code,postalcode,zip+4'],
  [Kw.Phone, 'phone,ph,tel,telephone,cell,mobile,call,t,home phone,work phone,office,contact'],
  [Kw.Fax, 'fax,facsimile,fx,f'],
  [
    Kw.Mrn,
    'mrn,mr#,mr #,mr no,mr number,medical record,med rec,med. rec,medrec,chart number,chart no,chart #,empi,' +
      'patientid,patient_id,patient id,patient-id,pt id,pt. id,pt_id,ptid,patient number,patient no,patient #,pat id,person id,personid,chart id,mrn_id,' +
      'patient identifier,chart',
  ],
  [
    Kw.Plan,
    'member id,member number,member no,member #,memberid,member_id,medicaid,medicare,mbi,beneficiary,subscriber,insurance id,insuranceid,insurance_id,' +
      'insurance number,insurance no,insurance #,insured id,policy,health plan id,health plan member,plan member,plan id,planid,insurance member,member',
  ],
  [Kw.Account, 'account,acct,har,hospital account,encounter account,billing id'],
  [Kw.License, 'license,licence,lic,dl,state id,stateid,state_id,driver id'],
  [Kw.Device, 'device,serial,s/n,udi,transmitter id'],
  [Kw.Age, 'age,aged'],
  [
    Kw.NameLabel,
    'patient name,patient,pt,name,client,caller,guarantor,employee,surgeon,dictated by,referred by,seen by,signed by,reviewed by,ordered by,pharmacist,therapist,technician,interpreter,coordinator,referring,attending,covering,physician,provider,prescriber,proxy,to,from,re,attn,cc,daughter,son,wife,husband,mother,father,sister,brother,spouse,nurse,rn,this is,i am,my name is,dear,family,given,firstname,lastname,middlename,fullname,patientname,display,text',
  ],
  [Kw.Title, 'mr,mrs,ms,miss,mx,dr,prof,professor,dra,sra,srta,mme,mlle,herr,frau'],
  [Kw.Credential, 'md,do,np,pa,pa-c,lpn,pharmd,phd,dds,dmd,msw,licsw,crnp,aprn,cnm,dnp,rph,facp,facc'],
  [Kw.Signoff, 'sincerely,regards,thank you,thanks,respectfully,cordially'],
  [
    Kw.Month,
    'jan,january,feb,february,mar,march,apr,april,may,jun,june,jul,july,aug,august,sep,sept,september,oct,october,nov,november,dec,december',
  ],
  [Kw.Ninety, 'ninety'],
  [Kw.PoBox, 'po box,p.o. box,p. o. box,p.o.box,p o box,p.o box,post office box'],
  [
    Kw.Date,
    'effectivedatetime,manufacturedate,date,dated,dos,seen,visit,appt,appointment,admitted,admit,discharged,scheduled,since,onset,' +
      'procedure date,surgery date,service date,on or about',
  ],
  [Kw.Plate, 'license plate,licence plate,licenseplate,plate,plate #,plate no,plate number,tag,tag #,tag no,tag number'],
  [
    Kw.NotId,
    'accession,specimen,requisition,order,batch,lot,invoice,claim,encounter,csn,case,ticket,reference,ref,protocol,study,catalog,model,part,version,build,release,firmware,software',
  ],
];
const PREFIX_KINDS = new Set<Kw>([Kw.Ssn, Kw.Mrn, Kw.Plan, Kw.Account, Kw.Device]);
/** One-letter labels that count only before a colon ("T: 617…", "F: 617…"). */
const COLON_ONLY = new Set(['t', 'f']);
/**
 * Everyday words that are labels only before a colon, or as a JSON key before its closing quote
 * ("To: Dr. Carter", "Name: Jane Doe", "family": "Smith").
 */
const LABEL_ONLY = new Set(['to', 'from', 're', 'cc', 'attn', 'name', 'given', 'family', 'display', 'text']);
/**
 * Everyday words that are labels of an identifier only as a key: before ':', a JSON key's closing
 * quote, '=', an XML tag's '>' or a key's next part ("chart: 00412345", "member=W1234",
 * `<member>…`, "chart_no").
 */
const KEY_ONLY = new Set(['chart', 'member']);
/** Kinds that only count when capitalised: "May 5" is a date and "may" a verb; "Dr." a title. */
const CAPITALISED_KINDS = new Set<Kw>([Kw.Month, Kw.Title, Kw.Credential]);

/**
 * Phrases read only as words of a sentence: their joined forms ("iam", "thankyou") are not keys.
 */
const PROSE_ONLY = new Set<Kw>([Kw.Signoff]);
const PROSE_PHRASES = new Set(['this is', 'i am', 'my name is', 'on or about']);

const kindByWord = new Map<string, Kw>();
for (const [kind, list] of WORDS) {
  for (const w of list.split(',')) {
    kindByWord.set(w, kind);
    // A phrase is also written as one key: "taxId", "tax_id", "tax-id", "dateOfBirth",
    // "homePhone" (the trie folds case, so camelCase is the joined form).
    if (w.includes(' ') && !PROSE_ONLY.has(kind) && !PROSE_PHRASES.has(w)) {
      for (const joiner of ['', '_', '-']) {
        const joined = w.replaceAll(' ', joiner);
        if (!kindByWord.has(joined)) kindByWord.set(joined, kind);
      }
    }
  }
}
/** Every context word (lower case, as listed) and its kind (a word listed twice keeps the last). */
export const KIND_BY_WORD: ReadonlyMap<string, Kw> = kindByWord;

interface Candidate {
  readonly word: string;
  readonly kind: Kw;
  readonly prefix: boolean;
  readonly colonOnly: boolean;
  readonly labelOnly: boolean;
  readonly keyOnly: boolean;
  readonly capitalised: boolean;
}
const candidate = (word: string, kind: Kw): Candidate => ({
  word,
  kind,
  prefix: PREFIX_KINDS.has(kind),
  colonOnly: COLON_ONLY.has(word),
  labelOnly: LABEL_ONLY.has(word),
  keyOnly: KEY_ONLY.has(word),
  capitalised: CAPITALISED_KINDS.has(kind),
});

/**
 * The context words of two characters or more in one trie over case-folded characters: a word
 * start costs one table step per character it shares with some context word (most words stop
 * after one or two), and every context word that starts there is found in the same walk, with
 * no candidate lists to compare and no allocation.
 *
 * SYMBOL maps an ASCII character to its trie symbol (letters case-folded to 1..26, the other
 * characters of context words after them; 0: no context word holds it).
 */
const SYMBOL = new Uint8Array(128);
for (let c = 65; c <= 90; c++) SYMBOL[c] = c - 64;
for (let c = 97; c <= 122; c++) SYMBOL[c] = c - 96;
let symbols = 27;
for (const w of KIND_BY_WORD.keys()) {
  for (let k = 0; k < w.length; k++) {
    const c = w.charCodeAt(k);
    if (SYMBOL[c] === 0) SYMBOL[c] = symbols++;
  }
}
const WIDTH = symbols;
/** Trie transitions while building: node * WIDTH + symbol → next node (0: none; the root is 0). */
const next: number[] = new Array<number>(WIDTH).fill(0);
/** Candidate index + 1 of the word ending at each node (0: none). */
const wordAt: number[] = [0];
/** One-letter context words by their lower-case character code (all are colon-only). */
const ONE_LETTER: Array<Candidate | undefined> = new Array<Candidate | undefined>(128).fill(undefined);
const CANDIDATES: Candidate[] = [];
for (const [word, kind] of KIND_BY_WORD) {
  // One-letter labels ("T:", "F:") live apart: in the trie they would make every word that
  // starts with that letter a candidate.
  if (word.length === 1) {
    ONE_LETTER[word.charCodeAt(0)] = candidate(word, kind);
    continue;
  }
  let node = 0;
  for (let k = 0; k < word.length; k++) {
    const at = node * WIDTH + SYMBOL[word.charCodeAt(k)]!;
    if (next[at] === 0) {
      next[at] = wordAt.length;
      wordAt.push(0);
      for (let j = 0; j < WIDTH; j++) next.push(0);
    }
    node = next[at]!;
  }
  CANDIDATES.push(candidate(word, kind));
  wordAt[node] = CANDIDATES.length;
}
if (wordAt.length > 0xffff) throw new Error('context-word trie too large');
// 16-bit transitions: half the memory of 32-bit ones, so more of the trie stays in cache.
const NEXT = Uint16Array.from(next);
const WORD_AT = Uint16Array.from(wordAt);
/** Candidates found by one walk, deepest last (no context word is longer than 64 characters). */
const FOUND = new Int32Array(64);

const isWordChar = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
/** What may follow a key: ':', '"', '=', '>', '_'. */
const keyEnd = (c: number) => c === 58 || c === 34 || c === 61 || c === 62 || c === 95;

/** Which kinds of context word each PHI type reads. */
const KINDS_FOR: Partial<Record<PhiType, readonly Kw[]>> = {
  SSN: [Kw.Ssn],
  NPI: [Kw.Npi, Kw.NotId],
  IP_ADDRESS: [Kw.NotId],
  DEA_NUMBER: [Kw.Dea],
  VEHICLE_ID: [Kw.Vin, Kw.Plate],
  DATE: [Kw.Dob, Kw.Month, Kw.Date],
  ZIP_CODE: [Kw.Zip],
  PHONE: [Kw.Phone, Kw.Fax, Kw.NotId],
  FAX: [Kw.Phone, Kw.Fax, Kw.NotId],
  CREDIT_CARD: [Kw.NotId],
  MRN: [Kw.Mrn],
  HEALTH_PLAN_ID: [Kw.Plan],
  ACCOUNT_NUMBER: [Kw.Account],
  LICENSE_NUMBER: [Kw.License],
  DEVICE_ID: [Kw.Device],
  AGE_OVER_89: [Kw.Age, Kw.Ninety],
  PERSON_NAME: [Kw.NameLabel, Kw.Title, Kw.Signoff, Kw.Credential],
  STREET_ADDRESS: [Kw.PoBox],
};

/** Bit mask of the context-word kinds the given types need (bit k = kind k). */
export function kindMask(types: Iterable<PhiType>): number {
  let mask = 0;
  for (const t of types) for (const k of KINDS_FOR[t] ?? []) mask |= 1 << k;
  return mask;
}

/**
 * The context word starting at `pos` (a word start) whose kind is in `mask`, or undefined; its
 * end goes to `lastKeywordEnd`. Of the context words that start there, the longest one whose
 * rules hold wins.
 */
export function keywordAt(text: string, pos: number, mask: number): Kw | undefined {
  return pickKeyword(text, pos, mask, walkKeywords(text, pos, 0, 0));
}

/**
 * Walks the trie from `node` over text[from, …), recording in `KW_FOUND` (after the first
 * `found`) every context word that ends on the way; returns the new count. Symbol 0 has no
 * transition, so a character no context word holds ends the walk.
 */
export function walkKeywords(text: string, from: number, node: number, found: number): number {
  const n = text.length;
  for (let k = from; k < n; k++) {
    const c = text.charCodeAt(k);
    if (c >= 128) break;
    node = NEXT[node * WIDTH + SYMBOL[c]!]!;
    if (node === 0) break;
    const w = WORD_AT[node]!;
    if (w !== 0 && found < 64) FOUND[found++] = w - 1;
  }
  return found;
}

/** The trie, for the scan state's pass, which walks it while it reads a word (see `walkKeywords`). */
export const KW_SYMBOL: Readonly<Uint8Array> = SYMBOL;
export const KW_NEXT: Readonly<Uint16Array> = NEXT;
export const KW_WIDTH = WIDTH;
export const KW_WORD_AT: Readonly<Uint16Array> = WORD_AT;
/** Candidates of the current walk (indexes into the trie's words), deepest last. */
export const KW_FOUND: Int32Array = FOUND;

/**
 * Of the `found` context words of a walk from `pos` (in `KW_FOUND`), the longest whose kind is in
 * `mask` and whose rules hold; else a one-letter label before a colon; else undefined. Its end
 * goes to `lastKeywordEnd`, its word to `lastKeywordWord`.
 */
export function pickKeyword(text: string, pos: number, mask: number, found: number): Kw | undefined {
  const n = text.length;
  while (found > 0) {
    const c = CANDIDATES[FOUND[--found]!]!;
    if ((mask & (1 << c.kind)) === 0) continue;
    const end = pos + c.word.length;
    const next = end < n ? text.charCodeAt(end) : 0;
    // A camelCase key ends a word where a capital follows a small letter ("mobilePhone").
    const camelEnd = next >= 65 && next <= 90 && end > pos && text.charCodeAt(end - 1) >= 97 && text.charCodeAt(end - 1) <= 122;
    if (c.colonOnly ? next !== 58 : !c.prefix && isWordChar(next) && !camelEnd) continue;
    if (c.labelOnly && next !== 58 && next !== 34) continue;
    if ((c.keyOnly || (c.word === 'dl' && text.charCodeAt(pos) === 100)) && !keyEnd(next) && !camelEnd) continue;
    if (c.capitalised) {
      const first = text.charCodeAt(pos);
      if (first < 65 || first > 90) continue;
    }
    // "DL" (driver's licence) in capitals, or as a key ("dl": …, dl=…, <dl>, dlNumber): "mg/dL" is a unit (above).
    lastKeywordEnd = end;
    lastKeywordWord = c.word;
    return c.kind;
  }
  // Shortest last: a one-letter label ("T:", "F:") right before its colon.
  if (text.charCodeAt(pos + 1) !== 58) return undefined;
  const first = text.charCodeAt(pos) | 32;
  const one = first < 128 ? ONE_LETTER[first] : undefined;
  if (one === undefined || (mask & (1 << one.kind)) === 0) return undefined;
  lastKeywordEnd = pos + 1;
  lastKeywordWord = one.word;
  return one.kind;
}
/** End of the keyword last returned by `keywordAt` / `pickKeyword` (no tuple per keyword). */
export let lastKeywordEnd = 0;
/** The context word (lower case, as listed) last returned by `keywordAt` or `pickKeyword`. */
export let lastKeywordWord = '';

/** Positions of context words in one text, in order, in typed arrays reused from text to text. */
export class KeywordIndex {
  starts = new Int32Array(16);
  ends = new Int32Array(16);
  kinds = new Uint8Array(16);
  /** The context words as listed (lower case): the text's word, case-folded, with no slice. */
  words: string[] = [];
  /** Number of keywords recorded; entries past it are stale. */
  count = 0;
  /** Bit set of the kinds present (bit k = kind k). */
  seen = 0;

  /** Appends a keyword (called in text order by the scan state). */
  add(start: number, end: number, kind: Kw, word: string): void {
    const n = this.count;
    if (n === this.starts.length) this.grow();
    this.starts[n] = start;
    this.ends[n] = end;
    this.kinds[n] = kind;
    this.words[n] = word;
    this.count = n + 1;
    this.seen |= 1 << kind;
  }

  private grow(): void {
    const size = this.starts.length * 2;
    const s = new Int32Array(size);
    s.set(this.starts);
    this.starts = s;
    const e = new Int32Array(size);
    e.set(this.ends);
    this.ends = e;
    const k = new Uint8Array(size);
    k.set(this.kinds);
    this.kinds = k;
  }

  /** Empties the index for the next text (the arrays are kept). */
  clear(): void {
    this.count = 0;
    this.seen = 0;
  }

  /** Index of the last keyword ending at or before `pos`, or -1. */
  private lastEndingBy(pos: number): number {
    const ends = this.ends;
    let lo = 0;
    let hi = this.count - 1;
    let ans = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (ends[mid]! <= pos) {
        ans = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return ans;
  }

  /** True when a keyword of `kind` ends within `window` characters before `pos`. */
  before(pos: number, kind: Kw, window: number): boolean {
    if ((this.seen & (1 << kind)) === 0) return false;
    for (let i = this.lastEndingBy(pos); i >= 0 && this.ends[i]! >= pos - window; i--) {
      if (this.kinds[i] === kind) return true;
    }
    return false;
  }

  /** The kind of the nearest keyword among `kinds` ending within `window` before `pos`, if any. */
  nearest(pos: number, kinds: readonly Kw[], window: number): Kw | undefined {
    for (let i = this.lastEndingBy(pos); i >= 0 && this.ends[i]! >= pos - window; i--) {
      const k = this.kinds[i]! as Kw;
      if (kinds.includes(k)) return k;
    }
    return undefined;
  }
}
