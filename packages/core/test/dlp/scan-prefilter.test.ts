import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createScanner } from '../../src/dlp/scanner.js';
import type { Finding } from '../../src/dlp/types.js';

// A scan first asks one character class whether the text can hold a finding at all (a digit, a
// capital, '@', '&', '%', '<', '^', '|', a non-ASCII character or a lower-case cue) and returns
// the shared empty result when it cannot, without reading the text further; a text built by
// concatenation is copied flat before the detectors read it. Neither may change what is found:
// a scanner with a custom detector (which turns the pre-filter off) is the reference here, and a
// text gives the same findings whether it is a rope or a flat string.
const reference = createScanner({ detectors: [{ type: 'MRN', find: () => [] }] });
const scanner = createScanner();

/** Pieces rich in what starts a finding, what almost does, and the lower-case cues. */
const PIECES = [
  ...'abcdefghijklmnopqrstuvwxyz',
  ' ', ' ', ' ', '\n', ', ', '.', '-', '/', ':', '"', '{', '}', '(', ')', '#', '=', '_', '+', '*', '!', '?', "'",
  'patient', 'seen', 'follow up', 'no acute distress', 'denies', 'mg', 'daily', 'with', 'and', 'the',
  // Lower-case cues the pre-filter must let through.
  'this is ', 'i am ', "i'm ", 'my name is ', 'ninety', ' at ', 'zero ', 'oh ', 'one ', 'two ', 'three ', 'four ',
  'five ', 'six ', 'seven ', 'eight ', 'nine ', 'maria', 'jroe', 'example', ' dot ', 'org', 'com', 'year old',
  // Characters and fragments that start candidates.
  '0', '4', '7', '9', 'A', 'M', 'Z', '@', '&', '%', '<', '^', '|', 'é', 'ß', '\u200b', '٣', '１',
  '123-45-6789', '617-555-0143', 'jane@example.org', 'Dr. Whitaker', 'DOB 04/12/1951', '&#64;', '%40', 'MRN 00482913',
];
const text = fc.array(fc.constantFrom(...PIECES), { maxLength: 30 }).map((parts) => parts.join(''));
/** Texts with no character that starts a candidate: only a lower-case cue can let them through. */
// Cues glued to letters ("patient", "phone") let nothing through; after '_', a bracket or a quote they do.
const LOWER = [...'abcdefghijklmnopqrstuvwxyz', ' ', ' ', ', ', '.', '-', '/', ':', '"', '\n', '_', "'", '(', ')', '[', ']', '{', '}', 'at', 'one', 'this is ', 'ninety', 'nine', 'oh', 'dot', 'jroe', 'example', 'org', 'my name is ', 'my son ', 'dr. ', 'nurse ', 'hi ', 'thanks,\n', '\n- ', 'rosa', 'kelly'];
const lowerText = fc.array(fc.constantFrom(...LOWER), { minLength: 1, maxLength: 40 }).map((parts) => parts.join(''));

/** `t` as a rope: V8 keeps a concatenation of strings of 13+ units unflattened until read. */
function rope(t: string): string {
  const cut = t.length >> 1;
  const a = t.slice(0, cut);
  const b = t.slice(cut);
  let r = '';
  for (const piece of [a, b]) r += piece;
  return r;
}
/** `t` as a flat string of its own (a copy through a UTF-16 buffer). */
function flatCopy(t: string): string {
  return Buffer.from(t, 'utf16le').toString('utf16le');
}
const plain = (fs: readonly Finding[]) => fs.map((f) => ({ ...f }));

