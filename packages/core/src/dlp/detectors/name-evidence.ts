/**
 * Evidence for and against reading capitalised words as a person's name: the given-name lexicon
 * (name-lexicon.ts, public domain), its weights, and the words that are never a name here
 * although they look like one (eponyms of diseases, clinical vocabulary, drugs, organisms,
 * facility words, words after a credential).
 */
import { GIVEN_NAMES, GIVEN_NAMES_RARE } from './name-lexicon.js';
import { SURNAMES } from './surname-lexicon.js';

const words = (s: string): string[] => s.split(/\s+/).filter((w) => w !== '');

/**
 * Given names that are also everyday words, months, places or clinical words ("Will", "May",
 * "Grace", "Florence", "Sterling"): weak evidence, read as a name only beside a second name word
 * in the middle of a sentence.
 */
const AMBIGUOUS = new Set(
  words(`
  will may june april august grace hope faith joy mark bill art rose iris ruby amber jade dawn summer autumn
  page case guy chase lane drew gene sky ray rich frank sterling major cliff rod van don dale glen grant heath
  lee christian crystal pat sandy rusty penny candy lincoln jordan angel bell chance florence georgia virginia
  carolina austin dallas madison victoria paris sydney chelsea aurora sharon israel jean joan olive violet ivy
  holly heather daisy poppy lily willow hazel pearl ginger honey harmony melody destiny trinity liberty
  precious misty stormy sunny merry noel carol eve dusty earl duke king prince royal baron marshall hunter
  archer carter mason cooper taylor tyler parker spencer porter fisher baker miller walker butler
  sherman nelson warren wade wall ward west wood woody young stone price rush long short brown black white
  green gray grey golden silver bob bud buck buddy chip chuck colt dean dell dick doc fay gay hall hart hill
  jack jim jay kay kit lance lou luck mac max mike moe ned nick norm pat pete rob ron roy sal sam ted tom tony
  val vic wally will wren zoe ada al ali ana ann anna ben bo cy di ed eli em ty
  mercedes camry chevy porsche bentley jaguar lexus hudson
  doctor nurse patient health care hospital clinic
  `),
);

const GIVEN = new Set(words(GIVEN_NAMES));
/** SSA names with few births (or that are also census surnames): weak evidence only. */
const GIVEN_RARE = new Set(words(GIVEN_NAMES_RARE));
for (const w of GIVEN_RARE) GIVEN.add(w);

/** Weights of the given names, built on first use (one lookup per word, not one per list). */
let WEIGHTS: Map<string, 1 | 2> | undefined;

/** Weight of `w` (lower case) as a given name: 0 unknown, 1 weak (ambiguous or rare), 2 strong. */
export function givenWeight(w: string): 0 | 1 | 2 {
  if (WEIGHTS === undefined) {
    WEIGHTS = new Map();
    for (const g of GIVEN) WEIGHTS.set(g, isWeakGiven(g) ? 1 : 2);
  }
  return WEIGHTS.get(w) ?? 0;
}

/**
 * The Moby lists carry no counts and hold rare entries that are everyday or clinical words
 * ("Bank", "Care", "Rochester"): those, and the ambiguous names above, are weak evidence.
 */
function isWeakGiven(w: string): boolean {
  return AMBIGUOUS.has(w) || GIVEN_RARE.has(w) || WEAK_GIVEN.has(w) || TERM_WORDS.has(w) || NEVER_NAME_WORDS.has(w);
}
const WEAK_GIVEN = new Set(
  words(`bank base bear bird bond bone boot boy brand cash care chrysler cross deck fair field ford gale gay
  glad hale harp hart heart lark lord marsh moss oak park pax pier port read ring rock sage salmon saw
  say scarface shadow ship star storm sunshine temp town way worth rochester chester boston denver phoenix
  york kent salem cleveland washington lincoln jefferson madison montgomery richmond sheffield hamilton
  dixie cinnamon candy cookie tuesday yankee stinky piggy pooh
  unknown baby infant junior queen princess royalty saint justice legend legacy journey miracle heaven
  heavenly treasure promise echo ocean river meadow winter summer autumn navy crew golden love essence
  sincere loyal marvel titan onyx atlas apollo ace creed ridge scout grey stone sage unique era ever lyric
  genesis serenity diamond emerald nova luna aria maverick ryder cannon blaze legacy dream royal kash
  savannah dakota brooklyn hudson sierra london paris houston aspen kenya india memphis montana bristol
  milan cairo vienna egypt malaysia ireland america holland german camden clinton dayton denton
  cruz reyes santos banks bishop baker fisher murphy campbell collins wilson lewis johnson williams jones
  watson evans gibson dorsey`),
);

