import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { utcYear } from '../src/operators/builtin.js';

// The cached year must be the Date's year for any sequence of times, across year boundaries,
// backwards in time and in years 0–99 (which Date.UTC would misread).
const MAX = 8.64e15;
describe('year operator clock', () => {
  it('equals getUTCFullYear for any sequence of times', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.integer({ min: -MAX, max: MAX }), fc.integer({ min: -62_198_755_200_000, max: -59_011_459_200_000 }), fc.integer({ min: 1_735_689_599_000, max: 1_735_689_601_000 })), { minLength: 1, maxLength: 30 }), (times) => {
        for (const ms of times) expect(utcYear(ms)).toBe(new Date(ms).getUTCFullYear());
      }),
      { numRuns: 1000 },
    );
  });

  it('turns over at the first millisecond of a year', () => {
    const newYear = Date.UTC(2026, 0, 1);
    expect(utcYear(newYear - 1)).toBe(2025);
    expect(utcYear(newYear)).toBe(2026);
    expect(utcYear(newYear - 1)).toBe(2025);
    const year50 = new Date(0).setUTCFullYear(50, 0, 1);
    expect(utcYear(year50)).toBe(50);
    expect(utcYear(year50 - 1)).toBe(49);
  });
});
