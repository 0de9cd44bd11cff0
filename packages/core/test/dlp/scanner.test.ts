import { describe, expect, it } from 'vitest';
import { OptionsError } from '../../src/errors.js';
import { createScanner, PHI_TYPES, type ScannerOptions } from '../../src/dlp/index.js';

function optionsError(options: unknown): OptionsError {
  try {
    createScanner(options as ScannerOptions);
  } catch (err) {
    expect(err).toBeInstanceOf(OptionsError);
    return err as OptionsError;
  }
  return expect.fail('expected an OptionsError');
}

describe('findings', () => {
  it('are sorted by start then end, with confidences in 0..1', () => {
    const text = 'Fax 617-555-0101. SSN 123-45-6789, DOB 01/02/1950, email a.b@example.com, Patient: Jane Doe';
    const f = createScanner().scan(text);
    expect(f.length).toBeGreaterThanOrEqual(5);
    for (let i = 1; i < f.length; i++) {
      expect(f[i - 1]!.start < f[i]!.start || (f[i - 1]!.start === f[i]!.start && f[i - 1]!.end <= f[i]!.end)).toBe(true);
      expect(f[i - 1]!.end).toBeLessThanOrEqual(f[i]!.start); // overlaps are resolved
    }
    for (const x of f) expect(x.confidence).toBeGreaterThanOrEqual(0), expect(x.confidence).toBeLessThanOrEqual(1);
  });
  it('resolve overlaps: the more confident, then the longer span wins', () => {
    // An IPv4 inside a URL: same confidence, the URL is longer.
    const text = 'open http://192.168.10.5:8080/pacs now';
    expect(createScanner().scan(text).map((f) => f.type)).toEqual(['URL']);
    // A context-bound MRN (0.9) over a context-free NPI candidate (0.6).
    expect(createScanner().scan('MRN 2043873910').map((f) => f.type)).toEqual(['MRN']);
  });
  it('return [] for empty text and reject non-strings', () => {
    expect(createScanner().scan('')).toEqual([]);
    expect(() => createScanner().scan(42 as unknown as string)).toThrow(OptionsError);
  });
});

describe('reused scan buffers', () => {
  // Evasions that make the normalized view differ from the text, each with the identifier it hides.
  const cases: Array<[string, string, string]> = [
    ['SSN 123\u200b-45-6789 on file', 'SSN', '123\u200b-45-6789'],
    ['mail jroe&#64;example.org today', 'EMAIL', 'jroe&#64;example.org'],
    ['card \u0664\u0661\u0661\u0661 1111 1111 1111 ok', 'CREDIT_CARD', '\u0664\u0661\u0661\u0661 1111 1111 1111'],
    ['ssn 123 45 6789', 'SSN', '123 45 6789'],
  ];
  it('offsets stay right whatever the previous scan of the same scanner was (long, short, evasive or clean)', () => {
    const s = createScanner();
    const long = `${'Vitals stable, BP 120/80. '.repeat(400)}SSN 123\u200b-45-6789`;
    // Every order of the cases, with a long evasive text and clean text in between.
    for (let round = 0; round < 3; round++) {
      for (const [text, type, value] of [...cases].sort(() => (round === 1 ? -1 : 1))) {
        const found = s.scan(text).filter((f) => f.type === type).map((f) => text.slice(f.start, f.end));
        expect(found).toEqual([value]);
        const l = s.scan(long).filter((f) => f.type === 'SSN');
        expect(l.map((f) => long.slice(f.start, f.end))).toEqual(['123\u200b-45-6789']);
        expect(s.scan('no identifiers here')).toEqual([]);
      }
    }
  });
  it('a scan started inside a scan (a custom detector) does not disturb the outer offsets', () => {
    const inner = createScanner();
    let s: ReturnType<typeof createScanner>;
    let depth = 0;
    s = createScanner({
      detectors: [
        {
          type: 'MRN',
          find(text) {
            // The same scanner, on a longer evasive text, while the outer scan is in flight.
            if (depth++ === 0) {
              expect(s.scan(`x\u200b\u200b\u200b ${'y'.repeat(300)} SSN 345\u200b-67-8912`).map((f) => f.type)).toContain('SSN');
              expect(inner.scan('mail a&#64;b.org').length).toBe(1);
            }
            depth--;
            const i = text.indexOf('K-');
            return i < 0 ? [] : [{ start: i, end: i + 6 }];
          },
        },
      ],
    });
    const text = 'id \u200bK-\u200b1234, SSN 123\u200b-45-6789';
    const f = s.scan(text);
    expect(f.map((x) => [x.type, text.slice(x.start, x.end)])).toEqual([
      ['MRN', 'K-\u200b1234'],
      ['SSN', '123\u200b-45-6789'],
    ]);
  });
  it('a scan that finds nothing returns a frozen empty array, the same for every call', () => {
    const s = createScanner();
    const a = s.scan('all quiet tonight');
    const b = s.scan('Vitals stable, BP 120/80.');
    expect(a).toEqual([]);
    expect(b).toEqual([]);
    expect(Object.isFrozen(a)).toBe(true);
    expect(() => (a as unknown as unknown[]).push(1)).toThrow(TypeError);
    // Findings lists are the caller's own.
    const c = s.scan('SSN 123-45-6789');
    c.push(c[0]!);
    expect(s.scan('SSN 123-45-6789')).toHaveLength(1);
  });
});

