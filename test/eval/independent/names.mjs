/**
 * The independent person-name set (set 3): generated, used only to measure names, never to tune.
 * Its name lists are written here by hand from many languages and scripts, not taken from the
 * scanner's lexicon sources (Moby given names, the 2010 Census surname file) nor from any
 * test-data generator; some common names (Maria, Garcia) are in those sources all the same,
 * which is why the report splits recall by whether a name's words are in the scanner's lexicon.
 * Its templates are its own: running prose with no title or label, e-mail headers and display
 * names, signature blocks with and without a credential, FHIR HumanName, HL7 PID-5 and
 * '^'-separated fields, lower-case portal messages, titles; and hard negatives that look like
 * names (eponyms, drugs, organisms, facilities, capitalised clinical terms, credential
 * boilerplate). A seeded generator makes the set the same on every run.
 *
 * Each document: { kind, text, labels: [{ type: 'PERSON_NAME', start, end, cls }] }; `cls`
 * names the template ('prose', 'email', 'signature', 'fhir', 'hl7', 'portal', 'title', ...).
 */
import { seededRandom } from '../../../packages/core/dist/testing.js';


// Given names by origin (hand-written; spelled as their bearers write them).
const GIVEN = [
  // Spanish / Portuguese
  'Inés', 'Begoña', 'Iñaki', 'Ramón', 'Nuria', 'Concepción', 'Marisol', 'Joaquim', 'Leandro', 'Graciela', 'Rocío', 'Íñigo', 'João', 'Conceição',
  // French / Italian
  'Solène', 'Thibault', 'Maëlle', 'Gaëtan', 'Hélène', 'Benedetta', 'Niccolò', 'Ludovica', 'Raffaele', 'Séverine',
  // German / Nordic / Dutch
  'Jürgen', 'Lieselotte', 'Björn', 'Åsa', 'Sigrún', 'Maarten', 'Sanne', 'Wiebke', 'Torsten', 'Eirik',
  // Slavic / Baltic / Romanian / Turkish / Hungarian
  'Łukasz', 'Małgorzata', 'Wojciech', 'Jiří', 'Radka', 'Dragoș', 'Ioana', 'Ştefan', 'Ayşe', 'Gökhan', 'Zsófia', 'Gábor', 'Vytautas',
  // Arabic / Persian / Turkish transliterations
  'Youssef', 'Khadija', 'Mustafa', 'Leyla', 'Dariush', 'Farnaz', 'Abdelkader', 'Samira',
  // African
  'Chiamaka', 'Obinna', 'Ngozi', 'Kofi', 'Abena', 'Tendai', 'Sipho', 'Wanjiru', 'Folasade', 'Babajide',
  // South / East / Southeast Asian transliterations
  'Lakshmi', 'Venkatesh', 'Anjali', 'Harpreet', 'Wei', 'Xiaoling', 'Haruto', 'Sakura', 'Minjun', 'Seo-yeon', 'Thanh', 'Nguyệt', 'Somchai',
  // Irish / Welsh / Scottish
  'Niamh', 'Aoife', 'Ciarán', 'Dervla', 'Rhys', 'Eluned', 'Mairi', 'Lachlan',
  // English-language (older and newer)
  'Beverly', 'Clifford', 'Doreen', 'Everett', 'Lorraine', 'Marvin', 'Rosemary', 'Wendell', 'Jaxon', 'Brantley', 'Kinsley', 'Nevaeh', 'Tatum', 'Paisley',
  // Greek / Cyrillic (cased scripts)
  'Σοφία', 'Νικόλαος', 'Дмитрий', 'Светлана', 'Олена',
];
const FAMILY = [
  'Peñalver', 'Iturralde', 'Echeverría', 'Zubizarreta', 'Gonçalves', 'Magalhães', 'Ferreira', 'Barrientos',
  'Lefèvre', 'Archambault', 'Giordano', 'Cattaneo', 'Bertolucci', 'Beaulieu',
  'Großmann', 'Köhler', 'Lindström', 'Þórsdóttir', 'Vermeulen', 'Halvorsen', 'Öztürk',
  'Wiśniewska', 'Grzybowski', 'Novotná', 'Dvořák', 'Popescu', 'Țurcanu', 'Yıldız', 'Kovács', 'Petrauskas',
  'El-Amrani', 'Haddadi', 'Karimi', 'Tehrani', 'Al-Masri',
  'Okonkwo', 'Adeyemi', 'Mensah', 'Mutasa', 'Ndlovu', 'Kamau', 'Olawale',
  'Raghunathan', 'Subramaniam', 'Chatterjee', 'Sandhu', 'Zhang', 'Takahashi', 'Park', 'Nguyễn', 'Phạm', 'Srisai',
  "O'Driscoll", "Ní Bhriain", 'MacLeod', 'McGillivray', 'Prys', 'Llwyd',
  'Whitlock', 'Pruitt', 'Ashcroft', 'Haverford', 'Dunleavy', 'Kessler', 'Treadway', 'Brubaker', 'Castellano', 'Vandermeer',
  'Smith-Okafor', 'García-Lorca', 'Lopes-Mendonça',
  'Παπαδάκη', 'Ιωαννίδης', 'Соколов', 'Коваленко',
];
// Family names with lower-case particles, written whole.
const PARTICLE_FAMILY = ['de la Fuente', 'van den Broek', 'von Albrecht', 'bin Hamdan', 'dos Santos', 'de Vries', 'al-Sayed', 'di Stefano', 'ter Horst', 'du Plessis'];