describe('the scan pre-filter and flattening keep every finding', () => {
  it('random texts: the same findings with and without the pre-filter, as a rope and flat', () => {
    let withFindings = 0;
    let filtered = 0;
    fc.assert(
      fc.property(text, (t) => {
        const expected = plain(reference.scan(t));
        if (expected.length > 0) withFindings++;
        const got = scanner.scan(t);
        if (got.length === 0 && !/[0-9A-Z@&%<^|:\u0080-\uffff]/.test(t)) filtered++;
        expect(plain(got)).toEqual(expected);
        expect(plain(scanner.scan(rope(t)))).toEqual(expected);
        expect(plain(scanner.scan(flatCopy(t)))).toEqual(expected);
        expect(plain(scanner.scan(t, { label: 'memberId' }))).toEqual(plain(reference.scan(t, { label: 'memberId' })));
      }),
      { numRuns: 1500 },
    );
    // The generator must reach both branches often enough for the property to mean something
    // (about 15% of its texts hold a finding: 200–254 of 1,500 over ten runs; bounded well below).
    expect(withFindings).toBeGreaterThan(100);
    expect(filtered).toBeGreaterThan(20);
  });

  it('lower-case texts: the pre-filter answers only where the full scan finds nothing', () => {
    let cued = 0;
    fc.assert(
      fc.property(lowerText, (t) => {
        const expected = plain(reference.scan(t));
        if (expected.length > 0) cued++;
        const got = scanner.scan(t);
        expect(plain(got)).toEqual(expected);
        // Nothing found: the one shared frozen empty result, nothing allocated for the caller.
        if (got.length === 0) expect(Object.isFrozen(got)).toBe(true);
      }),
      { numRuns: 3000 },
    );
    // "this is maria …", digit words and spelled addresses do reach the detectors.
    expect(cued).toBeGreaterThan(0);
  });

  it('each lower-case cue reaches the detectors, standing alone or after a non-letter', () => {
    // Every text here holds a finding the full scan makes; the pre-filter must let each through.
    const found = [
      'contact jroe at example dot org please',
      'jroe (at) example (dot) org',
      'hi, this is maria lopez, my son is sick',
      'my name is maria lopez',
      'call six one seven five five five oh one four three',
      'she is ninety-two years old',
      // Portal cues: a relation, a title, a greeting, a sign-off, a dash or a short last line.
      'my husband tomasz kowalczyk needs a refill',
      'is dr okafor in on monday?',
      'hello ana,\nis the clinic open today?',
      'got the results, thx, ngozi',
      'the refill went through - tomasz',
      'the rash is better now\nrosa',
    ];
    for (const t of found) {
      const expected = plain(reference.scan(t));
      expect(expected.length, t).toBeGreaterThan(0);
      expect(plain(scanner.scan(t)), t).toEqual(expected);
    }
    // The same words inside longer words are no cue: those texts need no pass, and find nothing.
    for (const t of ['the patient is stable', 'phone done, none pending', 'seventh floor, eighteenth bed', 'thisis fine', 'the drive was thankless, hidden in mydaughter']) {
      expect(reference.scan(t), t).toEqual([]);
      expect(scanner.scan(t), t).toEqual([]);
    }
  });

  it('findings inside a rope keep the offsets of the text the caller passed', () => {
    const head = 'Follow-up note for the clinic, written on the ward: ';
    const t = `${head}SSN 123-45-6789, call 617-555-0143, mail jane.roe@example.org`;
    const found = scanner.scan(t);
    expect(found.map((f) => [f.type, t.slice(f.start, f.end)])).toEqual([
      ['SSN', '123-45-6789'],
      ['PHONE', '617-555-0143'],
      ['EMAIL', 'jane.roe@example.org'],
    ]);
    expect(plain(found)).toEqual(plain(scanner.scan(flatCopy(t))));
  });

  it('hostile inputs complete and agree with the reference', () => {
    const k = 100_000;
    const hostile = [
      '1'.repeat(k),
      '@'.repeat(k),
      'a@'.repeat(k / 2),
      '&#38;'.repeat(k / 5),
      '&amp;'.repeat(k / 5) + 'amp;',
      '&'.repeat(k),
      '%4'.repeat(k / 2),
      'A'.repeat(k),
      'Aa '.repeat(k / 3),
      '1 '.repeat(k / 2),
      '\n'.repeat(k),
      'one '.repeat(k / 4),
      ' at '.repeat(k / 4),
      'x'.repeat(k),
      '\u200b'.repeat(k),
      '٣'.repeat(k),
      Array.from({ length: 20_000 }, (_, i) => `p${i} `).reduce((r, p) => r + p, ''),
    ];
    for (const h of hostile) {
      expect(plain(scanner.scan(h))).toEqual(plain(reference.scan(h)));
    }
  });
});
