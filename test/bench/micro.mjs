// Per-call cost of projecting the ~2 KB lab-results document for one caller, against peers
// doing comparable work on the same document:
// - class-transformer `instanceToPlain` with groups (allow-list by decorators, masks by @Transform);
// - fast-redact (deny-list paths, censor function for masks), which also serializes, so it is
//   compared with phiguard `apply` + JSON.stringify.
//   node test/bench/micro.mjs [--time 1000]
import 'reflect-metadata';
import { Expose, Transform, Type, instanceToPlain, plainToInstance } from 'class-transformer';
import fastRedact from 'fast-redact';
import { Bench } from 'tinybench';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHmac, createSecretKey, randomBytes } from 'node:crypto';
import { compilePolicy } from '../../packages/core/dist/index.js';
import { CALLERS, DEV_PHIGUARD_SECRET, document, operators, policy } from './fixture.mjs';

const i = process.argv.indexOf('--time');
const time = i === -1 ? 1000 : Number(process.argv[i + 1]);
const doc = document();
const compiled = compilePolicy(policy, { secret: DEV_PHIGUARD_SECRET, operators, mode: 'production' });

/** path → operator name for one plan; the peers are configured from it so all do the same job. */
function opsOf(plan) {
  // A field under a sensitive element also has a `masked` leaf; the fixture has no sensitive results.
  return new Map(plan.leaves.filter((l) => l.opName !== 'masked').map((l) => [l.path, l.opName]));
}

/** The mask each peer applies where the plan transforms a field: phiguard's own leaf function. */
function maskOf(plan, path) {
  return plan.leaves.find((l) => l.path === path && l.opName !== 'masked').op;
}

/** class-transformer classes generated from the document's shape, exposing what the plan sends. */
function classesFor(plan, group) {
  const ops = opsOf(plan);
  // Every object found under `key` in `samples` (array elements flattened), so that a class
  // covers keys that only some elements have.
  const under = (samples, key) =>
    samples.flatMap((o) => (Array.isArray(o[key]) ? o[key] : [o[key]])).filter((v) => v !== null && typeof v === 'object' && !Array.isArray(v));
  const keysOf = (samples) => [...new Set(samples.flatMap((o) => Object.keys(o)))];
  const exposeAll = (samples) => {
    class Whole {}
    for (const key of keysOf(samples)) {
      Expose({ groups: [group] })(Whole.prototype, key);
      const children = under(samples, key);
      if (children.length > 0) {
        const Child = exposeAll(children);
        Type(() => Child)(Whole.prototype, key);
      }
    }
    return Whole;
  };
  const build = (samples, prefix) => {
    class Node {}
    let exposed = false;
    for (const key of keysOf(samples)) {
      const path = prefix ? `${prefix}.${key}` : key;
      const isArray = samples.some((o) => Array.isArray(o[key]));
      const op = ops.get(path);
      const children = under(samples, key);
      if (op !== undefined) {
        if (op === 'deny' || op === 'redact') continue;
        Expose({ groups: [group] })(Node.prototype, key);
        if (op !== 'send') {
          const fn = maskOf(plan, path);
          Transform(({ value: v }) => fn(v), { groups: [group], toPlainOnly: true })(Node.prototype, key);
        } else if (children.length > 0) {
          // A subtree sent whole: a DTO class exposing every key, as a class-transformer user writes.
          const Whole = exposeAll(children);
          Type(() => Whole)(Node.prototype, key);
        }
        exposed = true;
      } else if (children.length > 0) {
        const Child = build(children, isArray ? `${path}[]` : path);
        if (Child) {
          Type(() => Child)(Node.prototype, key);
          Expose({ groups: [group] })(Node.prototype, key);
          exposed = true;
        }
      }
    }
    return exposed ? Node : null;
  };
  return build([doc], '');
}

/** fast-redact configured to remove what the plan withholds and mask what it transforms. */
function redactorFor(plan) {
  const remove = [];
  const masked = new Map();
  for (const [path, op] of opsOf(plan)) {
    const p = path.replaceAll('[]', '[*]');
    if (op === 'deny' || op === 'redact') remove.push(p);
    else if (op !== 'send') masked.set(p, maskOf(plan, path));
  }
  const maskers = [...masked].map(([p, fn]) => fastRedact({ paths: [p], censor: (v) => fn(v), serialize: false }));
  // The remover serializes (fast-redact removes keys only while serializing) and restores itself.
  const remover = fastRedact({ paths: remove, remove: true, serialize: JSON.stringify });
  return (value) => {
    for (const m of maskers) m(value);
    const out = remover(value);
    for (let k = maskers.length - 1; k >= 0; k--) maskers[k].restore(value);
    return out;
  };
}