describe('options', () => {
  it('types: reports only those types', () => {
    const s = createScanner({ types: ['EMAIL'] });
    expect(s.scan('SSN 123-45-6789 a@example.com').map((f) => f.type)).toEqual(['EMAIL']);
    expect(createScanner({ types: [] }).scan('SSN 123-45-6789')).toEqual([]);
  });
  it('minConfidence drops weaker findings', () => {
    const text = 'x 2043873910 and NPI 1019912371';
    expect(createScanner().scan(text)).toHaveLength(2);
    expect(createScanner({ minConfidence: 0.9 }).scan(text).map((f) => text.slice(f.start, f.end))).toEqual(['1019912371']);
  });
  it('custom function detectors see the normalized text; offsets map back', () => {
    const s = createScanner({
      detectors: [
        {
          type: 'MRN',
          *find(text) {
            for (let i = text.indexOf('K-'); i >= 0; i = text.indexOf('K-', i + 1)) yield { start: i, end: i + 6 };
          },
        },
      ],
    });
    const text = 'id \u200bK-\u200b1234 end';
    const [f] = s.scan(text);
    expect(f!.type).toBe('MRN');
    expect(text.slice(f!.start, f!.end)).toBe('K-\u200b1234');
    expect(f!.confidence).toBe(0.9);
  });
  it('custom detectors: spans outside the text are ignored', () => {
    const s = createScanner({ detectors: [{ type: 'MRN', find: () => [{ start: -1, end: 3 }, { start: 2, end: 999 }, { start: 4, end: 4 }] }] });
    expect(s.scan('some text')).toEqual([]);
  });
  it('custom pattern detectors and institution patterns', () => {
    const s = createScanner({
      detectors: [{ type: 'DEVICE_ID', pattern: /\bPUMP-[0-9]{4,6}\b/, confidence: 0.7 }],
      institutionPatterns: [{ type: 'MRN', pattern: /\bMGH[0-9]{7}\b/ }],
    });
    const text = 'Pump PUMP-00412 for MGH1028833.';
    expect(s.scan(text).map((f) => [f.type, text.slice(f.start, f.end), f.confidence])).toEqual([
      ['DEVICE_ID', 'PUMP-00412', 0.7],
      ['MRN', 'MGH1028833', 0.9],
    ]);
  });
  it.each([
    [/(a+)+$/, 'unbounded'],
    [/(a{1,5}){1,5}/, 'nested'],
    [/(a|ab){1,9}/, 'nested'],
    [/(\d)\1/, 'backreference'],
    [/(?<x>a)\k<x>/, 'backreference'],
    [/\d*/, 'unbounded'],
    [/\d{1,}/, 'unbounded'],
    [/\d{1,500}/, 'above 100'],
  ])('rejects the unsafe institution pattern %s', (pattern, why) => {
    const e = optionsError({ institutionPatterns: [{ type: 'MRN', pattern }] });
    expect(e.message).toContain(why);
    expect(e.message).toContain('institutionPatterns[0]');
  });
  it('accepts safe patterns with bounded repetition, classes and lookarounds', () => {
    expect(() =>
      createScanner({ institutionPatterns: [{ type: 'MRN', pattern: /(?<![A-Z])MR[0-9]{6,8}(?:-[A-Z]{1,2})?\b/ }] }),
    ).not.toThrow();
  });
  it('rejects misspelled types with a suggestion, and other invalid options', () => {
    expect(optionsError({ types: ['SNN'] }).message).toContain('did you mean "SSN"');
    expect(optionsError({ type: ['SSN'] }).message).toContain('did you mean "types"');
    expect(optionsError({ minConfidence: 2 }).message).toContain('minConfidence');
    expect(optionsError({ detectors: [{ type: 'SSN' }] }).message).toContain('find(text)');
    expect(optionsError({ detectors: [{ type: 'SSN', pattern: /a+/ }] }).message).toContain('unbounded');
    expect(optionsError({ names: 'Jane' }).message).toContain('iterable');
    expect(optionsError({ institutionPatterns: [{ type: 'SSN', pattern: /x/ }] }).message).toContain('MRN');
    expect(optionsError(null).message).toContain('object');
  });
  it('error messages never echo long option values', () => {
    const secret = '123-45-6789'.repeat(10);
    expect(optionsError({ types: [secret] }).message).not.toContain(secret);
  });
  it('PHI_TYPES lists the 20 contract types', () => {
    expect(PHI_TYPES).toHaveLength(20);
    expect(new Set(PHI_TYPES).size).toBe(20);
  });
});
