/**
 * The second DLP evaluation set: generated, not hand-labelled, and used only to measure (never to
 * tune). Its vocabulary and templates were written for this file, apart from the detectors: the
 * person names below are a hand-picked mix of origins and scripts (not the scanner's lexicon, not
 * a test-data generator's lists), the sentences are its own, and every value is built from its
 * rules (check digits computed here). A seeded generator makes the set the same on every run.
 *
 * Each document: { kind, text, labels: [{ type, start, end, cls }] }; `cls` names what the
 * entity tests ('plain', 'name', an evasion class, 'context'). `negatives` are lines with no
 * identifier at all (lab values, reference ranges, LOINC and ICD-10 codes, doses, times).
 */
import { seededRandom } from '../../../packages/core/dist/testing.js';


const GIVEN = [
  'Adaeze', 'Aiko', 'Alejandro', 'Amara', 'Anders', 'Anneliese', 'Arjun', 'Aurélie', 'Bartholomew', 'Beatriz',
  'Bogdan', 'Callum', 'Carmen', 'Chidi', 'Colette', 'Dagny', 'Darnell', 'Delphine', 'Dmitri', 'Eamon',
  'Efua', 'Elif', 'Emeka', 'Esperanza', 'Fatima', 'Felipe', 'Fiona', 'Gareth', 'Giulia', 'Gwendolyn',
  'Hamid', 'Hana', 'Harriet', 'Hyun', 'Ignacio', 'Imani', 'Inés', 'Ingrid', 'Isaac', 'Jamal', 'Javier',
  'Jiyoon', 'Joaquín', 'Josephine', 'Kalani', 'Katarzyna', 'Kwame', 'Laila', 'Leonora', 'Lorenzo', 'Lucía',
  'Magnus', 'Malik', 'Margarethe', 'Mateo', 'Mehmet', 'Mirela', 'Nadia', 'Nikolai', 'Noor', 'Oksana',
  'Oluwaseun', 'Orla', 'Pablo', 'Priya', 'Radu', 'Rafael', 'Rania', 'Rosalind', 'Rukmini', 'Saoirse',
  'Sebastián', 'Shirin', 'Siobhan', 'Soren', 'Sunita', 'Tadeusz', 'Tamsin', 'Teodora', 'Thandiwe', 'Tomasz',
  'Uriel', 'Valentina', 'Wilhelmina', 'Xiomara', 'Yaw', 'Yusuf', 'Zainab', 'Zofia', 'Agnes', 'Bernard',
  'Clarence', 'Dolores', 'Eleanor', 'Franklin', 'Gertrude', 'Harold', 'Irene', 'Leonard', 'Mildred', 'Norman',
  'Phyllis', 'Raymond', 'Shirley', 'Theodore', 'Vernon', 'Walter', 'Brianna', 'Caleb', 'Destiny', 'Ethan',
  'Jasmine', 'Kayla', 'Logan', 'Mackenzie', 'Nathaniel', 'Olivia', 'Trevor', 'Whitney',
];
const FAMILY = [
  'Abernathy', 'Achebe', 'Alvarez', 'Andersson', 'Bachmann', 'Banerjee', 'Bianchi', 'Blackwood', 'Boateng', 'Brennan',
  'Castellanos', 'Chowdhury', 'Ciobanu', 'Dąbrowski', 'Delacroix', 'Dimitrov', 'Dubois', 'Eriksen', 'Esposito', 'Fairbanks',
  'Fitzgerald', 'Gallagher', 'Giménez', 'Gonçalves', 'Haddad', 'Hallström', 'Hernández', 'Holloway', 'Ibarra', 'Ivanova',
  'Jankowski', 'Kowalczyk', 'Kuznetsov', 'Larsson', 'Lindqvist', 'Llewellyn', 'Lombardi', 'MacAllister', 'Mahmoud', 'Marchetti',
  'McCarthy', 'Moreau', 'Müller', 'Nakamura', 'Nwosu', 'Okafor', "O'Sullivan", 'Ostrowski', 'Papadopoulos', 'Peñalver',
  'Petrenko', 'Quintero', 'Radcliffe', 'Ramírez', 'Rasmussen', 'Rodríguez', 'Saltonstall', 'Schäfer', 'Şahin', 'Silva',
  'Sokolova', 'Sørensen', 'Tanaka', 'Thornbury', 'Trần', 'Uçar', 'Vasquez', 'Villanueva', 'Wainwright', 'Wójcik',
  'Yamamoto', 'Yilmaz', 'Zielińska', 'Zhou', 'Whitcombe', 'Pemberton', 'Harrington', 'Kensington', 'Ashdown', 'Underhill',
  'Smith-Laurent', 'Ortega-Ruiz', 'Nguyen', 'Kim', 'Patel', 'Cohen', 'Goldberg', 'Murphy', 'Wilson', 'Turner',
];
const PARTICLE_NAMES = ['van der Berg', 'de la Cruz', 'bin Rashid', 'van Dijk', 'de Souza', 'da Silva', 'al-Amin', 'von Trapp'];
const DOMAINS = ['example.org', 'mailbox.net', 'post.example.com', 'clinic-mail.org', 'inbox.io', 'famnet.us'];
const TITLES = ['Dr.', 'Mr.', 'Mrs.', 'Ms.', 'Dr'];
const STREETS = ['Juniper', 'Wexford', 'Old Mill', 'Harbor View', 'Saltmarsh', 'Quarry', 'Beacon Hill', 'Tamarack', 'Lindenwood', 'Crescent'];

