// `npm run bench`: runs every benchmark once, in sequence (each prints its own detailed table),
// then prints one table with every ratio issue 18 sets a target for, from this run.
//   node test/bench/all.mjs [--quick]   (--quick: fewer requests and rounds, for a smoke run)
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';

const here = new URL('.', import.meta.url).pathname;
const results = join(here, 'results');
const quick = process.argv.includes('--quick');
const runs = [
  ['inproc.mjs', quick ? ['--requests', '5000', '--rounds', '5'] : ['--requests', '20000', '--rounds', '7']],
  ['micro.mjs', quick ? ['--time', '300'] : ['--time', '1000']],
  ['growth.mjs', quick ? ['--rounds', '3', '--budget', '20'] : ['--rounds', '7', '--budget', '40']],
  ['run.mjs', quick ? ['--duration', '3', '--rounds', '3'] : ['--duration', '6', '--rounds', '5']],
  ['crypto.mjs', quick ? ['--time', '300'] : []],
  ['audit.mjs', quick ? ['--events', '20000', '--requests', '4000', '--warmup', '1000'] : []],
];
const started = new Date();
const load = loadavg()[0];
const failed = [];
for (const [script, args] of runs) {
  const file = join(results, script.replace('.mjs', '.json').replace('run.json', 'http.json'));
  rmSync(file, { force: true });
  process.stderr.write(`\n── node test/bench/${script} ${args.join(' ')}\n`);
  // Each script sets NODE_ENV itself (the crypto comparison needs a local keyring outside production).
  const r = spawnSync(process.execPath, [join(here, script), ...args], { stdio: 'inherit' });
  if (r.status !== 0) failed.push(script);
}

const read = (name) => {
  const file = join(results, name);
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : null;
};
const rows = [];
const add = (measure, value, target, better = 'higher') => {
  const met = value === null || value === undefined ? null : better === 'higher' ? value >= target : value <= target;
  rows.push({ measure, value, target: `${better === 'higher' ? '≥' : '≤'} ${target}`, met });
};

const inproc = read('inproc.json');
const ratio = (name, base) => {
  const r = inproc?.rows.find((x) => x.name === name);
  const b = inproc?.rows.find((x) => x.name === base);
  return r && b ? b.us / r.us : null;
};
for (const [role, purpose] of [['billing', 'HPAYMT'], ['ordering-provider', 'TREAT'], ['researcher', 'HRESCH']]) {
  add(`in process, audit to pino file: phiguard ${role} vs plain Express`, ratio(`phiguard ${role} (${purpose})`, 'plain Express'), 0.9);
}
for (const [role, purpose] of [['billing', 'HPAYMT'], ['ordering-provider', 'TREAT'], ['researcher', 'HRESCH']]) {
  add(`in process, hash chain + buffered PostgreSQL: phiguard ${role} vs plain Express`, ratio(`phiguard ${role} (${purpose}), chain + buffered PostgreSQL`, 'plain Express'), 0.88);
}
for (const [role, purpose] of [['billing', 'HPAYMT'], ['ordering-provider', 'TREAT'], ['researcher', 'HRESCH']]) {
  add(`in process, example app ${role} vs plain Express + same JWT check`, ratio(`example app (JWT + phiguard) ${role} (${purpose})`, 'plain Express + JWT check'), 0.85);
}

const http = read('http.json');
if (http) {
  const plain = http.summary.find((s) => s.name === 'plain Express');
  const plainAuth = http.summary.find((s) => s.name === 'plain Express + JWT check');
  const billing = http.summary.find((s) => s.name.startsWith('example app (JWT + phiguard) billing'));
  add('HTTP (autocannon, own process): example app billing req/s vs plain Express + JWT check', billing && plainAuth ? billing.rps / plainAuth.rps : null, 0.9);
  add('HTTP (autocannon, own process): example app billing req/s vs plain Express', billing && plain ? billing.rps / plain.rps : null, 0.9);
} else add('HTTP (autocannon): billing vs plain Express', null, 0.9);

const growth = read('growth.json');
for (const caller of ['billing', 'ordering-provider', 'researcher']) {
  const r = growth?.rows.find((x) => x.caller === caller && x.compiled);
  const target = caller === 'researcher' ? 2.0 : 1.3;
  add(`size growth 1→10,000 rows, ${caller}: worst (protect + serialize) / JSON.stringify`, r ? r.worst : null, target, 'lower');
  add(`size growth, ${caller}: cost per row at 10,000 / at 100`, r ? r.perRow10kVs100 : null, 1.3, 'lower');
}

const audit = read('audit.json');
const four = audit?.rates.find((r) => r.writers === 4 && r.chained);
add('audit into PostgreSQL, chained, 4 writers: events/s', four ? Math.round(four.eventsPerSecond) : null, 50000);

const crypto = read('crypto.json');
const ratios = crypto?.rows?.map((r) => r.phiguardUs / r.rawUs).filter((x) => Number.isFinite(x)) ?? [];
add('field encryption: phiguard / raw AES-256-GCM per value (worst size)', ratios.length ? Math.max(...ratios) : null, 1.35, 'lower');

const micro = read('micro.json');
const serializeVsApply = (caller) => {
  const a = micro?.rows.find((r) => r.caller.startsWith(caller) && r.task === 'phiguard plan.apply + JSON.stringify');
  const c = micro?.rows.find((r) => r.caller.startsWith(caller) && r.task === 'phiguard plan.serialize (compiled)');
  return a && c ? a.medianUs / c.medianUs : null;
};
for (const caller of ['billing', 'ordering-provider', 'researcher']) add(`compiled plan speed-up on the example document, ${caller}: (apply + JSON.stringify) / serialize`, serializeVsApply(caller), 1.0);
const [bufferKey, keyObject] = micro?.hmac ?? [];
add('token HMAC: Buffer key µs / KeyObject µs (above 1: the KeyObject is faster)', bufferKey && keyObject ? bufferKey.medianUs / keyObject.medianUs : null, 1.0);

const fmt = (v) => (v === null || v === undefined ? 'n/a' : Number.isInteger(v) ? String(v) : v.toFixed(2));
console.log(`\n## Issue 18 targets, one run (${started.toISOString()}; Node ${process.version}; ${cpus().length} cores, load average ${load.toFixed(1)} at start)\n`);
console.log('| measure | this run | target | met |');
console.log('|---|---:|---:|:---:|');
for (const r of rows) console.log(`| ${r.measure} | ${fmt(r.value)} | ${r.target} | ${r.met === null ? '—' : r.met ? 'yes' : 'no'} |`);
if (failed.length > 0) {
  console.log(`\nFailed to run: ${failed.join(', ')} (their rows are n/a).`);
  process.exitCode = 1;
}
