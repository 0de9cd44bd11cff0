/**
 * The evasion matrix (set 4): every identifier kind × every disguise (one, or two composed) ×
 * every setting it can stand in, generated, used only to measure, never to tune. Sets 2 and 3
 * write one document per template; this set is built the other way round, from rules: a valid
 * identifier is drawn, cut into its groups, disguised by rules written here (apart from the
 * normalizer, from the Unicode and HTML definitions), and placed in a setting (after a label, in
 * running prose without a label, as a JSON value, as key=value, in an XML element, in an HL7
 * field). The recall of each cell shows which combinations the scanner misses, not only which
 * single classes.
 *
 * Each case: { type, disguise, setting, text, start, end } — the span of the disguised
 * identifier in `text`.
 */
import { luhnCheckDigit, seededRandom } from '../../../packages/core/dist/testing.js';

const pad = (n, w) => String(n).padStart(w, '0');

// ── identifiers as groups (each kind's own validity rules) ──────────────────────────────────
function ssn(rnd) {
  let area;
  do area = 1 + Math.floor(rnd() * 899);
  while (area === 666);
  return [pad(area, 3), pad(1 + Math.floor(rnd() * 99), 2), pad(1 + Math.floor(rnd() * 9999), 4)];
}
function phone(rnd) {
  const d = () => Math.floor(rnd() * 10);
  const area = `${2 + Math.floor(rnd() * 8)}${d()}${d()}`;
  // 555-01xx is fiction's exchange; real exchanges start 2-9 and are not N11.
  let ex;
  do ex = `${2 + Math.floor(rnd() * 8)}${d()}${d()}`;
  while (ex[1] === '1' && ex[2] === '1');
  return [area, ex, `${d()}${d()}${d()}${d()}`];
}
function card(rnd) {
  const prefixes = ['4', '51', '52', '53', '54', '55', '2221', '37', '6011'];
  const pre = prefixes[Math.floor(rnd() * prefixes.length)];
  const len = pre === '37' ? 15 : 16;
  let body = pre;
  while (body.length < len - 1) body += Math.floor(rnd() * 10);
  const n = body + luhnCheckDigit(body);
  return len === 15 ? [n.slice(0, 4), n.slice(4, 10), n.slice(10)] : [n.slice(0, 4), n.slice(4, 8), n.slice(8, 12), n.slice(12)];
}
const LOCALS = ['mtorres', 'a.okafor', 'jp.lindqvist', 'r_nakashima', 'dolores.vance', 'k.abernethy22', 'sam.iyer', 'thu.pham', 'olu.adeyemi', 'b.castellanos'];
const DOMAINS = ['example.org', 'mail.example.com', 'clinic-mail.example.net', 'uni.example.edu', 'example.co.uk'];
function email(rnd) {
  return [LOCALS[Math.floor(rnd() * LOCALS.length)], DOMAINS[Math.floor(rnd() * DOMAINS.length)]];
}

const KINDS = {
  SSN: { make: ssn, seps: ['-'], labels: ['SSN', 'SSN:', 'Social Security No.', 'SS#', 'ssn='] },
  PHONE: { make: phone, seps: ['-', '.', ' '], labels: ['Phone:', 'Tel', 'call me at', 'cell', 'ph:'] },
  CREDIT_CARD: { make: card, seps: [' ', '-'], labels: ['Card:', 'card number', 'paid with card', 'cc#', 'Visa'] },
  EMAIL: { make: email, seps: [], labels: ['Email:', 'e-mail', 'write to', 'contact:', 'mailto'] },
};

// ── disguises of the digits and separators, written from the definitions ────────────────────
// Default_Ignorable_Code_Point (Unicode DerivedCoreProperties): a sample across its ranges.
const IGNORABLE = ['\u00AD', '\u034F', '\u061C', '\u115F', '\u17B4', '\u180E', '\u200B', '\u200C', '\u200D', '\u200E', '\u200F', '\u202A', '\u202C', '\u202E', '\u2060', '\u2062', '\u2064', '\u2066', '\u2069', '\u3164', '\uFE00', '\uFE0F', '\uFEFF', '\u{E0001}', '\u{E0020}', '\u{E007F}'];
// Zero of a few decimal-digit scripts (General_Category Nd: each block has ten in a row).
const ZEROS = [0x0660, 0x06f0, 0x07c0, 0x0966, 0x09e6, 0x0a66, 0x0ae6, 0x0b66, 0x0be6, 0x0c66, 0x0ce6, 0x0d66, 0x0e50, 0x0ed0, 0x0f20, 0x1040, 0x17e0, 0x1810, 0xff10, 0x1d7ce, 0x1d7ec];
const WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];
const pick = (rnd, xs) => xs[Math.floor(rnd() * xs.length)];
const NAMED = { '-': ['&#45;', '&#x2D;', '&#x2d;', '&hyphen;', '&dash;'], '.': ['&#46;', '&#x2E;', '&period;'], ' ': ['&#32;', '&#x20;', '&nbsp;', '&#160;'], '@': ['&#64;', '&#x40;', '&commat;'] };
const PERCENT = { '-': '%2D', '.': '%2E', ' ': '%20', '@': '%40' };