// Hard negatives: capitalised words that are not people here.
const NEGATIVE_LINES = [
  'History of Hodgkin lymphoma in remission since 2015.',
  'Rule out Cushing syndrome; dexamethasone suppression test ordered.',
  'Findings consistent with Graves disease, TSH suppressed.',
  'Known Crohn disease with perianal fistula.',
  'Parkinson disease, on carbidopa-levodopa, tremor improved.',
  'Right-sided Bell palsy, started on prednisone.',
  'Child with Down syndrome, cardiology follow-up for AV canal.',
  'Wilson disease screening: ceruloplasmin pending.',
  'Addison disease on hydrocortisone replacement.',
  'Positive Murphy sign on exam, ultrasound ordered.',
  'Blood cultures grew Staphylococcus aureus, sensitive to cefazolin.',
  'Urine culture: Escherichia coli > 100,000 CFU.',
  'Stool positive for Clostridioides difficile toxin.',
  'Sputum: Pseudomonas aeruginosa, mucoid.',
  'Continue Eliquis 5 mg twice daily and Lasix 40 mg.',
  'Switched Zoloft to Lexapro last month.',
  'Started Ozempic; Jardiance held for now.',
  'Transferred from Mercy General to Cedars Sinai for PCI.',
  'Follow up at Mayo Clinic in Rochester.',
  'Seen at Kaiser Permanente urgent care on Saturday.',
  'Marked Improvement Noted After Therapy.',
  'Chest Pain Protocol Initiated Per Cardiology.',
  'Glasgow Coma Scale 15, Apgar scores 8 and 9.',
  'Foley Catheter removed on day two.',
  'Swan Ganz catheter placed for monitoring.',
  'Gleason score 7 on biopsy, Breslow depth 1.2 mm.',
  'RN License verified by Nursing Services.',
  'Review By: Quality Committee.',
  'Discharge Planning: Home Health referral sent.',
  'Social Work Consult Requested.',
  'Type 2 Diabetes Mellitus, Uncontrolled.',
  'Patient Education Materials Provided In Spanish.',
  'Epstein Barr virus serology negative.',
  'Hashimoto thyroiditis on levothyroxine.',
  'Raynaud phenomenon worse in winter.',
  'Barrett esophagus without dysplasia on surveillance.',
  'Lyme disease treated with doxycycline.',
  'Whipple procedure in 2019 for ampullary mass.',
  'Nissen fundoplication complicated by dysphagia.',
  'Kaposi sarcoma lesions regressing.',
];

