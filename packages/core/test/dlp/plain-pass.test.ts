import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PHI_TYPES } from '../../src/dlp/scanner.js';
import { normalize } from '../../src/dlp/normalize.js';
import { P, ScanState } from '../../src/dlp/detectors/state.js';

// The scanner skips the normalizer when its one pass sets neither Rewrite nor Fold. That is
// safe only if every such text is its own normalized view: checked here on random texts drawn
// from an alphabet rich in the normalizer's landmarks (entities, percent signs, line breaks,
// spaced digits, the letter O, "at"/"dot", brackets, invisible and non-ASCII characters).
const PIECES = [
  ...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789',
  ' ', '  ', '\n', '\r\n', '\t', '-', '.', '/', '_', ':', '@', '&', '#', ';', '%', '(', ')', '[', ']', '{', '}', '<', '>', '^', '|',
  'O', 'o', ' at ', ' dot ', '(at)', '[dot]', '{at}', ' AT ', '&#64;', '&#x40;', '&amp;', '&eacute;', '%40', '%2', '&#45;',
  '1 2 3', '4 5', '12O4', ' one ', ' five ', ' oh ',
  'é', 'ñ', 'ü', 'ł', 'ă', 'ş', 'Ö', '\u00ad', '\u200b', '\u200e', '\u2066', '\u034f', '\ufe0f', '\u{e0041}', '٣', '४', '১', '１', '－', '\u00a0', '’',
];
const text = fc.array(fc.constantFrom(...PIECES), { maxLength: 40 }).map((parts) => parts.join(''));

describe('the scan pass and the normalizer agree on plain text', () => {
  const state = new ScanState(new Set(PHI_TYPES), -1);
  it('a text the pass flags neither Rewrite nor Fold is returned unchanged by normalize', () => {
    let plain = 0;
    fc.assert(
      fc.property(text, (t) => {
        state.reset(t);
        if ((state.flags & (P.Rewrite | P.Fold)) !== 0) return;
        plain++;
        expect(normalize(t, -1, false).text).toBe(t);
      }),
      { numRuns: 5000 },
    );
    // The generator must reach the plain branch often enough for the property to mean something.
    expect(plain).toBeGreaterThan(100);
  });

  it('a line break before an O the normalizer reads as a zero is a landmark', () => {
    for (const t of ['@\r\nO.', 'a@b\nO-1', 'x@\n  O0']) {
      state.reset(t);
      expect(normalize(t, -1, false).text).not.toBe(t);
      expect(state.flags & P.Rewrite).not.toBe(0);
    }
  });
});