/**
 * Surnames that are also everyday, clinical or place words ("Brown", "Bell", "Graves", "Long"):
 * no surname evidence of their own.
 */
const COMMON_SURNAMES = new Set(
  words(`brown white green black gray grey young long little short stone hill wood woods rose bell wells graves
  king price cross day page rice lane park parks hall hunter fox bird banks church mills power powers love
  may mayo frank hope joy case chase rich french english holland england wall walls ward west north south
  lee guy bush moss hay hays foster grant major bishop dean judge marsh pope ray reed summers winter spring
  field fields rivers ross booth burns cook cooper carter baker porter sharp strong swift sweet wise gross
  free best hale hardy house lamb lord mann mason miles nash noble oliver page pearson person parsons
  palmer pace rush salt sims snow steel storm vance wolf york`),
);
/** Surname weights: 2 for frequent surnames (≥ 20 bearers per 100,000), 1 for the others. */
const SURNAME = new Map<string, 1 | 2>();
for (const pair of words(SURNAMES)) {
  const colon = pair.indexOf(':');
  const name = pair.slice(0, colon);
  if (!COMMON_SURNAMES.has(name)) SURNAME.set(name, Number(pair.slice(colon + 1)) >= 20 ? 2 : 1);
}
/** Weight of `w` (lower case) as a surname of the 2010 Census list: 0 unknown or common word, 1, 2 frequent. */
export function surnameWeight(w: string): 0 | 1 | 2 {
  return SURNAME.get(w) ?? 0;
}

/** Case-folded hash of text[s, e) (ASCII letters, '-', '\''), or -1 when a character is not ASCII. */
export function wordHash(text: string, s: number, e: number): number {
  let h = 0;
  for (let i = s; i < e; i++) {
    const c = text.charCodeAt(i);
    if (c >= 128) return -1;
    h = (Math.imul(h, 31) + (c | 32)) >>> 0;
  }
  return h;
}
const BLOOM_BITS = 1 << 19;
/** A one-hash Bloom filter of the lexicon: most capitalised words are rejected without a slice. */
const BLOOM = new Uint8Array(BLOOM_BITS >> 3);
for (const w of GIVEN) {
  const h = wordHash(w, 0, w.length) & (BLOOM_BITS - 1);
  BLOOM[h >> 3]! |= 1 << (h & 7);
}
/** A one-hash Bloom filter of the surname lexicon (small: 1 bit in 64 is set). */
const SURNAME_BLOOM = new Uint8Array(1 << 13);
for (const name of SURNAME.keys()) {
  const h = wordHash(name, 0, name.length) & 65535;
  SURNAME_BLOOM[h >> 3]! |= 1 << (h & 7);
}
/** False when the word with hash `h` (from `wordHash`, ≥ 0) is surely neither a given name nor a surname. */
export function maybeName(h: number): boolean {
  const s = h & 65535;
  return maybeGiven(h) || (SURNAME_BLOOM[s >> 3]! & (1 << (s & 7))) !== 0;
}

/** False when the word with hash `h` (from `wordHash`, ≥ 0) is surely not a given name. */
export function maybeGiven(h: number): boolean {
  const b = h & (BLOOM_BITS - 1);
  return (BLOOM[b >> 3]! & (1 << (b & 7))) !== 0;
}

