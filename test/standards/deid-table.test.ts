/**
 * DEID.md's Safe Harbor conformance table names, for each identifier (A)–(R), the test that
 * proves it for structured fields and for free text. Each named test must exist, in the
 * `describe` of that identifier, so that the table cannot drift from the suite.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const doc = readFileSync(new URL('../../packages/core/DEID.md', import.meta.url), 'utf8');
const suite = readFileSync(new URL('./safe-harbor.test.ts', import.meta.url), 'utf8');

/** The source of each `describe('(X) …')` block of the suite, by letter. */
function blocks(): Map<string, string> {
  const starts = [...suite.matchAll(/^describe\('\(([A-R])\)/gm)];
  const out = new Map<string, string>();
  for (const m of starts) {
    const rest = suite.slice(m.index);
    const next = rest.slice(1).search(/^describe\(/m);
    out.set(m[1]!, next === -1 ? rest : rest.slice(0, next + 1));
  }
  return out;
}

describe('the DEID.md conformance table', () => {
  it('has one row per identifier (A)–(R), each naming a structured and a free-text test that exist under that identifier', () => {
    const rows = [...doc.matchAll(/^\| ([A-R]) \| [^|]+ \| `([^`]+)` \| `([^`]+)` \|$/gm)].map((m) => ({ letter: m[1]!, structured: m[2]!, text: m[3]! }));
    expect(rows.map((r) => r.letter)).toEqual([...'ABCDEFGHIJKLMNOPQR']);
    const byLetter = blocks();
    for (const r of rows) {
      const block = byLetter.get(r.letter);
      expect(block, `describe (${r.letter})`).toBeDefined();
      expect(r.structured.startsWith('structured: ') && block!.includes(`it('${r.structured}'`), `(${r.letter}) ${r.structured}`).toBe(true);
      expect(r.text.startsWith('free text: ') && block!.includes(`it('${r.text}'`), `(${r.letter}) ${r.text}`).toBe(true);
    }
  });
});
