/**
 * Evasions, one class at a time, as properties: a valid identifier is generated, disguised by the
 * class's rule (written here, apart from the normalizer), put after its label, and scanned. For
 * every disguise the scanner must report the identifier's type with a span of the ORIGINAL text
 * that contains the whole disguised identifier; for invalid identifiers (Luhn, SSN rules) the
 * looser view must add nothing.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createScanner, type Finding, type PhiType } from '../../src/dlp/index.js';
import { luhnCheckDigit } from '@phiguard/core/testing';

const scanner = createScanner();

const digitString = (n: number) => fc.array(fc.integer({ min: 0, max: 9 }), { minLength: n, maxLength: n }).map((d) => d.join(''));

/** Groups of a valid SSN (SSA rules). */
const ssn = fc
  .tuple(fc.integer({ min: 1, max: 899 }).filter((a) => a !== 666), fc.integer({ min: 1, max: 99 }), fc.integer({ min: 1, max: 9999 }))
  .map(([a, g, s]) => [String(a).padStart(3, '0'), String(g).padStart(2, '0'), String(s).padStart(4, '0')]);
/** Groups of a NANP phone number (area and exchange start 2-9). */
const phone = fc
  .tuple(fc.integer({ min: 2, max: 9 }), digitString(2), fc.integer({ min: 2, max: 9 }), digitString(2), digitString(4))
  .map(([a, b, c, d, e]) => [`${a}${b}`, `${c}${d}`, e]);
/** Groups of a Luhn-valid 16-digit Visa number. */
const card = digitString(14).map((body) => {
  const full = `4${body}`;
  const n = full + luhnCheckDigit(full);
  return [n.slice(0, 4), n.slice(4, 8), n.slice(8, 12), n.slice(12)];
});

type Kind = 'SSN' | 'PHONE' | 'CREDIT_CARD';
const LABEL: Record<Kind, string> = { SSN: 'SSN ', PHONE: 'phone ', CREDIT_CARD: 'card ' };
const identifier = fc.oneof(
  ssn.map((g) => ['SSN', g] as [Kind, string[]]),
  phone.map((g) => ['PHONE', g] as [Kind, string[]]),
  card.map((g) => ['CREDIT_CARD', g] as [Kind, string[]]),
);

/** Asserts a finding of `type` whose original span holds all of `disguised` (at `at`). */
function expectCovered(text: string, at: number, disguised: string, type: PhiType): void {
  const findings: Finding[] = scanner.scan(text);
  for (let i = 1; i < findings.length; i++) expect(findings[i - 1]!.start <= findings[i]!.start).toBe(true);
  const hit = findings.find((f) => f.type === type && f.start <= at && f.end >= at + disguised.length);
  expect(hit, `${type} in ${JSON.stringify(text)}: ${JSON.stringify(findings)}`).toBeDefined();
  // The span starts and ends on the identifier, not on the label or the sentence around it.
  expect(text.slice(hit!.start, hit!.end).trim().length).toBeLessThanOrEqual(disguised.length);
}

/** Builds "label + disguise + tail" and checks the property. */
function check(disguise: (groups: string[], kind: Kind) => fc.Arbitrary<string>) {
  fc.assert(
    fc.property(
      identifier.chain(([kind, groups]) => disguise(groups, kind).map((d) => [kind, d] as const)),
      fc.constantFrom('', '.', ' on file.', ', thanks'),
      ([kind, disguised], tail) => {
        const text = `${LABEL[kind]}${disguised}${tail}`;
        expectCovered(text, LABEL[kind].length, disguised, kind);
      },
    ),
    { numRuns: 150 },
  );
}

/** Inserts one of `chars` at some positions of `s` (never before the first character). */
const sprinkle = (s: string, chars: readonly string[]) =>
  fc.array(fc.tuple(fc.boolean(), fc.constantFrom(...chars)), { minLength: s.length, maxLength: s.length }).map((picks) =>
    [...s].map((ch, i) => (i > 0 && picks[i]![0] ? picks[i]![1] : '') + ch).join(''),
  );

