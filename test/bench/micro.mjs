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
import { compilePolicy } from '../../packages/core/dist/index.js';
import { CALLERS, DEV_PHIGUARD_SECRET, document, operators, policy } from './fixture.mjs';

const i = process.argv.indexOf('--time');
const time = i === -1 ? 1000 : Number(process.argv[i + 1]);
const doc = document();
const compiled = compilePolicy(policy, { secret: DEV_PHIGUARD_SECRET, operators, mode: 'production' });

/** path → operator name for one plan; the peers are configured from it so all do the same job. */
function opsOf(plan) {
  return new Map(plan.leaves.map((l) => [l.path, l.opName]));
}

/** The mask each peer applies where the plan transforms a field: phiguard's own leaf function. */
function maskOf(plan, path) {
  return plan.leaves.find((l) => l.path === path).op;
}

/** class-transformer classes generated from the document's shape, exposing what the plan sends. */
function classesFor(plan, group) {
  const ops = opsOf(plan);
  const build = (sample, prefix) => {
    class Node {}
    let exposed = false;
    for (const key of Object.keys(sample)) {
      const path = prefix ? `${prefix}.${key}` : key;
      const value = sample[key];
      const op = ops.get(path);
      if (op !== undefined) {
        if (op === 'deny' || op === 'redact') continue;
        Expose({ groups: [group] })(Node.prototype, key);
        const fn = maskOf(plan, path);
        // Leaves are sent whole (subtrees copied), like phiguard's `send`.
        Transform(({ value: v }) => (op === 'send' ? (v !== null && typeof v === 'object' ? structuredClone(v) : v) : fn(v)), { groups: [group], toPlainOnly: true })(Node.prototype, key);
        exposed = true;
      } else if (Array.isArray(value) && value[0] !== null && typeof value[0] === 'object') {
        const child = build(value[0], `${path}[]`);
        if (child) {
          Type(() => child)(Node.prototype, key);
          Expose({ groups: [group] })(Node.prototype, key);
          exposed = true;
        }
      } else if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
        const child = build(value, path);
        if (child) {
          Type(() => child)(Node.prototype, key);
          Expose({ groups: [group] })(Node.prototype, key);
          exposed = true;
        }
      }
    }
    return exposed ? Node : null;
  };
  return build(doc, '');
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
  const remover = fastRedact({ paths: remove, censor: undefined, remove: true, serialize: false });
  // fast-redact mutates in place: redact, serialize, then restore in reverse order.
  return (value) => {
    remover(value);
    for (const m of maskers) m(value);
    const out = JSON.stringify(value);
    for (let k = maskers.length - 1; k >= 0; k--) maskers[k].restore(value);
    remover.restore(value);
    return out;
  };
}

const sortKeys = (v) => (Array.isArray(v) ? v.map(sortKeys) : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys(v[k])])) : v);
const same = (a, b) => JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b));

const rows = [];
for (const { role, purpose } of CALLERS) {
  const context = { principal: { id: 'bench' }, roles: [role], purposeOfUse: purpose };
  const decision = compiled.decide(context, 'PatientResults');
  const plan = decision.plan;
  const group = role;
  const Root = classesFor(plan, group);
  const instance = plainToInstance(Root, doc);
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
    .add(`fast-redact (remove + censor + serialize)`, () => redact(doc));
  await bench.run();
  for (const t of bench.tasks) {
    rows.push({ caller: `${role} (${purpose})`, task: t.name, meanUs: t.result.latency.mean * 1000, hz: t.result.throughput.mean, sameOutput: t.name.startsWith('class') ? check.classTransformer : t.name.startsWith('fast') ? check.fastRedact : true });
  }
}

console.log(`\nProjection of the ${JSON.stringify(doc).length}-byte lab-results document; Node ${process.version}; tinybench, ${time} ms per task\n`);
console.log('| caller | task | µs/call | calls/s | same output as phiguard |');
console.log('|---|---|---:|---:|:---:|');
for (const r of rows) console.log(`| ${r.caller} | ${r.task} | ${r.meanUs.toFixed(2)} | ${Math.round(r.hz)} | ${r.sameOutput ? 'yes' : 'no'} |`);
const out = join(new URL('.', import.meta.url).pathname, 'results');
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'micro.json'), JSON.stringify({ date: new Date().toISOString(), node: process.version, rows }, null, 2));
