/**
 * Set 5: person names in hand-written clinical prose (measured only, never tuned on).
 *
 * Unlike set 2 (templates filled from lists by a seeded generator) and set 3 (name lists crossed
 * with templates), every passage below was written by hand as a whole, the way a clinician,
 * a nurse or a patient writes: names stand after verbs and relations of people, in lists, before
 * and after possessives, at the start of sentences and mid-sentence with no cue, with and without
 * given names, some in the scanner's lexicons and many outside them (accented, transliterated,
 * rare US surnames). Names are annotated inline as [[Name|class]]; the offsets are those of the
 * name once the brackets are removed. The hard negatives put eponyms, drugs, organisms,
 * facilities, departments, lab values and LOINC / ICD-10 codes where names would stand.
 *
 * Part A was written before the detectors changed for it (its figure then is the "before"); part B
 * was written after, and is measured but never read for misses.
 *
 * Classes: cue (after a verb or preposition of people: "seen with", "per", "spoke to"), rel
 * (after a relation: "her son", "wife"), poss (a possessive: "Ana's mother"), list (names in a
 * list), start (a name that starts a sentence), bare (mid-sentence, no cue), single (a given name
 * or a surname alone).
 */

const PASSAGES = [
  // Visits and companions
  'Patient seen with [[Teodora Ibarra|cue]] today, who manages her medications at home.',
  'Accompanied by [[Oluwaseun Adebayo|cue]], his nephew, who translated for most of the visit.',
  'Came in accompanied by her husband [[Gerald Pruett|rel]] and their daughter [[Kaylee|rel]].',
  'Plan discussed with [[Marguerite Thibodeaux|cue]] at length; she agrees with hospice referral.',
  'Per [[Szymanski|cue]], the wound vac can come off on Friday.',
  'Per [[Anneliese Brandvold|cue]] in pharmacy, the insulin drip protocol was updated.',
  'I spoke to [[Dolores Quintanilla|cue]] by phone and explained the biopsy results.',
  'Called [[Hamid Rostami|cue]] to confirm the appointment, left a voicemail.',
  'Her son [[Darnell Whitaker|rel]] is the health care proxy and was updated after rounds.',
  'Wife [[Inga Lindqvist|rel]] at bedside, asking about discharge timing.',
  'The patient lives with his wife, [[Susan Kowalczyk|rel]], in a second-floor apartment.',
  'Husband [[Tomás|rel]] reports she has been more confused since Sunday.',
  'Her mother, [[Yesenia Barragán|rel]], keeps a seizure diary and brought it today.',
  'Daughter [[Priyanka Deshmukh|rel]] called the nurse line twice overnight.',
  'Grandson [[Kwame Asante|rel]] will drive her to dialysis on Tuesdays and Thursdays.',
  'Discussed code status with the patient and his brother [[Lorenzo Bianchi|rel]].',
  'Care conference held with [[Maureen Callahan|cue]], [[Ricardo Esquivel|list]] and the palliative team.',
  // Possessives
  "[[Ana|poss]]'s mother reports two episodes of emesis since midnight.",
  "Reviewed [[Mrs. Oyelaran|poss]]'s home glucose log; fasting values 140 to 180.",
  "[[Dmitri Volkov|poss]]'s wife asked whether he can fly next month.",
  "We will follow [[Henrietta|poss]]'s weight weekly at the clinic.",
  "Per the daughter, [[Beatriz|poss]]'s appetite has improved.",
  "[[Jamal|poss]]'s teacher noticed staring spells in class.",
  "Left a message on [[Lucinda Marsh-Kapoor|poss]]'s cell phone about the MRI.",
  // Lists
  'Present at the family meeting: [[Ruth Ellingson|list]], [[Carl Ellingson|list]], [[Father Matthew Oduya|list]] and the charge nurse.',
  'Visitors allowed: [[Giulia Ferraro|list]], [[Mateus Albuquerque|list]], [[Zofia Krawczyk|list]].',
  'She has three children, [[Aiden|list]], [[Brooklyn|list]] and [[Marisela|list]], all under ten.',
  'Emergency contacts are [[Vernon Hatch|list]] (brother) and [[Loretta Hatch|list]] (sister-in-law).',
  'Case reviewed by [[Nkechi Obi|cue]], [[Aleksander Nowak|list]], and [[Fiona McTavish|list]] at tumor board.',
  // Sentence-initial names
  '[[Rosalind Eberhardt|start]] is a 67-year-old woman with COPD presenting with dyspnea.',
  '[[Jeffrey Lindgren|start]] presents for follow-up of his atrial fibrillation.',
  '[[Xochitl Ramírez|start]] was admitted overnight for diabetic ketoacidosis.',
  'Blood pressure was 142/88. [[Patricia Holloway|start]] denies chest pain or palpitations.',
  '[[Mehmet Yılmaz|start]] returns after two weeks of amoxicillin with persistent otalgia.',
  '[[Corinne|start]] tolerated the procedure well and was discharged to home.',
  '[[Kowalski|start]] agreed to cover the weekend call for the service.',
  '[[Björn Halvorsen|start]] will need a new CPAP mask at his next visit.',
  '[[Shanice Dawkins|start]] reports her headaches are better on the new regimen.',
  // Mid-sentence, no cue
  'Spent 25 minutes counseling [[Everett Pickering|bare]] on smoking cessation.',
  'The note from [[Dr. Aurelio Fuentes|cue]] says the stent can be removed in six weeks.',
  'Handed off to [[Rebecca Stoltzfus|cue]] at 19:00 with no outstanding issues.',
  'Consent obtained from [[Luz Marina Cárdenas|cue]] after risks and benefits were reviewed.',
  'Reassured [[Gwendolyn Ashby|bare]] that the rash is not contagious.',
  'Will ask [[Thanh Huong Tran|bare]] to bring all pill bottles next time.',
  'Instructed [[Ignatius Mbeki|bare]] to hold metformin the morning of the CT.',
  'The referral to neurology was faxed, and [[Ciarán Ó Súilleabháin|bare]] will be called with a date.',
  'Patient states that [[Delphine Archambeau|bare]] usually helps her with the pill box.',
  'Results were released to the portal so [[Marcus Feldkamp|bare]] could read them before the visit.',
  'Interpreter [[Hoang Minh Duc|cue]] was used for the entire encounter.',
  'Transported by [[Luis Galarza|cue]] from the ambulance service, handoff given to triage.',
  'Social worker [[Candace Pilgrim|rel]] met with the family about home oxygen.',
  'Roommate [[Jolene Varga|rel]] found him on the floor and called 911.',
  'Neighbor [[Earl Dempsey|rel]] checks on her every evening.',
  'Her fiancé, [[Sebastián Ortega Ruiz|rel]], was present for the discussion.',
  'Texted [[Naomi|cue]] the after-hours number as requested.',
  'Seen and examined with [[Gutierrez|cue]], who agrees with the plan.',
  'Discussed with [[Wójcik|cue]] from infectious diseases; continue cefepime.',
  'Spoke with [[Abdirahman Warsame|cue]] and his sister about the need for a feeding tube.',
  'Dropped off by her caregiver [[Precious Mthembu|rel]] at 08:30.',
  'Vaccines given; [[Liesel|bare]] cried briefly and was consoled by her father.',
  'Call back number belongs to [[Harold Fenstermacher|bare]], her landlord.',
  'Her sister-in-law [[Rania Haddad|rel]] picked up the prescriptions.',
  'Patient and [[Yusuf Demirci|list]] were both tested for strep; both negative.',
  'Will update [[Grace Odhiambo|bare]] when the culture results are back.',
  'Met with [[Horatio Blankenship|cue]] and his wife [[Mildred|rel]] to review the advance directive.',
  'Supervised by [[Chiara Benedetti|cue]], physical therapist, during gait training.',
  'Lives alone; [[Walter Brzezinski|bare]] from church brings groceries weekly.',
  '[[Dagny Thorvaldsen|start]] and her husband [[Leif|rel]] declined the flu vaccine.',
  'Plan reviewed with [[Esperanza|cue]] and her son [[Julio Cazares|rel]] in Spanish.',
  'She was referred by [[Nadia Bouzid|cue]], her previous primary care physician.',
  'Message forwarded to [[Tamsin Pendleton|cue]] for prior authorization.',
  'Emailed [[Keiko Watanabe|cue]] the updated care plan.',
  "[[Oksana Melnyk|start]]'s blood pressure was elevated at triage and normal on recheck.",
  'Patient asked that [[Reginald Oakes|bare]] not be given any information.',
  'Informed [[Santiago Peralta|bare]] of the positive COVID test by phone.',
  'The ride was arranged with [[Bernadette Kilbride|cue]], the transport coordinator.',
  'Overnight, [[Ngozi Eze|bare]] reported chest tightness relieved by rest.',
  'Coverage: [[Lindqvist|list]] days, [[Okafor|list]] nights.',
];