describe('evasion classes (property: the original span covers the disguised identifier)', () => {
  it('Default_Ignorable code points anywhere inside (LRM, RLM, bidi, invisible operators, CGJ, variation selectors, tags)', () => {
    const ignorable = ['\u200e', '\u200f', '\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069', '\u2061', '\u2062', '\u2063', '\u2064', '\u034f', '\ufe00', '\ufe0f', '\u{e0020}', '\u{e0041}', '\u{e007f}', '\u200b', '\u2060', '\u00ad', '\u180e', '\u3164'];
    check((g) => sprinkle(g.join('-'), ignorable));
  });
  it('decimal digits of any script (Arabic-Indic, extended Arabic-Indic, Devanagari, Bengali, Thai, fullwidth, mathematical)', () => {
    const zeros = [0x0660, 0x06f0, 0x0966, 0x09e6, 0x0e50, 0xff10, 0x1d7ce, 0x1d7ec, 0x0ae6, 0x0be6];
    check((g) => fc.tuple(fc.constantFrom(...zeros), fc.constantFrom('-', ' ')).map(([z, sep]) => g.join(sep).replace(/[0-9]/g, (d) => String.fromCodePoint(z + Number(d)))));
  });
  it('HTML character references for separators (decimal, hex, named)', () => {
    check((g) => fc.constantFrom('&#45;', '&#x2D;', '&#x2d;', '&hyphen;', '&#32;', '&nbsp;', '&#x20;').map((sep) => g.join(sep)));
  });
  it('percent-encoded separators', () => {
    check((g) => fc.constantFrom('%2D', '%2d', '%20').map((sep) => g.join(sep)));
  });
  it('line breaks and indentation between groups (\\n, \\r\\n, indented continuation)', () => {
    check((g) =>
      fc.tuple(fc.integer({ min: 1, max: g.length - 1 }), fc.constantFrom('\n', '\r\n', '\n    ', '\r\n\t', '\n  '), fc.constantFrom('-', ' '), fc.boolean()).map(
        ([at, br, sep, keepSep]) => g.slice(0, at).join(sep) + (keepSep ? sep.trim() : '') + br + g.slice(at).join(sep),
      ),
    );
  });
  it('spaced digits', () => {
    check((g) => fc.constant(g.join('').split('').join(' ')));
  });
  it('mixed separators inside one identifier', () => {
    check((g, kind) => {
      const seps = kind === 'SSN' ? ['/', '_', '.', '-', ' '] : ['-', ' ', '.'];
      return fc.array(fc.constantFrom(...seps), { minLength: g.length - 1, maxLength: g.length - 1 }).map((s) => g.map((x, i) => (i === 0 ? x : s[i - 1] + x)).join(''));
    });
  });
  it('digits spelled as words', () => {
    const words = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];
    check((g) =>
      fc.tuple(fc.constantFrom(' ', ', ', ' - '), fc.boolean()).map(([sep, caps]) => {
        const s = g.map((x) => [...x].map((d) => words[Number(d)]).join(' ')).join(sep);
        return caps ? s.toUpperCase() : s;
      }),
    );
  });
  it('the letter O for zero inside a digit run', () => {
    check((g) => fc.constant(g.join('-').replace(/0/g, 'O')));
  });

  const email = fc.tuple(
    fc.constantFrom('jane', 'jroe', 'm.ortiz', 'pat_kim', 'ines.penalver'),
    fc.constantFrom('roe', 'smith', 'lee', ''),
    fc.constantFrom(['example', 'org'], ['mail', 'example', 'com'], ['clinic-mail', 'net'], ['inbox', 'io']),
  );
  it('spelled-out e-mail addresses (at/dot, brackets, braces, parentheses, capitals, spaces, entities)', () => {
    fc.assert(
      fc.property(email, fc.integer({ min: 0, max: 8 }), ([local, second, dom], style) => {
        const loc = second === '' ? local : `${local}.${second}`;
        const parts = loc.split('.');
        const disguised = [
          `${parts.join(' dot ')} at ${dom.join(' dot ')}`,
          `${loc} (at) ${dom.join(' (dot) ')}`,
          `${loc}{at}${dom.join('.')}`,
          `${loc} [at] ${dom.join(' [dot] ')}`,
          `${parts.join(' DOT ').toUpperCase()} AT ${dom.join(' DOT ').toUpperCase()}`,
          `${loc}&#64;${dom.join('&#46;')}`,
          `${loc}&#x40;${dom.join('.')}`,
          `${loc} @ ${dom.join(' . ')}`,
          `${loc}%40${dom.join('.')}`,
        ][style]!;
        const text = `email ${disguised} please`;
        expectCovered(text, 6, disguised, 'EMAIL');
      }),
      { numRuns: 120 },
    );
  });
  it('e-mail addresses broken by a line break', () => {
    fc.assert(
      fc.property(email, fc.nat(), fc.constantFrom('\n', '\r\n', '\n   '), ([local, , dom], cut, br) => {
        const addr = `${local}@${dom.join('.')}`;
        const at = 1 + (cut % (addr.length - 2));
        const disguised = addr.slice(0, at) + br + addr.slice(at);
        expectCovered(`email: ${disguised}`, 7, disguised, 'EMAIL');
      }),
      { numRuns: 120 },
    );
  });
});

