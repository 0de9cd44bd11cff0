/**
 * FF1 format-preserving encryption (NIST SP 800-38G Rev. 1, section 5.1), on AES from
 * `node:crypto`. Numerals are the characters `0-9a-z`: radix 10 uses `0-9`, radix 36 `0-9a-z`.
 */
import { createCipheriv, type Cipher } from 'node:crypto';
import { OptionsError, needs } from '../errors.js';
import { option, optionIssue, optionsSchema } from '../options.js';

/** The numeral alphabet: the first `radix` characters are the numerals of that radix. */
export const FF1_ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/** SP 800-38G Rev. 1, section 5.2: the domain must hold at least one million values. */
export const FF1_MIN_DOMAIN = 1_000_000;
/** SP 800-38G: maxlen ≤ 2^32; lengths are encoded on 4 bytes. */
const MAX_LEN_LIMIT = 2 ** 32 - 1;
const DEFAULT_MAX_LENGTH = 4096;
const DEFAULT_MAX_TWEAK = 256;

/** An input string or tweak is outside the FF1 domain. The message never carries the value. */
export class FF1DomainError extends OptionsError {
  constructor(
    readonly problem: 'length' | 'alphabet' | 'tweak' | 'type',
    message: string,
  ) {
    super(message);
  }
}

/** Options of {@link createFF1}. */
export interface FF1Options {
  /** AES key: 16, 24 or 32 bytes (AES-128/192/256). Keep it in a KMS or HSM-wrapped store. */
  readonly key: Uint8Array;
  /** Number of numerals, 2..36 (10 for digits, 36 for digits and lowercase letters). */
  readonly radix: number;
  /** Default tweak (bytes, or a UTF-8 string) when a call passes none. Default: empty. */
  readonly tweak?: Uint8Array | string;
  /**
   * Shortest accepted input. Default and floor: the smallest length with radix^length ≥ 1,000,000
   * (and at least 2): 6 for radix 10, 4 for radix 36.
   */
  readonly minLength?: number;
  /** Longest accepted input; at most 2^32 − 1. Default 4096. */
  readonly maxLength?: number;
  /** Longest accepted tweak in bytes; at most 2^32 − 1. Default 256. */
  readonly maxTweakLength?: number;
}

/** An FF1 instance bound to one key and radix. */
export interface FF1 {
  readonly radix: number;
  readonly minLength: number;
  readonly maxLength: number;
  /** Encrypts a string of numerals into one of the same length and alphabet. */
  encrypt(plaintext: string, tweak?: Uint8Array | string): string;
  /** Inverts {@link FF1.encrypt} under the same key, radix and tweak. */
  decrypt(ciphertext: string, tweak?: Uint8Array | string): string;
}

const LABEL = 'createFF1';
const OPTIONS = optionsSchema<FF1Options>(LABEL, {
  key: option.required(option.custom('a Uint8Array of 16, 24 or 32 bytes (AES-128, -192 or -256)', ['bytes'], (v) => [16, 24, 32].includes((v as Uint8Array).length))),
  radix: option.required(option.integer(2, 36, 'an integer from 2 to 36 (numerals 0-9a-z)')),
  tweak: option.custom('a Uint8Array or a string', ['bytes', 'string']),
  minLength: option.integer(2, MAX_LEN_LIMIT, 'an integer from 2 to 2^32 − 1'),
  maxLength: option.integer(2, MAX_LEN_LIMIT, 'an integer from minLength to 2^32 − 1'),
  maxTweakLength: option.integer(0, MAX_LEN_LIMIT, 'an integer from 0 to 2^32 − 1'),
});

function bytesOf(tweak: Uint8Array | string, where: string): Buffer {
  if (typeof tweak === 'string') return Buffer.from(tweak, 'utf8');
  if (tweak instanceof Uint8Array) return Buffer.from(tweak.buffer, tweak.byteOffset, tweak.byteLength);
  throw new FF1DomainError('type', `${where}: the tweak must be a Uint8Array or a string.`);
}

/** Smallest length ≥ 2 with radix^length ≥ 1,000,000. */
function minimumLength(radix: number): number {
  let len = 2;
  while (radix ** len < FF1_MIN_DOMAIN) len++;
  return len;
}

/**
 * Creates an FF1 cipher. Validates the options once and prepares the AES key schedule once;
 * each call then costs eleven-odd AES block operations and some BigInt arithmetic.
 *
 * @example
 * const ff1 = createFF1({ key: randomBytes(32), radix: 10 });
 * ff1.encrypt('123456789'); // nine other digits
 */