/**
 * Part B: passages written after the detectors changed, measured once and never read for misses
 * (part A's misses were seen while the detectors were changed, so part A over-states).
 */
const PASSAGES_B = [
  'Pt ambulated 200 ft with [[Oyinkansola Bello|cue]] from PT standing by.',
  'At 03:10 [[Reuben Castellanos|bare]] rang the call light asking for something for pain.',
  'Mom ([[Kirsten Aaltonen|bare]]) says the fever broke around midnight.',
  'Dr. Halvorsen asked me to touch base with [[Imelda Cruz-Baptiste|cue]] about transport.',
  'Sister-in-law [[Yolanda|rel]] will be staying with her for the first week home.',
  'Discharge instructions reviewed with patient and son, [[Arjun Venkataraman|rel]], teach-back done.',
  "[[Tobias|poss]]'s dad reports he has been pulling at his right ear for two days.",
  'Chaplain [[Ezekiel Oduya|bare]] visited at the request of the family.',
  'Care transferred to [[Winifred Osei|cue]] for the night shift.',
  'Called pharmacy; [[Kenji Morimoto|bare]] verified the dose and released the order.',
  'The patient and her partner [[Sunniva Bakke|rel]] had questions about IVF timing.',
  '[[Clementine Royce|start]] is a 34-year-old G2P1 at 28 weeks presenting for glucose testing.',
  'Goals of care were addressed with [[Desmond|cue]] and [[Pauline Achterberg|list]], his children.',
  'Son [[Rafael|rel]] is the primary caregiver and gives all medications.',
  'Per her niece [[Ludmila Horáková|rel]], she has stopped eating over the past week.',
  'Brother [[Thaddeus Okonjo|rel]] is flying in tomorrow and wants a call.',
  'Messaged [[Anneke Visser|cue]] about the prior auth denial; she will appeal.',
  '[[Gwendolyn Ashworth-Pryce|start]] returns for her three-month diabetes visit.',
  'Called the patient back; spoke with her husband [[Mordecai Feinstein|rel]] instead.',
  'I reviewed the results with [[Sakura Nishimura|cue]] and her mother.',
  'Family at bedside: wife [[Alma|rel]], daughters [[Rosario|list]] and [[Lupita|list]].',
  "Left a voicemail at [[Bartholomew Quayle|poss]]'s home number.",
  'Endorsed to oncoming RN [[Fatou Diallo|bare]] at 07:00.',
  'Seen in clinic with her foster mother [[Charmaine Ogunleye|rel]].',
  'Wound care by [[Petronella Hayes|cue]] this morning; dressing clean and dry.',
  '[[Marcelo Tavares|start]] states he has not had a drink since March.',
  'Interpreting was done by [[Nasrin Farahani|cue]] over video.',
  'Ride home arranged with [[Ignatius|cue]], a friend from work.',
  'Updated [[Solveig Lindahl|bare]] on the plan by phone at 16:40.',
  'Husband, [[Pieter|rel]], is concerned about her memory.',
  "We will send the letter to [[Ms. Adaeze Nwosu|cue]]'s primary care office.",
  'Spoke with the patient, [[Horacio Benavides|bare]], who confirmed his date of birth.',
  'Transportation provided by her neighbor [[Glenys Pritchard|rel]] today.',
  'The infant was held by [[Keziah|cue]], the older sister, during the exam.',
  '[[Ottavio Lombardi|start]] tolerated the first cycle without nausea.',
  'Prescription sent for [[Belinda Marchetti|cue]] to her usual pharmacy.',
  'Asked [[Viggo Rasmussen|bare]] to keep a headache diary.',
  'Verbal consent from guardian [[Rosemarie Tillotson|rel]] obtained by phone.',
  'The case was staffed with [[Aurelio Venegas|cue]] before discharge.',
  'Patient is accompanied by [[Svetlana Orlova|cue]] and [[Pavel Orlov|list]].',
];

