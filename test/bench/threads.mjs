// Where an audit mode's CPU goes, per thread (Linux only: /proc/self/task/*/stat). The example's
// billing route with INFLIGHT requests in flight, as in audit.mjs, in one process per mode, each
// mode one run of this script:
//   node test/bench/threads.mjs <plain | none | pino | durable | durable-worker> [--requests 30000] [--warmup 5000] [--inflight 32]
// Threads are told apart by when they appeared: the main thread; the threads the process had
// before the app was built (V8's platform threads for GC and compilation, libuv's thread pool,
// which the module loader starts, Node's own); and the threads the audit sink started (the
// durable sink's worker). The per-thread counters tick every 10 ms: keep runs long.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import express from 'express';
import { pino } from 'pino';
import { createFieldCipher } from '../../packages/core/dist/index.js';
import { createDurableSink } from '../../packages/core/dist/audit.js';
import { createLocalKeyring } from '../../packages/kms/dist/index.js';
import { phiguard } from '../../packages/express/dist/index.js';
import { findPatient, labResultsView, operators, policy } from '../../examples/express-lab-results/dist/app.js';
import { DEV_PHIGUARD_SECRET, injectMany } from './fixture.mjs';

process.env.NODE_ENV = 'production';
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
};
const mode = process.argv[2] ?? 'durable-worker';
const REQUESTS = arg('requests', 30_000);
const WARMUP = arg('warmup', 5_000);
const INFLIGHT = arg('inflight', 32);

/** CPU µs of each thread of this process so far, by thread id. */
const threadCpu = () =>
  new Map(
    readdirSync('/proc/self/task').map((tid) => {
      const f = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1].split(' ');
      return [Number(tid), (Number(f[11]) + Number(f[12])) * 10_000];
    }),
  );
const before = [...threadCpu().keys()].sort((a, b) => a - b);


const work = mkdtempSync(join(tmpdir(), 'phiguard-threads-'));
const audits = {
  plain: () => null,
  none: () => ({ write() {} }),
  pino: () => pino(pino.destination({ dest: join(work, 'a.log'), sync: false, minLength: 4096 })),
  durable: () => createDurableSink({ dir: join(work, 'wal'), key: randomBytes(32), maxPending: 100_000, worker: false }),
  'durable-worker': () => createDurableSink({ dir: join(work, 'wal'), key: randomBytes(32), maxPending: 100_000, worker: true }),
};
if (!(mode in audits)) throw new Error(`mode: one of ${Object.keys(audits).join(', ')}`);
const audit = audits[mode]();
const app = express();
app.disable('x-powered-by');
if (audit !== null) {
  app.use(
    phiguard({
      policy, operators, secret: DEV_PHIGUARD_SECRET, audit,
      cipher: createFieldCipher({ keyring: createLocalKeyring({ key: new Uint8Array(32).fill(1), allowInProduction: true }) }),
      relationship: () => ({ careTeam: true }),
      context: () => ({ principal: { id: 'bench-billing' }, roles: ['billing'], purposeOfUse: 'HPAYMT' }),
    }),
  );
}
app.get('/patients/:id/results', (req, res) => void res.json(labResultsView(findPatient(req.params.id))));

await injectMany(app, WARMUP, INFLIGHT);
const start = threadCpu();
const cpu0 = process.cpuUsage();
await injectMany(app, REQUESTS, INFLIGHT);
const used = process.cpuUsage(cpu0);
const end = threadCpu();

const groups = new Map();
const add = (group, us) => groups.set(group, (groups.get(group) ?? 0) + us);
for (const [tid, us] of end) {
  const spent = us - (start.get(tid) ?? 0);
  const at = before.indexOf(tid);
  const group = tid === process.pid ? 'main' : at === -1 ? 'started by the audit sink' : 'V8, libuv pool, Node';
  add(group, spent);
}
console.log(`${mode}: CPU µs per request, ${REQUESTS} requests after ${WARMUP} of warm-up, ${INFLIGHT} in flight; Node ${process.version}`);
for (const [group, us] of groups) console.log(`  ${group.padEnd(28)} ${(us / REQUESTS).toFixed(1)}`);
console.log(`  ${'all (process.cpuUsage)'.padEnd(28)} ${((used.user + used.system) / REQUESTS).toFixed(1)}`);
if (audit?.stats) {
  const s = audit.stats();
  console.log(`  ${(s.committed / s.commits).toFixed(1)} events per commit`);
}
await audit?.close?.();
if (typeof audit?.flush === 'function' && mode === 'pino') audit.flush();
rmSync(work, { recursive: true, force: true });
