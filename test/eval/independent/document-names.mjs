/**
 * Set 6: person names in whole document skeletons (measured only).
 *
 * Unlike set 3 (one-line templates crossed with name lists) and set 5 (single hand-written
 * passages), each skeleton below is a whole document written by hand the way it arrives in an
 * API: a referral letter with its letterhead, salutation, cc list and signature; a discharge
 * summary; an e-mail thread with display names in its headers and quoted replies; a lower-case
 * portal thread; HL7 v2 messages; FHIR resources; nursing notes in running prose; sign-out lists.
 * The same person is written several ways in one document (full name, family name after a title,
 * given name alone, capitals, lower case, initial), as real documents do. Hard negatives stand in
 * the same documents (eponyms, drugs, organisms, facilities, departments, credential
 * boilerplate, capitalised clinical words at the start of sentences) and in skeletons of their
 * own; any PERSON_NAME finding that overlaps no label is a false positive.
 *
 * The persons are composed here by hand (given and family names of many origins, not taken from
 * the scanner's lexicon files nor from a test-data generator; some are common all the same).
 *
 * Split, fixed before anything was measured: a skeleton is in the development half or the
 * held-out half by a seeded hash of its id, and so is a person (by a hash of their name); a
 * skeleton's instances draw only persons of their own half, so the held-out half has neither
 * documents nor names the development half has. The held-out half is measured, never read for
 * misses (the report does not list them).
 *
 * Slots: `[[A.form|place]]` where A..D are the document's persons and form is one of
 *   full  'Given Family'      g  given name      f  family name     F  FAMILY (capitals)
 *   G     GIVEN (capitals)    i  'G. Family'     lf 'given family' (lower case, no accents)
 *   lg    'given' (lower case, no accents)       inv 'Family, Given'
 *   hl7   'FAMILY^GIVEN' (capitals, no accents)   up  'GIVEN FAMILY' (capitals)
 *   mail  the local part of an e-mail address (not a label: it is the EMAIL's)
 * `place` is the class the report groups recall by.
 */

