// Audit delivery cost.
// 1. Events per second into PostgreSQL through postgresAuditSink (multi-row INSERT, idempotent
//    ids), in batches of 500, with 1 and 4 concurrent writers, chained and not.
// 2. CPU per request of a phiguard-protected route (the example's billing plan) per audit mode,
//    against plain Express in the same run: no audit, pino to a file, chain + buffered PostgreSQL
//    (async), chain + PostgreSQL per event (sync).
//   scripts/services postgres && npm run build && node test/bench/audit.mjs [--events 50000] [--requests 10000]
import http from 'node:http';
import { Duplex } from 'node:stream';
import { mkdtempSync, rmSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import express from 'express';
import pg from 'pg';
import { pino } from 'pino';
import { bufferedSink, chainSink, createFieldCipher, disclosureEvent, postgresAuditSink } from '../../packages/core/dist/index.js';
import { phiguard } from '../../packages/express/dist/index.js';
import { LocalKeyring } from '../../packages/kms/dist/index.js';
import { findPatient, labResultsView, operators, policy } from '../../examples/express-lab-results/dist/app.js';
import { DEV_PHIGUARD_SECRET } from './fixture.mjs';

process.env.NODE_ENV = 'production';
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
};
const EVENTS = arg('events', 50_000);
const REQUESTS = arg('requests', 10_000);
const url = process.env.PHIGUARD_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:55432/postgres';
const pool = new pg.Pool({ connectionString: url, max: 8 });
const key = randomBytes(32);
const work = mkdtempSync(join(tmpdir(), 'phiguard-audit-bench-'));

const context = { principal: { id: 'bench-billing' }, roles: ['billing'], purposeOfUse: 'HPAYMT', request: { method: 'GET', route: '/patients/:id/results', ip: '127.0.0.1' } };
const disclosure = { resource: 'PatientResults', purposeOfUse: 'HPAYMT', roles: ['billing'], disclosed: ['patient.mrn', 'reports[].code', 'reports[].effectiveDateTime'], transforms: { 'patient.mrn': 'partial' } };
const makeEvent = (i) => disclosureEvent('read', context, disclosure, { patientRef: `pt_${i % 997}`, resourceId: `lrv-${i % 997}` });

async function table(name) {
  const sink = postgresAuditSink({ pool, table: name });
  await sink.migrate();
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
  await pool.query(`DROP TABLE ${name} CASCADE`).catch(() => undefined);
  if (rows[0].n !== per * writers) throw new Error(`stored ${rows[0].n}, expected ${per * writers}`);
  return (per * writers) / seconds;
}

// ── 2. per-request cost per audit mode ──────────────────────────────────────────────────────
class NullSocket extends Duplex {
  remoteAddress = '127.0.0.1';
  _read() {}
  _write(_c, _e, done) {
    done();
  }
}
function inject(app) {
  return new Promise((resolve, reject) => {
    const socket = new NullSocket();
    const req = new http.IncomingMessage(socket);
    req.method = 'GET';
    req.url = '/patients/1001/results';
    req.headers = { host: 'bench' };
    req.push(null);
    const res = new http.ServerResponse(req);
    res.assignSocket(socket);
    res.on('finish', () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
    app(req, res);
  });
}
const keyring = new LocalKeyring({ key: new Uint8Array(32).fill(1), allowInProduction: true });
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
async function cpuPerRequest(app, n) {
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) await inject(app);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / n;
}

const rates = [];
for (const [writers, chained] of [[1, false], [4, false], [4, true]]) rates.push({ writers, chained, eventsPerSecond: await insertRate(writers, chained) });

const buffered = bufferedSink(await table(`bench_async_${Date.now()}`), { maxBuffer: 100_000, maxBatch: 500, flushIntervalMs: 20 });
const targets = [
  { name: 'plain Express', app: appWith(null) },
  { name: 'audit: none (a no-op sink)', app: appWith({ write() {} }) },
  { name: 'audit: pino to a file', app: appWith(pino(pino.destination({ dest: join(work, 'a.log'), sync: false, minLength: 4096 }))) },
  { name: 'audit: chain + buffered PostgreSQL (async)', app: appWith(chainSink(buffered, { key })) },
  { name: 'audit: chain + PostgreSQL per event (sync)', app: appWith(chainSink(await table(`bench_sync_${Date.now()}`), { key })) },
];
for (const t of targets) await cpuPerRequest(t.app, 1000);
const samples = new Map(targets.map((t) => [t.name, []]));
for (let r = 0; r < 5; r++) for (const t of targets) samples.get(t.name).push(await cpuPerRequest(t.app, REQUESTS / 5));
await buffered.close();
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

console.log(`\nPostgreSQL inserts, ${EVENTS} events, batches of 500; Node ${process.version}\n`);
console.log('| writers | chained | events/s |\n|---:|:---:|---:|');
for (const r of rates) console.log(`| ${r.writers} | ${r.chained ? 'yes' : 'no'} | ${Math.round(r.eventsPerSecond)} |`);
console.log(`\nCPU per request (in process, ${REQUESTS} requests per target, 5 interleaved rounds, medians)\n`);
console.log('| target | CPU µs/request | throughput vs plain Express |\n|---|---:|---:|');
const base = median(samples.get('plain Express'));
for (const t of targets) {
  const us = median(samples.get(t.name));
  console.log(`| ${t.name} | ${us.toFixed(0)} | ${t.name === 'plain Express' ? '' : (base / us).toFixed(2)} |`);
}
console.log('\nCPU only: the sync mode also waits one PostgreSQL round trip per request (≈0.5–3.5 ms on loopback), which CPU time does not show.');
const out = join(new URL('.', import.meta.url).pathname, 'results');
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'audit.json'), JSON.stringify({ date: new Date().toISOString(), rates, targets: targets.map((t) => ({ name: t.name, us: median(samples.get(t.name)) })) }, null, 2));
await pool.end();
rmSync(work, { recursive: true, force: true });
