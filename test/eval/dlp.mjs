/**
 * DLP evaluation report: per-type precision / recall / F2 of the phiguard scanner and of two
 * peers (`redact-pii`, OpenRedaction `@openredaction/core`) on two sets: the hand-labelled set in
 * packages/core/test/dlp/eval (set 1) and the generated independent set of
 * test/eval/independent (set 2: written apart from the detectors, used only to measure), the
 * independent person-name set of test/eval/independent/names.mjs (set 3, names only), the
 * evasion matrix of test/eval/independent/matrix.mjs (set 4: kinds × disguises × settings, a
 * development set whose misses guided fixes), the
 * hand-written clinical prose of test/eval/independent/prose-names.mjs (set 5, names only), the
 * whole document skeletons of test/eval/independent/document-names.mjs (set 6, names only, a
 * development and a held-out half), with
 * names, evasion classes and context-bound identifiers reported separately; hard-negative false
 * positives and the share of non-PHI characters covered; throughput (short JSON string values,
 * clinical notes one document per call, 1 MB of text) next to 13 naive regexes and the peers in
 * the same run; and the worst hostile-input time ratio.
 *
 * Run: `npm run eval:dlp` (builds, then runs this file).
 *
 * Matching rule (phiguard): a finding of the labeled type overlapping the labeled span is a hit.
 * redact-pii returns only redacted text, so its recall counts an entity as found when its text no
 * longer appears in the output; its precision uses the spans its category markers replaced,
 * mapped to PHI types (PERSON_NAME, STREET_ADDRESS, ZIPCODE → ZIP_CODE, PHONE_NUMBER → PHONE,
 * EMAIL_ADDRESS → EMAIL, US_SOCIAL_SECURITY_NUMBER → SSN, CREDIT_CARD_NUMBER → CREDIT_CARD,
 * IP_ADDRESS, URL; its generic DIGITS, USERNAME, PASSWORD and CREDENTIALS markers have no PHI
 * type and count for recall only). It has no detector for the other PHI types, so their
 * precision is shown as 0 and their recall comes only from generic redactions such as DIGITS.
 */
import { createRequire } from 'node:module';
import os from 'node:os';
import * as core from '../../packages/core/dist/index.js';
import { EVAL_DIR, loadCorpus, ordinaryText, recoverSpans, score, scoreRedactor, TYPES } from '../../packages/core/test/dlp/eval/corpus.mjs';
import { hostileInputs } from '../../packages/core/test/dlp/eval/hostile.mjs';

if (typeof core.createScanner !== 'function') {
  console.error('packages/core/dist does not export createScanner: export the DLP API from core and run `npm run build`.');
  process.exit(1);
}

const require = createRequire(import.meta.url);
const { SyncRedactor } = require('redact-pii');
const { OpenRedaction } = await import('@openredaction/core');
const { generateIndependentSet } = await import('./independent/generate.mjs');
const { reportNames, reportProseNames, reportDocumentNames } = await import('./names-report.mjs');
const { reportMatrix } = await import('./matrix-report.mjs');

const { docs, negatives } = loadCorpus();
const MB = 1 << 20;
const ordinary = ordinaryText(docs, MB).slice(0, MB);

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}
/**
 * Median wall time and median CPU time (ms) of `fn`. CPU time (process.cpuUsage: user + system
 * of the whole process) is what "MB/s on one core" means on a shared machine; wall time is shown
 * too, and is inflated whenever other processes compete for the cores.
 */
function time(fn, runs = 7) {
  for (let i = 0; i < 5; i++) fn(); // warm-up: let the JIT settle
  const wall = [];
  const cpu = [];
  for (let i = 0; i < runs; i++) {
    const c = process.cpuUsage();
    const t = performance.now();
    fn();
    wall.push(performance.now() - t);
    const d = process.cpuUsage(c);
    cpu.push((d.user + d.system) / 1000);
  }
  return { wall: median(wall), cpu: median(cpu) };
}
const pct = (x) => (x * 100).toFixed(1).padStart(5);

