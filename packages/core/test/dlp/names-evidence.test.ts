/**
 * Names found by weighed evidence rather than a title or label: the 2010 Census surname lexicon,
 * person cues before two capitalised words no lexicon knows, signature blocks, lower-case portal
 * introductions; the term veto (clinical, place, facility and product words) and every negative
 * class; offsets mapped back to the original text when the normalized view differs from it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { surnameWeight } from '../../src/dlp/detectors/name-evidence.js';
import { SURNAMES } from '../../src/dlp/detectors/surname-lexicon.js';
import { createScanner } from '../../src/dlp/index.js';

const scanner = createScanner();
const names = (text: string) =>
  scanner
    .scan(text)
    .filter((f) => f.type === 'PERSON_NAME')
    .map((f) => text.slice(f.start, f.end));
/** The one PERSON_NAME finding of `text` as [start, end] in the original text. */
const span = (text: string) => {
  const fs = scanner.scan(text).filter((f) => f.type === 'PERSON_NAME');
  return fs.map((f) => [f.start, f.end]);
};

// Written for this suite; none of them is in the given-name or surname lexicons.
const UNKNOWN_GIVEN = ['Harpreet', 'Chiamaka', 'Gökhan', 'Xiaoling', 'Wiebke', 'Dragoș', 'Begoña', 'Eluned', 'Sigrún', 'Tendai'];
const UNKNOWN_FAMILY = ['Köhler', 'Raghunathan', 'Iturralde', 'Þórsdóttir', 'Wiśniewska', 'Ndlovu', 'Țurcanu', 'Grzybowski', "O'Driscoll", 'Smith-Okafor'];
const CUES = ['Spoke with', 'Her neighbor', 'Met with the interpreter,', 'Consent signed by', 'Discussed with her partner'];

describe('the 2010 Census surname lexicon', () => {
  it('is generated with weights, most frequent first, and frequent names weigh more', () => {
    const pairs = SURNAMES.split(' ').map((p) => p.split(':'));
    expect(pairs.length).toBeGreaterThan(1000);
    expect(pairs[0]![0]).toBe('smith');
    const props = pairs.map(([, w]) => Number(w));
    for (let i = 1; i < props.length; i++) expect(props[i]).toBeLessThanOrEqual(props[i - 1]!);
    expect(surnameWeight('garcia')).toBe(2);
    expect(surnameWeight('mcknight')).toBe(1);
    expect(surnameWeight('raghunathan')).toBe(0);
    // Surnames that are everyday words carry no evidence of their own.
    expect(surnameWeight('brown')).toBe(0);
    expect(surnameWeight('bell')).toBe(0);
  });
  it('a census surname after a capitalised word inside a sentence is a name', () => {
    expect(names('Tonight the patient and Rukmini Gonzalez walked the hall.')).toEqual(['Rukmini Gonzalez']);
    expect(names('Medication list reviewed with Oksana Ramirez today.')).toEqual(['Oksana Ramirez']);
  });
});

describe('two capitalised words no lexicon knows', () => {
  it('property: after a person cue they are one name, with exact offsets', () => {
    fc.assert(
      fc.property(fc.constantFrom(...CUES), fc.constantFrom(...UNKNOWN_GIVEN), fc.constantFrom(...UNKNOWN_FAMILY), fc.constantFrom(' today.', ', who agreed.', ' about the plan.'), (cue, g, f, tail) => {
        const full = `${g} ${f}`;
        const text = `${cue} ${full}${tail}`;
        const at = text.indexOf(full);
        expect(span(text), text).toEqual([[at, at + full.length]]);
      }),
    );
  });
  it('property: at the start of a sentence or with no cue they are not read as a name', () => {
    fc.assert(
      fc.property(fc.constantFrom(...UNKNOWN_GIVEN), fc.constantFrom(...UNKNOWN_FAMILY), (g, f) => {
        // ASCII spellings, so that no letter outside ASCII counts as evidence.
        const plain = `${g} ${f}`.normalize('NFD').replace(/[^A-Za-z ]/g, '');
        expect(names(`${plain} reviewed.`)).toEqual([]);
        expect(names(`The results of ${plain} testing.`)).toEqual([]);
      }),
    );
  });
  it('keeps particles joined by a hyphen and lower-case particles', () => {
    expect(names('Spoke with Farnaz al-Sayed about the dressing.')).toEqual(['Farnaz al-Sayed']);
    expect(names('Spoke with Ngozi de la Fuente about the dressing.')).toEqual(['Ngozi de la Fuente']);
    expect(names('Spoke with Maarten van den Broek about the dressing.')).toEqual(['Maarten van den Broek']);
  });
  it('offsets map back to the original text through entities and invisible characters', () => {
    const text = 'Spoke with Harpreet K&#246;hler\u200b today.';
    const [[s, e]] = span(text) as [[number, number]];
    expect(text.slice(s, e)).toBe('Harpreet K&#246;hler');
    const text2 = 'Spoke with Dra\u200egoș Ndlovu today.';
    const [[s2, e2]] = span(text2) as [[number, number]];
    expect(text2.slice(s2, e2)).toBe('Dra\u200egoș Ndlovu');
  });
  it('"Emergency contact:" and other person label nouns introduce a name', () => {
    expect(names('Emergency contact: Leandro Popescu\nPhone on file.')).toEqual(['Leandro Popescu']);
    expect(names('Next of kin: Abena Mensah')).toEqual(['Abena Mensah']);
  });
});

