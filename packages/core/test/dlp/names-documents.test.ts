/**
 * Names in whole documents: a word of a name found elsewhere in the text written again on its
 * own, rows of census and sign-out lists ("Bed 12  Diallo, Amadou  62M"), the "Covering:" label,
 * "routed to" and "seeing" as cues, possessives of a relation at the start of a sentence written
 * with letters outside ASCII, and service names after e-mail header labels. Each class has its
 * negatives; offsets are checked in the original text.
 */
import { describe, expect, it } from 'vitest';
import { createScanner } from '../../src/dlp/index.js';

const scanner = createScanner();
const names = (text: string) =>
  scanner
    .scan(text)
    .filter((f) => f.type === 'PERSON_NAME')
    .map((f) => ({ text: text.slice(f.start, f.end), start: f.start, end: f.end }));
/** The span of the `nth` occurrence (0-based) of `word` in `text`. */
const at = (text: string, word: string, nth = 0) => {
  let i = -1;
  for (let k = 0; k <= nth; k++) i = text.indexOf(word, i + 1);
  if (i < 0) throw new Error(`${word} not in text`);
  return { text: word, start: i, end: i + word.length };
};

describe('a word of a found name, written again', () => {
  it('a given name alone after the full name was found by its label', () => {
    const t = 'Telephone encounter\nCaller: Sebastião Quaresma (self)\nCallback: on file\n\nSebastião called stating the Keppra makes her drowsy.';
    expect(names(t)).toEqual([at(t, 'Sebastião Quaresma'), at(t, 'Sebastião', 1)]);
  });
  it('a family name alone, and its possessive, after the name was found', () => {
    const t = 'Patient: Oğuz Çelik\n\nÇelik reports less dyspnea. Reviewed Çelik\'s home log.';
    expect(names(t)).toEqual([at(t, 'Oğuz Çelik'), at(t, 'Çelik', 1), at(t, 'Çelik', 2)]);
  });
  it('is matched with its case: the common word in small letters is not a name', () => {
    const t = 'Patient: Grant Fairbanks\nResearch grant paperwork pending. Grant called back.';
    expect(names(t)).toEqual([at(t, 'Grant Fairbanks'), at(t, 'Grant', 1)]);
  });
  it('is not read before an eponym noun, nor after a capitalised facility word', () => {
    const graves = 'Caller: Ruth Graves (self). Graves disease in remission.';
    expect(names(graves).map((n) => n.text)).not.toContain('Graves');
    const sinai = 'Caller: Leah Sinai (self). Seen at Mount Sinai last year.';
    expect(names(sinai).filter((n) => n.start > sinai.indexOf('Mount'))).toEqual([]);
  });
  it('carries no label, title or relation word of a found name', () => {
    const t = 'Daughter Maite Urrutikoetxea at bedside.\nDaughter asked about discharge. Urrutikoetxea agreed.';
    const found = names(t);
    expect(found).toContainEqual(at(t, 'Urrutikoetxea', 1));
    expect(found.some((n) => n.start === t.indexOf('Daughter', 1))).toBe(false);
  });
  it('a repeat that starts a run of name words before a cue is read with the run', () => {
    const t = "Caller: Gonçalo Assunção\n\nReviewed today. Gonçalo Assunção's A1c is 8.9. Ask Gonçalo to log it.";
    expect(names(t)).toContainEqual(at(t, 'Gonçalo Assunção', 1));
    // A repeat with no run after it is the word alone.
    expect(names(t)).toContainEqual(at(t, 'Gonçalo', 2));
  });
  it('an everyday word that starts a sentence needs a person cue after it', () => {
    const grant = 'Patient: Grant Fairbanks\nGrant application pending. Hope is low. Grant called back.';
    expect(names(grant)).toEqual([at(grant, 'Grant Fairbanks'), at(grant, 'Grant', 2)]);
    const hope = 'Patient: Hope Carter\nHope is that the rash resolves. Mark the site.';
    expect(names(hope)).toEqual([at(hope, 'Hope Carter')]);
    const stone = "Patient: Faith Stone\nStone in the left ureter. Faith reports pain; Faith's son drove her.";
    expect(names(stone)).toEqual([at(stone, 'Faith Stone'), at(stone, 'Faith', 1), at(stone, 'Faith', 2)]);
  });
  it('is not read before a facility word', () => {
    const t = 'Caller: Ana Ruiz (self). Records from Ruiz Medical Center requested.';
    expect(names(t)).toEqual([at(t, 'Ana Ruiz')]);
  });
  it('without a found name nothing is repeated', () => {
    expect(names('Sebastião called stating the Keppra makes her drowsy.')).toEqual([]);
  });
});

