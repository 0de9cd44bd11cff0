/**
 * The Safe Harbor residual detectors on text that holds no identifier (clinical prose must
 * survive the scrub) and on hostile input (huge, repetitive, control characters, any Unicode):
 * spans always inside the text, ordered, and the scanner never throws.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createScanner } from '@phiguard/core';
import { safeHarborDetectors } from '@phiguard/core/deid';

const NOW = () => new Date('2026-06-01T00:00:00Z');
const scanner = createScanner({ detectors: safeHarborDetectors({ now: NOW }) });

describe('Safe Harbor residual detectors', () => {
  it.each([
    'Normal sinus rhythm. Hope to recheck in 2 weeks.',
    'Glucose 105 mg/dL (70-99); HbA1c 6.1 %.',
    'Seen at noon, stable; plan discussed with the family.',
    'Spoke with the nurse about the dressing.',
    'Patient is a 45-year-old with type 2 diabetes, born in 1981.',
    'Take 2 tablets at bedtime for 14 days.',
    'Potassium 4.1 mmol/L, sodium 139 mmol/L.',
  ])('leaves clinical prose without identifiers alone: %s', (text) => {
    expect(scanner.scan(text).map((f) => `${f.type}:${text.slice(f.start, f.end)}`)).toEqual([]);
  });

  it('finds nothing of a birth year under 90 years ago, and an AGE_OVER_89 at 90 and over', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1900, max: 2026 }), (y) => {
        const text = `born in ${y}`;
        const found = scanner.scan(text).filter((f) => f.type === 'AGE_OVER_89');
        expect(found.length).toBe(2026 - y >= 90 ? 1 : 0);
      }),
      { numRuns: 60 },
    );
  });

  it('returns ordered spans inside the text for any input, hostile repetitions included', () => {
    const hostile = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 300 }),
      fc.constantFrom('a.', ' at ', '(dot)', 'dot ', '9', '00:', 'name: ', 'in Boston ', ' County', '(01)', 'IMEI ', '\u0000', '\u200b').chain((piece) =>
        fc.integer({ min: 1, max: 3000 }).map((n) => piece.repeat(n)),
      ),
    );
    fc.assert(
      fc.property(hostile, (text) => {
        const found = scanner.scan(text);
        let last = -1;
        for (const f of found) {
          expect(f.start).toBeGreaterThanOrEqual(0);
          expect(f.end).toBeLessThanOrEqual(text.length);
          expect(f.end).toBeGreaterThan(f.start);
          expect(f.start).toBeGreaterThanOrEqual(last);
          last = f.start;
        }
      }),
      { numRuns: 80 },
    );
  });

  it('takes other place lists (another country, a current gazetteer)', () => {
    const custom = createScanner({ detectors: safeHarborDetectors({ now: NOW, places: ['Llanfair'], counties: ['Gwynedd'] }) });
    const text = 'Moved from Llanfair, Gwynedd County; earlier lived in Boston.';
    const found = custom.scan(text).filter((f) => f.type === 'STREET_ADDRESS').map((f) => text.slice(f.start, f.end));
    expect(found).toEqual(['Llanfair', 'Gwynedd County']);
  });
});