describe('the term veto and the negative classes', () => {
  const classes: Record<string, string[]> = {
    eponyms: [
      'Discussed with Parkinson Clinic staff.',
      'Findings consistent with Graves disease.',
      'Followed for Crohn disease by GI.',
      'Spoke with Cushing Syndrome support group.',
      'Right Bell palsy, improving.',
      'Screened for Wilson disease.',
      'Child with Down syndrome.',
    ],
    clinical: [
      'Patient was referred to Physical Therapy and Occupational Therapy.',
      'History of Multiple Sclerosis and Atrial Fibrillation.',
      'Discussed with Infectious Disease team.',
      'Reports pain in the Left Lower Quadrant.',
      'Assessment:\n\nStable Angina',
    ],
    drugs: ['Started on Humalog Mix and Lantus Solostar.', 'Continue Eliquis and Lasix.', 'Switched with Zoloft Oral Tablet.'],
    organisms: ['Cultures grew with Staphylococcus Aureus overnight.', 'Positive for Clostridioides Difficile toxin.'],
    facilities: ['Transferred with Mercy General staff.', 'Seen at Johns Hopkins by cardiology.', 'Results sent to Quest Diagnostics and LabCorp.', 'Seen in the Emergency Department overnight.'],
    places: ['She moved from New Mexico with her husband.', 'He lives in Grand Rapids with his sister.', 'Flew with her daughter to Buenos Aires.'],
    credential: ['RN License verified by Nursing Services.', 'RN License: 2231-88', 'Thanks,\nBlood Bank'],
    headings: ['Marked Improvement Noted After Therapy.', 'Patient Education Materials Provided In Spanish.', 'Chest Pain Protocol Initiated.'],
  };
  for (const [cls, lines] of Object.entries(classes)) {
    it(`${cls}: no name`, () => {
      for (const l of lines) expect(names(l), l).toEqual([]);
    });
  }
  it('a real name beside a negative word is still found', () => {
    expect(names('Spoke with Harpreet Köhler about Parkinson disease.')).toEqual(['Harpreet Köhler']);
    expect(names('Note signed by Sakura Treadway, RN License #RN400020 on file.')).toEqual(['Sakura Treadway']);
  });
});

describe('signature blocks', () => {
  it('a name line after a blank line, a "--" delimiter or a one-line sign-off ends the message', () => {
    expect(names('I will bring the forms on Monday.\n\nSeo-yeon Llwyd')).toEqual(['Seo-yeon Llwyd']);
    expect(names('Thank you for the quick answer.\n-- \nDervla')).toEqual(['Dervla']);
    expect(names('Please call if the swelling returns.\n\nBest,\nGaëtan Takahashi\nClinic Coordinator')).toEqual(['Gaëtan Takahashi']);
    expect(names('See you then.\r\n\r\nWarmly,\r\nŁukasz Popescu')).toEqual(['Łukasz Popescu']);
  });
  it('a name line followed by a credential, particles included', () => {
    expect(names('Labs reviewed, no changes to plan.\nRadka du Plessis, RN')).toEqual(['Radka du Plessis']);
    expect(names('Plan unchanged.\nWojciech Grzybowski, PA-C')).toEqual(['Wojciech Grzybowski']);
  });
  it('a single unknown word needs a delimiter or a sign-off; a lone line is no signature', () => {
    expect(names('Thank you.\n\nTendai')).toEqual([]);
    expect(names('Harpreet Köhler')).toEqual([]);
    expect(names('Plan discussed.\n\nFollow Up')).toEqual([]);
  });
});

describe('lower-case portal introductions', () => {
  it('"my name is" takes the words that follow, with particles and an initial', () => {
    expect(names('hello my name is joao du plessis and i need to reschedule')).toEqual(['joao du plessis']);
    expect(names('hello my name is solene b lopesmendonca and i need to reschedule')).toEqual(['solene b lopesmendonca']);
  });
  it('"this is" takes an unknown word only when an introduction follows', () => {
    expect(names('hi this is wojciech again, the rash is spreading')).toEqual(['wojciech']);
    expect(names('hi this is tendai, my son has a fever')).toEqual(['tendai']);
    expect(names('this is urgent, please call')).toEqual([]);
    expect(names('this is ridiculous again')).toEqual([]);
    expect(names('i am wojciech and i need a refill')).toEqual([]);
  });
});