/** The capitalised forms ("Maria"), so that the common case needs no lower-casing; built on first use. */
let CAPITALISED: Map<string, 1 | 2> | undefined;

/** `givenWeight` of a word as written ("Maria", "MARIA", "Inés"). */
export function givenWeightOf(word: string): 0 | 1 | 2 {
  if (CAPITALISED === undefined) {
    CAPITALISED = new Map();
    for (const g of GIVEN) CAPITALISED.set(g[0]!.toUpperCase() + g.slice(1), givenWeight(g) as 1 | 2);
  }
  const w = CAPITALISED.get(word);
  if (w !== undefined) return w;
  // Capitalised ASCII words not in the map are not given names; others are lower-cased first.
  for (let i = 1; i < word.length; i++) {
    const c = word.charCodeAt(i);
    if (c < 97 || c > 122) return givenWeight(word.toLowerCase());
  }
  return 0;
}

/**
 * The given names in an open-addressing table keyed by `wordHash`, so that a word of the text is
 * looked up where it stands: no slice, no string hash. Built on first use.
 */
let GIVEN_TABLE: Int32Array | undefined;
let GIVEN_LIST: string[] = [];
let GIVEN_WEIGHT: Uint8Array = new Uint8Array(0);
const GIVEN_TABLE_BITS = 15;

function givenTable(): Int32Array {
  const table = new Int32Array(1 << GIVEN_TABLE_BITS).fill(-1);
  GIVEN_LIST = [...GIVEN];
  GIVEN_WEIGHT = new Uint8Array(GIVEN_LIST.length);
  const mask = table.length - 1;
  for (let k = 0; k < GIVEN_LIST.length; k++) {
    const g = GIVEN_LIST[k]!;
    GIVEN_WEIGHT[k] = givenWeight(g);
    const h = wordHash(g, 0, g.length);
    // A name outside ASCII hashes to -1 and is never looked up here (`givenWeightAt` needs h ≥ 0).
    if (h < 0) continue;
    let slot = h & mask;
    while (table[slot] !== -1) slot = (slot + 1) & mask;
    table[slot] = k;
  }
  return table;
}

/**
 * `givenWeight` of text[s, e) lower-cased, for an ASCII word of hash `h` (from `wordHash`, ≥ 0):
 * equal to `givenWeightOf(text.slice(s, e))` when text[s] is a capital A-Z.
 */
export function givenWeightAt(text: string, s: number, e: number, h: number): 0 | 1 | 2 {
  const table = (GIVEN_TABLE ??= givenTable());
  const mask = table.length - 1;
  const len = e - s;
  for (let slot = h & mask; ; slot = (slot + 1) & mask) {
    const k = table[slot]!;
    if (k === -1) return 0;
    const g = GIVEN_LIST[k]!;
    if (g.length !== len) continue;
    let same = true;
    for (let j = 0; j < len; j++) {
      const c = text.charCodeAt(s + j);
      if ((c >= 65 && c <= 90 ? c + 32 : c) !== g.charCodeAt(j)) {
        same = false;
        break;
      }
    }
    if (same) return GIVEN_WEIGHT[k] as 0 | 1 | 2;
  }
}

/**
 * Capitalised words that are never the next word of a name here: eponyms (Parkinson disease,
 * Crohn disease), clinical and anatomical words, drugs, organisms, facilities and departments,
 * and the words that follow a credential ("RN License").
 */