/** Digit disguises: a function of one digit (and the random source). */
const digitRules = {
  plain: (d) => d,
  foreign: (d, rnd, z) => String.fromCodePoint(z + Number(d)),
  'html-digit': (d, rnd) => (rnd() < 0.5 ? `&#${48 + Number(d)};` : `&#x${(48 + Number(d)).toString(16)};`),
};

/**
 * A disguise turns groups (and the kind's separator) into text. Each returns the text, or null
 * when it does not apply to the kind.
 */
const disguises = {
  none: (g, k, rnd) => (k === 'EMAIL' ? `${g[0]}@${g[1]}` : g.join(pick(rnd, KINDS[k].seps))),
  invisible: (g, k, rnd) => sprinkle(disguises.none(g, k, rnd), rnd, () => pick(rnd, IGNORABLE), 0.4),
  'foreign-digits': (g, k, rnd) => {
    if (k === 'EMAIL') return null;
    const z = pick(rnd, ZEROS);
    return g.map((x) => [...x].map((d) => digitRules.foreign(d, rnd, z)).join('')).join(pick(rnd, KINDS[k].seps));
  },
  'html-separators': (g, k, rnd) => (k === 'EMAIL' ? `${g[0]}${pick(rnd, NAMED['@'])}${g[1].replace(/\./g, () => pick(rnd, NAMED['.']))}` : g.join(pick(rnd, NAMED[pick(rnd, KINDS[k].seps)]))),
  'html-digits': (g, k, rnd) => (k === 'EMAIL' ? null : g.map((x) => [...x].map((d) => digitRules['html-digit'](d, rnd)).join('')).join(pick(rnd, KINDS[k].seps))),
  percent: (g, k, rnd) => (k === 'EMAIL' ? `${g[0]}${PERCENT['@']}${g[1]}` : g.join(PERCENT[pick(rnd, KINDS[k].seps)])),
  'line-break': (g, k, rnd) => {
    const br = pick(rnd, ['\n', '\r\n', '\n    ', '\n\t', '-\n', ' \n ']);
    if (k === 'EMAIL') return rnd() < 0.5 ? `${g[0]}@${br.trimEnd() === br ? br : br}${g[1]}`.replace(/@\s*-/, '@') : `${g[0]}@${g[1].replace('.', `.${br.replace('-', '')}`)}`;
    const at = 1 + Math.floor(rnd() * (g.length - 1));
    const sep = pick(rnd, KINDS[k].seps);
    return `${g.slice(0, at).join(sep)}${br.startsWith('-') ? br : sep.trim() + br}${g.slice(at).join(sep)}`;
  },
  'spaced-digits': (g, k, rnd) => (k === 'EMAIL' ? null : [...g.join('')].join(rnd() < 0.8 ? ' ' : '  ')),
  'mixed-separators': (g, k, rnd) => {
    if (k === 'EMAIL') return null;
    const seps = ['-', '.', ' ', '/', '_', ' - ', '–'];
    let out = g[0];
    for (let i = 1; i < g.length; i++) out += pick(rnd, seps) + g[i];
    return out;
  },
  'letter-o': (g, k, rnd) => {
    if (k === 'EMAIL') return null;
    const s = disguises.none(g, k, rnd);
    return s.includes('0') ? s.replace(/0/g, () => (rnd() < 0.5 ? 'O' : 'o')) : null;
  },
  'digit-words': (g, k, rnd) => {
    if (k === 'EMAIL') return null;
    const sep = pick(rnd, [' ', ', ', ' - ', ' dash ']);
    return g.map((x) => [...x].map((d) => (d === '0' && rnd() < 0.3 ? 'oh' : WORDS[Number(d)])).join(' ')).join(sep);
  },
  fullwidth: (g, k, rnd) =>
    [...disguises.none(g, k, rnd)].map((c) => (c >= '!' && c <= '~' ? String.fromCodePoint(c.codePointAt(0) - 0x21 + 0xff01) : c)).join(''),
  'spelled-email': (g, k, rnd) => {
    if (k !== 'EMAIL') return null;
    const at = pick(rnd, [' at ', ' AT ', ' (at) ', ' [at] ', '{at}', ' <at> ', '(at)', ' [ at ] ', ' At ']);
    const dot = pick(rnd, [' dot ', ' DOT ', ' (dot) ', ' [dot] ', '{dot}', '(dot)', ' . ', ' Dot ']);
    return `${g[0].replace(/\./g, rnd() < 0.5 ? '.' : dot)}${at}${g[1].replace(/\./g, dot)}`;
  },
};

/** Inserts `make()` between characters of `s` with probability p (never before the first). */
function sprinkle(s, rnd, make, p) {
  const cps = [...s];
  let out = cps[0];
  for (let i = 1; i < cps.length; i++) out += (rnd() < p ? make() : '') + cps[i];
  return out;
}

