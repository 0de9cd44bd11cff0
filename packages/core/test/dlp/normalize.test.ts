import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createScanner } from '../../src/dlp/index.js';
import { hasNonAscii, normalize } from '../../src/dlp/normalize.js';

const scanner = createScanner();
const ssnIn = (text: string) =>
  scanner
    .scan(text)
    .filter((f) => f.type === 'SSN')
    .map((f) => [f.start, f.end, text.slice(f.start, f.end)]);

describe('normalized view', () => {
  it('takes the ASCII fast path without offset maps', () => {
    const n = normalize('SSN 123-45-6789');
    expect(n.starts).toBeUndefined();
    expect(n.text).toBe('SSN 123-45-6789');
    expect(hasNonAscii('abc')).toBe(false);
  });
  it('removes zero-width characters and soft hyphens, folds fullwidth, maps dashes and spaces', () => {
    expect(normalize('1\u200b2\u00ad3\ufeff4\u2060').text).toBe('1234');
    expect(normalize('\uff11\uff12\uff13').text).toBe('123');
    expect(normalize('a\u2013b\u2212c\u00a0d\u2009e').text).toBe('a-b-c d e');
  });
});

describe('offsets after normalization', () => {
  it('maps a finding with zero-width characters inside back to the original span', () => {
    const text = 'SSN: 123\u200b-45-\u200b6789 ok';
    expect(ssnIn(text)).toEqual([[5, 18, '123\u200b-45-\u200b6789']]);
  });
  it('maps fullwidth digits and en dashes', () => {
    const text = 'SSN ０７８－０５－１１２０ and 321\u201354\u20139876';
    expect(ssnIn(text).map((x) => x[2])).toEqual(['０７８－０５－１１２０', '321\u201354\u20139876']);
  });
  it('keeps offsets in UTF-16 units after astral-plane emoji before the match', () => {
    const text = '😀🩺 note: SSN 604-22-8150 👍';
    const [f] = ssnIn(text);
    expect(f).toEqual([text.indexOf('604'), text.indexOf('604') + 11, '604-22-8150']);
  });
  it('keeps the zero-width characters at the edges outside the span', () => {
    const text = 'SSN \u200b123-45-6789\u200b.';
    expect(ssnIn(text)).toEqual([[5, 16, '123-45-6789']]);
  });

  it('property: a planted valid SSN is found at exactly its offsets', () => {
    const noise = fc.constantFrom('a', 'b', ' ', '.', ',', '\n', 'é', '😀', '\u200b', '\u00ad', 'Ｘ', '\u00a0', 'x', 'Q');
    const ssn = fc
      .tuple(fc.integer({ min: 1, max: 899 }), fc.integer({ min: 1, max: 99 }), fc.integer({ min: 1, max: 9999 }))
      .filter(([a]) => a !== 666)
      .map(([a, g, s]) => `${String(a).padStart(3, '0')}-${String(g).padStart(2, '0')}-${String(s).padStart(4, '0')}`);
    fc.assert(
      fc.property(fc.array(noise, { maxLength: 40 }), fc.array(noise, { maxLength: 40 }), ssn, (before, after, value) => {
        const prefix = before.join('') + ' SSN ';
        const text = prefix + value + ' ' + after.join('');
        const hits = ssnIn(text);
        expect(hits).toEqual([[prefix.length, prefix.length + value.length, value]]);
      }),
      { numRuns: 300 },
    );
  });
});