// --- phiguard
const scanner = core.createScanner();
const STRUCTURED = TYPES.filter((t) => t !== 'PERSON_NAME' && t !== 'STREET_ADDRESS');
const structured = core.createScanner({ types: STRUCTURED });
const ours = score(docs, (t) => scanner.scan(t));
const ourNegatives = negatives.filter((l) => scanner.scan(l).length > 0);
const ourNegFindings = negatives.reduce((n, l) => n + scanner.scan(l).length, 0);
const tAll = time(() => scanner.scan(ordinary));
const tStructured = time(() => structured.scan(ordinary));

// Hostile inputs: paired medians (CPU time) against the same ordinary text.
let worst = { name: '', ratio: 0 };
const ratios = [];
const cpuOf = (text) => {
  const c = process.cpuUsage();
  scanner.scan(text);
  const d = process.cpuUsage(c);
  return d.user + d.system;
};
for (const [name, hostile] of Object.entries(hostileInputs(MB))) {
  const base = [];
  const hot = [];
  scanner.scan(hostile);
  for (let i = 0; i < 5; i++) {
    base.push(cpuOf(ordinary));
    hot.push(cpuOf(hostile));
  }
  const ratio = median(hot) / median(base);
  ratios.push([name, ratio]);
  if (ratio > worst.ratio) worst = { name, ratio };
}

// --- redact-pii (3.4 ignores per-redactor `replaceWith`: its default markers name the category)
const CATEGORY = {
  PERSON_NAME: 'PERSON_NAME',
  STREET_ADDRESS: 'STREET_ADDRESS',
  ZIPCODE: 'ZIP_CODE',
  PHONE_NUMBER: 'PHONE',
  EMAIL_ADDRESS: 'EMAIL',
  US_SOCIAL_SECURITY_NUMBER: 'SSN',
  CREDIT_CARD_NUMBER: 'CREDIT_CARD',
  IP_ADDRESS: 'IP_ADDRESS',
  URL: 'URL',
  DIGITS: undefined,
  USERNAME: undefined,
  PASSWORD: undefined,
  CREDENTIALS: undefined,
};
const peer = new SyncRedactor();
const MARKER = new RegExp(`\\b(${Object.keys(CATEGORY).join('|')})\\b`, 'g');
const peerSpans = (text) => {
  const output = peer.redact(text);
  return { output, spans: recoverSpans(text, output, MARKER, (c) => CATEGORY[c]) };
};
const theirs = scoreRedactor(docs, peerSpans);
const peerNegatives = negatives.filter((l) => peer.redact(l) !== l);
const tPeer = time(() => peer.redact(ordinary), 3);

// --- report
const line = (type, a, b) =>
  `${type.padEnd(15)} ${String(a.labels).padStart(4)} | ${pct(a.precision)} ${pct(a.recall)} ${pct(a.f2)} | ${pct(b.precision)} ${pct(b.recall)} ${pct(b.f2)}`;