/** Two disguises composed: the second applied to the text the first produced, where it can be. */
const PAIRS = [
  ['invisible', 'html-separators'],
  ['foreign-digits', 'line-break'],
  ['mixed-separators', 'invisible'],
  ['letter-o', 'line-break'],
  ['html-separators', 'line-break'],
  ['spelled-email', 'invisible'],
  ['fullwidth', 'invisible'],
];

// ── settings ────────────────────────────────────────────────────────────────────────────────
const PROSE_BEFORE = ['The patient gave ', 'Please update the chart with ', 'Verified by phone: ', 'On file: ', 'She wrote back with ', ''];
const PROSE_AFTER = ['', '.', ' on the form.', ', thanks', '; see attached.', ' (verified)'];
const settings = {
  label: (id, k, rnd) => [`${pick(rnd, KINDS[k].labels)} `, pick(rnd, PROSE_AFTER)],
  prose: (id, k, rnd) => [pick(rnd, PROSE_BEFORE), pick(rnd, PROSE_AFTER)],
  json: (id, k, rnd) => [`{"${pick(rnd, { SSN: ['ssn', 'socialSecurityNumber', 'taxId'], PHONE: ['phone', 'mobilePhone', 'contactNumber'], CREDIT_CARD: ['cardNumber', 'pan', 'paymentCard'], EMAIL: ['email', 'contactEmail', 'notify'] }[k])}":"`, '"}'],
  'key-value': (id, k, rnd) => [`${pick(rnd, { SSN: ['ssn', 'ss_no'], PHONE: ['phone', 'tel'], CREDIT_CARD: ['card', 'cc'], EMAIL: ['email', 'mail'] }[k])}=`, pick(rnd, ['', '&lang=en', ';'])],
  xml: (id, k, rnd) => {
    const tag = { SSN: 'SSN', PHONE: 'Telephone', CREDIT_CARD: 'CardNumber', EMAIL: 'Email' }[k];
    return [`<${tag}>`, `</${tag}>`];
  },
};