describe('named references of accented letters', () => {
  const names = (text: string) =>
    scanner
      .scan(text)
      .filter((f) => f.type === 'PERSON_NAME')
      .map((f) => text.slice(f.start, f.end));

  it('reads &uuml;, &Eacute;, &ntilde;, &szlig; as the letters they name, and maps the name back to the original text', () => {
    expect(normalize('M&uuml;ller &Eacute;lodie Pe&ntilde;a Stra&szlig;e &Oslash;').text).toBe('Müller Élodie Peña Straße Ø');
    expect(names('Seen by Dr. J&uuml;rgen M&uuml;ller today.')).toEqual(['J&uuml;rgen M&uuml;ller']);
    expect(names('Patient name: Ren&eacute;e Fran&ccedil;ois')).toEqual(['Ren&eacute;e Fran&ccedil;ois']);
  });

  it('leaves references HTML does not name, and prototype keys, as they are', () => {
    for (const text of ['&qacute; &juml; &Uring;x', '&toString; &valueOf; &constructor;', '&uuml without a semicolon']) {
      expect(normalize(text).text).toBe(text.replace('&Uring;', 'Ů'));
    }
  });

  it('every named accented letter composes to one code point, on random letter × mark pairs', () => {
    const marks = ['grave', 'acute', 'circ', 'tilde', 'uml', 'ring', 'cedil', 'caron'];
    fc.assert(
      fc.property(fc.constantFrom(...'AEIOUYCNSZaeiouycnsz'), fc.constantFrom(...marks), (letter, mark) => {
        const out = normalize(`x &${letter}${mark}; y`).text;
        const composed = (letter + { grave: '\u0300', acute: '\u0301', circ: '\u0302', tilde: '\u0303', uml: '\u0308', ring: '\u030a', cedil: '\u0327', caron: '\u030c' }[mark]!).normalize('NFC');
        expect(out).toBe(composed.length === 1 ? `x ${composed} y` : `x &${letter}${mark}; y`);
      }),
    );
  });
});

describe('layers: characters first, then structure on what they decoded', () => {
  /** Each output unit's original span, as text. */
  const origins = (text: string) => {
    const n = normalize(text);
    return [...n.text].map((_, k) => text.slice(n.starts![k]!, n.ends![k]!));
  };

  it('joins a line break that follows a decoded reference, and maps both back', () => {
    const text = 'SSN 123&#45;\n45&#x2d;6789';
    const n = normalize(text);
    expect(n.text).toBe('SSN 123-45-6789');
    const o = origins(text);
    expect(o[7]).toBe('&#45;');
    expect(o[10]).toBe('&#x2d;');
    expect(ssnIn(text)).toEqual([[4, text.length, text.slice(4)]]);
  });

  it('reads foreign digits broken across lines (folded first, joined second)', () => {
    const text = `phone \u0666\u0661\u0667-\u0665\u0665\u0665-\n    \u0660\u0661\u0664\u0663`;
    expect(normalize(text).text).toBe('phone 617-555-0143');
    const f = scanner.scan(text).find((x) => x.type === 'PHONE');
    expect(f && text.slice(f.start, f.end)).toBe(text.slice(6));
  });

  it('reads a spelled-out address with invisible characters inside its markers', () => {
    const text = 'write to jroe (\u200bat) example [do\u2060t] org today';
    expect(normalize(text).text).toBe('write to jroe@example.org today');
    const f = scanner.scan(text).find((x) => x.type === 'EMAIL');
    expect(f && text.slice(f.start, f.end)).toBe('jroe (\u200bat) example [do\u2060t] org');
  });

  it('a line break between groups stands for the separator, inside a group for nothing', () => {
    expect(normalize('SSN 123-45\n6789').text).toBe('SSN 123-45-6789');
    expect(normalize('SSN 786-2\n8-7265').text).toBe('SSN 786-28-7265');
    expect(normalize('call 617 555 \n 0143').text).toBe('call 617 555 0143');
    expect(normalize('tel 617.555.\n\t0143').text).toBe('tel 617.555.0143');
    // A sentence that ends with a number, and a numbered list, stay as written.
    expect(normalize('BP 120/80.\n2. Labs drawn').text).toBe('BP 120/80.\n2. Labs drawn');
  });

  it('does not decode twice: "&amp;#64;" is the text "&#64;", not an at sign', () => {
    expect(normalize('jroe&amp;#64;example.org').text).toBe('jroe&#64;example.org');
  });
});
