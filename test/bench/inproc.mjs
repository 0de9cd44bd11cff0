// Server-side CPU per request without the network: each request goes through the real Express
// app (real IncomingMessage / ServerResponse) on a socket that discards what is written, one at
// a time. On a shared machine, socket syscalls dominate and vary; this isolates the work the
// application and phiguard do. Targets are interleaved over rounds; medians are reported.
//   node test/bench/inproc.mjs [--requests 20000] [--rounds 5] [--warmup 2000] [--only <name part> | --target <name>]
import http from 'node:http';
import { Duplex } from 'node:stream';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { pino } from 'pino';
import pg from 'pg';
import { createFieldCipher } from '../../packages/core/dist/index.js';
import { createBufferedSink as bufferedSink, createPostgresAuditSink as postgresAuditSink, createStreamSink as streamSink } from '../../packages/core/dist/audit.js';
import { createLocalKeyring } from '../../packages/kms/dist/index.js';
import { createApp, findPatient, jwtContext, labResultsView } from '../../examples/express-lab-results/dist/app.js';
import { CALLERS, DEV_JWT_SECRET, DEV_PHIGUARD_SECRET, phiguardApp, signToken } from './fixture.mjs';

process.env.NODE_ENV = 'production';
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
};
const requests = arg('requests', 20000);
const rounds = arg('rounds', 5);
const work = mkdtempSync(join(tmpdir(), 'phiguard-inproc-'));

class NullSocket extends Duplex {
  remoteAddress = '127.0.0.1';
  _read() {}
  _write(_chunk, _encoding, done) {
    done();
  }
  _writev(_chunks, done) {
    done();
  }
}

function inject(app, headers) {
  return new Promise((resolve, reject) => {
    const socket = new NullSocket();
    const req = new http.IncomingMessage(socket);
    req.method = 'GET';
    req.url = '/patients/1001/results';
    req.headers = { host: 'bench', ...headers };
    req.push(null);
    const res = new http.ServerResponse(req);
    res.assignSocket(socket);
    res.on('finish', () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
    app(req, res);
  });
}

function plainApp(withAuth) {
  const app = express();
  app.disable('x-powered-by');
  const resolve = jwtContext(DEV_JWT_SECRET);
  if (withAuth) app.use((req, res, next) => { try { resolve(req); } catch { return void res.status(401).end(); } next(); });
  app.use(express.json({ limit: '100kb' }));
  app.get('/patients/:id/results', (req, res) => void res.json(labResultsView(findPatient(req.params.id))));
  return app;
}

const tokens = Object.fromEntries(
  await Promise.all(CALLERS.map(async (c) => [c.role, await signToken({ sub: `bench-${c.role}`, roles: [c.role] }, DEV_JWT_SECRET)])),
);
const logger = pino(pino.destination({ dest: join(work, 'audit.log'), sync: false, minLength: 4096 }));
// Audit lines straight to a pino file destination: the event serialized once, no logger object.
const destination = streamSink(pino.destination({ dest: join(work, 'audit-lines.ndjson'), sync: false, minLength: 4096 }));
// NODE_ENV is production for the benchmark; a local key is what a benchmark can have.
const keyring = createLocalKeyring({ key: new Uint8Array(32).fill(1), allowInProduction: true });
const cipher = createFieldCipher({ keyring });
const exampleApp = createApp({ jwtSecret: DEV_JWT_SECRET, phiguardSecret: DEV_PHIGUARD_SECRET, logger, keyring });

const phiguardAppFor = (role, purpose, audit = destination) => phiguardApp({ role, purpose, audit, cipher });

// The hash chain into the buffered PostgreSQL sink (batched inserts off the request), when the
// project's PostgreSQL is up; a table of its own, dropped at the end.
const pgUrl = process.env.PHIGUARD_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:55432/postgres';
const pool = new pg.Pool({ connectionString: pgUrl, max: 4 });
const pgTable = `bench_inproc_${process.pid}_${Date.now()}`;
let buffered = null;
try {
  const store = postgresAuditSink({ pool, table: pgTable });
  await store.migrate();
  // The chain is computed in the background flush, over the text the store receives.
  buffered = bufferedSink(store, { maxBuffer: 100_000, maxBatch: 500, flushIntervalMs: 20, chain: { key: new Uint8Array(32).fill(2) } });
} catch (err) {
  process.stderr.write(`PostgreSQL unavailable (${err.code ?? err.message}); the chain + PostgreSQL row is left out\n`);
}
const chained = buffered;

const targets = [
  { name: 'plain Express', app: plainApp(false), headers: {}, base: 'plain Express' },
  ...CALLERS.map((c) => ({ name: `phiguard ${c.role} (${c.purpose})`, app: phiguardAppFor(c.role, c.purpose), headers: {}, base: 'plain Express' })),
  { name: 'phiguard billing (HPAYMT), audit through a pino logger', app: phiguardAppFor('billing', 'HPAYMT', logger), headers: {}, base: 'plain Express' },
  ...(chained ? CALLERS.map((c) => ({ name: `phiguard ${c.role} (${c.purpose}), chain + buffered PostgreSQL`, app: phiguardAppFor(c.role, c.purpose, chained), headers: {}, base: 'plain Express' })) : []),
  { name: 'plain Express + JWT check', app: plainApp(true), headers: { authorization: `Bearer ${tokens.billing}` }, base: 'plain Express + JWT check' },
  ...CALLERS.map((c) => ({
    name: `example app (JWT + phiguard) ${c.role} (${c.purpose})`,
    app: exampleApp,
    headers: { authorization: `Bearer ${tokens[c.role]}`, 'x-purpose-of-use': c.purpose },
    base: 'plain Express + JWT check',
  })),
];

async function run(target, n) {
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) await inject(target.app, target.headers);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / n;
}

// --only keeps the targets whose name contains the text; --target keeps the one named exactly
// (for profiling a single configuration with --cpu-prof).
const only = process.argv.indexOf('--only');
if (only !== -1) targets.splice(0, targets.length, ...targets.filter((t) => t.name.includes(process.argv[only + 1])));
const exact = process.argv.indexOf('--target');
if (exact !== -1) targets.splice(0, targets.length, ...targets.filter((t) => t.name === process.argv[exact + 1]));
for (const t of targets) await run(t, arg('warmup', 2000)); // warm-up
const samples = new Map(targets.map((t) => [t.name, []]));
for (let r = 0; r < rounds; r++) {
  for (const t of targets) samples.get(t.name).push(await run(t, requests / rounds));
  process.stderr.write('.');
}
process.stderr.write('\n');
logger.flush();

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const rows = targets.map((t) => ({ name: t.name, base: t.base, us: median(samples.get(t.name)), min: Math.min(...samples.get(t.name)), max: Math.max(...samples.get(t.name)) }));
console.log(`\nIn-process, ${requests} requests per target in ${rounds} interleaved rounds, medians; Node ${process.version}\n`);
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
writeFileSync(join(out, 'inproc.json'), JSON.stringify({ date: new Date().toISOString(), node: process.version, requests, rounds, rows }, null, 2));
if (buffered) {
  // The events of the run drain to PostgreSQL in the background; the figures do not wait on it.
  await buffered.close({ timeoutMs: 120_000 }).catch(() => process.stderr.write('the buffered sink had not drained when closed\n'));
  await pool.query(`DROP TABLE IF EXISTS ${pgTable} CASCADE`).catch(() => undefined);
}
await pool.end();
rmSync(work, { recursive: true, force: true });