/** FNV-1a, 32 bits, over a seed and a string. */
function hash(seed, s) {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
const SPLIT_SEED = 20261208;
const halfOf = (key) => (hash(SPLIT_SEED, key) & 1 ? 'heldout' : 'dev');

// Persons: 'Given|Family' (written 'Given Family'), or 'Family|Given|e' for family-first order.
const PERSONS = [
  // Spanish, Basque, Mexican, Caribbean
  'Ximena|Arredondo', 'Rodrigo|Zamudio', 'Maite|Urrutikoetxea', 'Leticia|Oñate', 'Efraín|Cisneros-Ledesma',
  'Guadalupe|Iribarren', 'Encarnación|Bolaños', 'Yadira|Céspedes', 'Abelardo|Núñez', 'Xiomara|Betancourt',
  // Portuguese, Brazilian
  'Gonçalo|Assunção', 'Thaís|Damasceno', 'Sebastião|Quaresma',
  // Slavic, Baltic
  'Przemysław|Kędzierski', 'Bożena|Ślusarczyk', 'Jarosław|Wróbel', 'Svetozar|Milošević', 'Dagmar|Procházková',
  'Radoslav|Hrušovský', 'Yevheniia|Bondarchuk', 'Anatoliy|Hrytsenko', 'Milena|Stojković', 'Žaneta|Kalniņa',
  // Romanian, Turkish, Hungarian
  'Ştefan|Bălănescu', 'Ioana|Mureşan', 'Ayşegül|Kılıçarslan', 'Şükrü|Doğan', 'Oğuz|Çelik', 'Réka|Szőllősi',
  // Vietnamese (family first), and as written in US records
  'Lê|Văn Hùng|e', 'Đặng|Thu Trang|e', 'Huỳnh|Ngọc Ánh|e', 'Khoa|Vo', 'Thuy|Dang', 'Phuong|Truong',
  // Arabic, Persian, Berber
  'Abdulrahman|Al-Qahtani', 'Noor|El-Sayed', 'Rania|Haddad', 'Tariq|Bouazizi', 'Hamza|Abu-Ghazaleh',
  'Shirin|Farahani', 'Mehdi|Ait Lahcen', 'Yasmin|Darwish',
  // Igbo, Yoruba, Akan, Zulu, Wolof
  'Chukwuemeka|Nwosu', 'Adaeze|Okafor-Eze', 'Ifeanyi|Onyekachi', 'Nneka|Obiora', 'Chidinma|Uzoma',
  'Obiageli|Anyanwu', 'Yetunde|Adebisi', 'Kwabena|Owusu-Ansah', 'Thandeka|Mahlangu', 'Amadou|Diallo',
  // Irish, Scottish
  "Siobhán|O'Halloran", 'Pádraig|Mac Giolla', 'Eoghan|McGonagle', 'Caoimhe|Ní Dhomhnaill', "Declan|O'Rourke-Flynn",
  'Gráinne|McAuliffe', 'Ruairí|MacNeacail',
  // Dutch, German, Scandinavian (particles, ß, ø)
  'Joost|van der Wiel', 'Anneke|de Groot', 'Friedrich|von Stauffen', 'Henk|ten Brink', 'Sieglinde|Müller-Brandt',
  'Marijke|van den Heuvel', 'Søren|Kjærgaard', 'Øyvind|Thorsrud', 'Dörte|Weißflog', 'Liesbeth|Vandenbroucke',
  // French, Italian (hyphenated given names)
  'Anne-Sophie|Duval-Ménard', 'Jean-Baptiste|Koffi', 'Zoë|Lefébure', 'Maël|Quéré', 'Ottavio|Bellandi', 'Carmela|Sciortino',
  // South and East Asian
  'Ravindra|Kothapalli', 'Meenakshi|Sundararajan', 'Gurpreet|Dhillon', 'Hyun-woo|Baek', 'Jia Hui|Teo',
  'Kenji|Matsumura', 'Mei-Ling|Tsao', 'Anh|Lưu',
  // US, older and newer, names that are also words
  'Delbert|Haskins', 'Rhonda|Gaither', 'Wilbur|Stroud', 'LaShonda|Merriweather', 'DeShawn|Tillery',
  'Bobbie Jo|Crenshaw', 'Cletus|Varnum', 'Skyler|Braddock', 'Faith|Carpenter', 'Dawn|Rivers', 'Grant|Fairbanks',
  'Mary-Kate|Abernathy-Sloan', 'Tavish|Yoder',
];

function person(entry) {
  const [a, b, order] = entry.split('|');
  const eastern = order === 'e';
  const given = eastern ? b : a;
  const family = eastern ? a : b;
  const full = eastern ? `${family} ${given}` : `${given} ${family}`;
  return { key: entry, given, family, full, eastern };
}
const ascii = (s) =>
  s.replace(/[łŁ]/g, (c) => (c === 'ł' ? 'l' : 'L')).replace(/ı/g, 'i').replace(/[øØ]/g, (c) => (c === 'ø' ? 'o' : 'O'))
    .replace(/ß/g, 'ss').replace(/[đĐ]/g, (c) => (c === 'đ' ? 'd' : 'D')).replace(/æ/g, 'ae')
    .normalize('NFD').replace(/\p{M}/gu, '');

function form(p, f) {
  const g1 = p.given;
  switch (f) {
    case 'full': return p.full;
    case 'g': return g1;
    case 'f': return p.family;
    case 'F': return p.family.toUpperCase();
    case 'G': return g1.toUpperCase();
    case 'up': return p.full.toUpperCase();
    case 'i': return `${g1[0]}. ${p.family}`;
    case 'lf': return ascii(p.full).toLowerCase();
    case 'lg': return ascii(g1).toLowerCase();
    case 'inv': return `${p.family}, ${g1}`;
    case 'hl7': return `${ascii(p.family).toUpperCase()}^${ascii(g1).toUpperCase().replace(/ /g, ' ')}`;
    case 'mail': return ascii(p.full).toLowerCase().replace(/[^a-z]+/g, '.').replace(/^\.|\.$/g, '');
    default: throw new Error(`unknown form ${f}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Skeletons. Each is written whole; `n` is how many instances (different persons) it gets.
const SKELETONS = [
  {
    id: 'referral-letter-cardiology',
    n: 3,
    text: `Northfield Heart Associates
2200 Commerce Parkway, Suite 310

March 4

Dear Dr. [[A.f|salutation]],

Thank you for seeing [[B.full|letter-body]], a pleasant gentleman with Parkinson disease and
paroxysmal atrial fibrillation, now on Eliquis. Mr. [[B.f|title]] reports palpitations on
exertion. Holter monitor showed runs of SVT. Echocardiogram was unremarkable.

I would be grateful for your opinion on ablation. His daughter [[C.full|relation]] accompanies him to visits.

Sincerely,

[[D.full|signature-cred]], MD
Internal Medicine

cc: [[C.full|cc-list]]; Medical Records`,
  },
  {
    id: 'referral-letter-no-credential',
    n: 3,
    text: `Re: [[A.full|label]]

Dear [[B.full|salutation]],

I am writing on behalf of my mother, who has Graves disease and was treated at MD Anderson
last year. She has had trouble getting her thyroid results sent over from Mount Sinai.

Could you forward them to the clinic? Physical Therapy has asked for them too.

Kind regards,
[[C.full|signature]]`,
  },
  {
    id: 'discharge-summary',
    n: 3,
    text: `DISCHARGE SUMMARY

Patient: [[A.inv|label]]
Attending: [[B.i|label]], MD
Admitted: 01/12   Discharged: 01/17

Hospital course: [[A.g|discharge-prose]] is a 58-year-old with Crohn disease admitted with a partial
small bowel obstruction. Managed conservatively with NG decompression. Tolerating diet by day 4.
Infliximab held pending infectious workup; stool negative for Clostridioides difficile.

Disposition: home with her husband, [[C.full|relation]]. Follow up with Dr. [[B.f|title]] in two weeks
and with Wound Care as needed.

Dictated by [[D.full|cue]], PA-C`,
  },
  {
    id: 'email-thread-display-names',
    n: 3,
    text: `From: "[[A.full|email-display]]" <[[A.mail|x]]@fastmail.example>
To: "[[B.full|email-display]]" <frontdesk@clinic.example>
Cc: [[C.full|email-display]] <[[C.mail|x]]@clinic.example>
Subject: Re: MRI results

Hi, thanks for calling me back yesterday. Can I move the MRI to Thursday?

On Tue, [[B.full|email-quote]] wrote:
> Your MRI is booked for Wednesday at 9.
> Radiology asks that you arrive 30 minutes early.`,
  },
  {
    id: 'email-header-inverted',
    n: 2,
    text: `From: [[A.inv|email-display]] <[[A.mail|x]]@health.example>
Sent: Monday 8:14 AM
To: Scheduling
Subject: FMLA paperwork

Please see attached. Bell's palsy is improving and I can return to work next week.

[[A.full|signature]]`,
  },
  {
    id: 'portal-thread-lowercase',
    n: 3,
    text: `hi its [[A.lg|portal]] again. my husband [[B.lf|portal-relation]] has had a fever since sunday and the
tylenol isnt helping. can someone call me back

-- reply --
Hi [[A.g|salutation]], I'm sorry to hear that. Please bring him in today. Urgent Care is open until 8.
[[C.full|signature]], RN

-- reply --
ok thank you. this is [[A.lf|portal]], we will be there at 5`,
  },
  {
    id: 'portal-message-signed',
    n: 3,
    text: `i've been getting headaches every morning since the new blood pressure pill. is that
normal? my sister said amlodipine did that to her too.
thanks
[[A.lf|portal-sig]]`,
  },
  {
    id: 'hl7-adt',
    n: 3,
    text: `MSH|^~\\&|EPIC|NFH|LAB|NFH|20240312083000||ADT^A04|MSG00031|P|2.5
PID|1||448120^^^NFH^MR||[[A.hl7|hl7-pid]]^^^||19620314|F|||18 Elm St^^Dover^NH^03820
NK1|1|[[B.hl7|hl7-nk1]]|SPO^Spouse|||
PV1|1|O|CARD^201^1|||||[[C.hl7|hl7-pv1]]`,
  },
  {
    id: 'hl7-oru',
    n: 2,
    text: `MSH|^~\\&|LAB|NFH|EHR|NFH|20240313110000||ORU^R01|MSG00112|P|2.5
PID|1||513377^^^NFH^MR||[[A.hl7|hl7-pid]]||19790402|M
OBR|1|||57021-8^CBC W Auto Differential^LN|||20240313
OBX|1|NM|718-7^Hemoglobin^LN||13.2|g/dL|13.5-17.5|L
NTE|1||Called to [[B.full|hl7-note]] at 11:02, read back.`,
  },
  {
    id: 'fhir-patient',
    n: 3,
    text: `{
  "resourceType": "Patient",
  "id": "pt-77120",
  "name": [
    { "use": "official", "family": "[[A.f|fhir]]", "given": ["[[A.g|fhir]]"] }
  ],
  "contact": [
    { "relationship": [{ "text": "Mother" }],
      "name": { "text": "[[B.full|fhir]]" } }
  ],
  "generalPractitioner": [{ "display": "Dr. [[C.full|fhir]]" }],
  "managingOrganization": { "display": "Cleveland Clinic" }
}`,
  },
  {
    id: 'fhir-practitioner-and-condition',
    n: 2,
    text: `{"resourceType":"Bundle","entry":[
{"resource":{"resourceType":"Practitioner","name":[{"prefix":["Dr."],"given":["[[A.g|fhir]]"],"family":"[[A.f|fhir]]"}]}},
{"resource":{"resourceType":"Condition","code":{"text":"Hodgkin lymphoma"},"recorder":{"display":"[[A.full|fhir]]"}}},
{"resource":{"resourceType":"Medication","code":{"text":"Humira 40 mg pen"}}}
]}`,
  },
  {
    id: 'nursing-note-prose',
    n: 3,
    text: `0700 Received report from [[A.full|nursing-prose]]. Patient resting, afebrile overnight.
0830 Foley draining clear yellow urine. Ambulated in hall with [[B.g|nursing-prose]] from PT.
1015 Daughter [[C.full|relation]] at bedside, updated on plan. Questions answered.
1200 Tolerating regular diet. Denies pain. Babinski sign negative, Romberg not tested.
1400 [[C.g|nursing-prose]] asked about home oxygen; Case Management notified.
1845 Report given to [[D.full|nursing-prose]].`,
  },
  {
    id: 'nursing-note-second-person',
    n: 2,
    text: `Pt alert and oriented x3. Wife [[A.g|relation]] stayed overnight and helped with the CPAP mask.
Kept NPO after midnight for the Whipple consult. Spoke with [[B.full|nursing-prose]] in Pharmacy about
the heparin drip rate. [[C.full|nursing-prose]] will cover the 1500 dressing change.`,
  },
  {
    id: 'signout-list',
    n: 3,
    text: `NIGHT SIGN-OUT  4 West
Bed 12  [[A.inv|signout]]  62M  CHF exacerbation, diuresing on Lasix. Check BMP at 0400.
Bed 14  [[B.inv|signout]]  47F  Cellulitis, on cefazolin. If febrile, blood cultures x2.
Bed 15  [[C.inv|signout]]  81F  Hip fx s/p ORIF, delirium precautions. Haldol PRN.
Covering: [[D.full|signout-cover]] (pager 4412)`,
  },
  {
    id: 'signout-caps',
    n: 2,
    text: `ICU HANDOFF
1. [[A.F|signout]], [[A.G|signout]] - septic shock, Klebsiella pneumoniae bacteremia, on meropenem
2. [[B.F|signout]], [[B.G|signout]] - DKA, insulin drip, anion gap closing
Overnight: [[C.up|signout-cover]]`,
  },
  {
    id: 'signature-block-no-credential',
    n: 3,
    text: `The prior authorization for Entresto was approved through June. Please let the
patient know and send the refill to Walgreens.

Thanks,
[[A.full|signature]]
Prior Authorization Team
Northfield Medical Group`,
  },
  {
    id: 'signature-block-dash',
    n: 2,
    text: `Attached are the discharge instructions in Spanish as requested.
--
[[A.full|signature]]
Patient Access Specialist | Johns Hopkins Bayview`,
  },
  {
    id: 'signature-block-credential',
    n: 3,
    text: `Electronically signed by:
[[A.full|signature-cred]], RN
RN License #RN7741029 - Board Certified in Wound Care
03/14 17:22`,
  },
  {
    id: 'consult-note',
    n: 3,
    text: `NEUROLOGY CONSULT
Requested by: [[A.i|label]]
Reason: new tremor

HPI: [[B.full|consult-prose]] is a 71-year-old right-handed woman referred for a resting tremor. Family history
of Alzheimer disease in her father. Exam: cogwheel rigidity, Kernig and Brudzinski negative.
Impression: idiopathic Parkinson disease, less likely essential tremor. Guillain-Barré not suspected.

Discussed with [[B.g|consult-prose]] and her son [[C.g|relation]]. Trial of carbidopa-levodopa.
[[D.full|signature-cred]], DO`,
  },
  {
    id: 'telephone-encounter',
    n: 3,
    text: `Telephone encounter
Caller: [[A.full|label]] (self)
Callback: on file

[[A.g|phone-prose]] called stating the Keppra makes her drowsy. Advised not to stop it abruptly.
Message routed to [[B.full|phone-prose]] for review. Ménière's disease noted in history.`,
  },
  {
    id: 'care-team-roster',
    n: 3,
    text: `Care team
PCP: [[A.full|roster]]
Cardiology: [[B.full|roster]], MD
Social Work: [[C.full|roster]], LCSW
Health care proxy: [[D.full|roster]]`,
  },
  {
    id: 'intake-form',
    n: 3,
    text: `NEW PATIENT INTAKE
Name: [[A.full|label]]
Preferred name: [[A.g|label]]
Emergency contact: [[B.full|label]] (brother)
Referred by: Dr. [[C.f|title]]
Allergies: penicillin (hives)
History: Sjögren syndrome, Hashimoto thyroiditis`,
  },
  {
    id: 'prose-visit-companion',
    n: 3,
    text: `Seen today with [[A.full|prose]], who is her main caregiver. [[A.g|prose]] reports that she has been
eating less since the Xarelto was started. [[B.full|prose]] from home health will visit twice a week.
Plan reviewed with both of them.`,
  },
  {
    id: 'prose-possessive',
    n: 3,
    text: `[[A.full|possessive]]'s A1c is 8.9, up from 7.6. Discussed adding Ozempic. [[A.g|possessive]]'s mother
also has type 2 diabetes. Will recheck in three months; Endocrinology referral placed.`,
  },
  {
    id: 'operative-note',
    n: 2,
    text: `OPERATIVE NOTE
Surgeon: [[A.full|label]], MD
Assistant: [[B.full|label]], PA-C
Anesthesia: general, [[C.full|label]], CRNA
Procedure: laparoscopic Nissen fundoplication
Findings: large hiatal hernia. Estimated blood loss minimal. Specimens: none.`,
  },
  {
    id: 'pharmacy-message',
    n: 2,
    text: `Hello [[A.g|salutation]],
The pharmacy called: the Humira pen is on backorder until Friday. They can substitute the
citrate-free version if Dr. [[B.f|title]] approves.
[[C.g|signature]]`,
  },
  {
    id: 'lab-callback-lowercase',
    n: 2,
    text: `pt [[A.lf|portal]] called re potassium 5.9, advised to go to ed. spoke w/ [[B.lf|portal]] (wife)
who will drive. dr [[C.lf|portal-title]] aware.`,
  },
  // Hard-negative skeletons (no persons).
  {
    id: 'neg-problem-list',
    n: 1,
    text: `Problem list
Hodgkin lymphoma, in remission
Graves disease s/p radioactive iodine
Bell's palsy, left, resolved
Crohn's disease of the terminal ileum
Guillain-Barré syndrome (2019)
Ménière's disease
Sjögren syndrome
Addison disease on hydrocortisone
Kawasaki disease in childhood`,
  },
  {
    id: 'neg-credentials',
    n: 1,
    text: `RN License verified. NP Certification current. DEA Registration on file.
MD Anderson Cancer Center referral sent. Board Certified, Internal Medicine.
Nursing Services reviewed the Medication Administration Record.`,
  },
  {
    id: 'neg-sentence-starts',
    n: 1,
    text: `Afebrile overnight. Tolerating diet. Ambulating with walker. Denies chest pain.
Continue Lasix. Hold Eliquis before the procedure. Consider Holter monitor.
Cultures grew Enterococcus faecium and Candida auris. Doppler negative for DVT.
Epley maneuver performed with relief. Tinel sign positive at the wrist.`,
  },
  {
    id: 'neg-facilities',
    n: 1,
    text: `Transferred from Mass General to Sloan Kettering for a second opinion.
Previously followed at St. Jude and at Cleveland Clinic. Records requested from
Mount Sinai Morningside and Johns Hopkins Bayview. Dialysis at Fresenius Kidney Care.`,
  },
  {
    id: 'neg-hl7-codes',
    n: 1,
    text: `OBX|1|CWE|882-1^ABO+Rh group^LN||O POS
OBX|2|ST|19048-8^Crohn's disease panel^LN||NEGATIVE
OBX|3|ST|5196-1^Hepatitis B surface Ag^LN||NONREACTIVE`,
  },
];

/** Parses a skeleton's slots with the given persons; returns { text, labels }. */
function fill(skel, persons) {
  let text = '';
  const labels = [];
  const re = /\[\[([A-D])\.(\w+)\|([\w-]+)\]\]/g;
  let last = 0;
  for (let m; (m = re.exec(skel.text)) !== null; ) {
    text += skel.text.slice(last, m.index);
    last = m.index + m[0].length;
    const p = persons['ABCD'.indexOf(m[1])];
    const v = form(p, m[2]);
    if (m[3] !== 'x') labels.push({ type: 'PERSON_NAME', start: text.length, end: text.length + v.length, cls: m[3] });
    text += v;
  }
  text += skel.text.slice(last);
  return { text, labels };
}

/** Builds the set: { docs: [{ id, half, kind, text, labels }] }. */
export function documentNamesSet() {
  const pool = { dev: [], heldout: [] };
  for (const e of PERSONS) pool[halfOf(`person:${e}`)].push(person(e));
  const docs = [];
  for (const skel of SKELETONS) {
    const half = halfOf(`skeleton:${skel.id}`);
    const ps = pool[half];
    for (let k = 0; k < skel.n; k++) {
      const chosen = [];
      for (let r = 0; chosen.length < 4; r++) {
        const p = ps[hash(SPLIT_SEED + k, `${skel.id}:${r}`) % ps.length];
        if (!chosen.includes(p)) chosen.push(p);
      }
      const { text, labels } = fill(skel, chosen);
      docs.push({ id: `${skel.id}#${k}`, half, kind: skel.id, text, labels });
    }
  }
  return { docs };
}
