import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalId } from '../src/ids.js';

/** The rule as documented, written plainly: percent-decoded (up to three times), NFC, trimmed, empty as none. */
function reference(value: unknown): string | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : undefined;
  if (typeof value !== 'string') return undefined;
  let v = value;
  for (let i = 0; i < 3; i++) {
    let decoded = v;
    try {
      decoded = decodeURIComponent(v);
    } catch {
      break;
    }
    if (decoded === v) break;
    v = decoded;
  }
  v = v.normalize('NFC').trim();
  return v === '' ? undefined : v;
}

const idChars = fc.constantFrom(...'0123456789abcXYZ-_.%2530 \t\u00a0e\u0301\u00e9\u212b~!'.split(''));

describe('canonicalId', () => {
  it('gives one form for ids however they are written', () => {
    expect(canonicalId('1001')).toBe('1001');
    expect(canonicalId('1%30%30%31')).toBe('1001');
    expect(canonicalId(' 1001 ')).toBe('1001');
    expect(canonicalId('e\u0301')).toBe('\u00e9');
    expect(canonicalId(1001)).toBe('1001');
    expect(canonicalId('   ')).toBeUndefined();
    expect(canonicalId(Number.NaN)).toBeUndefined();
    expect(canonicalId({ id: 1 })).toBeUndefined();
  });

  it('matches the documented rule on any string', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: idChars, maxLength: 12 }), fc.string({ unit: 'binary', maxLength: 12 })), (s) => {
        expect(canonicalId(s)).toBe(reference(s));
      }),
      { numRuns: 2000 },
    );
  });
});
