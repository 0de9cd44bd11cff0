// Throughput of the example's GET /patients/1001/results: plain Express vs phiguard, same run.
// Each target runs in its own process (one core) and autocannon in this one (the other core);
// targets are interleaved over several rounds so that drift hits them alike.
//   node test/bench/run.mjs [--duration 6] [--rounds 5] [--connections 10]
// "CPU vs plain" is plain's server CPU per request divided by the target's: the throughput
// ratio when the server, not the load generator, is the bottleneck.
import { fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import autocannon from 'autocannon';
import { CALLERS, DEV_JWT_SECRET, signToken } from './fixture.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
};
const duration = arg('duration', 6);
const rounds = arg('rounds', 5);
const connections = arg('connections', 10);
const here = new URL('.', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'phiguard-bench-'));

async function start(mode, extra = []) {
  const audit = join(work, `audit-${mode}-${Date.now()}.log`);
  const child = fork(join(here, 'server.mjs'), [mode, audit, ...extra], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'], env: { ...process.env, NODE_ENV: 'production' } });
  const [chunk] = await once(child.stdout, 'data');
  return { child, port: Number(String(chunk).trim()), audit };
}

async function cpuOf(child) {
  child.send('cpu');
  const [msg] = await once(child, 'message');
  return msg.cpu.user + msg.cpu.system;
}

async function measure(target, headers) {
  const url = `http://127.0.0.1:${target.port}/patients/1001/results`;
  await autocannon({ url, headers, connections, duration: 2 }); // warm-up
  const before = await cpuOf(target.child);
  const r = await autocannon({ url, headers, connections, duration });
  const cpu = (await cpuOf(target.child)) - before;
  if (r.non2xx > 0 || r.errors > 0) throw new Error(`${url}: ${r.non2xx} non-2xx, ${r.errors} errors`);
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, cpuPerRequestUs: cpu / r.requests.total, bytes: r.throughput.average / r.requests.average };
}

async function stop(target) {
  target.child.kill('SIGTERM');
  await once(target.child, 'exit');
}

const tokens = Object.fromEntries(
  await Promise.all(CALLERS.map(async (c) => [c.role, await signToken({ sub: `bench-${c.role}`, roles: [c.role] }, DEV_JWT_SECRET)])),
);
const anyToken = tokens[CALLERS[0].role];
const cases = [
  { name: 'plain Express', mode: 'plain', headers: {} },
  { name: 'plain Express + JWT check', mode: 'plain-auth', headers: { authorization: `Bearer ${anyToken}` } },
  { name: 'phiguard billing (HPAYMT), audit to a pino file destination', mode: 'phiguard', args: ['billing', 'HPAYMT'], headers: {} },
  ...CALLERS.map((c) => ({
    name: `example app (JWT + phiguard) ${c.role} (${c.purpose})`,
    mode: 'protected',
    headers: { authorization: `Bearer ${tokens[c.role]}`, 'x-purpose-of-use': c.purpose },
  })),
];

const results = new Map(cases.map((c) => [c.name, []]));
let auditLines = 0;
for (let round = 0; round < rounds; round++) {
  for (const c of cases) {
    const target = await start(c.mode, c.args);
    results.get(c.name).push(await measure(target, c.headers));
    await stop(target);
    if (c.mode === 'protected' || c.mode === 'phiguard') auditLines += statSync(target.audit).size > 0 ? 1 : 0;
    process.stderr.write('.');
  }
}
process.stderr.write('\n');
if (auditLines === 0) throw new Error('the protected runs wrote no audit lines');

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const summary = cases.map((c) => {
  const rs = results.get(c.name);
  return {
    name: c.name,
    rps: median(rs.map((r) => r.rps)),
    p50: median(rs.map((r) => r.p50)),
    p99: median(rs.map((r) => r.p99)),
    cpuUs: median(rs.map((r) => r.cpuPerRequestUs)),
    cpuMin: Math.min(...rs.map((r) => r.cpuPerRequestUs)),
    cpuMax: Math.max(...rs.map((r) => r.cpuPerRequestUs)),
    bytes: median(rs.map((r) => r.bytes)),
  };
});
const plain = summary[0];
const plainAuth = summary[1];
console.log(`\nGET /patients/1001/results, ${connections} connections, ${duration}s x ${rounds} rounds per target, medians; Node ${process.version}, ${cpus().length} cores\n`);
console.log('| target | req/s | vs plain | vs plain + JWT | server CPU µs/req (min–max) | CPU vs plain | CPU vs plain + JWT | p50 ms | p99 ms | body bytes |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const s of summary) {
  console.log(
    `| ${s.name} | ${Math.round(s.rps)} | ${(s.rps / plain.rps).toFixed(2)} | ${(s.rps / plainAuth.rps).toFixed(2)} | ${Math.round(s.cpuUs)} (${Math.round(s.cpuMin)}–${Math.round(s.cpuMax)}) | ${(plain.cpuUs / s.cpuUs).toFixed(2)} | ${(plainAuth.cpuUs / s.cpuUs).toFixed(2)} | ${s.p50} | ${s.p99} | ${Math.round(s.bytes)} |`,
  );
}
const out = join(here, 'results');
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'http.json'), JSON.stringify({ date: new Date().toISOString(), node: process.version, connections, duration, rounds, summary, raw: Object.fromEntries(results) }, null, 2));
rmSync(work, { recursive: true, force: true });