const sortKeys = (v) => (Array.isArray(v) ? v.map(sortKeys) : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys(v[k])])) : v);
// phiguard omits objects left empty by filtering; the peers keep `{}`. Compare without them.
const prune = (v) => {
  if (Array.isArray(v)) return v.map(prune);
  if (v === null || typeof v !== 'object') return v;
  const out = {};
  for (const [k, x] of Object.entries(v)) {
    const p = prune(x);
    if (!(p !== null && typeof p === 'object' && !Array.isArray(p) && Object.keys(p).length === 0)) out[k] = p;
  }
  return out;
};
const same = (a, b) => JSON.stringify(sortKeys(prune(a))) === JSON.stringify(sortKeys(prune(b)));

const rows = [];
for (const { role, purpose } of CALLERS) {
  const context = { principal: { id: 'bench' }, roles: [role], purposeOfUse: purpose };
  const decision = compiled.decide(context, 'PatientResults');
  const plan = decision.plan;
  const group = role;
  const Root = classesFor(plan, group);
  const instance = plainToInstance(Root, doc, { groups: [group] });
  const redact = redactorFor(plan);
  const ours = plan.apply(doc, context).value;
  const theirs = instanceToPlain(instance, { groups: [group], strategy: 'excludeAll' });
  const redacted = JSON.parse(redact(doc));
  const check = { classTransformer: same(ours, theirs), fastRedact: same(ours, redacted) };

  const bench = new Bench({ time, warmupTime: 200 });
  bench
    .add(`phiguard plan.apply`, () => plan.apply(doc, context))
    .add(`class-transformer instanceToPlain (groups)`, () => instanceToPlain(instance, { groups: [group], strategy: 'excludeAll' }))
    .add(`phiguard plan.apply + JSON.stringify`, () => JSON.stringify(plan.apply(doc, context).value))
    .add(`phiguard plan.serialize (compiled)`, () => plan.serialize(doc, context))
    .add(`fast-redact (remove + censor + serialize)`, () => redact(doc));
  await bench.run();
  for (const t of bench.tasks) {
    rows.push({ caller: `${role} (${purpose})`, task: t.name, medianUs: t.result.latency.p50 * 1000, hz: t.result.throughput.mean, sameOutput: t.name.startsWith('class') ? check.classTransformer : t.name.startsWith('fast') ? check.fastRedact : true });
  }
}

// The token digest: HMAC-SHA256 under the key as a Buffer (what `token` does) or as a KeyObject
// imported once.
const hmacKey = randomBytes(32);
const keyObject = createSecretKey(hmacKey);
const ids = Array.from({ length: 1000 }, (_, i) => `MRN${String(i).padStart(8, '0')}`);
let at = 0;
const hmacBench = new Bench({ time, warmupTime: 200 });
hmacBench
  .add('HMAC-SHA256, Buffer key', () => createHmac('sha256', hmacKey).update('patient.mrn').update('\0').update(ids[at++ % 1000]).digest())
  .add('HMAC-SHA256, KeyObject imported once', () => createHmac('sha256', keyObject).update('patient.mrn').update('\0').update(ids[at++ % 1000]).digest());
await hmacBench.run();
const hmac = hmacBench.tasks.map((t) => ({ task: t.name, medianUs: t.result.latency.p50 * 1000 }));

console.log(`\nProjection of the ${JSON.stringify(doc).length}-byte lab-results document; Node ${process.version}; tinybench, ${time} ms per task\n`);
console.log('| caller | task | median µs/call | calls/s | same output as phiguard |');
console.log('|---|---|---:|---:|:---:|');
for (const r of rows) console.log(`| ${r.caller} | ${r.task} | ${r.medianUs.toFixed(2)} | ${Math.round(r.hz)} | ${r.sameOutput ? 'yes' : 'no'} |`);
console.log('\n| token digest | median µs/call |\n|---|---:|');
for (const h of hmac) console.log(`| ${h.task} | ${h.medianUs.toFixed(2)} |`);
const out = join(new URL('.', import.meta.url).pathname, 'results');
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'micro.json'), JSON.stringify({ date: new Date().toISOString(), node: process.version, rows, hmac }, null, 2));