/** Hard negatives: capitalised words where names would stand, none a person. */
const NEGATIVES = [
  'Patient seen with Parkinson disease progression, gait freezing worse.',
  'Accompanied by Graves ophthalmopathy, proptosis stable.',
  'Per Cardiology, continue Eliquis and recheck in three months.',
  'Discussed with Social Work and Case Management regarding placement.',
  'Called Mercy Hospital to request records from the admission.',
  'Spoke to Radiology about the contrast allergy.',
  "History of Crohn's disease, on Humira since 2020.",
  'Known Hodgkin lymphoma, in remission after ABVD.',
  'Addison crisis ruled out; cortisol 18.2 mcg/dL.',
  'Cushing syndrome workup: late-night salivary cortisol pending.',
  'Right Bell palsy improving with prednisone.',
  'Seen with Staphylococcus aureus bacteremia, on cefazolin.',
  'Cultures grew Klebsiella pneumoniae and Enterococcus faecalis.',
  'Metformin Extended Release was started at 500 mg daily.',
  'Lisinopril held for potassium 5.6 mmol/L.',
  'Sodium 138, Potassium 4.1, Chloride 101, Creatinine 1.2 mg/dL.',
  'LOINC 2345-7 Glucose 182 mg/dL; LOINC 4548-4 Hemoglobin A1c 8.1%.',
  'Diagnoses: E11.9 Type 2 diabetes mellitus; I10 Essential hypertension; G20 Parkinson disease.',
  'ICD-10 K50.90 Crohn disease, unspecified; E05.00 Graves disease without storm.',
  'Transferred to Cedars Sinai Medical Center for ECMO evaluation.',
  'Follow up at Mount Sinai and St. Jude as scheduled.',
  'Referred to Memorial Sloan Kettering for a second opinion.',
  'Discharged to Sunrise Senior Living with Home Health.',
  'Infusion given at Johns Hopkins Bayview.',
  'Continue Lasix, Coreg and Entresto per Heart Failure Clinic.',
  'Accompanied by Physical Therapy for ambulation in the hall.',
  'Her son takes Ritalin and Adderall for ADHD.',
  'Husband reports she stopped Zoloft last week.',
  'Wife at bedside; she brought the Medicare card.',
  'Glasgow Coma Scale 14, Braden score 16, Morse fall score 45.',
  'Foley catheter removed; Whipple procedure 2019.',
  'Epstein Barr virus IgG positive, IgM negative.',
  'Spoke to Blue Cross about prior authorization for Ozempic.',
  'Candida albicans on the urine culture, likely contaminant.',
  'Per Infectious Diseases, start Zosyn and Vancomycin.',
  'Lyme titers negative; Rocky Mountain spotted fever serology pending.',
  'Emergency Department Triage Note',
  'Chief Complaint: Shortness Of Breath',
  'Marked Improvement After Diuresis.',
  'Huntington disease gene testing declined.',
  'Hashimoto thyroiditis, TSH 6.2 mIU/L.',
  'Asperger syndrome noted in the problem list.',
  'Called Walgreens on Main Street to transfer the prescription.',
  'Discussed with Nephrology; Kayexalate given.',
  'Mayo Clinic Rochester records reviewed.',
  'Kawasaki disease in childhood, normal echo since.',
  'Seen by Dermatology for Kaposi sarcoma surveillance.',
  'Tylenol 650 mg, Motrin 400 mg as needed for pain.',
  'Reference range 3.5-5.1 mmol/L; result flagged High.',
  'Brown sputum, no blood. Green discharge from the left ear.',
];