export function createFF1(options: FF1Options): FF1 {
  /* Precondition: known keys of the right kinds; an AES key (16, 24 or 32 bytes); 2 ≤ radix ≤ 36 (numerals 0-9a-z). */
  const { key, radix } = OPTIONS.parse(options ?? null);
  /* Precondition: radix^minlen ≥ 1,000,000 (SP 800-38G Rev. 1, 5.2) and 2 ≤ minlen ≤ maxlen < 2^32. */
  const floor = minimumLength(radix);
  const minLength = options.minLength ?? floor;
  if (minLength < floor) {
    throw optionIssue(
      LABEL,
      'minLength',
      `an integer of at least ${floor} for radix ${radix}: SP 800-38G Rev. 1 requires radix^minLength ≥ 1,000,000 (a smaller domain can be enumerated)`,
      minLength,
    );
  }
  const maxLength = options.maxLength ?? Math.max(DEFAULT_MAX_LENGTH, minLength);
  if (maxLength < minLength) throw optionIssue(LABEL, 'maxLength', `an integer from minLength (${minLength}) to 2^32 − 1`, maxLength);
  const maxTweakLength = options.maxTweakLength ?? DEFAULT_MAX_TWEAK;
  const defaultTweak = options.tweak === undefined ? Buffer.alloc(0) : Buffer.from(bytesOf(options.tweak, 'createFF1'));
  needs(
    defaultTweak.length <= maxTweakLength,
    () => new FF1DomainError('tweak', `createFF1: the tweak is longer than maxTweakLength (${maxTweakLength} bytes).`),
  );

  // One ECB cipher without padding is a raw AES block function: its key schedule is computed
  // once here and every update(16 bytes) returns one encrypted block.
  const aes: Cipher = createCipheriv(`aes-${key.length * 8}-ecb`, key, null);
  aes.setAutoPadding(false);
  const block = (b: Buffer): Buffer => aes.update(b);

  const bigRadix = BigInt(radix);
  const digitValue = new Int8Array(128).fill(-1);
  for (let i = 0; i < radix; i++) digitValue[FF1_ALPHABET.charCodeAt(i)] = i;
  // Largest chunk of numerals whose value fits exactly in a double.
  let chunk = 1;
  while (radix ** (chunk + 1) < Number.MAX_SAFE_INTEGER) chunk++;
  const chunkBase = BigInt(radix) ** BigInt(chunk);
  const powCache = new Map<number, bigint>();
  const pow = (m: number): bigint => {
    let p = powCache.get(m);
    if (p === undefined) {
      p = bigRadix ** BigInt(m);
      if (powCache.size < 64) powCache.set(m, p);
    }
    return p;
  };

  function check(x: string, where: string): void {
    needs(typeof x === 'string', () => new FF1DomainError('type', `${where}: the input must be a string of numerals.`));
    needs(
      x.length >= minLength && x.length <= maxLength,
      () =>
        new FF1DomainError(
          'length',
          `${where}: the input has ${x.length} numerals; this FF1 accepts ${minLength} to ${maxLength} (radix ${radix}).`,
        ),
    );
    for (let i = 0; i < x.length; i++) {
      const c = x.charCodeAt(i);
      // The position, never the character: the input is the protected value.
      needs(
        c < 128 && digitValue[c]! >= 0,
        () =>
          new FF1DomainError(
            'alphabet',
            `${where}: the character at position ${i} is not a radix-${radix} numeral (allowed: ${FF1_ALPHABET.slice(0, radix)}).`,
          ),
      );
    }
  }

  /** NUM_radix: numerals (most significant first) → integer. */
  function num(x: string, from: number, to: number): bigint {
    if (radix === 10) return to > from ? BigInt(x.slice(from, to)) : 0n;
    let acc = 0n;
    for (let i = from; i < to; ) {
      const end = Math.min(to, i + chunk);
      let v = 0;
      for (let j = i; j < end; j++) v = v * radix + digitValue[x.charCodeAt(j)]!;
      acc = (end - i === chunk ? acc * chunkBase : acc * pow(end - i)) + BigInt(v);
      i = end;
    }
    return acc;
  }

  /** STR^m_radix: integer → m numerals. */
  const str = (v: bigint, m: number): string => v.toString(radix).padStart(m, '0');

  /** Integer → `len` big-endian bytes, written into `out` at `offset`. */
  function putBytes(v: bigint, len: number, out: Buffer, offset: number): void {
    if (len === 0) return;
    const hex = v.toString(16);
    Buffer.from(hex.length % 2 === 1 ? `0${hex}` : hex, 'hex').copy(out, offset + len - Math.ceil(hex.length / 2));
  }

  function run(x: string, tweakArg: Uint8Array | string | undefined, decrypt: boolean): string {
    const where = decrypt ? 'FF1.decrypt' : 'FF1.encrypt';
    check(x, where);
    const T = tweakArg === undefined ? defaultTweak : bytesOf(tweakArg, where);
    needs(T.length <= maxTweakLength, () => new FF1DomainError('tweak', `${where}: the tweak is longer than ${maxTweakLength} bytes.`));
    const n = x.length;
    const t = T.length;
    // 1–2. Split.
    const u = n >> 1;
    const v = n - u;
    // 3–4. b = ⌈⌈v·log2(radix)⌉/8⌉, computed exactly: the byte length of radix^v − 1.
    const b = Math.ceil(((pow(v) - 1n).toString(2).length) / 8);
    const d = 4 * Math.ceil(b / 4) + 4;
    // 5. P = [1]¹ [2]¹ [1]¹ [radix]³ [10]¹ [u mod 256]¹ [n]⁴ [t]⁴.
    const P = Buffer.alloc(16);
    P[0] = 1;
    P[1] = 2;
    P[2] = 1;
    P.writeUIntBE(radix, 3, 3);
    P[6] = 10;
    P[7] = u % 256;
    P.writeUInt32BE(n, 8);
    P.writeUInt32BE(t, 12);
    // CBC-MAC state after P, shared by the ten rounds.
    const afterP = block(P);
    // Q = T ‖ [0]^((−t−b−1) mod 16) ‖ [i]¹ ‖ [NUM(B)]^b; only the last 1+b bytes change per round.
    const pad = (((-t - b - 1) % 16) + 16) % 16;
    const Q = Buffer.alloc(t + pad + 1 + b);
    T.copy(Q, 0);
    const roundAt = t + pad;
    const sBlocks = Math.ceil(d / 16);
    const S = Buffer.alloc(sBlocks * 16);
    const R = Buffer.alloc(16);
    const tmp = Buffer.alloc(16);

    let A = num(x, 0, u);
    let B = num(x, u, n);
    for (let k = 0; k < 10; k++) {
      const i = decrypt ? 9 - k : k;
      Q.fill(0, roundAt);
      Q[roundAt] = i;
      putBytes(decrypt ? A : B, b, Q, roundAt + 1);
      // 6.ii. R = PRF(P ‖ Q): CBC-MAC with a zero IV.
      afterP.copy(R);
      for (let off = 0; off < Q.length; off += 16) {
        for (let j = 0; j < 16; j++) tmp[j] = R[j]! ^ Q[off + j]!;
        block(tmp).copy(R);
      }
      // 6.iii. S = R ‖ CIPH(R ⊕ [1]¹⁶) ‖ CIPH(R ⊕ [2]¹⁶) ‖ …, first d bytes.
      R.copy(S, 0);
      for (let j = 1; j < sBlocks; j++) {
        R.copy(tmp);
        tmp.writeUInt32BE((tmp.readUInt32BE(12) ^ j) >>> 0, 12);
        block(tmp).copy(S, j * 16);
      }
      const y = BigInt(`0x${S.toString('hex', 0, d)}`);
      const m = i % 2 === 0 ? u : v;
      const mod = pow(m);
      if (decrypt) {
        // 6.vi (decrypt). c = (NUM(B) − y) mod radix^m; B ← A; A ← C.
        let c = (B - y) % mod;
        if (c < 0n) c += mod;
        B = A;
        A = c;
      } else {
        // 6.vi. c = (NUM(A) + y) mod radix^m; A ← B; B ← C.
        const c = (A + y) % mod;
        A = B;
        B = c;
      }
    }
    return str(A, u) + str(B, v);
  }

  return {
    radix,
    minLength,
    maxLength,
    encrypt: (plaintext, tweak) => run(plaintext, tweak, false),
    decrypt: (ciphertext, tweak) => run(ciphertext, tweak, true),
  };
}

