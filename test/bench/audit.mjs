// Audit delivery cost.
// 1. Events per second into PostgreSQL: postgresAuditSink.writeBatch (multi-row INSERT,
//    idempotent ids) in batches of 500 with 1 and 4 writers, chained and not; writeLines (NDJSON
//    text as one parameter); and end to end through four durable sinks (chain + group commit with
//    fdatasync to a write-ahead file, shipped to PostgreSQL), until every event is stored.
// 2. CPU per request of a phiguard-protected route (the example's billing plan) per audit mode,
//    against plain Express in the same run (interleaved rounds, medians), with `--inflight`
//    requests in flight so that group commit forms batches as under load: no audit, pino to a
//    file, chain + buffered PostgreSQL (async), durable (write-ahead file shipped to PostgreSQL;
//    its writer on the request's thread and on a worker thread), chain + PostgreSQL per event
//    (sync). Each with the process's CPU (every thread) and its main thread's alone (Linux).
// 3. Over HTTP: the example server (its own process, PostgreSQL store) in async, durable and sync
//    mode, autocannon with `--connections`, interleaved rounds: requests/s and p99 latency.
//   scripts/services postgres && npm run build && node test/bench/audit.mjs [--events 50000] [--requests 30000] [--warmup 5000] [--processes 2] [--inflight 32] [--http-duration 5] [--http-rounds 3] [--connections 16]
import { fork, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';
import { cpus } from 'node:os';
import autocannon from 'autocannon';
import { mkdtempSync, rmSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import express from 'express';
import pg from 'pg';
import { pino } from 'pino';
import { createFieldCipher } from '../../packages/core/dist/index.js';
import { canonicalJson, createBufferedSink as bufferedSink, createChainSink as chainSink, createDurableSink as durableSink, createPostgresAuditSink as postgresAuditSink, disclosureEvent } from '../../packages/core/dist/audit.js';
import { phiguard } from '../../packages/express/dist/index.js';
import { createLocalKeyring } from '../../packages/kms/dist/index.js';
import { findPatient, labResultsView, operators, policy } from '../../examples/express-lab-results/dist/app.js';
import { DEV_JWT_SECRET, DEV_PHIGUARD_SECRET, injectMany, signToken } from './fixture.mjs';
import { dropAuditTableSql } from '../../packages/core/dist/testing.js';

process.env.NODE_ENV = 'production';
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
};
const EVENTS = arg('events', 50_000);
const REQUESTS = arg('requests', 30_000);
// Long enough for V8 to have optimized the request path before the rounds are counted.
const WARMUP = arg('warmup', 5_000);
// Each in-process target in this many processes (a process keeps its own placement and heap
// layout for its whole life); the medians are over every process's samples.
const PROCESSES = Math.max(1, arg('processes', 2));
const INFLIGHT = arg('inflight', 32);
const HTTP_DURATION = arg('http-duration', 5);
const HTTP_ROUNDS = arg('http-rounds', 3);
const CONNECTIONS = arg('connections', 16);
const INTERVAL = arg('interval', 1);
const RATE = arg('rate', 200);
const only = (part) => !process.argv.includes('--only') || process.argv.includes(part);
const url = process.env.PHIGUARD_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:55432/postgres';
const pool = new pg.Pool({ connectionString: url, max: 8 });
const key = randomBytes(32);
const work = mkdtempSync(join(tmpdir(), 'phiguard-audit-bench-'));

const context = { principal: { id: 'bench-billing' }, roles: ['billing'], purposeOfUse: 'HPAYMT', request: { method: 'GET', route: '/patients/:id/results', ip: '127.0.0.1' } };
const disclosure = { resource: 'PatientResults', purposeOfUse: 'HPAYMT', roles: ['billing'], disclosed: ['patient.mrn', 'reports[].code', 'reports[].effectiveDateTime'], transforms: { 'patient.mrn': 'partial' } };
const makeEvent = (i) => disclosureEvent('read', context, disclosure, { patientRef: `pt_${i % 997}`, resourceId: `lrv-${i % 997}` });

const created = [];
async function table(name) {
  const sink = postgresAuditSink({ pool, table: name });
  await sink.migrate();
  created.push(name);
  return sink;
}

/** Events/s writing `EVENTS` events in batches of 500 through `writers` concurrent writers. */
async function insertRate(writers, chained) {
  const name = `bench_audit_${writers}_${chained ? 'c' : 'p'}_${Date.now()}`;
  const store = await table(name);
  const per = Math.ceil(EVENTS / writers);
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      // Chained: each writer links its events (its own stream), then inserts the batch.
      let linked = [];
      const chain = chained ? chainSink({ write: (e) => void linked.push(e) }, { key, stream: `bench-${w}` }) : null;
      for (let i = 0; i < per; i += 500) {
        const batch = Array.from({ length: Math.min(500, per - i) }, (_, j) => makeEvent(w * per + i + j));
        if (chain === null) await store.writeBatch(batch);
        else {
          for (const e of batch) chain.write(e);
          await store.writeBatch(linked);
          linked = [];
        }
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const { rows } = await pool.query(`SELECT count(*)::int AS n FROM ${name}`);
  await pool.query(dropAuditTableSql(name)).catch(() => undefined);
  if (rows[0].n !== per * writers) throw new Error(`stored ${rows[0].n}, expected ${per * writers}`);
  return (per * writers) / seconds;
}

/**
 * Events/s of writeLines into the store with `writers` concurrent connections: each writer's
 * events are chained (its own stream) and serialized once beforehand, as an instance's shipper
 * holds them, and sent as NDJSON chunks of 1,000 lines (about what one shipment of 1 MiB holds).
 */
async function linesRate(writers) {
  const name = `bench_audit_lines_${writers}_${Date.now()}`;
  const store = await table(name);
  const per = Math.ceil(EVENTS / writers);
  const chunks = Array.from({ length: writers }, (_, w) => {
    const out = [];
    let text = '';
    const chain = chainSink({ write: (e) => void (text += canonicalJson(e) + '\n') }, { key, stream: `lines-${w}` });
    for (let i = 0; i < per; i++) {
      chain.write(makeEvent(w * per + i));
      if ((i + 1) % 1000 === 0 || i === per - 1) {
        out.push(text);
        text = '';
      }
    }
    return out;
  });
  const started = process.hrtime.bigint();
  await Promise.all(chunks.map(async (list) => {
    for (const c of list) await store.writeLines(c);
  }));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const { rows } = await pool.query(`SELECT count(*)::int AS n FROM ${name}`);
  await pool.query(dropAuditTableSql(name)).catch(() => undefined);
  if (rows[0].n !== per * writers) throw new Error(`stored ${rows[0].n}, expected ${per * writers}`);
  return (per * writers) / seconds;
}

/** Events/s end to end through `writers` durable sinks: every write committed (fdatasync) and every event stored in PostgreSQL. */
async function durableRate(writers) {
  const name = `bench_audit_durable_${writers}_${Date.now()}`;
  const store = await table(name);
  const per = Math.ceil(EVENTS / writers);
  const sinks = Array.from({ length: writers }, (_, w) => durableSink({ dir: join(work, `rate-${name}-${w}`), key, ship: store, maxPending: per }));
  const started = process.hrtime.bigint();
  await Promise.all(
    sinks.map(async (sink, w) => {
      const writes = [];
      for (let i = 0; i < per; i++) {
        writes.push(sink.write(makeEvent(w * per + i)));
        // Yield now and then, as a server between requests, so commits run meanwhile.
        if (i % 1000 === 999) await new Promise((r) => setImmediate(r));
      }
      await Promise.all(writes);
      await sink.drain();
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await Promise.all(sinks.map((s) => s.close()));
  const { rows } = await pool.query(`SELECT count(*)::int AS n FROM ${name}`);
  await pool.query(dropAuditTableSql(name)).catch(() => undefined);
  if (rows[0].n !== per * writers) throw new Error(`stored ${rows[0].n}, expected ${per * writers}`);
  return (per * writers) / seconds;
}

// ── 2. per-request cost per audit mode ──────────────────────────────────────────────────────
const keyring = createLocalKeyring({ key: new Uint8Array(32).fill(1), allowInProduction: true });
const cipher = createFieldCipher({ keyring });
function appWith(audit) {
  const app = express();
  app.disable('x-powered-by');
  if (audit !== null) {
    app.use(
      phiguard({
        policy, operators, secret: DEV_PHIGUARD_SECRET, audit, cipher,
        relationship: () => ({ careTeam: true }),
        context: () => ({ principal: { id: 'bench-billing' }, roles: ['billing'], purposeOfUse: 'HPAYMT' }),
      }),
    );
  }
  app.get('/patients/:id/results', (req, res) => void res.json(labResultsView(findPatient(req.params.id))));
  return app;
}
/**
 * CPU time of this process's main thread (the one serving requests), in µs, from Linux's
 * per-thread counters (10 ms ticks: take rounds of a second or more); null elsewhere.
 * process.cpuUsage() counts every thread: the thread pool's and the audit worker's as well.
 */
function mainThreadUs() {
  try {
    const f = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) * 10_000;
  } catch {
    return null;
  }
}
/** CPU µs per request (process, and main thread), and wall-clock requests/s, with INFLIGHT requests in flight. */
async function cpuPerRequest(app, n) {
  const main0 = mainThreadUs();
  const start = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await injectMany(app, n, INFLIGHT);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const used = process.cpuUsage(start);
  const main1 = mainThreadUs();
  return { us: (used.user + used.system) / n, mainUs: main0 === null ? null : (main1 - main0) / n, rps: n / seconds };
}

// Each in-process target runs in a process of its own (one app per process, as an application
// runs), the rounds interleaved across them; `--one-process` runs them all in this process.
const sinkTargets = [
  { name: 'plain Express', make: async () => ({ audit: null }) },
  { name: 'audit: none (a no-op sink)', make: async () => ({ audit: { write() {} } }) },
  { name: 'audit: pino to a file', make: async () => ({ audit: pino(pino.destination({ dest: join(work, 'a.log'), sync: false, minLength: 4096 })) }) },
  {
    name: 'audit: chain + buffered PostgreSQL (async)',
    make: async () => {
      const buffered = bufferedSink(await table(`bench_async_${process.pid}`), { maxBuffer: 100_000, maxBatch: 500, flushIntervalMs: 20 });
      return { audit: chainSink(buffered, { key }), close: () => buffered.close() };
    },
  },
  {
    name: 'audit: buffered PostgreSQL, chain in the flush (async, `chain` option)',
    make: async () => {
      const buffered = bufferedSink(await table(`bench_async_bg_${process.pid}`), { maxBuffer: 100_000, maxBatch: 500, flushIntervalMs: 20, chain: { key } });
      return { audit: buffered, close: () => buffered.close() };
    },
  },
  {
    name: 'audit: durable (write-ahead file + fdatasync, shipped to PostgreSQL), on this thread (store object)',
    make: async () => {
      const durable = durableSink({ dir: join(work, 'inproc-wal'), key, ship: await table(`bench_durable_${process.pid}`), maxPending: 100_000, intervalMs: INTERVAL });
      return { audit: durable, close: async () => ((stats = durable.stats()), await durable.close(), stats) };
    },
  },
  {
    name: 'audit: durable on a worker thread (the same, store described: `ship: { postgres }`)',
    make: async () => {
      const name = `bench_durable_w_${process.pid}`;
      await table(name);
      const durable = durableSink({ dir: join(work, 'inproc-wal-worker'), key, ship: { postgres: { connectionString: url, table: name } }, maxPending: 100_000, intervalMs: INTERVAL });
      return { audit: durable, close: () => durable.close() };
    },
  },
  {
    name: 'audit: durable, write-ahead file only (no store), on this thread (`worker: false`)',
    make: async () => {
      const durable = durableSink({ dir: join(work, 'inproc-wal-local-main'), key, maxPending: 100_000, intervalMs: INTERVAL, worker: false });
      return { audit: durable, close: () => durable.close() };
    },
  },
  {
    name: 'audit: durable, write-ahead file only (no store), on a worker thread',
    make: async () => {
      const durable = durableSink({ dir: join(work, 'inproc-wal-local'), key, maxPending: 100_000, intervalMs: INTERVAL });
      return { audit: durable, close: () => durable.close() };
    },
  },
  { name: 'audit: chain + PostgreSQL per event (sync)', make: async () => ({ audit: chainSink(await table(`bench_sync_${process.pid}`), { key }) }) },
];
let stats = null;

/** A target: `run(n)` resolves to { us, rps }; `stop()` closes its sinks and resolves to the durable stats, if any. */
async function localTarget(t) {
  const built = await t.make();
  const app = appWith(built.audit);
  return { name: t.name, run: (n) => cpuPerRequest(app, n), stop: async () => (await built.close?.()) ?? null };
}
function childTarget(t) {
  const proc = fork(fileURLToPath(import.meta.url), ['--child', t.name, ...process.argv.slice(2).filter((a) => a !== '--one-process')], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let waiting = null;
  proc.on('message', (m) => {
    const w = waiting;
    waiting = null;
    w?.(m);
  });
  const ask = (msg) => new Promise((resolve) => ((waiting = resolve), proc.send(msg)));
  return {
    name: t.name,
    ready: new Promise((resolve) => (waiting = resolve)),
    run: (n) => ask({ run: n }),
    stop: async () => {
      const { stats: s } = await ask({ stop: true });
      await once(proc, 'exit');
      return s;
    },
  };
}
// ── a child: one in-process target, run on request ─────────────────────────────────────────
const childAt = process.argv.indexOf('--child');
if (childAt !== -1) {
  const target = await localTarget(sinkTargets.find((t) => t.name === process.argv[childAt + 1]));
  process.on('message', async (m) => {
    if (m.run !== undefined) return process.send(await target.run(m.run));
    const s = await target.stop();
    for (const name of created) await pool.query(dropAuditTableSql(name)).catch(() => undefined);
    await pool.end();
    rmSync(work, { recursive: true, force: true });
    process.send({ stats: s });
    process.disconnect();
  });
  process.send({ ready: true });
} else {
const rates = [];
if (only('rates')) {
  for (const [writers, chained] of [[1, false], [4, false], [4, true]]) rates.push({ how: 'writeBatch (multi-row INSERT)', writers, chained, eventsPerSecond: await insertRate(writers, chained) });
  rates.push({ how: 'writeLines (NDJSON text, one parameter), chained beforehand', writers: 4, chained: true, eventsPerSecond: await linesRate(4) });
  rates.push({ how: 'durableSink end to end in one process (serialize, chain, group commit + fdatasync, ship)', writers: 4, chained: true, eventsPerSecond: await durableRate(4) });
}

const targets = sinkTargets;
const samples = new Map(targets.map((t) => [t.name, []]));
let commitStats = null;
if (only('inproc')) {
  const oneProcess = process.argv.includes('--one-process');
  const runners = [];
  for (const t of targets) {
    if (oneProcess) runners.push(await localTarget(t));
    else {
      for (let k = 0; k < PROCESSES; k++) {
        const c = childTarget(t);
        await c.ready;
        runners.push(c);
      }
    }
  }
  for (const r of runners) await r.run(WARMUP);
  const per = Math.round(REQUESTS / 5 / (oneProcess ? 1 : PROCESSES));
  for (let round = 0; round < 5; round++) for (const r of runners) samples.get(r.name).push(await r.run(per));
  for (const r of runners) {
    const s = await r.stop();
    if (r.name.startsWith('audit: durable (')) commitStats = s;
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// ── 3. over HTTP: the example server per audit mode ─────────────────────────────────────────
const SERVER = new URL('../../examples/express-lab-results/dist/server.js', import.meta.url).pathname;
async function startExample(mode) {
  const name = `bench_http_${mode}_${Date.now()}`;
  const child = spawn(process.execPath, [SERVER], {
    env: {
      ...process.env, PORT: '0', NODE_ENV: 'development', JWT_SECRET: DEV_JWT_SECRET, PHIGUARD_SECRET: DEV_PHIGUARD_SECRET,
      PHIGUARD_AUDIT_PG_URL: url, PHIGUARD_AUDIT_PG_TABLE: name, PHIGUARD_AUDIT_MODE: mode, PHIGUARD_AUDIT_DIR: join(work, `http-${name}`),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c) => {
      out += c;
      const m = /listening on http:\/\/localhost:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`example (${mode}) exited ${code}`)));
  });
  child.stdout.resume();
  return { mode, child, port, table: name };
}
const httpModes = ['async', 'durable', 'sync'];
const token = await signToken({ sub: 'bench-billing', roles: ['billing'] }, DEV_JWT_SECRET);
const headers = { authorization: `Bearer ${token}`, 'x-purpose-of-use': 'HPAYMT' };
const servers = [];
if (only('http')) for (const m of httpModes) servers.push(await startExample(m));
const http_ = new Map(httpModes.map((m) => [m, []]));
for (const s of servers) await autocannon({ url: `http://127.0.0.1:${s.port}/patients/1001/results`, headers, connections: CONNECTIONS, duration: 1 });
for (let r = 0; r < HTTP_ROUNDS && servers.length > 0; r++) {
  for (const s of servers) {
    const res = await autocannon({ url: `http://127.0.0.1:${s.port}/patients/1001/results`, headers, connections: CONNECTIONS, duration: HTTP_DURATION });
    if (res.non2xx > 0 || res.errors > 0) throw new Error(`${s.mode}: ${res.non2xx} non-2xx, ${res.errors} errors`);
    // The same at a fixed request rate, below saturation: latency then shows the mode, not the queue.
    const paced = await autocannon({ url: `http://127.0.0.1:${s.port}/patients/1001/results`, headers, connections: CONNECTIONS, duration: HTTP_DURATION, overallRate: RATE });
    if (paced.non2xx > 0 || paced.errors > 0) throw new Error(`${s.mode}: ${paced.non2xx} non-2xx, ${paced.errors} errors`);
    http_.get(s.mode).push({ rps: res.requests.average, p50: res.latency.p50, p99: res.latency.p99, pacedP50: paced.latency.p50, pacedP99: paced.latency.p99 });
  }
}
for (const s of servers) {
  s.child.kill('SIGTERM');
  await once(s.child, 'exit');
  await pool.query(dropAuditTableSql(s.table)).catch(() => undefined);
}

console.log(`\nPostgreSQL inserts, ${EVENTS} events; Node ${process.version}; ${cpus().length} × ${cpus()[0]?.model}; ${new Date().toISOString()}\n`);
console.log('| path | writers | chained | events/s |\n|---|---:|:---:|---:|');
for (const r of rates) console.log(`| ${r.how} | ${r.writers} | ${r.chained ? 'yes' : 'no'} | ${Math.round(r.eventsPerSecond)} |`);
console.log(`\nCPU per request (in process, ${REQUESTS} requests per target after ${WARMUP} of warm-up, each target in ${process.argv.includes('--one-process') ? 'this process' : `${PROCESSES} processes`}, ${INFLIGHT} in flight, 5 interleaved rounds, medians)\n`);
console.log('| target | CPU µs/request | throughput vs plain Express | main-thread CPU µs/request | main thread vs plain Express | wall requests/s |\n|---|---:|---:|---:|---:|---:|');
const base = median(samples.get('plain Express').map((x) => x.us));
const mainBase = only('inproc') ? median(samples.get('plain Express').map((x) => x.mainUs ?? NaN)) : NaN;
for (const t of only('inproc') ? targets : []) {
  const us = median(samples.get(t.name).map((x) => x.us));
  const mainUs = median(samples.get(t.name).map((x) => x.mainUs ?? NaN));
  const rps = median(samples.get(t.name).map((x) => x.rps));
  const plain = t.name === 'plain Express';
  console.log(`| ${t.name} | ${us.toFixed(0)} | ${plain ? '' : (base / us).toFixed(2)} | ${Number.isNaN(mainUs) ? 'n/a' : mainUs.toFixed(0)} | ${plain || Number.isNaN(mainUs) ? '' : (mainBase / mainUs).toFixed(2)} | ${Math.round(rps)} |`);
}
if (commitStats) console.log(`\ndurable: ${commitStats.committed} events in ${commitStats.commits} commits (${(commitStats.committed / commitStats.commits).toFixed(1)} per fsync)`);
console.log(`\nOver HTTP: the example server (JWT + phiguard, billing), PostgreSQL store, autocannon ${CONNECTIONS} connections, ${HTTP_ROUNDS} × ${HTTP_DURATION} s interleaved, medians\n`);
console.log(`| PHIGUARD_AUDIT_MODE | requests/s (saturated) | p50 ms | p99 ms | p99 − async p99 | at ${RATE} req/s: p50 ms | p99 ms | p99 − async p99 |\n|---|---:|---:|---:|---:|---:|---:|---:|`);
const p99Async = median(http_.get('async').map((x) => x.p99));
const pacedAsync = median(http_.get('async').map((x) => x.pacedP99));
for (const m of servers.length > 0 ? httpModes : []) {
  const xs = http_.get(m);
  const p99 = median(xs.map((x) => x.p99));
  const pp99 = median(xs.map((x) => x.pacedP99));
  const d = (x) => (m === 'async' ? '' : (x >= 0 ? '+' : '') + x.toFixed(0));
  console.log(`| ${m} | ${Math.round(median(xs.map((x) => x.rps)))} | ${median(xs.map((x) => x.p50))} | ${p99} | ${d(p99 - p99Async)} | ${median(xs.map((x) => x.pacedP50))} | ${pp99} | ${d(pp99 - pacedAsync)} |`);
}
const out = join(new URL('.', import.meta.url).pathname, 'results');
mkdirSync(out, { recursive: true });
writeFileSync(
  join(out, 'audit.json'),
  JSON.stringify({ date: new Date().toISOString(), rates, targets: targets.map((t) => ({ name: t.name, us: median(samples.get(t.name).map((x) => x.us)), mainUs: median(samples.get(t.name).map((x) => x.mainUs ?? NaN)) })), http: Object.fromEntries(http_) }, null, 2),
);
for (const name of created) await pool.query(dropAuditTableSql(name)).catch(() => undefined);
await pool.end();
rmSync(work, { recursive: true, force: true });
}
