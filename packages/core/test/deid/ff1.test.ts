import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { OptionsError } from '@phiguard/core';
import {
  FF1DomainError,
  FF1_ALPHABET,
  createFF1,
  decryptPreservingFormat,
  encryptPreservingFormat,
} from '@phiguard/core/deid';

const hex = (s: string) => Buffer.from(s, 'hex');
const K128 = hex('2B7E151628AED2A6ABF7158809CF4F3C');
const K192 = hex('2B7E151628AED2A6ABF7158809CF4F3CEF4359D8D580AA4F');
const K256 = hex('2B7E151628AED2A6ABF7158809CF4F3CEF4359D8D580AA4F7F036D6F04FC6A94');
const T10 = hex('39383736353433323130');
const T11 = hex('3737373770717273373737');

// NIST SP 800-38G, FF1 samples 1 to 9 (FF1samples.pdf).
const SAMPLES = [
  { sample: 1, key: K128, radix: 10, tweak: hex(''), pt: '0123456789', ct: '2433477484' },
  { sample: 2, key: K128, radix: 10, tweak: T10, pt: '0123456789', ct: '6124200773' },
  { sample: 3, key: K128, radix: 36, tweak: T11, pt: '0123456789abcdefghi', ct: 'a9tv40mll9kdu509eum' },
  { sample: 4, key: K192, radix: 10, tweak: hex(''), pt: '0123456789', ct: '2830668132' },
  { sample: 5, key: K192, radix: 10, tweak: T10, pt: '0123456789', ct: '2496655549' },
  { sample: 6, key: K192, radix: 36, tweak: T11, pt: '0123456789abcdefghi', ct: 'xbj3kv35jrawxv32ysr' },
  { sample: 7, key: K256, radix: 10, tweak: hex(''), pt: '0123456789', ct: '6657667009' },
  { sample: 8, key: K256, radix: 10, tweak: T10, pt: '0123456789', ct: '1001623463' },
  { sample: 9, key: K256, radix: 36, tweak: T11, pt: '0123456789abcdefghi', ct: 'xs8a0azh2avyalyzuwd' },
];

describe('FF1: NIST SP 800-38G sample vectors', () => {
  it.each(SAMPLES)('sample $sample (AES-$key.length bytes key, radix $radix) encrypts and decrypts', ({ key, radix, tweak, pt, ct }) => {
    const ff1 = createFF1({ key, radix });
    expect(ff1.encrypt(pt, tweak)).toBe(ct);
    expect(ff1.decrypt(ct, tweak)).toBe(pt);
  });

  it('uses the tweak given at creation when a call passes none', () => {
    const ff1 = createFF1({ key: K128, radix: 10, tweak: T10 });
    expect(ff1.encrypt('0123456789')).toBe('6124200773');
    expect(ff1.decrypt('6124200773')).toBe('0123456789');
    // An explicit tweak overrides it (sample 1: empty tweak).
    expect(ff1.encrypt('0123456789', new Uint8Array(0))).toBe('2433477484');
  });

  it('accepts a string tweak as its UTF-8 bytes', () => {
    const ff1 = createFF1({ key: K128, radix: 10 });
    expect(ff1.encrypt('0123456789', '9876543210')).toBe('6124200773');
  });
});

describe('FF1: properties', () => {
  it('decrypt(encrypt(x)) = x, with the same length and alphabet, for random radixes, lengths and tweaks', () => {
    const keys = [randomBytes(16), randomBytes(24), randomBytes(32)];
    const cases = fc
      .record({ radix: fc.integer({ min: 2, max: 36 }), keyIndex: fc.integer({ min: 0, max: 2 }), extra: fc.integer({ min: 0, max: 40 }) })
      .chain(({ radix, keyIndex, extra }) => {
        let min = 2;
        while (radix ** min < 1_000_000) min++;
        const numeral = fc.integer({ min: 0, max: radix - 1 }).map((i) => FF1_ALPHABET[i]!);
        return fc.record({
          radix: fc.constant(radix),
          keyIndex: fc.constant(keyIndex),
          x: fc.array(numeral, { minLength: min, maxLength: min + extra }).map((a) => a.join('')),
          tweak: fc.uint8Array({ maxLength: 40 }),
        });
      });
    fc.assert(
      fc.property(cases, ({ radix, keyIndex, x, tweak }) => {
        const ff1 = createFF1({ key: keys[keyIndex]!, radix });
        const y = ff1.encrypt(x, tweak);
        expect(y).toHaveLength(x.length);
        expect([...y].every((c) => FF1_ALPHABET.indexOf(c) >= 0 && FF1_ALPHABET.indexOf(c) < radix)).toBe(true);
        expect(ff1.decrypt(y, tweak)).toBe(x);
      }),
      { numRuns: 300 },
    );
  });

  it('a different tweak or key gives a different ciphertext (the tweak separates domains)', () => {
    const key = randomBytes(32);
    const ff1 = createFF1({ key, radix: 10 });
    const other = createFF1({ key: randomBytes(32), radix: 10 });
    const x = '123456789';
    expect(ff1.encrypt(x, 'study-a')).not.toBe(ff1.encrypt(x, 'study-b'));
    expect(ff1.encrypt(x)).not.toBe(other.encrypt(x));
    expect(ff1.encrypt(x)).toBe(ff1.encrypt(x)); // deterministic
  });

  it('is a permutation of a small domain (every 6-digit value maps to a distinct value)', () => {
    const ff1 = createFF1({ key: randomBytes(16), radix: 10 });
    const seen = new Set<string>();
    for (let i = 0; i < 20_000; i++) seen.add(ff1.encrypt(String(i).padStart(6, '0')));
    expect(seen.size).toBe(20_000);
  });
});