/** Hard negatives of part B (written with part B). */
const NEGATIVES_B = [
  'Ambulated with Physical Therapy and a rolling walker.',
  'Discussed with Pulmonology; start Trelegy and Spiriva was stopped.',
  'Spoke with Aetna about coverage of the Dexcom sensor.',
  'Husband reports she has been taking Tylenol and Aleve together.',
  'Per Neurology, Parkinson plus syndrome is less likely.',
  'Accompanied by EMS from Lakeview Nursing Home.',
  'Sister has Graves disease and a brother with Crohn disease.',
  'Called Quest Diagnostics about the hemolyzed specimen.',
  'Seen with Hodgkin lymphoma survivorship clinic follow-up.',
  'Culture: Streptococcus agalactiae, group B.',
  'Per Epic, last dose of Keflex was at 08:00.',
  'Transferred from Saint Mary Medical Center by Life Flight.',
  'ICD-10 G35 Multiple sclerosis; LOINC 1751-7 Albumin 3.2 g/dL.',
  'Hemoglobin 9.8 g/dL (ref 12.0-15.5), Platelets 145 K/uL.',
  'Son called Walgreens about the Eliquis refill.',
  'Addison disease on Florinef and hydrocortisone.',
  'Hashimoto disease; Synthroid increased to 100 mcg.',
  'Consulted Wound Care and Nutrition Services.',
  'Reviewed by Pharmacy and Therapeutics Committee.',
  'Kaiser Permanente member, Medi-Cal secondary.',
];

/** Parses "[[Name|cls]]" markers into text and labels. */
function parse(passage) {
  let text = '';
  const labels = [];
  let i = 0;
  for (const m of passage.matchAll(/\[\[([^|\]]+)\|([a-z]+)\]\]/g)) {
    text += passage.slice(i, m.index);
    labels.push({ type: 'PERSON_NAME', start: text.length, end: text.length + m[1].length, cls: m[2] });
    text += m[1];
    i = m.index + m[0].length;
  }
  text += passage.slice(i);
  return { text, labels };
}

/** The set: { docs: [{ kind, text, labels }] }, passages first, then the hard negatives. */
export function proseNamesSet() {
  const docs = PASSAGES.map((p) => ({ kind: 'prose', part: 'A', ...parse(p) }));
  for (const n of NEGATIVES) docs.push({ kind: 'negative', part: 'A', text: n, labels: [] });
  for (const p of PASSAGES_B) docs.push({ kind: 'prose', part: 'B', ...parse(p) });
  for (const n of NEGATIVES_B) docs.push({ kind: 'negative', part: 'B', text: n, labels: [] });
  return { docs };
}
