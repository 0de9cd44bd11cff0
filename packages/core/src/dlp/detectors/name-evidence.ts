/**
 * Evidence for and against reading capitalised words as a person's name: the given-name lexicon
 * (name-lexicon.ts, public domain), its weights, and the words that are never a name here
 * although they look like one (eponyms of diseases, clinical vocabulary, drugs, organisms,
 * facility words, words after a credential).
 */
import { GIVEN_NAMES } from './name-lexicon.js';

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

/** Weight of `w` (lower case) as a given name: 0 unknown, 1 weak (ambiguous), 2 strong. */
export function givenWeight(w: string): 0 | 1 | 2 {
  if (!GIVEN.has(w)) return 0;
  return AMBIGUOUS.has(w) ? 1 : 2;
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
const BLOOM_BITS = 1 << 18;
/** A one-hash Bloom filter of the lexicon: most capitalised words are rejected without a slice. */
const BLOOM = new Uint8Array(BLOOM_BITS >> 3);
for (const w of GIVEN) {
  const h = wordHash(w, 0, w.length) & (BLOOM_BITS - 1);
  BLOOM[h >> 3]! |= 1 << (h & 7);
}
/** False when the word with hash `h` (from `wordHash`, ≥ 0) is surely not a given name. */
export function maybeGiven(h: number): boolean {
  const b = h & (BLOOM_BITS - 1);
  return (BLOOM[b >> 3]! & (1 << (b & 7))) !== 0;
}

/** The capitalised forms ("Maria"), so that the common case needs no lower-casing. */
const CAPITALISED = new Map<string, 1 | 2>();
for (const w of GIVEN) CAPITALISED.set(w[0]!.toUpperCase() + w.slice(1), AMBIGUOUS.has(w) ? 1 : 2);

/** `givenWeight` of a word as written ("Maria", "MARIA", "Inés"). */
export function givenWeightOf(word: string): 0 | 1 | 2 {
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
