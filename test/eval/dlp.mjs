/**
 * DLP evaluation report: per-type precision / recall / F2 of the phiguard scanner and of the
 * `redact-pii` peer on the labeled set in packages/core/test/dlp/eval, hard-negative false
 * positives, throughput on ordinary clinical text, and the worst hostile-input time ratio.
 *
 * Run after the build: `npm run build && node test/eval/dlp.mjs`.
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