export const NEVER_NAME_WORDS = new Set(
  words(`
  parkinson parkinsons parkinson's crohn crohns crohn's graves hodgkin hodgkins hodgkin's alzheimer alzheimers alzheimer's
  addison addison's cushing cushing's huntington huntington's tourette tourette's asperger asperger's raynaud raynaud's
  sjogren sjögren kawasaki guillain barre barré hashimoto hashimoto's epstein lyme meniere ménière paget paget's
  reiter marfan ehlers danlos turner klinefelter barrett barrett's burkitt kaposi
  wernicke korsakoff brown-sequard apgar glasgow babinski homan homans kernig brudzinski
  tinel phalen romberg trendelenburg valsalva foley swan ganz hickman whipple nissen roux billroth kocher mcburney
  pfannenstiel colles rovsing heberden bouchard osgood schlatter legg perthes still's dubin rotor wolff parkinson-white steven-johnson stevens-johnson bence
  braden morse norton waterlow caprini ranson pugh meld wells apgar gleason breslow clark bishop nyha killip
  disease syndrome disorder sign test score scale criteria classification type stage grade procedure repair
  catheter line tube drain flap operation maneuver reflex phenomenon fracture palsy tumor tumour lymphoma
  sarcoma carcinoma cell cells node nodes duct ducts gland glands nerve artery vein valve ventricle atrium
  tylenol advil motrin aspirin ibuprofen acetaminophen lisinopril metformin insulin lasix coumadin warfarin
  heparin eliquis xarelto plavix lipitor zocor norvasc synthroid prednisone amoxicillin augmentin keflex
  zithromax cipro levaquin vancomycin zosyn rocephin flagyl bactrim diflucan valtrex neurontin lyrica
  zoloft prozac lexapro celexa paxil wellbutrin xanax ativan valium ambien seroquel abilify haldol
  oxycodone percocet vicodin norco dilaudid morphine fentanyl narcan suboxone methadone tramadol
  albuterol ventolin proair symbicort advair spiriva singulair flonase claritin zyrtec benadryl
  protonix nexium prilosec pepcid zantac zofran reglan colace senna miralax dulcolax
  staphylococcus streptococcus enterococcus klebsiella escherichia pseudomonas clostridium clostridioides
  candida aspergillus mycobacterium haemophilus neisseria listeria salmonella shigella campylobacter
  helicobacter legionella bordetella treponema chlamydia mycoplasma proteus serratia enterobacter
  acinetobacter aureus coli difficile pneumoniae influenzae albicans
  hospital clinic center centre medical health healthcare memorial university college institute
  pharmacy laboratory laboratories lab labs imaging radiology cardiology oncology neurology surgery
  department dept unit ward wing floor building campus street st avenue ave road rd boulevard drive lane
  county city state national regional community general children's childrens women's womens veterans
  va kaiser permanente mayo cleveland clinic's hopkins mass general brigham presbyterian methodist baptist
  lutheran adventist mercy providence sinai cedars ascension sutter dignity
  license licence lic number no id badge cert certification certified board registered credential
  license# lic# number: md rn np pa do phd pharmd lpn dds
  the and or of for with from to in on at by is was has had will may can not no yes
  insurance medicare medicaid blue cross shield aetna cigna humana anthem united healthcare
  monday tuesday wednesday thursday friday saturday sunday january february march april may june july
  august september october november december
  `),
);

/**
 * Words that turn the capitalised word before them into an eponym: "Wilson disease", "Bell palsy",
 * "Down syndrome", "Murphy sign".
 */
export const EPONYM_FOLLOWERS = new Set(
  words(`disease disease's syndrome disorder sign signs test score scale criteria classification type stage grade
  procedure repair catheter tube drain flap operation maneuver manoeuvre reflex phenomenon fracture palsy tumor
  tumour lymphoma sarcoma carcinoma cell cells node nodes duct ducts gland glands nerve triad law method
  position incision stitch suture needle clamp forceps retractor dressing virus`),
);

/** Lower-case particles inside a name: "Ludwig van Beethoven", "María de la Cruz", "Omar bin Said". */
export const PARTICLES = new Set(words('de da del della dei di du des la le van von der den ter bin binti ibn bint al el dos das do y e st'));

/**
 * Common words that end a lower-case name read after a first-person cue ("this is maria calling",
 * "i am john from the clinic").
 */
