import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PHI_TYPES } from '../../src/dlp/scanner.js';
import { KIND_BY_WORD, Kw, keywordAt, kindMask } from '../../src/dlp/context.js';
import { ScanState } from '../../src/dlp/detectors/state.js';

// The scan pass reads each word once: it walks the context-word trie while it reads the word,
// finishes lower-case words in a tight loop, and records digit runs, capitalised token starts,
// VIN candidates and digit words on the way. Each is checked here against a plain restatement
// of its rule, on random texts rich in context words and their near misses.

const WORDS = [...KIND_BY_WORD.keys()];
const upperFirst = (w: string) => w[0]!.toUpperCase() + w.slice(1);
const PIECES = [
  ...WORDS,
  ...WORDS.map(upperFirst),
  ...WORDS.map((w) => w.toUpperCase()),
  ...WORDS.map((w) => w.slice(0, -1)),
  ...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789',
  ' ', ' ', ' ', ':', '"', '#', '.', '-', '_', '/', '+', ',', '\n', 'é', 'É', 'İ', '\u212a', 'ninety', 'four', 'Oh',
  '1HGCM82633A004352', 'JH4KA3140KC011234', '617', '555-0143', 'mg/dL', 'DL', 'May', 'may',
];
const text = fc.array(fc.constantFrom(...PIECES), { maxLength: 30 }).map((parts) => parts.join(''));

const isWordChar = (c: string | undefined) => c !== undefined && /[A-Za-z0-9]/.test(c);
const asciiLower = (s: string) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());
const PREFIX = new Set<number>([Kw.Ssn, Kw.Mrn, Kw.Plan, Kw.Account, Kw.Device]);
const LABEL_ONLY = new Set(['to', 'from', 're', 'cc', 'attn', 'name', 'given', 'family', 'display', 'text']);
const KEY_ONLY = new Set(['chart', 'member']);
const keyEnd = (c: string | undefined) => c !== undefined && ':"=>_'.includes(c);
const CAPITALISED = new Set<number>([Kw.Month, Kw.Title, Kw.Credential]);

/** The context word at `pos` by its rules, read by trying every listed word (longest first). */
function referenceKeyword(t: string, pos: number, mask: number): [number, number] | undefined {
  const byLength = WORDS.filter((w) => w.length >= 2).sort((a, b) => b.length - a.length);
  for (const w of byLength) {
    const kind = KIND_BY_WORD.get(w)!;
    if ((mask & (1 << kind)) === 0 || asciiLower(t.slice(pos, pos + w.length)) !== w) continue;
    const next = t[pos + w.length];
    // A capital after a small letter ends a camelCase word ("mobilePhone").
    const camel = next !== undefined && /[A-Z]/.test(next) && /[a-z]/.test(t[pos + w.length - 1]!);
    if (!PREFIX.has(kind) && isWordChar(next) && !camel) continue;
    if (LABEL_ONLY.has(w) && next !== ':' && next !== '"') continue;
    if ((KEY_ONLY.has(w) || (w === 'dl' && t[pos] === 'd')) && !keyEnd(next) && !camel) continue;
    if (CAPITALISED.has(kind) && !/[A-Z]/.test(t[pos]!)) continue;
    return [kind, pos + w.length];
  }
  const one = KIND_BY_WORD.get(asciiLower(t[pos] ?? ''));
  if (one !== undefined && t[pos + 1] === ':' && (mask & (1 << one)) !== 0) return [one, pos + 1];
  return undefined;
}

/** Whether some context word (2+ characters) starts with `prefix`. */
const TRIE_WORDS = WORDS.filter((w) => w.length >= 2);
const isPrefix = (prefix: string) => TRIE_WORDS.some((w) => w.startsWith(prefix));

/**
 * Word starts, in order: each token of letters and digits, and inside a token each capital after
 * a small letter (the next word of a camelCase key) unless the context-word walk from the
 * current word start (live when that start was a letter at or past the last keyword) goes on
 * through the capital. `kwEnd` is read as the caller advances it.
 */
function* wordStarts(t: string, kwEnd: () => number): Generator<number> {
  for (const m of t.matchAll(/[A-Za-z0-9]+/g)) {
    let ws = m.index;
    let walking = /[A-Za-z]/.test(t[ws]!) && ws >= kwEnd();
    yield ws;
    for (let j = ws + 1; j < m.index + m[0].length; j++) {
      if (!/[A-Z]/.test(t[j]!) || !/[a-z]/.test(t[j - 1]!)) continue;
      if (walking && isPrefix(asciiLower(t.slice(ws, j + 1)))) continue;
      ws = j;
      walking = ws >= kwEnd();
      yield ws;
    }
  }
}

const DIGIT_WORDS = new Set(['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'oh']);

describe('the scan pass', () => {
  for (const [label, mask] of [
    ['all types', kindMask(PHI_TYPES)],
    ['names only', kindMask(['PERSON_NAME'])],
    ['identifiers only', kindMask(['MRN', 'HEALTH_PLAN_ID', 'VEHICLE_ID'])],
  ] as const) {
    it(`records the context words a word-by-word lookup finds (${label})`, () => {
      const state = new ScanState(new Set(PHI_TYPES), mask);
      let seen = 0;
      fc.assert(
        fc.property(text, (t) => {
          state.reset(t);
          const got: string[] = [];
          for (let k = 0; k < state.kw.count; k++) got.push(`${state.kw.kinds[k]}@${state.kw.starts[k]}-${state.kw.ends[k]}:${state.kw.words[k]}`);
          const want: string[] = [];
          let kwEnd = 0;
          for (const start of wordStarts(t, () => kwEnd)) {
            const i = start;
            if (!/[A-Za-z]/.test(t[i]!) || i < kwEnd) continue;
            // The standalone trie walk and the rules restated agree on every word start.
            const ref = referenceKeyword(t, i, mask);
            expect(keywordAt(t, i, mask)).toBe(ref?.[0]);
            if (ref === undefined) continue;
            want.push(`${ref[0]}@${i}-${ref[1]}:${asciiLower(t.slice(i, ref[1]))}`);
            kwEnd = ref[1];
          }
          expect(got).toEqual(want);
          seen += want.length;
        }),
        { numRuns: 3000 },
      );
      // The generator must produce context words for the property to mean something.
      expect(seen).toBeGreaterThan(200);
    });
  }

  it('records digit runs, capitalised token starts, VIN candidates and digit words as a regex reads them', () => {
    const state = new ScanState(new Set(PHI_TYPES), kindMask(PHI_TYPES));
    fc.assert(
      fc.property(text, (t) => {
        state.reset(t);
        const runs = [...t.matchAll(/[0-9]+/g)].map((m) => `${m.index}-${m.index + m[0].length}`);
        expect(Array.from({ length: state.runs }, (_, k) => `${state.runStart[k]}-${state.runEnd[k]}`)).toEqual(runs);
        const tokens = [...t.matchAll(/[A-Za-z0-9]+/g)];
        expect(Array.from(state.capStarts.subarray(0, state.caps))).toEqual(tokens.filter((m) => /[A-Z]/.test(m[0][0]!)).map((m) => m.index));
        const vin = (w: string) => w.length === 17 && /^[A-Z0-9]+$/.test(w);
        expect(Array.from(state.vinStarts.subarray(0, state.vins))).toEqual(tokens.filter((m) => vin(m[0])).map((m) => m.index));
        expect(state.digitWords).toBe(tokens.filter((m) => !vin(m[0]) && DIGIT_WORDS.has(m[0].toLowerCase())).length);
      }),
      { numRuns: 3000 },
    );
  });
});
