import { describe, expect, it } from 'vitest';
import { createScanner } from '../../src/dlp/scanner.js';

// Lower-case patient-portal messages: a name after a relation, a title, a greeting, a sign-off, a
// dash, or alone on the last line. Each case lists the names as they appear in the text; the
// offsets are checked against the text as passed.
const scanner = createScanner({ types: ['PERSON_NAME'] });

function names(t: string): Array<[number, number, string]> {
  return scanner.scan(t).filter((f) => f.type === 'PERSON_NAME').map((f) => [f.start, f.end, t.slice(f.start, f.end)]);
}
function expected(t: string, ...want: string[]): Array<[number, number, string]> {
  let from = 0;
  return want.map((w) => {
    const i = t.indexOf(w, from);
    if (i < 0) throw new Error(`${w} not in ${t}`);
    from = i + w.length;
    return [i, i + w.length, w];
  });
}

const FOUND: Array<[string, ...string[]]> = [
  // Sign-offs after a comma, a dash, or on the last line.
  ['can i move my appointment to next week?\nthanks,\nana', 'ana'],
  ['the refill went through, all good - tomasz', 'tomasz'],
  ['got the results, thx, ngozi', 'ngozi'],
  ['is the lab open on saturday\n\nthanks\nmaria lopez', 'maria lopez'],
  ['please call me back when you can\n- josé', 'josé'],
  ['the rash is better now\nłukasz', 'łukasz'],
  ['i need a new inhaler prescription\nthank you, ayşe', 'ayşe'],
  ['question about my bill\nregards,\ndavid', 'david'],
  // A relation before the name.
  ['my daughter ana has a fever since last night', 'ana'],
  ['my husband tomasz kowalczyk needs a refill', 'tomasz kowalczyk'],
  ['my mom rosa is out of her blood pressure pills', 'rosa'],
  ['can my son josé come in tomorrow?', 'josé'],
  // A lower-case title.
  ['dr. nguyen said to call if it got worse', 'nguyen'],
  ['is dr okafor in on monday?', 'okafor'],
  ['nurse kelly told me to send a photo', 'kelly'],
  // A greeting.
  ['hi dr. patel, my knee still hurts', 'patel'],
  ['hello ana,\nis the clinic open today?', 'ana'],
  ['hey maria, quick question about my labs', 'maria'],
];

const NONE = [
  'my daughter is sick',
  'my husband has a fever',
  'thanks, bye',
  'dr. appointment tomorrow',
  'hi, quick question',
  'is the lab open\n- sent from my iphone',
  'my mom said ok',
  'thanks again',
  'can someone from the nurse line call me',
  'i hope the results are back soon',
  'is there a grace period on the bill',
  'i will mark the date',
  'may i ask about june',
  'keep the faith',
  'no joy with the new meds',
  'my son will call later',
  'my wife may come with me',
  'hi team,\nthe portal is down',
  'hello again, is the refill ready',
  'thanks so much\nok',
  'dr office called me',
  'my daughter feels better now',
  'see you then\nthanks',
  'the driving directions are wrong',
];

describe('names in lower-case portal messages', () => {
  for (const [t, ...want] of FOUND) {
    it(`finds ${want.join(', ')} in ${JSON.stringify(t)}`, () => {
      expect(names(t)).toEqual(expected(t, ...want));
    });
  }
  for (const t of NONE) {
    it(`finds no name in ${JSON.stringify(t)}`, () => {
      expect(names(t)).toEqual([]);
    });
  }
});
