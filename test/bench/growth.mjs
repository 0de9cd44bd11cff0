// Cost growth with response size: protect + serialize of a top-level array of 1 to 10,000 rows
// (the example's policy, its PatientResults resource applied to each row; rows of ~430 bytes,
// each a distinct patient, so a 10,000-row page is ~4.3 MB), against JSON.stringify of the same
// rows. Targets are interleaved over rounds; medians of CPU time are reported.
//   node test/bench/growth.mjs [--rounds 7] [--budget 40]   (budget: ms of work per sample)
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compilePolicy } from '../../packages/core/dist/index.js';
import { CALLERS, DEV_PHIGUARD_SECRET, document, operators, policy } from './fixture.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
};
const rounds = arg('rounds', 7);
const budgetMs = arg('budget', 40);
const SIZES = [1, 10, 100, 1000, 10_000];

/** The example's resource, declared for each element of a top-level array: `[].patient.mrn`. */
function listPolicy() {
  const source = policy.resources.PatientResults;
  const prefixed = (path) => `[].${path}`;
  const rules = (set) => Object.fromEntries(Object.entries(set).map(([sel, op]) => [sel === '*' || sel.startsWith('@') ? sel : prefixed(sel), op]));
  // A list has no single subject, so patient requests (PATRQT) are left out; the rows are in the
  // clear, so fields are declared without `encrypt` (no record id to bind).
  const disclose = Object.fromEntries(
    Object.entries(source.disclose).map(([role, byPurpose]) => [
      role,
      Object.fromEntries(Object.entries(byPurpose).filter(([p]) => p !== 'PATRQT').map(([p, set]) => [p, rules(set)])),
    ]),
  );
  const plain = (spec) => (typeof spec === 'string' ? spec : Object.fromEntries(Object.entries(spec).filter(([k]) => k !== 'encrypt')));
  const rows = {
    fields: Object.fromEntries(Object.entries(source.fields).map(([path, spec]) => [prefixed(path), plain(spec)])),
    sensitive: null,
    disclose,
  };
  const roles = policy.roles.filter((r) => Object.keys(disclose[r] ?? {}).length > 0);
  for (const r of Object.keys(disclose)) if (!roles.includes(r)) delete disclose[r];
  const only = (reveal) => Object.fromEntries(Object.entries(reveal ?? {}).filter(([r]) => roles.includes(r)));
  rows.sensitive = (source.sensitive ?? []).map((s) => ({ ...s, elements: prefixed(s.elements) }));
  // Sensitive categories are the policy's; their reveal rules keep the roles kept here.
  const categories = policy.categories && Object.fromEntries(Object.entries(policy.categories).map(([name, c]) => [name, { ...c, reveal: only(c.reveal) }]));
  return { ...policy, roles, ...(categories ? { categories } : {}), resources: { Rows: rows } };
}

const base = document();
/** `n` rows: the example's patient, each with its own id, MRN and view id; no reports. */
const rowsOf = (n) =>
  Array.from({ length: n }, (_, i) => ({
    resourceType: 'PatientResults',
    id: `lrv-${String(i).padStart(6, '0')}`,
    patient: { ...base.patient, id: String(100_000 + i), mrn: `MRN${String(i).padStart(8, '0')}` },
    reports: [],
  }));

const compiled = compilePolicy(listPolicy(), { secret: DEV_PHIGUARD_SECRET, operators, mode: 'production' });
const pages = new Map(SIZES.map((n) => [n, rowsOf(n)]));
const targets = [
  { name: 'JSON.stringify', run: (rows) => JSON.stringify(rows) },
  ...CALLERS.flatMap(({ role, purpose }) => {
    const context = { principal: { id: `bench-${role}` }, roles: [role], purposeOfUse: purpose };
    const decision = compiled.decide(context, 'Rows');
    if (decision.effect !== 'allow') throw new Error(`${role}: ${decision.reason}`);
    const plan = decision.plan;
    return [
      { name: `${role} plan.serialize`, caller: role, compiled: true, run: (rows) => plan.serialize(rows, context).json },
      { name: `${role} plan.apply + JSON.stringify`, caller: role, compiled: false, run: (rows) => JSON.stringify(plan.apply(rows, context).value) },
    ];
  }),
];
// The two paths must agree before anything is timed.
for (const t of targets.filter((x) => x.compiled)) {
  const twin = targets.find((x) => x.caller === t.caller && !x.compiled);
  for (const rows of pages.values()) if (t.run(rows) !== twin.run(rows)) throw new Error(`${t.caller}: serialize and apply disagree`);
}

/** CPU µs per call of `run` on `rows` (CPU, not wall-clock: on a shared machine, time spent descheduled is not ours). */
function sample(run, rows, iterations) {
  const start = process.cpuUsage();
  for (let i = 0; i < iterations; i++) run(rows);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / iterations;
}
// Iterations per (size, target) from a first timing, so every sample does comparable work.
const iterations = new Map();
for (const [n, rows] of pages) {
  for (const t of targets) {
    sample(t.run, rows, 3); // warm-up
    const probe = Math.max(3, Math.round(20_000 / n));
    const once = Math.max(sample(t.run, rows, probe), 0.2);
    iterations.set(`${n}|${t.name}`, Math.max(3, Math.round((budgetMs * 1000) / once)));
  }
}
const samples = new Map();
for (let r = 0; r < rounds; r++) {
  for (const [n, rows] of pages) {
    for (const t of targets) {
      const k = `${n}|${t.name}`;
      if (!samples.has(k)) samples.set(k, []);
      samples.get(k).push(sample(t.run, rows, iterations.get(k)));
    }
  }
  process.stderr.write('.');
}
process.stderr.write('\n');
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const us = (n, name) => median(samples.get(`${n}|${name}`));

const rows = [];
for (const t of targets.slice(1)) {
  const ratios = SIZES.map((n) => us(n, t.name) / us(n, 'JSON.stringify'));
  rows.push({
    name: t.name,
    caller: t.caller,
    compiled: t.compiled,
    ratios,
    worst: Math.max(...ratios),
    perRow10kVs100: us(10_000, t.name) / 10_000 / (us(100, t.name) / 100),
    us: SIZES.map((n) => us(n, t.name)),
  });
}
const bytes = SIZES.map((n) => JSON.stringify(pages.get(n)).length);
console.log(`\nSize growth: protect + serialize vs JSON.stringify of the same rows, ${rounds} interleaved rounds, medians; Node ${process.version}\n`);
console.log(`| target | ${SIZES.map((n) => `${n} rows`).join(' | ')} | worst | per-row cost 10,000 vs 100 |`);
console.log(`|---|${SIZES.map(() => '---:').join('|')}|---:|---:|`);
console.log(`| JSON.stringify µs (bytes) | ${SIZES.map((n, i) => `${us(n, 'JSON.stringify').toFixed(1)} (${bytes[i]})`).join(' | ')} | | ${(us(10_000, 'JSON.stringify') / 10_000 / (us(100, 'JSON.stringify') / 100)).toFixed(2)} |`);
for (const r of rows) console.log(`| ${r.name} | ${r.ratios.map((x) => `${x.toFixed(2)}×`).join(' | ')} | ${r.worst.toFixed(2)}× | ${r.perRow10kVs100.toFixed(2)} |`);
const out = join(new URL('.', import.meta.url).pathname, 'results');
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'growth.json'), JSON.stringify({ date: new Date().toISOString(), node: process.version, rounds, sizes: SIZES, bytes, rows }, null, 2));