export const STOP_AFTER_NAME = new Set(
  words(`
  a an the and or but so if then than that this these those here there again also just only still
  i me my mine we us our you your he him his she her they them their it its
  am is are was were be been being have has had do does did will would can could should may might must
  from with about for to at in on of by as up down out over under into onto off
  calling writing texting messaging emailing asking wondering checking following replying reaching
  regarding re please thanks thank hi hello hey dear sorry ok okay yes no not
  patient mother father mom dad wife husband son daughter sister brother friend caregiver nurse doctor
  again today tomorrow yesterday now soon later tonight morning afternoon evening
  `),
);

/**
 * Capitalised words of clinical, administrative and place phrases that are written in title case
 * inside sentences ("referred to Physical Therapy", "history of Atrial Fibrillation", "moved to
 * New Mexico"): a run of capitalised words holding one is not a name unless the lexicons say so.
 */
export const TERM_WORDS = new Set(
  words(`
  acute chronic multiple atrial fibrillation flutter heart failure congestive obstructive pulmonary coronary artery
  kidney renal liver hepatic cardiac diabetes mellitus hypertension hyperlipidemia asthma sclerosis lupus
  arthritis rheumatoid cancer breast lung colon prostate ovarian pancreatic leukemia anemia sickle thyroid
  stroke seizure epilepsy dementia depression anxiety bipolar schizophrenia autism spectrum cerebral palsy
  sleep apnea obesity morbid gout migraine neuropathy retinopathy nephropathy cirrhosis hepatitis pneumonia
  sepsis covid influenza measles mumps rubella tetanus pertussis varicella zoster herpes simplex papilloma
  physical occupational speech respiratory therapy therapist intensive emergency urgent critical primary
  behavioral mental rehab rehabilitation skilled nursing facility services service program programs center
  department clinic hospital medical health home hospice palliative infusion dialysis transplant wound
  infectious diseases gastroenterology endocrinology nephrology pulmonology rheumatology dermatology urology
  orthopedics orthopaedics pediatrics pediatric obstetrics gynecology psychiatry psychology podiatry
  ophthalmology otolaryngology anesthesia anesthesiology pathology hematology immunology allergy geriatrics
  nutrition dietary dietitian diabetic education case management social work chaplain spiritual care
  advantage supplemental part plan plans blue cross shield united aetna cigna humana anthem kaiser
  epic mychart cerner portal telehealth zoom teams outlook gmail yahoo google apple android iphone windows
  new old north south east west northern southern eastern western central upper lower great saint san santa
  los las fort lake mount mountain port beach valley river springs city county state republic kingdom island
  america american york jersey mexico carolina dakota virginia hampshire island angeles francisco diego
  antonio jose vegas orleans paso louis petersburg
  english spanish french german chinese mandarin cantonese vietnamese korean japanese russian arabic
  portuguese italian polish hindi urdu tagalog haitian creole somali amharic farsi sign language
  christian catholic muslim jewish hindu buddhist baptist methodist lutheran
  vital signs review systems physical exam assessment plan chief complaint present illness past surgical
  social family history allergies medications labs imaging results impression diagnosis diagnoses
  procedure procedures orders follow instructions discharge admission progress consult operative report
  normal abnormal stable improved unchanged worse mild moderate severe left right bilateral positive negative
  morning evening night daily weekly monthly annual total complete partial general regional local
  covid-19 sars-cov-2 hiv aids copd chf cad ckd esrd gerd
  blood bank angina unstable pectoris infarction embolism thrombosis insufficiency deficiency disease
  solostar flexpen kwikpen pen inhaler tablet tablets capsule injection solution cream ointment patch
  associates group partners foundation network alliance society association institute company corp inc llc
  front desk office team staff reception registration scheduling billing records unit floor
  `),
);

/** Endings of clinical and abstract words, never of a name here (checked only on words no lexicon knows). */
const TERM_ENDING = /(?:itis|osis|emia|aemia|pathy|ectomy|otomy|ostomy|plasty|scopy|ology|ologic|ological|ism|ness|ment|tion|sion|ous|ics|ized|ised|ful|less|able|ible|pril|olol|statin|mab|nib|azole|cillin|mycin|floxacin|sartan|dipine|zepam|tidine|prazole|gram|graphy|therapy|care)$/;

