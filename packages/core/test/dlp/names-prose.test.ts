/**
 * Names in running prose with no title or label: cues before a run (verbs and relations of
 * people, a capitalised cue starting the sentence, a verb before "to"/"with"/"by", "mother, …"),
 * cues after it (person verbs, ", who", an apposition, the possessive of a relation), single cued
 * words, lists after a found name, sentence-initial runs only with lexicon support, and the SSA
 * given-name counts. Every class has its negatives: eponyms, drugs, organisms, departments and
 * facilities in the same places stay unreported. Offsets are checked in the original text.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { givenWeight, surnameWeight } from '../../src/dlp/detectors/name-evidence.js';
import { createScanner } from '../../src/dlp/index.js';

const scanner = createScanner();
const names = (text: string) =>
  scanner
    .scan(text)
    .filter((f) => f.type === 'PERSON_NAME')
    .map((f) => text.slice(f.start, f.end));
const spans = (text: string) =>
  scanner
    .scan(text)
    .filter((f) => f.type === 'PERSON_NAME')
    .map((f) => [f.start, f.end]);

// Written for this suite; no word of them is in the given-name or surname lexicons.
const UNKNOWN_FULL = ['Radomír Vuković', 'Ezinne Okeke', 'Ignacy Kaczmarek', 'Søren Thorsby', 'Oswin Graciano', 'Ottoline Dunwoody', 'Anaïs Kéroualle'];
// Not names here, though capitalised where a name would stand.
const NOT_PEOPLE = [
  'Parkinson disease', 'Graves disease', 'Crohn disease', 'Hodgkin lymphoma', 'Cushing syndrome', 'Bell palsy',
  'Eliquis', 'Lasix', 'Humira', 'Staphylococcus aureus', 'Klebsiella pneumoniae', 'Candida albicans',
  'Cardiology', 'Nephrology', 'Physical Therapy', 'Social Work', 'Infectious Diseases', 'Mercy Hospital',
  'Cedars Sinai Medical Center', 'Mayo Clinic', 'Blue Cross', 'Medicare',
];

describe('cues before a run', () => {
  const CUES = ['Patient seen with', 'Accompanied by', 'Plan discussed with', 'I spoke to', 'Message forwarded to', 'Handed off to', 'Her son', 'Lives with her husband', 'Wife', 'Grandson', 'Informed', 'Emailed'];
  it('property: a cue then two name words no lexicon knows is a name, exact offsets', () => {
    fc.assert(
      fc.property(fc.constantFrom(...CUES), fc.constantFrom(...UNKNOWN_FULL), fc.constantFrom(' today.', ' about the results.', ', who agreed.', ' by phone.'), (cue, name, tail) => {
        const text = `${cue} ${name}${tail}`;
        const at = text.indexOf(name);
        expect(spans(text), text).toEqual([[at, at + name.length]]);
      }),
    );
  });
  it('a relation before a comma: "Her mother, Ezinne Okeke, keeps a diary"', () => {
    expect(names('Her mother, Ezinne Okeke, keeps a seizure diary.')).toEqual(['Ezinne Okeke']);
  });
  it('property: the same cues before non-people report nothing', () => {
    fc.assert(
      fc.property(fc.constantFrom(...CUES), fc.constantFrom(...NOT_PEOPLE), (cue, term) => {
        // A relation label ("son", "wife") before one capitalised word no list knows reads it as a
        // name ("her son Darnell"): a lone drug name there is a known limit.
        if (/(?:son|husband|Wife)$/.test(cue) && /^(?:Lasix|Humira)$/.test(term)) return;
        const text = `${cue} ${term} today.`;
        expect(names(text), text).toEqual([]);
      }),
    );
  });
  it('a capitalised cue counts only where a sentence starts', () => {
    // "Grandson" inside a title-case run is no cue: the run is read by the lexicons alone.
    expect(names('Notes on Grandson Oswin Graciano today.')).toEqual([]);
    expect(names('Grandson Oswin Graciano drove her today.')).toEqual(['Oswin Graciano']);
  });
});

describe('cues after a run', () => {
  it('property: a person verb or an apposition after two name words inside a sentence', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('Overnight, ', 'Lives alone; ', 'As planned, '),
        fc.constantFrom(...UNKNOWN_FULL),
        fc.constantFrom(' reported chest tightness.', ' denies pain.', ' agreed to the plan.', ', who lives nearby, called.', ', his neighbor, drove him.'),
        (head, name, tail) => {
          const text = `${head}${name}${tail}`;
          const at = text.indexOf(name);
          expect(spans(text), text).toEqual([[at, at + name.length]]);
        },
      ),
    );
  });
  it('a person verb does not make a non-person a name', () => {
    for (const t of ['Overnight, Blue Cross denied the claim.', 'As planned, Physical Therapy reported good progress.', 'Cardiology agreed with the plan.', 'Medicare denies coverage.']) {
      expect(names(t), t).toEqual([]);
    }
  });
});

describe('single cued words', () => {
  it('after a person cue: a lexicon word, letters outside ASCII, or an apposition after it', () => {
    expect(names('Seen and examined with Gutierrez, who agrees with the plan.')).toEqual(['Gutierrez']);
    expect(names('Discussed with Wójcik from infectious diseases.')).toEqual(['Wójcik']);
    expect(names('Seen together with Radomir, his partner, today.')).toEqual(['Radomir']);
    expect(names('Texted Margaret the after-hours number.')).toEqual(['Margaret']);
  });
  it('an ASCII word no lexicon knows needs a cue after it too', () => {
    expect(names('Discussed with Radomir today.')).toEqual([]);
    expect(names('Treated with Humira since 2020.')).toEqual([]);
    expect(names('Called Walgreens to transfer the prescription.')).toEqual([]);
  });
  it('weak given names after a cue need a cue after them too', () => {
    expect(names('Raised with Christian values.')).toEqual([]);
  });
  it('keeps offsets in the original text when an invisible character sits in the word', () => {
    const text = 'Discussed with Wó\u200bjcik from infectious diseases.';
    const [f] = scanner.scan(text).filter((x) => x.type === 'PERSON_NAME');
    expect(text.slice(f!.start, f!.end)).toBe('Wó\u200bjcik');
  });
});

describe('possessives', () => {
  it('property: "X\'s mother" reads X without the "\'s", at any place in the sentence', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('', 'Per the nurse, ', 'We spoke to '),
        fc.constantFrom(...UNKNOWN_FULL, 'Radomir', 'Ezinne'),
        fc.constantFrom("'s mother", '\u2019s wife', "'s teacher", "'s caregiver"),
        (head, name, poss) => {
          const text = `${head}${name}${poss} called twice.`;
          // At the start of a sentence a word no lexicon knows stays unreported.
          if (head === '') return;
          const at = text.indexOf(name);
          expect(spans(text), text).toEqual([[at, at + name.length]]);
        },
      ),
    );
  });
  it('a lexicon name starting a sentence before a relation is read; an unknown one is not', () => {
    expect(names("Margaret's mother reports two episodes of emesis.")).toEqual(['Margaret']);
    expect(names("Radomir's mother reports two episodes of emesis.")).toEqual([]);
  });
  it("apostrophes inside names stay: O'Brien, D'Angelo", () => {
    expect(names("We spoke to Siobhan O'Brien's husband today.")).toEqual(["Siobhan O'Brien"]);
    expect(names("Reviewed Dr. D'Angelo's note.")).toEqual(["D'Angelo"]);
  });
  it('eponym possessives are not names', () => {
    for (const t of ["History of Crohn's disease.", "Parkinson's disease, on levodopa.", "Rule out Cushing's syndrome.", "Hashimoto's thyroiditis, stable.", "Barrett's esophagus on surveillance."]) {
      expect(names(t), t).toEqual([]);
    }
  });
});

describe('sentence-initial runs only with lexicon support', () => {
  it('a known given name, or a census surname before a person verb', () => {
    expect(names('Margaret Vuković presents for follow-up.')).toEqual(['Margaret Vuković']);
    expect(names('Gonzalez agreed to cover the weekend.')).toEqual(['Gonzalez']);
  });
  it('a run no lexicon knows at the start of a sentence is not read, even before a verb', () => {
    expect(names('Radomir Vukovic reports mild pain.')).toEqual([]);
    expect(names('Kaczmarek agreed to cover the weekend.')).toEqual([]);
  });
  it('a credential in capitals before a name is no facility word', () => {
    expect(names('Potassium repeated. Called to RN Diane Foster at 14:22.')).toEqual(['Diane Foster']);
  });
  it('a given name after a capitalised word is not read alone ("Puerto Rico")', () => {
    expect(names('Moved from Puerto Rico last year.')).toEqual([]);
    expect(names('Spoke with Rico about the plan.')).toEqual(['Rico']);
    // After punctuation there is no word before: "nodes; Ki-67".
    expect(names('Stage II, 6 of 36 nodes; Ki-67 41%')).toEqual([]);
  });
  it('facility and clinical words around a given name unmake the run', () => {
    expect(names('Referred to Memorial Sloan Kettering for a second opinion.')).toEqual([]);
    expect(names('Rocky Mountain spotted fever serology pending.')).toEqual([]);
    expect(names('Seen by Dermatology for follow-up.')).toEqual([]);
  });
});

describe('lists of names', () => {
  it('property: items after a found name, with commas and "and", exact offsets', () => {
    fc.assert(
      fc.property(fc.shuffledSubarray(UNKNOWN_FULL, { minLength: 2, maxLength: 4 }), (items) => {
        const list = items.length === 2 ? `${items[0]} and ${items[1]}` : `${items.slice(0, -1).join(', ')}, and ${items.at(-1)}`;
        const text = `Present at the meeting with ${list} today.`;
        const want = items.map((n) => {
          const at = text.indexOf(n);
          return [at, at + n.length];
        });
        expect(spans(text), text).toEqual(want);
      }),
    );
  });
  it('the item right before a found name: a lexicon word or a run, not a term', () => {
    expect(names('Ana and Luis Ortega came with their daughter.')).toEqual(['Ana', 'Luis Ortega']);
    expect(names('Met Ezinne Okeke, Margaret Vuković and the team.')).toEqual(['Ezinne Okeke', 'Margaret Vuković']);
    expect(names('Spoke with Cardiology and Margaret Vuković today.')).toEqual(['Margaret Vuković']);
    expect(names('Tylenol and Margaret Vuković were mentioned.')).toEqual(['Margaret Vuković']);
  });
  it('a term, a place with a state code or a lone unknown word ends the list', () => {
    expect(names('Spoke with Ezinne Okeke, Cardiology, and the team.')).toEqual(['Ezinne Okeke']);
    expect(names('Spoke with Ezinne Okeke, Palo Alto, CA about records.')).toEqual(['Ezinne Okeke']);
    expect(names('Spoke with Ezinne Okeke and Lasix was held.')).toEqual(['Ezinne Okeke']);
  });
});

describe('SSA given-name counts', () => {
  it('frequent names the Moby lists lack are strong evidence', () => {
    for (const w of ['jaxon', 'nevaeh', 'kinsley', 'brantley', 'walter']) expect(givenWeight(w), w).toBe(2);
  });
  it('rare names, everyday and place words, and census surnames given as first names are weak', () => {
    for (const w of ['brooklyn', 'houston', 'unknown', 'baby', 'justice', 'collins', 'murphy']) expect(givenWeight(w), w).toBe(1);
  });
  it('a modern given name in prose is found', () => {
    expect(names('Her daughter Nevaeh Kaczmarek will drive her home.')).toEqual(['Nevaeh Kaczmarek']);
    expect(names('Jaxon Kaczmarek presents with a sore throat.')).toEqual(['Jaxon Kaczmarek']);
  });
  it('surname weights are unchanged: everyday words carry no evidence', () => {
    for (const w of ['brown', 'bell', 'long', 'graves']) expect(surnameWeight(w), w).toBe(0);
    expect(surnameWeight('gonzalez')).toBe(2);
  });
});

describe('hard negatives stay unreported', () => {
  it('lab values, LOINC and ICD-10 codes, eponyms, drugs, organisms and facilities', () => {
    for (const t of [
      'Sodium 138, Potassium 4.1, Chloride 101, Creatinine 1.2 mg/dL.',
      'LOINC 2345-7 Glucose 182 mg/dL; LOINC 4548-4 Hemoglobin A1c 8.1%.',
      'ICD-10 K50.90 Crohn disease, unspecified; E05.00 Graves disease.',
      'Known Hodgkin lymphoma, in remission after ABVD.',
      'Per Infectious Diseases, start Zosyn and Vancomycin.',
      'Cultures grew Klebsiella pneumoniae and Enterococcus faecalis.',
      'Transferred to Cedars Sinai Medical Center for ECMO evaluation.',
      'Continue Lasix, Coreg and Entresto per Heart Failure Clinic.',
    ]) {
      expect(names(t), t).toEqual([]);
    }
  });
});
