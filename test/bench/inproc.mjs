// Server-side CPU per request without the network: each request goes through the real Express
// app (real IncomingMessage / ServerResponse) on a socket that discards what is written, one at
// a time. On a shared machine, socket syscalls dominate and vary; this isolates the work the
// application and phiguard do. Targets are interleaved over rounds; medians are reported.
// Each target runs in a process of its own, as an application does (one app per process): code
// shared by many apps in one process is optimized for all of them at once, which measures the
// mix rather than the app. The rounds still interleave (one target at a time, in turn), so
// machine load falls on all targets alike. A process keeps its own luck for its whole life (where
// its heap and code landed, which core it runs on): `--processes` (default 2) runs each target in
// that many processes, each round sampling every one, and the median is over all their samples.
// `--one-process` runs every target in this process.
//   node test/bench/inproc.mjs [--requests 20000] [--rounds 5] [--warmup 2000] [--processes 2] [--only <name part> | --target <name>] [--one-process]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { pino } from 'pino';
import pg from 'pg';
import { createFieldCipher } from '../../packages/core/dist/index.js';
import { createBufferedSink as bufferedSink, createPostgresAuditSink as postgresAuditSink, createStreamSink as streamSink } from '../../packages/core/dist/audit.js';
import { createLocalKeyring } from '../../packages/kms/dist/index.js';
import { createApp, findPatient, jwtContext, labResultsView } from '../../examples/express-lab-results/dist/app.js';
import { CALLERS, DEV_JWT_SECRET, DEV_PHIGUARD_SECRET, inject, phiguardApp, signToken } from './fixture.mjs';
import { dropAuditTableSql } from '../../packages/core/dist/testing.js';

process.env.NODE_ENV = 'production';
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
};
const requests = arg('requests', 20000);
const rounds = arg('rounds', 5);
const work = mkdtempSync(join(tmpdir(), 'phiguard-inproc-'));


function plainApp(withAuth) {
  const app = express();
  app.disable('x-powered-by');
  const resolve = jwtContext(DEV_JWT_SECRET);
  if (withAuth) app.use((req, res, next) => { try { resolve(req); } catch { return void res.status(401).end(); } next(); });
  app.use(express.json({ limit: '100kb' }));
  app.get('/patients/:id/results', (req, res) => void res.json(labResultsView(findPatient(req.params.id))));
  return app;
}

// Shared parts, built on first use: a child process builds only what its target needs.
const lazy = (make) => {
  let value;
  let made = false;
  const get = () => (made ? value : ((made = true), (value = make())));
  get.made = () => made;
  return get;
};
const tokens = lazy(async () =>
  Object.fromEntries(await Promise.all(CALLERS.map(async (c) => [c.role, await signToken({ sub: `bench-${c.role}`, roles: [c.role] }, DEV_JWT_SECRET)]))),
);
const logger = lazy(() => pino(pino.destination({ dest: join(work, 'audit.log'), sync: false, minLength: 4096 })));
// Audit lines straight to a pino file destination: the event serialized once, no logger object.
const destination = lazy(() => streamSink(pino.destination({ dest: join(work, 'audit-lines.ndjson'), sync: false, minLength: 4096 })));
// NODE_ENV is production for the benchmark; a local key is what a benchmark can have.
const keyring = lazy(() => createLocalKeyring({ key: new Uint8Array(32).fill(1), allowInProduction: true }));
const cipher = lazy(() => createFieldCipher({ keyring: keyring() }));
const exampleApp = lazy(() => createApp({ jwtSecret: DEV_JWT_SECRET, phiguardSecret: DEV_PHIGUARD_SECRET, logger: logger(), keyring: keyring() }));
const phiguardAppFor = (role, purpose, audit = destination()) => phiguardApp({ role, purpose, audit, cipher: cipher() });

// The hash chain into the buffered PostgreSQL sink (batched inserts off the request), when the
// project's PostgreSQL is up; a table of its own, dropped at the end.
const pgUrl = process.env.PHIGUARD_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:55432/postgres';
const pgTable = `bench_inproc_${process.pid}_${Date.now()}`;
let pool = null;
let buffered = null;
const chained = lazy(async () => {
  pool = new pg.Pool({ connectionString: pgUrl, max: 4 });
  const store = postgresAuditSink({ pool, table: pgTable });
  await store.migrate();
  // The chain is computed in the background flush, over the text the store receives.
  buffered = bufferedSink(store, { maxBuffer: 100_000, maxBatch: 500, flushIntervalMs: 20, chain: { key: new Uint8Array(32).fill(2) } });
  return buffered;
});
const pgUp = async () => {
  const probe = new pg.Client({ connectionString: pgUrl });
  try {
    await probe.connect();
    return true;
  } catch (err) {
    process.stderr.write(`PostgreSQL unavailable (${err.code ?? err.message}); the chain + PostgreSQL rows are left out\n`);
    return false;
  } finally {
    await probe.end().catch(() => undefined);
  }
};