console.log(`DLP evaluation: ${docs.length} documents, ${docs.reduce((n, d) => n + d.labels.length, 0)} labeled entities, ${negatives.length} hard-negative lines\n`);
console.log(`${'type'.padEnd(15)} ${'n'.padStart(4)} | phiguard P / R / F2 (%) | redact-pii P / R / F2 (%)`);
const sum = (r, k) => Object.values(r.per).reduce((n, x) => n + x[k], 0);
for (const t of TYPES) console.log(line(t, ours.per[t], theirs.per[t]));
const micro = (r) => {
  const labels = sum(r, 'labels');
  const found = sum(r, 'found');
  const predicted = sum(r, 'predicted');
  const correct = sum(r, 'correct');
  const p = predicted ? correct / predicted : 0;
  const rc = found / labels;
  return { labels, precision: p, recall: rc, f2: p + rc ? (5 * p * rc) / (4 * p + rc) : 0 };
};
console.log(line('ALL (micro)', micro(ours), micro(theirs)));
console.log(`\nhard negatives: phiguard ${ourNegFindings} findings on ${ourNegatives.length} of ${negatives.length} lines; redact-pii changed ${peerNegatives.length} lines`);
const rate = (t) => `${(ordinary.length / MB / (t.cpu / 1000)).toFixed(1).padStart(6)} MB/s per CPU-second (${(ordinary.length / MB / (t.wall / 1000)).toFixed(1)} MB/s wall)`;
console.log(`throughput on ${(ordinary.length / MB).toFixed(2)} MB of ordinary clinical text (one thread, medians; load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores):`);
console.log(`  phiguard all types        ${rate(tAll)}`);
console.log(`  phiguard structured types ${rate(tStructured)} (all but PERSON_NAME, STREET_ADDRESS)`);
console.log(`  redact-pii SyncRedactor   ${rate(tPeer)}`);
console.log(`hostile 1 MB inputs: worst time ratio vs ordinary text ${worst.ratio.toFixed(2)}× (${worst.name}); ${ratios.filter(([, r]) => r > 2).length} of ${ratios.length} above 2×`);
// Held-out documents (eval/holdout): written after the detectors (see the note at the top of the file).
const holdout = loadCorpus(`${EVAL_DIR}holdout`).docs;
const hOurs = score(holdout, (t) => scanner.scan(t));
const hTheirs = scoreRedactor(holdout, peerSpans);
const h1 = micro(hOurs);
const h2 = micro(hTheirs);
console.log(
  `held-out set (${holdout.length} documents, ${h1.labels} entities, micro): phiguard P ${pct(h1.precision)} R ${pct(h1.recall)} F2 ${pct(h1.f2)} | ` +
    `redact-pii P ${pct(h2.precision)} R ${pct(h2.recall)} F2 ${pct(h2.f2)}`,
);
if (process.argv.includes('--verbose')) {
  console.log('held-out misses:', hOurs.misses, 'held-out false positives:', hOurs.falsePositives);
  for (const [n, r] of ratios) console.log(`  ${n.padEnd(14)} ${r.toFixed(2)}×`);
  console.log('misses:', ours.misses);
  console.log('false positives:', ours.falsePositives);
}