/** Builds the set. */
export function generateNamesSet(seed = 31415) {
  const r = seededRandom(seed);
  const pick = (xs) => xs[Math.floor(r() * xs.length)];
  const given = () => pick(GIVEN);
  const family = () => (r() < 0.1 ? pick(PARTICLE_FAMILY) : pick(FAMILY));
  const full = () => (r() < 0.1 ? `${given()} ${String.fromCharCode(65 + Math.floor(r() * 26))}. ${family()}` : `${given()} ${family()}`);
  const ascii = (s) => s.replace(/[łŁ]/g, 'l').replace(/ı/g, 'i').replace(/[øØ]/g, 'o').replace(/ß/g, 'ss').replace(/[þÞ]/g, 'th').replace(/[đĐ]/g, 'd').normalize('NFD').replace(/[^A-Za-z ]/g, '').toLowerCase();
  const local = (n) => ascii(n).split(' ').filter(Boolean).join('.') || 'mail';
  /** A name written in Latin letters (HL7 and portal texts below are ASCII). */
  const latin = (fn) => {
    for (;;) {
      const v = fn();
      if (ascii(v).trim() !== '' && ascii(v).replace(/ /g, '').length * 2 >= v.replace(/ /g, '').length) return v;
    }
  };
  const docs = [];
  const doc = (kind, ...pieces) => {
    let text = '';
    const labels = [];
    for (const p of pieces) {
      if (typeof p === 'string') text += p;
      else {
        labels.push({ type: 'PERSON_NAME', start: text.length, end: text.length + p[0].length, cls: p[1] });
        text += p[0];
      }
    }
    docs.push({ kind, text, labels });
  };
  const N = (v, cls) => [v, cls];

  for (let i = 0; i < 420; i++) {
    const a = full();
    const b = full();
    const g = given();
    const f = family();
    switch (i % 21) {
      case 0: doc('prose', `Spoke with `, N(a, 'prose'), ` about the sleep study results and scheduled a repeat in June.`); break;
      case 1: doc('prose', `Her neighbor `, N(a, 'prose'), ` drove her to the appointment and will stay overnight.`); break;
      case 2: doc('prose', `Meds reconciled with the pharmacist; `, N(a, 'prose'), ` confirmed the pill box is filled weekly.`); break;
      case 3: doc('prose', `Interpreter `, N(a, 'prose'), ` was present for the whole visit.`); break;
      case 4: doc('email', `From: "`, N(a, 'email'), `" <${local(a)}@mailhub.example>\nTo: ${'clinic'}@example.org\nSubject: question about my refill`); break;
      case 5: doc('email', `To: `, N(a, 'email'), ` <${local(a)}@inbox.example>\nCc: "`, N(b, 'email'), `" <${local(b)}@inbox.example>\nSubject: records`); break;
      case 6: doc('email', `Reply from `, N(a, 'email'), ` <${local(a)}@post.example>: thanks, see you on Tuesday.`); break;
      case 7: doc('signature', `I will bring the forms on Monday.\n\n`, N(a, 'signature')); break;
      case 8: doc('signature', `Please call if the swelling returns.\n\nBest,\n`, N(a, 'signature'), `\nClinic Coordinator`); break;
      case 9: doc('signature', `Labs reviewed, no changes to plan.\n`, N(a, 'signature'), `, ${pick(['MD', 'RN', 'NP', 'PA-C', 'DO'])}`); break;
      case 10: doc('signature', `Thank you for the quick answer.\n-- \n`, N(g, 'signature')); break;
      case 11: doc('fhir', `{"resourceType":"Patient","id":"p${i}","name":[{"use":"official","family":"`, N(f, 'fhir'), `","given":["`, N(g, 'fhir'), `"]}]}`); break;
      case 12: doc('fhir', `{"resourceType":"RelatedPerson","name":[{"text":"`, N(a, 'fhir'), `"}],"relationship":[{"text":"daughter"}]}`); break;
      case 13: doc('hl7', `PID|1||${100000 + i}^^^MAIN^MR||`, N(`${ascii(latin(family)).toUpperCase()}^${ascii(latin(given)).toUpperCase()}`, 'hl7'), `||19700101|M`); break;
      case 14: doc('hl7', `NK1|1|`, N(`${f}^${g}`, 'hl7'), `|SPO^Spouse`); break;
      case 15: doc('portal', `hi this is `, N(ascii(latin(given)).split(' ')[0], 'portal'), ` again, the rash is spreading to my arms`); break;
      case 16: doc('portal', `hello my name is `, N(ascii(latin(full)).replace(/ +/g, ' ').trim(), 'portal'), ` and i need to reschedule`); break;
      case 17: doc('title', `${pick(['Dr.', 'Mrs.', 'Mr.', 'Ms.', 'Prof.'])} `, N(f, 'title'), ` will see the patient in clinic next week.`); break;
      case 18: doc('label', `${pick(['Patient', 'Emergency contact', 'Guarantor', 'Caller', 'Name'])}: `, N(a, 'label'), `\nPhone on file.`); break;
      case 19: doc('prose', `Seen together with `, N(g, 'prose'), `, his partner, who asked about driving restrictions.`); break;
      case 20: doc('credential', `Note signed by `, N(a, 'credential'), `, RN License #RN${400000 + i} on file.`); break;
    }
  }
  for (const l of NEGATIVE_LINES) doc('negative', l);
  return { docs };
}