/** Every target: its name, baseline, request headers and how to build its app. */
const targets = [
  { name: 'plain Express', base: 'plain Express', make: () => plainApp(false) },
  ...CALLERS.map((c) => ({ name: `phiguard ${c.role} (${c.purpose})`, base: 'plain Express', make: () => phiguardAppFor(c.role, c.purpose) })),
  { name: 'phiguard billing (HPAYMT), audit through a pino logger', base: 'plain Express', make: () => phiguardAppFor('billing', 'HPAYMT', logger()) },
  ...CALLERS.map((c) => ({
    name: `phiguard ${c.role} (${c.purpose}), chain + buffered PostgreSQL`,
    base: 'plain Express',
    pg: true,
    make: async () => phiguardAppFor(c.role, c.purpose, await chained()),
  })),
  { name: 'plain Express + JWT check', base: 'plain Express + JWT check', headers: async () => ({ authorization: `Bearer ${(await tokens()).billing}` }), make: () => plainApp(true) },
  ...CALLERS.map((c) => ({
    name: `example app (JWT + phiguard) ${c.role} (${c.purpose})`,
    base: 'plain Express + JWT check',
    headers: async () => ({ authorization: `Bearer ${(await tokens())[c.role]}`, 'x-purpose-of-use': c.purpose }),
    make: () => exampleApp(),
  })),
];

/** A target ready to run in this process. */
async function build(target) {
  return { name: target.name, app: await target.make(), headers: target.headers ? await target.headers() : {} };
}

async function run(built, n) {
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) await inject(built.app, built.headers);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / n;
}

async function cleanUp() {
  if (logger.made()) logger().flush();
  if (buffered) {
    // The events of the run drain to PostgreSQL in the background; the figures do not wait on it.
    await buffered.close({ timeoutMs: 120_000 }).catch(() => process.stderr.write('the buffered sink had not drained when closed\n'));
    await pool.query(dropAuditTableSql(pgTable)).catch(() => undefined);
  }
  await pool?.end();
  rmSync(work, { recursive: true, force: true });
}

// ── a child: one target, runs on request ──────────────────────────────────────────────────────
const child = process.argv.indexOf('--child');
if (child !== -1) {
  const built = await build(targets.find((t) => t.name === process.argv[child + 1]));
  process.on('message', async (m) => {
    if (m.run !== undefined) process.send({ us: await run(built, m.run) });
    else {
      await cleanUp();
      process.disconnect();
    }
  });
  process.send({ ready: true });
} else {
  await main();
}

/** A target in its own process: `run(n)` resolves to its CPU µs per request over n requests. */
function spawnTarget(target) {
  const proc = fork(fileURLToPath(import.meta.url), ['--child', target.name], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let waiting = null;
  const ready = new Promise((resolve, reject) => {
    waiting = { resolve, reject };
    proc.once('exit', (code) => waiting?.reject(new Error(`${target.name}: exited with ${code}`)));
  });
  proc.on('message', (m) => {
    const w = waiting;
    waiting = null;
    w?.resolve(m.us);
  });
  return {
    name: target.name,
    ready,
    run: (n) => new Promise((resolve, reject) => ((waiting = { resolve, reject }), proc.send({ run: n }))),
    stop: () => new Promise((resolve) => (proc.once('exit', resolve), proc.send({ stop: true }))),
  };
}

async function main() {
  // --only keeps the targets whose name contains the text; --target keeps the one named exactly
  // (for profiling a single configuration with --cpu-prof, with --one-process).
  const only = process.argv.indexOf('--only');
  let chosen = targets;
  if (only !== -1) chosen = chosen.filter((t) => t.name.includes(process.argv[only + 1]));
  const exact = process.argv.indexOf('--target');
  if (exact !== -1) chosen = chosen.filter((t) => t.name === process.argv[exact + 1]);
  if (chosen.some((t) => t.pg) && !(await pgUp())) chosen = chosen.filter((t) => !t.pg);
  const oneProcess = process.argv.includes('--one-process');
  const processes = oneProcess ? 1 : Math.max(1, arg('processes', 2));
  const runners = [];
  for (const t of chosen) {
    if (oneProcess) {
      const built = await build(t);
      runners.push({ name: t.name, run: (n) => run(built, n), stop: async () => undefined });
    } else {
      for (let k = 0; k < processes; k++) {
        const r = spawnTarget(t);
        await r.ready;
        runners.push(r);
      }
    }
  }
  for (const r of runners) await r.run(arg('warmup', 2000)); // warm-up
  const samples = new Map(chosen.map((t) => [t.name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const r of runners) samples.get(r.name).push(await r.run(Math.round(requests / rounds / processes)));
    process.stderr.write('.');
  }
  process.stderr.write('\n');
  for (const r of runners) await r.stop();

  const median = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  const rows = chosen.map((t) => ({ name: t.name, base: t.base, us: median(samples.get(t.name)), min: Math.min(...samples.get(t.name)), max: Math.max(...samples.get(t.name)) }));
  const how = oneProcess ? 'all targets in one process' : `each target in ${processes} processes of its own`;
  console.log(`\nIn-process, ${requests} requests per target in ${rounds} interleaved rounds, ${how}, medians; Node ${process.version}\n`);
  console.log('| target | CPU µs/request (min–max) | baseline | throughput vs baseline | phiguard adds |');
  console.log('|---|---:|---|---:|---:|');
  for (const r of rows) {
    const base = rows.find((b) => b.name === r.base);
    const mine = r.name !== r.base && base !== undefined;
    console.log(
      `| ${r.name} | ${r.us.toFixed(0)} (${r.min.toFixed(0)}–${r.max.toFixed(0)}) | ${mine ? r.base : '—'} | ${mine ? (base.us / r.us).toFixed(2) : ''} | ${mine ? `${Math.round(r.us - base.us)} µs` : ''} |`,
    );
  }
  const out = join(new URL('.', import.meta.url).pathname, 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'inproc.json'), JSON.stringify({ date: new Date().toISOString(), node: process.version, requests, rounds, processes: oneProcess ? 'one' : `${processes} per target`, rows }, null, 2));
  if (oneProcess) await cleanUp();
  else rmSync(work, { recursive: true, force: true });
}