describe('validation stays strict under the looser view', () => {
  const badSsn = fc
    .tuple(fc.constantFrom(0, 666, 900, 950, 999), fc.integer({ min: 1, max: 99 }), fc.integer({ min: 1, max: 9999 }))
    .map(([a, g, s]) => [String(a).padStart(3, '0'), String(g).padStart(2, '0'), String(s).padStart(4, '0')]);
  it('an SSN with a forbidden area is reported in no disguise', () => {
    fc.assert(
      fc.property(badSsn, fc.integer({ min: 0, max: 3 }), (g, style) => {
        const text = `SSN ${[g.join('').split('').join(' '), g.join('/'), g.join('&#45;'), g.join('-').replace(/0/g, 'O')][style]}`;
        expect(scanner.scan(text).filter((f) => f.type === 'SSN')).toEqual([]);
      }),
    );
  });
  it('a card number failing Luhn is reported in no disguise', () => {
    fc.assert(
      fc.property(card, fc.integer({ min: 1, max: 9 }), fc.integer({ min: 0, max: 2 }), (g, bump, style) => {
        const last = g[3]!;
        const broken = [...g.slice(0, 3), last.slice(0, 3) + String((Number(last[3]) + bump) % 10)];
        const text = `card ${[broken.join('-').replace(/-(?=\d{4}$)/, ' '), broken.join('').split('').join(' '), broken.join('&#45;')][style]}`;
        expect(scanner.scan(text).filter((f) => f.type === 'CREDIT_CARD')).toEqual([]);
      }),
    );
  });
  it('lab values, reference ranges, LOINC and ICD-10 codes stay finding-free', () => {
    const line = fc.oneof(
      fc.tuple(fc.integer({ min: 100, max: 180 }), fc.integer({ min: 40, max: 110 })).map(([a, b]) => `BP ${a}/${b}, HR ${b - 10}`),
      fc.tuple(fc.integer({ min: 1000, max: 99999 }), fc.integer({ min: 0, max: 9 })).map(([a, b]) => `LOINC ${a}-${b} result 4.2 mmol/L (ref 3.5-5.1)`),
      fc.constantFrom('E11.9', 'I10', 'J45.909', 'N18.3', 'Z79.4').map((c) => `Dx ${c}; A1c 7.2%; eGFR 58 mL/min/1.73m2`),
      fc.tuple(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 0, max: 9 })).map(([a, b]) => `WBC ${a}.${b} x10^3/uL\nPlt 245 x10^3/uL\n2. Recheck CBC in 1 week`),
    );
    fc.assert(
      fc.property(line, (l) => {
        expect(scanner.scan(l).map((f) => [f.type, l.slice(f.start, f.end)]), l).toEqual([]);
      }),
    );
  });
});