// ===================== Set 2: the independent, generated set (measure only) =====================
const set2 = generateIndependentSet();
const set2Docs = set2.docs.map((d) => ({ file: d.kind, ...d }));
const orShield = new OpenRedaction();
const OR_TYPES = [
  [/EMAIL/, 'EMAIL'], [/FAX/, 'FAX'], [/PHONE|MOBILE|TELEPHONE/, 'PHONE'], [/SSN|SOCIAL_SECURITY/, 'SSN'],
  [/CREDIT|CARD/, 'CREDIT_CARD'], [/IPV?[46]?_?ADDRESS|^IP/, 'IP_ADDRESS'], [/URL/, 'URL'], [/DATE|DOB|BIRTH/, 'DATE'],
  [/ZIP|POSTCODE|POSTAL/, 'ZIP_CODE'], [/ADDRESS|STREET/, 'STREET_ADDRESS'], [/NPI/, 'NPI'], [/DEA/, 'DEA_NUMBER'],
  [/VIN|VEHICLE|PLATE/, 'VEHICLE_ID'], [/MRN|MEDICAL_RECORD|PATIENT_ID/, 'MRN'], [/LICEN/, 'LICENSE_NUMBER'],
  [/ACCOUNT|IBAN/, 'ACCOUNT_NUMBER'], [/INSURANCE|MEMBER|POLICY|MEDICARE|MEDICAID|HEALTH_PLAN/, 'HEALTH_PLAN_ID'],
  [/DEVICE|SERIAL|UDI/, 'DEVICE_ID'], [/NAME|PERSON/, 'PERSON_NAME'],
];
const orType = (t) => OR_TYPES.find(([re]) => re.test(t))?.[1];
async function orSpans(text) {
  const res = await orShield.detect(text);
  return (res.detections ?? []).map((d) => ({ type: orType(String(d.type)), start: d.position[0], end: d.position[1] }));
}
/** Scores predictions with classes: typed overlap for phiguard; any-type overlap for peers' recall. */
function scoreSet(docs, preds, typedRecall) {
  const per = Object.fromEntries(TYPES.map((t) => [t, { labels: 0, found: 0, predicted: 0, correct: 0 }]));
  const cls = {};
  const misses = [];
  const fps = [];
  for (let i = 0; i < docs.length; i++) {
    const doc = docs[i];
    const p = preds[i];
    for (const l of doc.labels) {
      const hit = p.some((f) => (!typedRecall || f.type === l.type) && f.start < l.end && l.start < f.end);
      per[l.type].labels++;
      const c = (cls[l.cls] ??= { labels: 0, found: 0 });
      c.labels++;
      if (hit) {
        per[l.type].found++;
        c.found++;
      } else misses.push(`${l.type}/${l.cls}: ${JSON.stringify(doc.text.slice(l.start, l.end))}`);
    }
    for (const f of p) {
      if (f.type === undefined || per[f.type] === undefined) continue;
      per[f.type].predicted++;
      if (doc.labels.some((l) => l.type === f.type && f.start < l.end && l.start < f.end)) per[f.type].correct++;
      else fps.push(`${f.type}: ${JSON.stringify(doc.text.slice(f.start, f.end))} in ${JSON.stringify(doc.text.slice(0, 80))}`);
    }
  }
  for (const row of Object.values(per)) {
    row.precision = row.predicted === 0 ? (row.labels === 0 ? 1 : 0) : row.correct / row.predicted;
    row.recall = row.labels === 0 ? 1 : row.found / row.labels;
    const pp = row.precision;
    const rr = row.recall;
    row.f2 = pp + rr === 0 ? 0 : (5 * pp * rr) / (4 * pp + rr);
  }
  return { per, cls, misses, fps };
}
const oursPred2 = set2Docs.map((d) => scanner.scan(d.text));
const peerPred2 = set2Docs.map((d) => peerSpans(d.text).spans);
const peerRecall2 = scoreRedactor(set2Docs, peerSpans);
const orPred2 = [];
for (const d of set2Docs) orPred2.push(await orSpans(d.text));
const s2 = scoreSet(set2Docs, oursPred2, true);
const s2peer = scoreSet(set2Docs, peerPred2, false);
const s2or = scoreSet(set2Docs, orPred2, false);
// redact-pii's recall: its text gone from the output (as for set 1).
for (const t of TYPES) {
  s2peer.per[t].recall = peerRecall2.per[t].recall;
  const pp = s2peer.per[t].precision;
  const rr = s2peer.per[t].recall;
  s2peer.per[t].f2 = pp + rr === 0 ? 0 : (5 * pp * rr) / (4 * pp + rr);
}
const microOf = (per) => {
  const rows = Object.values(per);
  const labels = rows.reduce((n, x) => n + x.labels, 0);
  const found = rows.reduce((n, x) => n + x.found, 0);
  const predicted = rows.reduce((n, x) => n + x.predicted, 0);
  const correct = rows.reduce((n, x) => n + x.correct, 0);
  const p = predicted ? correct / predicted : 0;
  const rc = labels ? found / labels : 0;
  return { labels, precision: p, recall: rc, f2: p + rc ? (5 * p * rc) / (4 * p + rc) : 0 };
};
console.log(`\n=== Set 2 (independent, generated; measured only): ${set2Docs.length} documents, ${set2Docs.reduce((n, d) => n + d.labels.length, 0)} entities, ${set2.negatives.length} hard-negative lines ===`);
console.log(`${'type'.padEnd(15)} ${'n'.padStart(4)} | phiguard P / R / F2 (%) | redact-pii P / R / F2 (%) | OpenRedaction P / R / F2 (%)`);
for (const t of TYPES) console.log(`${line(t, s2.per[t], s2peer.per[t])} | ${pct(s2or.per[t].precision)} ${pct(s2or.per[t].recall)} ${pct(s2or.per[t].f2)}`);
const m2 = microOf(s2.per);
const m2p = microOf(s2peer.per);
const m2o = microOf(s2or.per);
console.log(`${line('ALL (micro)', m2, { ...m2p, recall: microOf(peerRecall2.per).recall, f2: m2p.f2 })} | ${pct(m2o.precision)} ${pct(m2o.recall)} ${pct(m2o.f2)}`);
console.log('\nby class (recall %: phiguard | redact-pii any type | OpenRedaction any type):');
for (const c of Object.keys(s2.cls).sort()) {
  const a = s2.cls[c];
  console.log(`  ${c.padEnd(17)} n=${String(a.labels).padStart(3)}  ${pct(a.found / a.labels)} | ${pct(s2peer.cls[c].found / a.labels)} | ${pct(s2or.cls[c].found / a.labels)}`);
}
const names2 = s2.per.PERSON_NAME;
console.log(`person names: phiguard P ${pct(names2.precision)} R ${pct(names2.recall)} | OpenRedaction P ${pct(s2or.per.PERSON_NAME.precision)} R ${pct(s2or.per.PERSON_NAME.recall)}`);
const neg2 = set2.negatives.reduce((n, l) => n + scanner.scan(l).length, 0);
const negDocs = set2Docs.filter((d) => d.labels.length === 0).reduce((n, d) => n + scanner.scan(d.text).length, 0);
// Non-PHI characters covered: characters outside every label that some finding covers.
let nonPhi = 0;
let covered = 0;
for (let i = 0; i < set2Docs.length; i++) {
  const d = set2Docs[i];
  const mark = new Uint8Array(d.text.length);
  for (const l of d.labels) mark.fill(1, l.start, l.end);
  for (const f of oursPred2[i]) for (let k = f.start; k < f.end; k++) if (mark[k] === 0) mark[k] = 2;
  for (const v of mark) {
    if (v !== 1) nonPhi++;
    if (v === 2) covered++;
  }
}
for (const l of set2.negatives) {
  nonPhi += l.length;
  for (const f of scanner.scan(l)) covered += f.end - f.start;
}
console.log(`hard negatives (set 2): ${neg2} findings on ${set2.negatives.length} lab/code lines; ${negDocs} findings on ${set2Docs.filter((d) => d.labels.length === 0).length} eponym/clinical lines; non-PHI characters covered ${(100 * covered / nonPhi).toFixed(2)}%`);
if (process.argv.includes('--verbose')) {
  console.log('set 2 misses:', s2.misses);
  console.log('set 2 false positives:', s2.fps);
}

