import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isoTime } from '../../src/audit/event.js';

// The cached formatter keeps the text up to the minute of its last call: every call, in any
// order, must still give what Date#toISOString gives.
const MAX = 8.64e15; // the largest time a Date holds
const times = fc.oneof(
  fc.integer({ min: -MAX, max: MAX }),
  fc.integer({ min: -62_198_755_200_000, max: 253_402_300_799_999 }), // years 0000–9999
  fc.integer({ min: 1_700_000_000_000, max: 1_900_000_000_000 }),
);

describe('audit event time', () => {
  it('equals toISOString for any sequence of times, including runs across minute boundaries', () => {
    fc.assert(
      fc.property(times, fc.array(fc.integer({ min: -90_000, max: 90_000 }), { maxLength: 40 }), (start, steps) => {
        let ms = start;
        expect(isoTime(ms)).toBe(new Date(ms).toISOString());
        for (const step of steps) {
          ms = Math.max(-MAX, Math.min(MAX, ms + step));
          expect(isoTime(ms)).toBe(new Date(ms).toISOString());
        }
      }),
      { numRuns: 500 },
    );
  });

  it('is right at each edge of a minute and of a second', () => {
    for (const base of [0, 1_765_000_000_000, -1, -60_000, 253_402_300_740_000]) {
      const minute = base - (((base % 60_000) + 60_000) % 60_000);
      for (const ms of [minute - 1, minute, minute + 1, minute + 999, minute + 1000, minute + 9_999, minute + 10_000, minute + 59_999, minute + 60_000, minute]) {
        expect(isoTime(ms)).toBe(new Date(ms).toISOString());
      }
    }
  });
});