/** Options of {@link encryptPreservingFormat} and {@link decryptPreservingFormat}. */
export interface PreserveFormatOptions {
  readonly tweak?: Uint8Array | string;
}

function splitNumerals(ff1: FF1, value: string): { numerals: string; rebuild: (out: string) => string } {
  const alphabet = FF1_ALPHABET.slice(0, ff1.radix);
  let numerals = '';
  for (const ch of value) if (alphabet.includes(ch)) numerals += ch;
  return {
    numerals,
    rebuild(out) {
      let k = 0;
      let s = '';
      for (const ch of value) s += alphabet.includes(ch) ? out[k++]! : ch;
      return s;
    },
  };
}

/**
 * Encrypts only the numerals of `value` (for radix 10, its digits) and keeps every other
 * character in place: `'123-45-6789'` → `'804-17-2265'`. The separators and their positions are
 * not protected; the numerals must still meet the FF1 length rules.
 */
export function encryptPreservingFormat(ff1: FF1, value: string, options: PreserveFormatOptions = {}): string {
  const { numerals, rebuild } = splitNumerals(ff1, value);
  return rebuild(ff1.encrypt(numerals, options.tweak));
}

/** Inverts {@link encryptPreservingFormat}. */
export function decryptPreservingFormat(ff1: FF1, value: string, options: PreserveFormatOptions = {}): string {
  const { numerals, rebuild } = splitNumerals(ff1, value);
  return rebuild(ff1.decrypt(numerals, options.tweak));
}