// ===================== Set 3: independent person names (measure only) =====================
reportNames((t) => scanner.scan(t), { verbose: process.argv.includes('--verbose') });

// ===================== Set 4: evasion matrix (development set) =====================
reportMatrix((t) => scanner.scan(t), { verbose: process.argv.includes('--verbose') });

// ===================== Set 5: hand-written clinical prose, names (measure only) =====================
reportProseNames((t) => scanner.scan(t), { verbose: process.argv.includes('--verbose') });

// ===================== Set 6: names in whole document skeletons, two halves (measure only) =====================
reportDocumentNames((t) => scanner.scan(t), { verbose: process.argv.includes('--verbose') });

// ===================== Throughput, one thread, all twenty types =====================
const NAIVE = [
  /\b\d{3}-\d{2}-\d{4}\b/g, /\(?\b\d{3}\)?[-. ]?\d{3}[-. ]\d{4}\b/g, /[\w.+-]+@[\w-]+\.[\w.]+/g, /\b(?:\d[ -]?){13,16}\b/g,
  /\b\d{1,2}\/\d{1,2}\/\d{2,4}\b/g, /\b\d{5}(?:-\d{4})?\b/g, /\b(?:\d{1,3}\.){3}\d{1,3}\b/g, /https?:\/\/[^\s"']+/g,
  /\bMRN:?\s*\w+/gi, /\b[12]\d{9}\b/g, /\b[A-Z]{2}\d{7}\b/g, /\b[A-HJ-NPR-Z0-9]{17}\b/g, /\b(?:Mr|Mrs|Ms|Dr)\.? [A-Z][a-z]+/g,
];
const naive = (t) => {
  let n = 0;
  for (const re of NAIVE) {
    re.lastIndex = 0;
    while (re.exec(t) !== null) n++;
  }
  return n;
};
const shortStrings = [...set2.shorts.map((d) => d.text), ...docs.map((d) => d.text).filter((t) => t.length >= 10 && t.length <= 200)].filter((t) => t.length >= 10 && t.length <= 200);
const notes = docs.filter((d) => d.file === 'clinical-notes.txt' || d.file === 'referrals.txt' || d.file === 'portal-messages.txt').map((d) => d.text);
const totalChars = (xs) => xs.reduce((n, t) => n + t.length, 0);
/** Runs `fn` over `xs` until about `target` characters were scanned; returns MB per CPU-second (median of rounds). */
function rateOf(fn, xs, rounds = 7) {
  const chars = totalChars(xs);
  const reps = Math.max(1, Math.round((2 * MB) / chars));
  const rates = [];
  for (let r = 0; r < rounds + 2; r++) {
    const c = process.cpuUsage();
    for (let k = 0; k < reps; k++) for (const t of xs) fn(t);
    const d = process.cpuUsage(c);
    if (r >= 2) rates.push((chars * reps) / MB / ((d.user + d.system) / 1e6));
  }
  return median(rates);
}
// Interleaved: each round measures every contender once, so machine load hits them alike.
const contenders = {
  'phiguard (all 20 types)': (t) => scanner.scan(t),
  'naive regex (13 patterns)': naive,
  'redact-pii': (t) => peer.redact(t),
};
console.log(`\nthroughput, MB per CPU-second (medians of interleaved rounds; load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores, machine shared):`);
console.log(`  inputs: ${shortStrings.length} short JSON string values (10-200 chars, mean ${(totalChars(shortStrings) / shortStrings.length).toFixed(0)}), ${notes.length} clinical notes / letters / messages one per call (mean ${(totalChars(notes) / notes.length).toFixed(0)} chars), 1 MB text in one call`);
const results = {};
for (let round = 0; round < 3; round++) {
  for (const [name, fn] of Object.entries(contenders)) {
    const r = (results[name] ??= { short: [], notes: [], big: [] });
    r.short.push(rateOf(fn, shortStrings, name === 'redact-pii' ? 1 : 3));
    r.notes.push(rateOf(fn, notes, name === 'redact-pii' ? 1 : 3));
    if (name !== 'redact-pii') r.big.push(rateOf(fn, [ordinary], 1));
  }
}
for (const [name, r] of Object.entries(results)) {
  console.log(`  ${name.padEnd(26)} short strings ${median(r.short).toFixed(1).padStart(6)}   notes ${median(r.notes).toFixed(1).padStart(6)}   1 MB ${r.big.length ? median(r.big).toFixed(1).padStart(6) : '     -'}`);
}
{
  // OpenRedaction is asynchronous: one document per awaited call, a sample of the notes.
  const sample = notes.slice(0, 20);
  const c = process.cpuUsage();
  for (const t of sample) await orShield.detect(t);
  const d = process.cpuUsage(c);
  console.log(`  ${'OpenRedaction (detect)'.padEnd(26)} notes ${(totalChars(sample) / MB / ((d.user + d.system) / 1e6)).toFixed(2)} (20 notes, one awaited call each)`);
}
