/**
 * Person-name report on the independent names set (test/eval/independent/names.mjs): precision,
 * recall (a finding of PERSON_NAME overlapping the label), exact-boundary recall, recall by
 * template and by whether the name's words are in the scanner's lexicons (read from the
 * generated lexicon sources), and the findings on the hard negatives; the same for the
 * hand-written prose set (test/eval/independent/prose-names.mjs, set 5) and for the two halves of
 * the document-skeleton set (test/eval/independent/document-names.mjs, set 6). Used by test/eval/dlp.mjs;
 * runs alone too: `node test/eval/names-report.mjs [--verbose]` (after a build).
 */
import { readFileSync } from 'node:fs';
import { generateNamesSet } from './independent/names.mjs';
import { proseNamesSet } from './independent/prose-names.mjs';
import { documentNamesSet } from './independent/document-names.mjs';

/** Every lower-case word of the generated lexicon modules (given names and surnames). */
function lexiconWords() {
  const words = new Set();
  for (const f of ['name-lexicon.ts', 'surname-lexicon.ts']) {
    let src;
    try {
      src = readFileSync(new URL(`../../packages/core/src/dlp/detectors/${f}`, import.meta.url), 'utf8');
    } catch {
      continue;
    }
    for (const m of src.matchAll(/= '([^']*)'/g)) for (const w of m[1].split(/[\s:,]+/)) if (/^\p{L}/u.test(w)) words.add(w.toLowerCase());
  }
  return words;
}

const pct = (x) => (x * 100).toFixed(1).padStart(5);

export function reportNames(scan, opts = {}) {
  return reportNameSet('Set 3 (independent person names; measured only)', 'set 3', generateNamesSet().docs, scan, opts);
}

/** Set 5: hand-written clinical prose (test/eval/independent/prose-names.mjs). */
export function reportProseNames(scan, opts = {}) {
  const { docs } = proseNamesSet();
  // Part B is never listed verbosely: its misses stay unread.
  const all = reportNameSet('Set 5 (hand-written clinical prose, names; measured only)', 'set 5', docs, scan, { ...opts, verbose: false });
  const log = opts.log ?? console.log;
  for (const part of ['A', 'B']) {
    const r = reportNameSet(`Set 5 part ${part}`, `set 5${part}`, docs.filter((d) => d.part === part), scan, { log: () => {} });
    log(`  part ${part}${part === 'B' ? ' (written after the detectors changed, never read for misses)' : ''}: P ${pct(r.precision)} R ${pct(r.recall)} (exact ${pct(r.exact)}); ${r.negFindings} findings on its hard negatives`);
  }
  if (opts.verbose) reportNameSet('Set 5 part A, verbose', 'set 5A', docs.filter((d) => d.part === 'A'), scan, opts);
  return all;
}

/**
 * Set 6: names in whole document skeletons (test/eval/independent/document-names.mjs), its
 * development and held-out halves reported apart; only the development half's misses are ever
 * listed.
 */
export function reportDocumentNames(scan, opts = {}) {
  const { docs } = documentNamesSet();
  const dev = reportNameSet('Set 6 development half (document skeletons, names; measured only)', 'set 6 dev', docs.filter((d) => d.half === 'dev'), scan, opts);
  const held = reportNameSet('Set 6 held-out half (never read for misses)', 'set 6 held-out', docs.filter((d) => d.half === 'heldout'), scan, { ...opts, verbose: false });
  return { dev, held };
}

function reportNameSet(title, tag, docs, scan, { verbose = false, log = console.log } = {}) {
  const lex = lexiconWords();
  let labels = 0, found = 0, exact = 0, predicted = 0, correct = 0;
  const cls = {};
  const byLex = { known: { n: 0, f: 0 }, unknown: { n: 0, f: 0 } };
  const misses = [];
  const fps = [];
  let negFindings = 0;
  for (const d of docs) {
    const pred = scan(d.text).filter((f) => f.type === 'PERSON_NAME');
    for (const l of d.labels) {
      labels++;
      const hit = pred.some((f) => f.start < l.end && l.start < f.end);
      const ex = pred.some((f) => f.start === l.start && f.end === l.end);
      const c = (cls[l.cls] ??= { n: 0, f: 0, e: 0 });
      c.n++;
      const words = d.text.slice(l.start, l.end).toLowerCase().split(/[\s^.]+/u).filter((w) => w.length > 1);
      const k = words.every((w) => lex.has(w)) ? 'known' : 'unknown';
      byLex[k].n++;
      if (hit) {
        found++;
        c.f++;
        byLex[k].f++;
      } else misses.push(`${l.cls}: ${JSON.stringify(d.text.slice(l.start, l.end))} in ${JSON.stringify(d.text.slice(0, 90))}`);
      if (ex) {
        exact++;
        c.e++;
      }
    }
    for (const f of pred) {
      predicted++;
      if (d.labels.some((l) => f.start < l.end && l.start < f.end)) correct++;
      else {
        fps.push(`${JSON.stringify(d.text.slice(f.start, f.end))} in ${JSON.stringify(d.text.slice(0, 90))}`);
        if (d.labels.length === 0) negFindings++;
      }
    }
  }
  const precision = predicted ? correct / predicted : 1;
  const recall = found / labels;
  const negatives = docs.filter((d) => d.labels.length === 0).length;
  log(`\n=== ${title}: ${docs.length} documents, ${labels} names, ${negatives} hard-negative lines ===`);
  log(`person names: phiguard P ${pct(precision)} R ${pct(recall)} (exact boundaries ${pct(exact / labels)}); ${negFindings} findings on the ${negatives} hard negatives`);
  log(`  by lexicon: all words in the lexicons n=${byLex.known.n} R ${pct(byLex.known.f / (byLex.known.n || 1))}; some word outside n=${byLex.unknown.n} R ${pct(byLex.unknown.f / (byLex.unknown.n || 1))}`);
  for (const c of Object.keys(cls).sort()) log(`  ${c.padEnd(11)} n=${String(cls[c].n).padStart(3)}  R ${pct(cls[c].f / cls[c].n)}  exact ${pct(cls[c].e / cls[c].n)}`);
  if (verbose) {
    log(`${tag} misses:`, misses);
    log(`${tag} false positives:`, fps);
  }
  return { precision, recall, exact: exact / labels, negFindings };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const core = await import('../../packages/core/dist/index.js');
  const scanner = core.createScanner();
  reportNames((t) => scanner.scan(t), { verbose: process.argv.includes('--verbose') });
  reportProseNames((t) => scanner.scan(t), { verbose: process.argv.includes('--verbose') });
  reportDocumentNames((t) => scanner.scan(t), { verbose: process.argv.includes('--verbose') });
}