/**
 * The same endings as a sticky pattern read in place: matches at `lastIndex` when the ASCII word
 * starting there ends with one of them (no slice).
 */
export const TERM_ENDING_AT = new RegExp(`[A-Za-z'-]*${TERM_ENDING.source.slice(0, -1)}(?![A-Za-z'-])`, 'iy');

/** Lower-case words of TERM_WORDS and NEVER_NAME_WORDS, for hash filters. */
export const TERM_LIKE_WORDS = (): string[] => [...TERM_WORDS, ...NEVER_NAME_WORDS];

/** True when a capitalised word no lexicon knows reads as a clinical, abstract or place word. */
export function isTermWord(lower: string): boolean {
  return TERM_WORDS.has(lower) || NEVER_NAME_WORDS.has(lower) || TERM_ENDING.test(lower);
}

/**
 * Verbs after which "to", "with" or "by" introduces a person ("forwarded to", "discussed with",
 * "accompanied by"): the pair is a strong cue even though "to" alone is weak.
 */
export const CUE_VERBS = new Set(
  words(`
  spoke speak speaking talked talking sent forwarded handed explained explaining given gave reported report
  discussed discussing reviewed reviewing seen examined evaluated accompanied brought driven dropped
  transported referred escorted assisted helped supervised introduced presented staffed signed handed-off
  routed rerouted
  off over
  `),
);

/**
 * Relations and roles of people: a capitalised run after one ("her son Darnell", "Mother, Yesenia")
 * or after its possessive ("Ana's mother") is read as a person's name.
 */
export const RELATION_NOUNS = new Set(
  words(`
  mother father mom dad mum wife husband son daughter sister brother parent parents child children kids
  sons daughters siblings sibling family spouse partner fiance fiancé fiancee fiancée boyfriend girlfriend
  grandmother grandfather grandma grandpa grandson granddaughter grandchildren grandkids aunt uncle niece
  nephew cousin stepmother stepfather stepson stepdaughter sister-in-law brother-in-law mother-in-law
  father-in-law son-in-law daughter-in-law friend friends neighbor neighbour roommate caregiver caretaker
  teacher coworker colleague boss landlord guardian proxy sponsor pastor
  `),
);

/**
 * Verbs that follow a person as the subject of a clinical sentence ("Kowalski agreed", "Ngozi Eze
 * reported chest tightness"): evidence after a run, the mirror of the cues before it.
 */
export const PERSON_VERBS = new Set(
  words(`
  reports reported denies denied states stated agrees agreed presents presented returns returned
  complains complained endorses endorsed declines declined asks asked arrived tolerated understands
  understood verbalizes verbalized expresses expressed requests requested refuses refused consented
  wishes wished wants wanted prefers preferred feels felt says said lives lived works worked
  notes noted admits admitted describes described believes believed reports presents called calls
  `),
);

/** Conjunctions and prepositions that support a run only when a lexicon knows one of its words. */
export const WEAK_PERSON_CUES = new Set(words('and or per via from to for'));

/**
 * Lower-case words after which two capitalised words are read as a person's name even when no
 * lexicon knows them ("spoke with Harpreet Köhler", "her neighbor Seo-yeon Raghunathan").
 */
export const PERSON_CUES = new Set(
  words(`
  with by
  neighbor neighbour friend caregiver partner roommate cousin aunt uncle niece nephew grandson granddaughter
  grandmother grandfather grandma grandpa stepson stepdaughter stepmother stepfather boyfriend girlfriend fiance
  fiancee colleague coworker landlord sponsor interpreter translator chaperone witness advocate guardian proxy
  spoke talked called phoned told asked informed visited accompanied met contacted paged texted emailed messaged
  notified thanked reassured counseled counselled updated consulted signed dictated transcribed authored
  instructed educated advised reminded interviewed greeted counseling counselling educating instructing
  reassuring informing updating calling texting emailing paging examining seeing
  `),
);