describe('rows of census and sign-out lists', () => {
  it('family name first, before an age and sex, after a bed number or a row number', () => {
    const t = 'NIGHT SIGN-OUT\nBed 12  Whitcombe, Harold  62M  CHF exacerbation\n4. Đặng, Thu Trang 47F  cellulitis\nRm 7  Szőllősi, Réka (81 y/o F) hip fracture';
    expect(names(t)).toEqual([at(t, 'Whitcombe, Harold'), at(t, 'Đặng, Thu Trang'), at(t, 'Szőllősi, Réka')]);
  });
  it('a problem in the same place is no name', () => {
    for (const t of ['Bed 9  Sepsis, Urinary 70F', 'Bed 9  Cellulitis, Left Leg 47F', 'Bed 2  Pneumonia, Community 62M', 'Bed 4  Crohn, Flare 33F']) expect(names(t)).toEqual([]);
  });
  it('needs the age and sex, and the start of a row', () => {
    expect(names('Bed 12  Szőllősi, Réka  stable overnight')).toEqual([]);
    expect(names('Seen today, Réka 62M')).toEqual([]);
  });
});

describe('cues of hand-offs and referrals', () => {
  it('"Covering:" labels a person', () => {
    const t = 'Covering: Jia Hui Teo (pager 4412)';
    expect(names(t)).toEqual([at(t, 'Jia Hui Teo')]);
  });
  it('"covering" without a colon, or before a department, labels nothing', () => {
    expect(names('She is covering the 1500 dressing change.')).toEqual([]);
    expect(names('Covering: Cardiology')).toEqual([]);
  });
  it('"routed to" and "seeing" before two name words', () => {
    const a = 'Message routed to Anatoliy Hrytsenko for review.';
    expect(names(a)).toEqual([at(a, 'Anatoliy Hrytsenko')]);
    const b = 'Thank you for seeing Ifeanyi Onyekachi, a pleasant gentleman.';
    expect(names(b)).toEqual([at(b, 'Ifeanyi Onyekachi')]);
  });
  it('a department after them is no name', () => {
    expect(names('Message routed to Cardiology for review.')).toEqual([]);
    expect(names('Thank you for seeing Physical Therapy today.')).toEqual([]);
  });
});

describe('possessive of a relation at the start of a sentence', () => {
  it('a word with letters outside ASCII no lexicon knows', () => {
    const t = "Discussed adding Ozempic. Gonçalo's mother also has diabetes.";
    expect(names(t)).toEqual([at(t, 'Gonçalo')]);
  });
  it('accented eponyms with a possessive stay unreported', () => {
    expect(names("History of Ménière's disease. Sjögren's syndrome. Guillain-Barré syndrome in 2019.")).toEqual([]);
  });
});

describe('service names after e-mail header labels', () => {
  it('are no names; a person after the same label is', () => {
    expect(names('From: Braddock, Skyler\nTo: Scheduling\nSubject: FMLA').map((n) => n.text)).toEqual(['Braddock, Skyler']);
    expect(names('To: Registration\nSubject: forms')).toEqual([]);
    const t = 'To: Ana Lucía Peñalver';
    expect(names(t)).toEqual([at(t, 'Ana Lucía Peñalver')]);
  });
});

describe('hard negatives', () => {
  it('eponyms, credentials, facilities, drugs and organisms are no names', () => {
    const lines = [
      'RN License verified. NP Certification current. Board Certified, Internal Medicine.',
      'MD Anderson Cancer Center referral sent.',
      "Parkinson disease, Crohn's disease, Graves disease, Hodgkin lymphoma, Bell's palsy.",
      'Afebrile overnight. Tolerating diet. Continue Lasix. Hold Eliquis before the procedure.',
      'Cultures grew Enterococcus faecium and Candida auris. Doppler negative for DVT.',
      'Transferred from Mass General. Previously followed at Cleveland Clinic.',
    ];
    for (const l of lines) expect(names(l), l).toEqual([]);
  });
  it('"RN License" after a signed name leaves the license out of the name', () => {
    const t = 'Electronically signed by:\nSiobhán O\'Halloran, RN\nRN License #RN7741029';
    expect(names(t)).toEqual([at(t, "Siobhán O'Halloran")]);
  });
});