/** Generates the matrix: `perCell` cases for every (kind, disguise or pair, setting). */
export function generateEvasionMatrix(seed = 20261207, perCell = 6) {
  const rnd = seededRandom(seed);
  const cases = [];
  const disguiseNames = [...Object.keys(disguises).map((d) => [d]), ...PAIRS];
  for (const kind of Object.keys(KINDS)) {
    for (const chain of disguiseNames) {
      for (const setting of Object.keys(settings)) {
        for (let n = 0; n < perCell; n++) {
          const groups = KINDS[kind].make(rnd);
          let text = disguises[chain[0]](groups, kind, rnd);
          if (text === null) break;
          if (chain.length === 2) {
            // The second disguise works on the first's output read as groups again, when it can.
            const second = chain[1];
            if (second === 'invisible') text = sprinkle(text, rnd, () => pick(rnd, IGNORABLE), 0.3);
            else if (second === 'line-break') {
              // Between two code points, never inside a character reference or an escape.
              const cps = [...text];
              const inside = new Set();
              let u = 0;
              const starts = cps.map((c) => ((u += c.length), u - c.length));
              for (const m of text.matchAll(/&#?[A-Za-z0-9]+;|%[0-9A-Fa-f]{2}/g)) for (let k = m.index + 1; k < m.index + m[0].length; k++) inside.add(k);
              let at = Math.max(1, Math.floor(cps.length / 2));
              while (at < cps.length - 1 && inside.has(starts[at])) at++;
              text = cps.slice(0, at).join('') + pick(rnd, ['\n', '\r\n', '\n  ']) + cps.slice(at).join('');
            } else if (second === 'html-separators') text = text.replace(/[-.@ ]/g, (c) => pick(rnd, NAMED[c] ?? [c]));
          }
          const [before, after] = settings[setting](text, kind, rnd);
          cases.push({ type: kind, disguise: chain.join('+'), setting, text: before + text + after, start: before.length, end: before.length + text.length });
        }
      }
    }
  }
  return cases;
}

/**
 * Hard negatives for the looser readings, by rules: number-rich clinical lines with the same
 * separators, spacings and line breaks the disguises use (lab values and reference ranges,
 * vitals, doses, codes, times, counts, scales, versions), none of them an identifier.
 */
export function generateMatrixNegatives(seed = 20261208, count = 400) {
  const rnd = seededRandom(seed);
  const num = (lo, hi, dp = 0) => (lo + rnd() * (hi - lo)).toFixed(dp);
  const sep = () => pick(rnd, ['-', ' - ', '–', ' to ', '/', ' / ', '_', '.']);
  const br = () => pick(rnd, ['\n', '\r\n', '\n  ', ' \n ', '\n\t']);
  const analytes = ['Sodium', 'Potassium', 'Glucose', 'BUN', 'Creatinine', 'WBC', 'Hemoglobin', 'Platelets', 'ALT', 'AST', 'TSH', 'LDL', 'HbA1c', 'Ferritin', 'INR'];
  const units = ['mmol/L', 'mg/dL', 'g/dL', 'x10^9/L', 'U/L', 'mIU/L', '%', 'ng/mL', ''];
  const makers = [
    () => `${pick(rnd, analytes)} ${num(1, 300, pick(rnd, [0, 1, 2]))} ${pick(rnd, units)} (ref ${num(1, 150, 1)}${sep()}${num(150, 500, 1)})`,
    () => `BP ${num(90, 180)}/${num(50, 110)}, HR ${num(50, 120)}, RR ${num(10, 24)}, SpO2 ${num(88, 100)}%, T ${num(35, 40, 1)} C`,
    () => `${pick(rnd, ['Metformin', 'Lisinopril', 'Atorvastatin', 'Insulin glargine'])} ${num(1, 1000)} mg${sep()}${num(1, 1000)} mg ${pick(rnd, ['daily', 'BID', 'q8h'])}`,
    () => `LOINC ${num(1000, 99999)}-${num(0, 9)}; ICD-10 ${pick(rnd, ['E11.65', 'I10', 'J45.909', 'N18.3', 'Z79.4', 'M54.5'])}; CPT ${num(10000, 99999)}`,
    () => `Seen ${num(8, 11)}:${pick(rnd, ['00', '15', '30', '45'])}${sep()}${num(12, 17)}:${pick(rnd, ['00', '15', '30', '45'])}, ${num(2, 40)} min`,
    () => `Pain scale ${[...'0123456789'].join(pick(rnd, [' ', '  ']))} 10, patient chose ${num(0, 10)}`,
    () => `Counts: ${num(100, 999)} ${num(10, 99)} ${num(1000, 9999)} cells per field (three fields)`,
    () => `Version ${num(1, 20)}.${num(0, 20)}.${num(0, 99)} build ${num(100, 999)}${sep()}${num(10, 99)}`,
    () => `Glucose log: ${Array.from({ length: 5 }, () => num(70, 250)).join(pick(rnd, [' ', ', ', ' / ']))} mg/dL`,
    () => `Lot ${num(100, 999)}${sep()}${num(10, 99)}${sep()}${num(1000, 9999)}, exp ${num(1, 12)}/${num(25, 30)}`,
    () => `Wound ${num(1, 9, 1)} x ${num(1, 9, 1)} x ${num(0, 3, 1)} cm;${br()}${num(10, 90)}% granulation`,
    () => `Result ${num(1, 99, 1)}${br()}${num(1, 99, 1)} (repeat), ${pick(rnd, ['stable', 'improved', 'unchanged'])}`,
    () => `${pick(rnd, ['Sodium', 'Potassium'])} ${num(3, 5, 1)}${br()}${pick(rnd, ['Chloride', 'CO2'])} ${num(20, 110)}${br()}${pick(rnd, ['BUN', 'Creatinine'])} ${num(5, 40)}`,
    () => `Dose ${pick(rnd, WORDS.slice(1))} tablet${pick(rnd, ['', 's'])} at ${pick(rnd, ['eight', 'nine', 'ten'])} and ${pick(rnd, ['two', 'four', 'six'])} o'clock`,
    () => `Stage ${pick(rnd, ['I', 'II', 'III', 'IV'])}, grade ${num(1, 3)}, ${num(1, 30)} of ${num(30, 60)} nodes; Ki-67 ${num(1, 90)}%`,
  ];
  return Array.from({ length: count }, () => pick(rnd, makers)());
}

// ── context-bound identifiers: labels built from their words, in every way a label is written ──
const LABEL_WORDS = {
  MRN: [['mrn'], ['medical', 'record'], ['med', 'rec'], ['patient', 'id'], ['pt', 'id'], ['chart'], ['patient', 'number'], ['empi'], ['mr'], ['patient', 'identifier']],
  HEALTH_PLAN_ID: [['member', 'id'], ['member'], ['insurance', 'id'], ['subscriber', 'id'], ['policy'], ['health', 'plan', 'member'], ['medicaid'], ['medicare'], ['mbi'], ['plan', 'id'], ['insurance', 'member']],
  ACCOUNT_NUMBER: [['account'], ['acct'], ['har'], ['billing', 'account'], ['hospital', 'account'], ['guarantor', 'account'], ['patient', 'account']],
  LICENSE_NUMBER: [['drivers', 'license'], ['license'], ['dl'], ['state', 'id'], ['driver', 'license'], ['licence']],
  DEVICE_ID: [['serial'], ['device', 'id'], ['device', 'serial'], ['udi'], ['pump', 'serial'], ['implant', 'serial']],
  VEHICLE_ID: [['license', 'plate'], ['plate'], ['tag'], ['licence', 'plate']],
};
/** The word after the label words, if any (a number marker). */
const MARKERS = ['', ' #', ' no.', ' number', ' no', ' num'];
const digitsOf = (rnd, n) => Array.from({ length: n }, () => Math.floor(rnd() * 10)).join('');
const lettersOf = (rnd, n) => Array.from({ length: n }, () => 'ABCDEFGHJKLMNPRSTUVWXYZ'[Math.floor(rnd() * 23)]).join('');
const VALUE_FORMS = {
  MRN: [(r) => digitsOf(r, 6 + Math.floor(r() * 4)), (r) => `${lettersOf(r, 1)}${digitsOf(r, 7)}`, (r) => `${digitsOf(r, 2)}-${digitsOf(r, 3)}-${digitsOf(r, 3)}`, (r) => `MRN${digitsOf(r, 8)}`, (r) => `${lettersOf(r, 3)}${digitsOf(r, 6)}`],
  HEALTH_PLAN_ID: [(r) => `${lettersOf(r, 3)}${digitsOf(r, 9)}`, (r) => `${lettersOf(r, 1)}${digitsOf(r, 8)}`, (r) => `${digitsOf(r, 1)}${lettersOf(r, 2)}${digitsOf(r, 1)}-${lettersOf(r, 2)}${digitsOf(r, 1)}-${lettersOf(r, 2)}${digitsOf(r, 2)}`, (r) => digitsOf(r, 11)],
  ACCOUNT_NUMBER: [(r) => digitsOf(r, 8 + Math.floor(r() * 3)), (r) => `${lettersOf(r, 1)}${digitsOf(r, 7)}`, (r) => `ACCT-${digitsOf(r, 7)}`, (r) => `${digitsOf(r, 4)}-${digitsOf(r, 6)}`],
  LICENSE_NUMBER: [(r) => `${lettersOf(r, 1)}${digitsOf(r, 7)}`, (r) => `${lettersOf(r, 1)}${digitsOf(r, 3)}-${digitsOf(r, 4)}-${digitsOf(r, 4)}`, (r) => digitsOf(r, 9), (r) => `${lettersOf(r, 2)}${digitsOf(r, 6)}`],
  DEVICE_ID: [(r) => digitsOf(r, 10 + Math.floor(r() * 3)), (r) => `${lettersOf(r, 3)}${digitsOf(r, 6)}${lettersOf(r, 1)}`, (r) => `SN${digitsOf(r, 8)}`, (r) => `${lettersOf(r, 2)}-${digitsOf(r, 6)}`],
  VEHICLE_ID: [(r) => `${digitsOf(r, 1)}${lettersOf(r, 3)}${digitsOf(r, 3)}`, (r) => `${lettersOf(r, 3)}-${digitsOf(r, 4)}`, (r) => `${lettersOf(r, 3)} ${digitsOf(r, 4)}`, (r) => `${digitsOf(r, 3)}${lettersOf(r, 3)}`],
};
const title = (w) => w[0].toUpperCase() + w.slice(1);
/** The label written as prose or as a key, in one of several styles. */
function writeLabel(rnd, words, style) {
  switch (style) {
    case 'title': return words.map(title).join(' ');
    case 'upper': return words.join(' ').toUpperCase();
    case 'lower': return words.join(' ');
    case 'camel': return words[0] + words.slice(1).map(title).join('');
    case 'snake': return words.join('_');
    case 'pascal': return words.map(title).join('');
    default: throw new Error(style);
  }
}
const LABEL_SETTINGS = {
  prose: (rnd, words, value) => {
    const label = writeLabel(rnd, words, pick(rnd, ['title', 'upper', 'lower'])) + pick(rnd, MARKERS);
    const sep = pick(rnd, [': ', ' ', ' is ', ':', ' - ', ': #', ' # ']);
    const before = pick(rnd, ['', 'Confirmed ', 'Please verify the ', 'Per front desk, ', 'Note: ']);
    const after = pick(rnd, ['', '.', ' on file.', ', verified', ' (updated)']);
    return [`${before}${label}${sep}`, value, after];
  },
  json: (rnd, words, value) => [`{"${writeLabel(rnd, words, pick(rnd, ['camel', 'snake', 'pascal']))}${pick(rnd, ['', 'Id', 'Number', '_no'])}":${pick(rnd, ['', ' '])}"`, value, '"}'],
  'key-value': (rnd, words, value) => [`${writeLabel(rnd, words, pick(rnd, ['camel', 'snake']))}=`, value, pick(rnd, ['', '&v=2', ';'])],
  xml: (rnd, words, value) => {
    const tag = writeLabel(rnd, words, pick(rnd, ['camel', 'pascal']));
    return [`<${tag}>`, value, `</${tag}>`];
  },
};

/** Context-bound identifiers: every type × label words × setting, `perCell` cases each. */
export function generateContextMatrix(seed = 20261209, perCell = 3) {
  const rnd = seededRandom(seed);
  const cases = [];
  for (const [type, labels] of Object.entries(LABEL_WORDS)) {
    for (const words of labels) {
      for (const [setting, make] of Object.entries(LABEL_SETTINGS)) {
        for (let n = 0; n < perCell; n++) {
          const value = pick(rnd, VALUE_FORMS[type])(rnd);
          const [before, v, after] = make(rnd, words, value);
          cases.push({ type, label: words.join(' '), setting, text: before + v + after, start: before.length, end: before.length + v.length });
        }
      }
    }
  }
  return cases;
}

// ── dates: every way a clinical text writes a date element, in every setting ──────────────────
const MONTH_NAMES = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS_IN = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const ordinal = (d) => `${d}${d % 10 === 1 && d !== 11 ? 'st' : d % 10 === 2 && d !== 12 ? 'nd' : d % 10 === 3 && d !== 13 ? 'rd' : 'th'}`;
/** Date forms: each a function of (y, m, d) → text. */
const DATE_FORMS = {
  'M/D/YYYY': (y, m, d) => `${m}/${d}/${y}`,
  'MM/DD/YYYY': (y, m, d) => `${pad(m, 2)}/${pad(d, 2)}/${y}`,
  'MM/DD/YY': (y, m, d) => `${pad(m, 2)}/${pad(d, 2)}/${pad(y % 100, 2)}`,
  'M-D-YYYY': (y, m, d) => `${m}-${d}-${y}`,
  'M.D.YYYY': (y, m, d) => `${m}.${d}.${y}`,
  'YYYY-MM-DD': (y, m, d) => `${y}-${pad(m, 2)}-${pad(d, 2)}`,
  'YYYY/MM/DD': (y, m, d) => `${y}/${pad(m, 2)}/${pad(d, 2)}`,
  ISO8601: (y, m, d) => `${y}-${pad(m, 2)}-${pad(d, 2)}T${pad(d % 24, 2)}:${pad((m * 7) % 60, 2)}:00Z`,
  'Month D, YYYY': (y, m, d) => `${MONTH_NAMES[m - 1]} ${d}, ${y}`,
  'Mon D YYYY': (y, m, d) => `${MONTH_NAMES[m - 1].slice(0, 3)} ${d} ${y}`,
  'Mon. D, YYYY': (y, m, d) => `${MONTH_NAMES[m - 1].slice(0, 3)}. ${d}, ${y}`,
  'D Month YYYY': (y, m, d) => `${d} ${MONTH_NAMES[m - 1]} ${y}`,
  'D-Mon-YYYY': (y, m, d) => `${d}-${MONTH_NAMES[m - 1].slice(0, 3)}-${y}`,
  DDMMMYYYY: (y, m, d) => `${pad(d, 2)}${MONTH_NAMES[m - 1].slice(0, 3).toUpperCase()}${y}`,
  'Month Dth, YYYY': (y, m, d) => `${MONTH_NAMES[m - 1]} ${ordinal(d)}, ${y}`,
  'the Dth of Month YYYY': (y, m, d) => `${ordinal(d)} of ${MONTH_NAMES[m - 1]} ${y}`,
  'Month YYYY': (y, m) => `${MONTH_NAMES[m - 1]} ${y}`,
  'Month D': (y, m, d) => `${MONTH_NAMES[m - 1]} ${d}`,
  'M/D with a cue': (y, m, d) => `${m}/${d}`,
  YYYYMMDD: (y, m, d) => `${y}${pad(m, 2)}${pad(d, 2)}`,
  'MON D, YYYY': (y, m, d) => `${MONTH_NAMES[m - 1].toUpperCase()} ${d}, ${y}`,
};
const DATE_CUES = ['DOB:', 'Date of birth:', 'seen on', 'admitted', 'discharged on', 'DOS:', 'Visit date:', 'last seen', 'surgery on', 'born'];
const DATE_SETTINGS = {
  cue: (rnd, v) => [`${pick(rnd, DATE_CUES)} `, pick(rnd, ['', '.', ', stable', ' per chart'])],
  prose: (rnd, v) => [pick(rnd, ['Patient reports symptoms began ', 'Follow-up scheduled for ', 'Labs drawn ', 'Her mother passed away ', 'Next appointment: ']), pick(rnd, ['', '.', ' at the clinic.', '; no changes'])],
  json: (rnd, v) => [`{"${pick(rnd, ['birthDate', 'dob', 'admitDate', 'effectiveDateTime', 'serviceDate', 'date'])}":"`, '"}'],
  'key-value': (rnd, v) => [`${pick(rnd, ['dob', 'visit_date', 'admitDate', 'dos'])}=`, pick(rnd, ['', '&v=2'])],
  xml: (rnd, v) => {
    const tag = pick(rnd, ['BirthDate', 'admitDate', 'ServiceDate']);
    return [`<${tag}>`, `</${tag}>`];
  },
};

/** Dates: every form × setting, `perCell` cases each (forms that need a cue only with one). */
export function generateDateMatrix(seed = 20261210, perCell = 4) {
  const rnd = seededRandom(seed);
  const cases = [];
  for (const [form, write] of Object.entries(DATE_FORMS)) {
    for (const [setting, make] of Object.entries(DATE_SETTINGS)) {
      if ((form === 'M/D with a cue' || form === 'YYYYMMDD') && setting === 'prose') continue;
      for (let n = 0; n < perCell; n++) {
        const y = 1930 + Math.floor(rnd() * 95);
        const m = 1 + Math.floor(rnd() * 12);
        const d = 1 + Math.floor(rnd() * (m === 2 ? 28 : DAYS_IN[m - 1]));
        const value = write(y, m, d);
        const [before, after] = make(rnd, value);
        cases.push({ type: 'DATE', form, setting, text: before + value + after, start: before.length, end: before.length + value.length });
      }
    }
  }
  return cases;
}

// ── phones and faxes: every way a number is written, with and without a label ───────────────
const PHONE_FORMS = {
  '(AAA) EEE-SSSS': (a, e, s) => `(${a}) ${e}-${s}`,
  '(AAA)EEE-SSSS': (a, e, s) => `(${a})${e}-${s}`,
  'AAA-EEE-SSSS': (a, e, s) => `${a}-${e}-${s}`,
  'AAA.EEE.SSSS': (a, e, s) => `${a}.${e}.${s}`,
  'AAA EEE SSSS': (a, e, s) => `${a} ${e} ${s}`,
  '+1 AAA EEE SSSS': (a, e, s) => `+1 ${a} ${e} ${s}`,
  '+1-AAA-EEE-SSSS': (a, e, s) => `+1-${a}-${e}-${s}`,
  '+1 (AAA) EEE-SSSS': (a, e, s) => `+1 (${a}) ${e}-${s}`,
  '1-AAA-EEE-SSSS': (a, e, s) => `1-${a}-${e}-${s}`,
  '+1AAAEEESSSS': (a, e, s) => `+1${a}${e}${s}`,
  'AAA-EEE-SSSS ext. NN': (a, e, s) => `${a}-${e}-${s} ext. ${s.slice(0, 2)}`,
  'AAA-EEE-SSSS x NNN': (a, e, s) => `${a}-${e}-${s} x${s.slice(1)}`,
  'AAAEEESSSS ext NN': (a, e, s) => `${a}${e}${s} ext ${s.slice(2)}`,
  'AAAEEESSSS (labelled)': (a, e, s) => `${a}${e}${s}`,
  '+44 20 XXXX XXXX': (a, e, s) => `+44 20 ${e}${s[0]} ${s.slice(1)}${a[0]}`,
  '+44XXXXXXXXXX': (a, e, s) => `+4420${e}${s}${a[0]}`,
  '+33 X XX XX XX XX': (a, e, s) => `+33 ${a[0]} ${a.slice(1)} ${e.slice(0, 2)} ${e[2]}${s[0]} ${s.slice(1, 3)}`,
};
const PHONE_LABELS = { PHONE: ['Phone:', 'Tel:', 'Cell', 'call me at', 'Mobile:', 'Home phone', 'reach me on'], FAX: ['Fax:', 'Fax', 'F:', 'fax to'] };
const PHONE_SETTINGS = {
  label: (rnd, type) => [`${pick(rnd, PHONE_LABELS[type])} `, pick(rnd, ['', '.', ' (preferred)', ', thanks'])],
  prose: (rnd) => [pick(rnd, ['Daughter can be reached at ', 'Left a message at ', 'The number on file is ']), pick(rnd, ['', '.', ' after 5 pm.'])],
  json: (rnd, type) => [`{"${type === 'FAX' ? pick(rnd, ['fax', 'faxNumber']) : pick(rnd, ['phone', 'mobilePhone', 'homePhone', 'contactNumber', 'telephone'])}":"`, '"}'],
  'key-value': (rnd, type) => [`${type === 'FAX' ? 'fax' : pick(rnd, ['phone', 'tel', 'cell'])}=`, pick(rnd, ['', '&v=2'])],
  xml: (rnd, type) => {
    const tag = type === 'FAX' ? 'Fax' : pick(rnd, ['Phone', 'Telephone', 'MobilePhone']);
    return [`<${tag}>`, `</${tag}>`];
  },
};

/** Phones and faxes: every form × setting, `perCell` cases each (a bare or foreign form in prose needs a cue: left out there). */
export function generatePhoneMatrix(seed = 20261211, perCell = 3) {
  const rnd = seededRandom(seed);
  const cases = [];
  for (const [form, write] of Object.entries(PHONE_FORMS)) {
    for (const [setting, make] of Object.entries(PHONE_SETTINGS)) {
      if (setting === 'prose' && (form === 'AAAEEESSSS (labelled)' || form.startsWith('+44') || form.startsWith('+33'))) continue;
      for (let n = 0; n < perCell; n++) {
        const [a, e, s] = phone(rnd);
        const type = setting === 'prose' ? 'PHONE' : rnd() < 0.25 ? 'FAX' : 'PHONE';
        const value = write(a, e, s);
        const [before, after] = make(rnd, type);
        cases.push({ type, form, setting, text: before + value + after, start: before.length, end: before.length + value.length });
      }
    }
  }
  return cases;
}

// ── person names: name forms × the places a name stands, by rules ──────────────────────────────
// Hand-written here (not from the lexicons' sources, not from a test-data generator), common and
// uncommon, several origins.
const M_GIVEN = ['Harold', 'Denise', 'Marcus', 'Yolanda', 'Trevor', 'Bettina', 'Anselm', 'Priyanka', 'Oluwaseun', 'Mei-Ling', 'Rafael', 'Agnieszka', 'Tomasz', 'Siobhan', 'Dmitri', 'Keiko', 'Fatima', 'Esteban', 'Ingrid', 'Kwame'];
const M_FAMILY = ['Whitaker', 'Castellanos', 'Oyelaran', 'Lindqvist', 'Brennan', 'Nakashima', 'Abernethy', 'Gutierrez', 'Kowalczyk', 'Fitzgerald', "O'Connell", 'McAllister', 'Van der Berg', 'Al-Rashid', 'Schmidt-Weber', 'Papadopoulos', 'Okonjo', 'Delacroix', 'Haugen', 'Ramaswamy'];
const NAME_FORMS = {
  'Given Family': (g, f) => `${g} ${f}`,
  'Given M. Family': (g, f) => `${g} ${'ABCDEJKLMRST'[g.length % 12]}. ${f}`,
  'G. Family': (g, f) => `${g[0]}. ${f}`,
  'Family, Given': (g, f) => `${f}, ${g}`,
  'FAMILY, GIVEN': (g, f) => `${f.toUpperCase()}, ${g.toUpperCase()}`,
  'GIVEN FAMILY': (g, f) => `${g.toUpperCase()} ${f.toUpperCase()}`,
  'Given Family Jr.': (g, f) => `${g} ${f} Jr.`,
};
const NAME_SETTINGS = {
  title: (rnd, n) => [`${pick(rnd, ['Dr. ', 'Mr. ', 'Mrs. ', 'Ms. ', 'Dr '])}`, pick(rnd, [' was seen today.', ' called back.', ', thank you.'])],
  label: (rnd) => [pick(rnd, ['Patient: ', 'Name: ', 'Guarantor: ', 'Emergency contact: ', 'Attending: ', 'Referred by: ']), pick(rnd, ['', '\nDOB on file', ' (verified)'])],
  relation: (rnd) => [pick(rnd, ['Discussed plan with her daughter ', 'Spoke with the patient\'s husband ', 'Accompanied by his son ', 'Message left for caregiver ']), pick(rnd, ['.', ' by phone.', ' who agrees with the plan.'])],
  signature: (rnd) => [pick(rnd, ['Thanks,\n', 'Regards,\n', 'Sincerely,\n\n', '-- \n']), pick(rnd, ['', '\nCare Coordinator', ', RN', '\nFront desk'])],
  'email-header': (rnd) => [pick(rnd, ['From: ', 'To: ', 'Cc: ']), pick(rnd, [' <someone@example.org>', '', '; billing@example.org'])],
  json: (rnd) => [`{"${pick(rnd, ['patientName', 'guarantorName', 'contactName', 'fullName', 'name'])}":"`, '"}'],
  prose: (rnd) => [pick(rnd, ['Per discussion with ', 'Records were sent to ', 'This morning ', 'The consent was signed by ']), pick(rnd, [' at the bedside.', ' yesterday.', ', who had questions.', ' reported no pain.'])],
};

/** Person names: every form × setting, `perCell` cases each, names drawn from the lists above. */
export function generateNameMatrix(seed = 20261212, perCell = 3) {
  const rnd = seededRandom(seed);
  const cases = [];
  for (const [form, write] of Object.entries(NAME_FORMS)) {
    for (const [setting, make] of Object.entries(NAME_SETTINGS)) {
      // A title goes before a family name or a full name, not before "Family, Given".
      if (setting === 'title' && form.includes(',')) continue;
      for (let n = 0; n < perCell; n++) {
        const value = write(pick(rnd, M_GIVEN), pick(rnd, M_FAMILY));
        const [before, after] = make(rnd, value);
        cases.push({ type: 'PERSON_NAME', form, setting, text: before + value + after, start: before.length, end: before.length + value.length });
      }
    }
  }
  return cases;
}

/**
 * True when one finding of the case's type covers what it disguises or names: its span without
 * surrounding spaces (and, for a person name, without a trailing "Jr.", which is no name word).
 * The one measure of every matrix here, for the report and the tests alike.
 */
export function covered(findings, c) {
  const core = c.text.slice(c.start, c.end);
  const start = c.start + (core.length - core.trimStart().length);
  let end = c.end - (core.length - core.trimEnd().length);
  if (c.type === 'PERSON_NAME' && c.text.slice(start, end).endsWith(' Jr.')) end -= 4;
  return findings.some((f) => f.type === c.type && f.start <= start && f.end >= end);
}