describe('FF1: domain rules', () => {
  const key = randomBytes(32);

  it('Precondition: the key is 16, 24 or 32 bytes', () => {
    expect(() => createFF1({ key: randomBytes(20), radix: 10 })).toThrow(OptionsError);
    expect(() => createFF1({ key: 'k' as unknown as Uint8Array, radix: 10 })).toThrow(/16, 24 or 32 bytes/);
  });

  it('Precondition: 2 ≤ radix ≤ 36', () => {
    for (const radix of [1, 37, 10.5, Number.NaN]) expect(() => createFF1({ key, radix })).toThrow(/radix/);
  });

  it('Precondition: radix^minLength ≥ 1,000,000 (SP 800-38G Rev. 1)', () => {
    expect(() => createFF1({ key, radix: 10, minLength: 5 })).toThrow(/at least 6 for radix 10/);
    expect(() => createFF1({ key, radix: 36, minLength: 3 })).toThrow(/at least 4 for radix 36/);
    expect(() => createFF1({ key, radix: 2, minLength: 19 })).toThrow(/at least 20 for radix 2/);
    expect(createFF1({ key, radix: 10 }).minLength).toBe(6);
    expect(createFF1({ key, radix: 36 }).minLength).toBe(4);
    expect(createFF1({ key, radix: 2 }).minLength).toBe(20);
  });

  it('Precondition: minLength ≤ maxLength < 2^32', () => {
    expect(() => createFF1({ key, radix: 10, minLength: 8, maxLength: 7 })).toThrow(/maxLength/);
    expect(() => createFF1({ key, radix: 10, maxLength: 2 ** 32 })).toThrow(/maxLength/);
    expect(createFF1({ key, radix: 10, maxLength: 2 ** 32 - 1 }).maxLength).toBe(2 ** 32 - 1);
  });

  it('rejects inputs shorter than minLength or longer than maxLength', () => {
    const ff1 = createFF1({ key, radix: 10, maxLength: 12 });
    expect(() => ff1.encrypt('12345')).toThrow(FF1DomainError);
    expect(() => ff1.encrypt('1234567890123')).toThrow(/13 numerals; this FF1 accepts 6 to 12/);
    expect(() => ff1.decrypt('')).toThrow(FF1DomainError);
  });

  it('rejects characters outside the radix alphabet, naming the position and never the value', () => {
    const ff1 = createFF1({ key, radix: 10 });
    let caught: unknown;
    try {
      ff1.encrypt('987-65-4321');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(FF1DomainError);
    expect((caught as FF1DomainError).problem).toBe('alphabet');
    expect((caught as Error).message).toMatch(/position 3/);
    expect((caught as Error).message).not.toContain('4321');
    expect(() => createFF1({ key, radix: 36 }).encrypt('ABCDEF')).toThrow(/position 0/); // upper case is not a numeral
    expect(() => createFF1({ key, radix: 16 }).encrypt('abcdefg0')).toThrow(/position 6/);
    expect(() => ff1.encrypt(123456789 as unknown as string)).toThrow(FF1DomainError);
  });

  it('rejects tweaks longer than maxTweakLength', () => {
    const ff1 = createFF1({ key, radix: 10, maxTweakLength: 8 });
    expect(() => ff1.encrypt('123456789', new Uint8Array(9))).toThrow(/tweak/);
    expect(ff1.decrypt(ff1.encrypt('123456789', new Uint8Array(8)), new Uint8Array(8))).toBe('123456789');
    expect(() => createFF1({ key, radix: 10, tweak: new Uint8Array(300) })).toThrow(/tweak/);
  });

  it('rejects unknown option keys with a suggestion', () => {
    expect(() => createFF1({ key, radix: 10, maxlength: 9 } as never)).toThrow(/unknown createFF1 option "maxlength"; did you mean "maxLength"/);
  });
});

describe('FF1: format-preserving helpers', () => {
  it('encrypts the digits of an SSN and keeps the dashes', () => {
    const ff1 = createFF1({ key: randomBytes(32), radix: 10 });
    const enc = encryptPreservingFormat(ff1, '123-45-6789');
    expect(enc).toMatch(/^\d{3}-\d{2}-\d{4}$/);
    expect(enc).not.toBe('123-45-6789');
    expect(decryptPreservingFormat(ff1, enc)).toBe('123-45-6789');
    const tweaked = encryptPreservingFormat(ff1, '123-45-6789', { tweak: 'tenant-1' });
    expect(decryptPreservingFormat(ff1, tweaked, { tweak: 'tenant-1' })).toBe('123-45-6789');
  });

  it('still enforces the length rule on the numerals alone', () => {
    const ff1 = createFF1({ key: randomBytes(32), radix: 10 });
    expect(() => encryptPreservingFormat(ff1, '12-34')).toThrow(FF1DomainError);
  });
});