/** Builds the set. */
export function generateIndependentSet(seed = 20261207) {
  const r = seededRandom(seed);
  const pick = (xs) => xs[Math.floor(r() * xs.length)];
  const int = (lo, hi) => lo + Math.floor(r() * (hi - lo + 1));
  const pad = (n, w) => String(n).padStart(w, '0');
  const digits = (n) => Array.from({ length: n }, () => int(0, 9)).join('');

  const luhnDigit = (body) => {
    let sum = 0;
    for (let i = 0; i < body.length; i++) {
      let d = Number(body[body.length - 1 - i]);
      if (i % 2 === 0) {
        d *= 2;
        if (d > 9) d -= 9;
      }
      sum += d;
    }
    return String((10 - (sum % 10)) % 10);
  };
  const ssn = () => {
    let a;
    do a = int(1, 899);
    while (a === 666);
    return [pad(a, 3), pad(int(1, 99), 2), pad(int(1, 9999), 4)];
  };
  const card = () => {
    const kind = int(0, 2);
    const prefix = kind === 0 ? '4' : kind === 1 ? String(int(51, 55)) : pick(['34', '37']);
    const len = kind === 2 ? 15 : 16;
    const body = prefix + digits(len - 1 - prefix.length);
    return body + luhnDigit(body);
  };
  const phone = () => [String(int(2, 9)) + digits(2), String(int(2, 9)) + digits(2), digits(4)];
  const npi = () => {
    const body = String(int(1, 2)) + digits(8);
    return body + luhnDigit('80840' + body);
  };
  const dea = () => {
    const d = Array.from({ length: 6 }, () => int(0, 9));
    const check = (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10;
    return pick(['A', 'B', 'F', 'M']) + pick(['K', 'R', 'W', 'H']) + d.join('') + check;
  };
  const VIN_CHARS = 'ABCDEFGHJKLMNPRSTUVWXYZ0123456789';
  const vinValue = (c) => (c <= '9' ? Number(c) : 'ABCDEFGH'.includes(c) ? c.charCodeAt(0) - 64 : 'JKLMN'.includes(c) ? c.charCodeAt(0) - 73 : c === 'P' ? 7 : c === 'R' ? 9 : c.charCodeAt(0) - 81);
  const vin = () => {
    const w = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2];
    const chars = Array.from({ length: 17 }, (_, i) => (i >= 11 ? String(int(0, 9)) : pick([...VIN_CHARS])));
    chars[8] = '0';
    const sum = chars.reduce((n, c, i) => n + vinValue(c) * w[i], 0) % 11;
    chars[8] = sum === 10 ? 'X' : String(sum);
    return chars.join('');
  };
  const given = () => pick(GIVEN);
  const family = () => pick(FAMILY);
  const fullName = () => (r() < 0.12 ? `${given()} ${pick(PARTICLE_NAMES)}` : r() < 0.15 ? `${given()} ${String.fromCharCode(int(65, 90))}. ${family()}` : `${given()} ${family()}`);
  const localOf = (name) =>
    name
      .normalize('NFD')
      .replace(/[^A-Za-z ]/g, '')
      .toLowerCase()
      .split(' ')
      .filter(Boolean)
      .join(pick(['.', '_', '']))
      .slice(0, 24) + (r() < 0.4 ? String(int(1, 99)) : '');
  const month = (m) => ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'][m - 1];
  const mon3 = (m) => ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'][m - 1];

  const docs = [];
  /** A document from pieces: strings are plain text, [type, value, cls] are entities. */
  const doc = (kind, ...pieces) => {
    let text = '';
    const labels = [];
    for (const p of pieces) {
      if (typeof p === 'string') text += p;
      else {
        const start = text.length;
        text += p[1];
        labels.push({ type: p[0], start, end: text.length, text: p[1], cls: p[2] ?? 'plain' });
      }
    }
    docs.push({ kind, text, labels });
  };

  // --- Names: prose, headers, signatures, FHIR, HL7, portal messages in lower case.
  for (let k = 0; k < 60; k++) {
    const n1 = fullName();
    const n2 = fullName();
    const t = int(0, 11);
    if (t === 0) doc('note', `Discussed the plan with `, ['PERSON_NAME', n1, 'name'], ` and her son at the bedside; both agree with discharge.`);
    else if (t === 1) doc('email', `From: "`, ['PERSON_NAME', n1, 'name'], `" <`, ['EMAIL', `${localOf(n1)}@${pick(DOMAINS)}`], `>\nTo: `, ['PERSON_NAME', n2, 'name'], ` <`, ['EMAIL', `${localOf(n2)}@${pick(DOMAINS)}`], `>\nSubject: follow-up`);
    else if (t === 2) doc('letter', `Thank you for seeing this patient.\n\nWarm regards,\n`, ['PERSON_NAME', n1, 'name'], `\nCare Navigator, Cardiology`);
    else if (t === 3) {
      const g = given();
      const f = family();
      doc('fhir', `{"resourceType":"Patient","name":[{"family":"`, ['PERSON_NAME', f, 'name'], `","given":["`, ['PERSON_NAME', g, 'name'], `"]}],"gender":"female"}`);
    } else if (t === 4) {
      const g = given().toUpperCase();
      const f = family().toUpperCase();
      doc('hl7', `MSH|^~\\&|LAB|HOSP|||202401021200||ADT^A01|MSG${digits(5)}|P|2.5\rPID|1||`, ['MRN', String(int(1, 9)) + digits(6)], `^^^HOSP^MR||`, ['PERSON_NAME', `${f}^${g}`, 'name'], `||`, ['DATE', `19${int(40, 99)}${pad(int(1, 12), 2)}${pad(int(1, 28), 2)}`], `|F`);
    } else if (t === 5) {
      const g = given().toLowerCase();
      doc('portal', `hi this is `, ['PERSON_NAME', g, 'name'], `, my blood sugar was high again this morning, should i take more insulin?`);
    } else if (t === 6) doc('note', `Patient was accompanied by `, ['PERSON_NAME', n1, 'name'], `, who holds health care proxy.`);
    else if (t === 7) doc('note', `${pick(TITLES)} `, ['PERSON_NAME', family(), 'name'], ` reviewed the imaging and recommends MRI of the lumbar spine.`);
    else if (t === 8) doc('note', `Called `, ['PERSON_NAME', n1, 'name'], ` to go over the biopsy results; questions answered.`);
    else if (t === 9) doc('referral', `Referring provider: `, ['PERSON_NAME', n1, 'name'], `, MD\nReason: evaluation of chronic cough.`);
    else if (t === 10) doc('note', `Left voicemail for `, ['PERSON_NAME', n1, 'name'], ` regarding the missed appointment.`);
    else doc('portal', `i am `, ['PERSON_NAME', `${given().toLowerCase()} ${family().toLowerCase()}`, 'name'], ` and i need a refill of my inhaler please`);
  }
  // Eponyms and clinical words that look like names: nothing to find.
  const eponymLines = [
    'History of Parkinson disease, on carbidopa-levodopa.',
    'Crohn disease in remission on infliximab.',
    'Graves disease s/p radioactive iodine ablation.',
    'Hodgkin lymphoma treated with ABVD in 2009.',
    'Bell palsy on the left, improving.',
    'Positive Murphy sign; ultrasound ordered.',
    'Wilson disease screening: ceruloplasmin pending.',
    'Down syndrome with AV canal repair as an infant.',
    'Glasgow Coma Scale 15. Braden score 18.',
    'Cultures grew Staphylococcus aureus and Candida albicans.',
    'Transferred to Massachusetts General Hospital for ECMO.',
    'Cushing syndrome workup: late-night salivary cortisol elevated.',
  ];
  for (const l of eponymLines) doc('negative-names', l);

  // --- Evasions, one class at a time, each with its label cue.
  const INVISIBLE = ['\u200e', '\u200f', '\u202a', '\u202c', '\u2066', '\u2069', '\u2062', '\u2063', '\u034f', '\ufe0f', '\u{e0041}', '\u200b', '\u2060', '\u00ad'];
  const ZEROS = [0x0660, 0x06f0, 0x0966, 0x09e6, 0xff10, 0x0ae6, 0x0e50];
  const foreign = (s, z) => s.replace(/[0-9]/g, (d) => String.fromCodePoint(z + Number(d)));
  const sprinkle = (s) => [...s].map((ch, i) => (i > 0 && r() < 0.35 ? pick(INVISIBLE) : '') + ch).join('');
  const ENT = { '-': ['&#45;', '&#x2D;', '&hyphen;'], '@': ['&#64;', '&#x40;', '&commat;'], '.': ['&#46;', '&#x2e;', '&period;'], ' ': ['&#32;', '&nbsp;'] };
  const entities = (s) => s.replace(/[-@. ]/g, (c) => pick(ENT[c]));
  const WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];
  const CUE = { SSN: ['SSN ', 'social security no. ', 'SS# '], PHONE: ['phone ', 'call me at ', 'cell: '], CREDIT_CARD: ['card ', 'Visa ', 'paid with card '], EMAIL: ['email ', 'write to ', 'e-mail: '] };
  const value = (type) => {
    if (type === 'SSN') return ssn();
    if (type === 'PHONE') return phone();
    if (type === 'CREDIT_CARD') {
      const c = card();
      return c.length === 15 ? [c.slice(0, 4), c.slice(4, 10), c.slice(10)] : [c.slice(0, 4), c.slice(4, 8), c.slice(8, 12), c.slice(12)];
    }
    return undefined;
  };
  const evasion = (cls, make) => {
    for (let k = 0; k < 14; k++) {
      const type = pick(['SSN', 'PHONE', 'CREDIT_CARD']);
      const v = make(value(type), type);
      if (v === undefined) continue;
      doc('evasion', pick(CUE[type]), [type, v, cls], pick(['.', ' on file.', ', thanks', '']));
    }
  };
  evasion('invisible', (g) => sprinkle(g.join('-')));
  evasion('foreign-digits', (g) => foreign(g.join(pick(['-', ' '])), pick(ZEROS)));
  evasion('html-entities', (g) => entities(g.join(pick(['-', ' ']))));
  evasion('line-break', (g) => {
    const sep = pick(['-', ' ']);
    const at = int(1, g.length - 1);
    return g.slice(0, at).join(sep) + (sep === '-' && r() < 0.5 ? '-' : '') + pick(['\n', '\r\n', '\n    ', '\n\t']) + g.slice(at).join(sep);
  });
  evasion('spaced-digits', (g) => g.join('').split('').join(' '));
  evasion('mixed-separators', (g, type) => {
    const seps = type === 'SSN' ? ['/', '_', '.', '-', ' '] : type === 'PHONE' ? ['.', '-', ' '] : ['-', ' ', '.'];
    let out = g[0];
    let first = pick(seps);
    for (let i = 1; i < g.length; i++) {
      let sp = pick(seps);
      if (i === 2 && sp === first) sp = seps[(seps.indexOf(first) + 1) % seps.length];
      out += (i === 1 ? first : sp) + g[i];
    }
    return out;
  });
  evasion('digit-words', (g) => g.map((x) => x.split('').map((d) => WORDS[Number(d)]).join(' ')).join(pick([', ', ' - ', ' '])));
  evasion('letter-o', (g) => {
    const s = g.join('-');
    if (!s.includes('0')) return undefined;
    return s.replace(/0/g, () => (r() < 0.7 ? 'O' : '0'));
  });
  for (let k = 0; k < 30; k++) {
    const n = `${given()} ${family()}`;
    const [user, ...rest] = localOf(n).split(/[._]/);
    const local = [user, ...rest].filter(Boolean);
    const dom = pick(DOMAINS).split('.');
    const t = k % 6;
    let v;
    if (t === 0) v = `${local.join(' dot ')} at ${dom.join(' dot ')}`;
    else if (t === 1) v = `${local.join('.')} (at) ${dom.join(' (dot) ')}`;
    else if (t === 2) v = `${local.join('.')}{at}${dom.join('.')}`;
    else if (t === 3) v = `${local.join('.')} [at] ${dom.join(' [dot] ')}`;
    else if (t === 4) v = `${local.join(' DOT ').toUpperCase()} AT ${dom.join(' DOT ').toUpperCase()}`;
    else v = `${local.join('.')}&#64;${dom.join('&#46;')}`;
    doc('evasion', pick(CUE.EMAIL), ['EMAIL', v, 'spelled-email'], pick(['', ' if you have questions.', '.']));
  }
  for (let k = 0; k < 10; k++) {
    const e = `${localOf(fullName())}@${pick(DOMAINS)}`;
    const at = int(2, e.length - 2);
    doc('evasion', pick(CUE.EMAIL), ['EMAIL', e.slice(0, at) + pick(['\n', '\r\n', '\n   ']) + e.slice(at), 'line-break']);
  }

  // --- Context-bound identifiers behind labels, keys and formats.
  const ctx = (type, label, v, tail = '') => doc('context', label, [type, v, 'context'], tail);
  for (let k = 0; k < 8; k++) {
    const [ml, mt] = pick([['patientId=', '&visit=2'], ['Pt ID: ', ''], ['Patient ID #: ', ' (verified)'], ['MRN ', '.'], ['{"patientId": "', '"}'], ['<patientId>', '</patientId>']]);
    ctx('MRN', ml, String(int(1, 9)) + digits(int(6, 9)), mt);
    const [hl, ht] = pick([['{"insuranceId": "', '"}'], ['Health Plan Member No. ', '.'], ['member number ', ''], ['Member ID: ', ' (primary)'], ['insuranceId=', '&plan=ppo']]);
    ctx('HEALTH_PLAN_ID', hl, pick(['W', 'XK', 'H', 'ZG']) + digits(int(8, 10)), ht);
    ctx('ACCOUNT_NUMBER', pick(['HAR ', 'HAR: ', 'Account #', 'acct no. ']), digits(int(7, 10)));
    ctx('LICENSE_NUMBER', pick(['State ID: ', "Driver's license ", 'state ID # ', 'DL ']), pick(['S', 'D', 'K']) + digits(8));
    ctx('VEHICLE_ID', pick(['License plate: ', 'tag ', 'Plate # ', 'licence plate ']), pick([`${int(1, 9)}${String.fromCharCode(int(65, 90), int(65, 90), int(65, 90))}${digits(3)}`, `${String.fromCharCode(int(65, 90), int(65, 90), int(65, 90))}-${digits(4)}`]), pick(['', ' in the garage', '.']));
    ctx('DEVICE_ID', pick(['UDI: ', 'Implant ', 'Device UDI ']), `(01)${digits(14)}(17)${pad(int(24, 30), 2)}${pad(int(1, 12), 2)}${pad(int(1, 28), 2)}(21)${pick(['SN', 'A', ''])}${digits(6)}`);
    const m = int(1, 12);
    const d = int(1, 28);
    ctx('DATE', pick(['seen ', 'DOS ', 'admitted ', 'appointment ', 'last visit ']), `${m}/${d}`, pick([' for follow-up', '.', '']));
    ctx('DATE', pick(['admitted ', 'DOB ', 'collected ', 'Date: ']), `${pad(d, 2)}${mon3(m)}${int(1930, 2024)}`);
    ctx('PHONE', pick(['call ', 'reach me at ', 'phone ']), `+1${String(int(2, 9))}${digits(2)}${String(int(2, 9))}${digits(6)}`);
    ctx('PHONE', pick(['tel ', 'phone: ']), `${String(int(2, 9))}${digits(2)}${String(int(2, 9))}${digits(6)}`, pick([' ext 21', ' x114', ' ext. 3302']));
  }
  // --- Formatted identifiers in prose (the easy case, for the micro average).
  for (let k = 0; k < 25; k++) {
    const g = ssn();
    const p = phone();
    const m = int(1, 12);
    doc(
      'note',
      `${pick(TITLES)} `,
      ['PERSON_NAME', family(), 'name'],
      ` saw the patient on `,
      ['DATE', `${month(m)} ${int(1, 28)}, ${int(2019, 2025)}`],
      `. SSN `,
      ['SSN', g.join('-')],
      `, callback `,
      ['PHONE', `(${p[0]}) ${p[1]}-${p[2]}`],
      `, NPI `,
      ['NPI', npi()],
      `, DEA `,
      ['DEA_NUMBER', dea()],
      `. Paid with `,
      ['CREDIT_CARD', card()],
      `; portal login from `,
      ['IP_ADDRESS', `${int(11, 223)}.${int(0, 255)}.${int(0, 255)}.${int(1, 254)}`],
      `. Now `,
      ['AGE_OVER_89', `${int(90, 104)}-year-old`],
      `, lives at `,
      ['STREET_ADDRESS', `${int(2, 9800)} ${pick(STREETS)} ${pick(['Street', 'Avenue', 'Road', 'Lane', 'Blvd', 'Drive'])}`],
      `, ${pick(['Springfield, IL', 'Tacoma, WA', 'Duluth, MN', 'Macon, GA', 'Reno, NV'])} `,
      ['ZIP_CODE', pad(int(10000, 99950), 5)],
      `. Fax: `,
      ['FAX', `${p[0]}-${phone()[1]}-${p[2]}`],
      `. Photos at `,
      ['URL', `https://share.${pick(DOMAINS)}/p/${digits(6)}`],
      `; car VIN `,
      ['VEHICLE_ID', vin()],
      `, account no. `,
      ['ACCOUNT_NUMBER', digits(9)],
      `, license # `,
      ['LICENSE_NUMBER', `${pick(['S', 'M', 'T'])}${digits(7)}`],
      `, MRN `,
      ['MRN', digits(8)],
      `, member ID `,
      ['HEALTH_PLAN_ID', `${pick(['YH', 'QW', 'B'])}${digits(9)}`],
      `, device serial `,
      ['DEVICE_ID', `${pick(['PX', 'SN', 'K'])}${digits(8)}`],
      `, e-mail `,
      ['EMAIL', `${localOf(fullName())}@${pick(DOMAINS)}`],
      `.`,
    );
  }
  // --- Short JSON string values (10-200 characters): mostly clean, some with one identifier.
  const shorts = [];
  const CLEAN_SHORT = [
    'final', 'active', 'Blood pressure systolic', 'mmol/L', 'Hemoglobin A1c/Hemoglobin.total in Blood', 'amended',
    'Take 1 tablet by mouth twice daily with food', 'laboratory', 'Comprehensive metabolic panel', 'routine',
    'Patient tolerated the procedure well without complications.', 'http://loinc.org', 'Normal sinus rhythm',
    'No acute cardiopulmonary process.', 'E11.9', '4548-4', '2024-03-15T08:30:00Z', 'in-progress', 'outpatient',
    'Left knee pain, worse with stairs, improved with ice and rest.', 'urn:uuid:0e9c1b4e-52d3-4f7a-9c1e-3b2a1d6f8e90',
  ];
  for (let k = 0; k < 400; k++) {
    if (r() < 0.8) shorts.push({ text: pick(CLEAN_SHORT), labels: [] });
    else {
      const d0 = docs[int(0, docs.length - 1)];
      if (d0.text.length >= 10 && d0.text.length <= 200) shorts.push(d0);
      else shorts.push({ text: pick(CLEAN_SHORT), labels: [] });
    }
  }

  const negatives = [];
  for (let k = 0; k < 120; k++) {
    const t = k % 10;
    if (t === 0) negatives.push(`Sodium ${int(128, 148)} mmol/L (ref 135-145)`);
    else if (t === 1) negatives.push(`LOINC ${int(1000, 99999)}-${int(0, 9)} Glucose [Mass/volume] in Serum or Plasma`);
    else if (t === 2) negatives.push(`Dx: ${pick(['E11.9', 'I10', 'J45.909', 'N18.3', 'M54.5', 'K21.9', 'F41.1', 'Z79.4', 'E78.5', 'I48.91'])} ${pick(['Type 2 diabetes', 'Hypertension', 'Asthma', 'CKD stage 3', 'Low back pain'])}`);
    else if (t === 3) negatives.push(`WBC ${int(3, 15)}.${int(0, 9)} x10^3/uL, Hgb ${int(8, 17)}.${int(0, 9)} g/dL, Plt ${int(100, 450)} x10^3/uL`);
    else if (t === 4) negatives.push(`BP ${int(95, 180)}/${int(55, 110)}, HR ${int(50, 120)}, RR ${int(12, 24)}, SpO2 ${int(88, 100)}% on RA`);
    else if (t === 5) negatives.push(`Metoprolol ${pick([12.5, 25, 50, 100])} mg PO BID; lisinopril ${pick([5, 10, 20, 40])} mg daily`);
    else if (t === 6) negatives.push(`Reference range ${int(1, 9)}.${int(0, 9)}-${int(10, 20)}.${int(0, 9)} ng/mL; result ${int(1, 30)}.${int(0, 99)}`);
    else if (t === 7) negatives.push(`CPT ${int(10000, 99999)}, HCPCS J${int(1000, 9999)}, SNOMED ${int(100000000, 999999999)}`);
    else if (t === 8) negatives.push(`INR ${int(1, 3)}.${int(0, 9)}; PT ${int(11, 30)}.${int(0, 9)} s; aPTT ${int(25, 45)} s at 0${int(6, 9)}:${int(10, 59)}`);
    else negatives.push(`eGFR ${int(15, 110)} mL/min/1.73m2; creatinine ${int(0, 4)}.${int(10, 99)} mg/dL; A1c ${int(5, 12)}.${int(0, 9)}%`);
  }
  return { docs, shorts, negatives };
}
