// The engine's release of the example document from this checkout against another revision, in
// one process, interleaved: a change of a few percent shows on a shared machine, where separate
// runs vary by more than that. Each tree is bundled from its sources (esbuild), so neither needs
// a build; the document, policy and keyring are this checkout's.
//   node test/bench/compare.mjs <git revision> [--role ordering-provider] [--purpose TREAT]
//     [--what release | serialize | request] [--rounds 21] [--calls 5000]
// `release` is `guard.releaseJson` (projection, serialization, patient refs and the audit event,
// to a sink that keeps nothing); `serialize` is `plan.serialize` alone; `request` is the example
// route behind `app.use(phiguard(...))` with audit lines to a pino file destination, each tree
// with its own bundled Express (so the two adapters' router hooks stay apart; both hook Node's
// ServerResponse, which costs each side's requests the other's one lookup), 32 requests in flight
// on real IncomingMessage / ServerResponse objects. Prints CPU µs per call or request,
// medians over the rounds, and this checkout's time as a share of the revision's.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import { pino } from 'pino';
import { createLocalKeyring } from '../../packages/kms/dist/index.js';
import { DEV_PHIGUARD_SECRET, document, injectMany, operators, policy } from './fixture.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : process.argv[i + 1];
};
const revision = process.argv[2];
if (revision === undefined || revision.startsWith('--')) {
  console.error('usage: node test/bench/compare.mjs <git revision> [--role R] [--purpose P] [--what release|serialize|request] [--rounds N] [--calls N]');
  process.exit(2);
}
const role = arg('role', 'ordering-provider');
const purpose = arg('purpose', 'TREAT');
const what = arg('what', 'release');
const rounds = Number(arg('rounds', 21));
const calls = Number(arg('calls', what === 'request' ? 3000 : 5000));
process.env.NODE_ENV = 'production';

const here = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const work = mkdtempSync(join(tmpdir(), 'phiguard-compare-'));
const other = join(work, 'tree');
execFileSync('git', ['-C', here, 'worktree', 'add', '--detach', '--quiet', other, revision]);

/** The module `source` (what `tree` exports for this comparison), bundled with everything it imports. */
async function bundle(tree, name, source) {
  const outfile = join(work, `${name}.mjs`);
  await esbuild.build({
    stdin: { contents: source, resolveDir: here, loader: 'js' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile,
    logLevel: 'error',
    external: ['pino'],
    nodePaths: [join(here, 'node_modules')],
    banner: { js: "import { createRequire as __phiguardRequire } from 'node:module'; const require = __phiguardRequire(import.meta.url);" },
    // The packages' own imports of each other resolve inside the same tree.
    plugins: [
      {
        name: 'tree',
        setup(build) {
          build.onResolve({ filter: /^@phiguard\/core(\/.*)?$/ }, ({ path }) => {
            const sub = path.slice('@phiguard/core'.length);
            return { path: join(tree, 'packages/core/src', sub === '' ? 'index.ts' : `entries${sub}.ts`) };
          });
        },
      },
    ],
  });
  return import(pathToFileURL(outfile).href);
}

const coreOf = (tree, name) => bundle(tree, name, `export * from ${JSON.stringify(join(tree, 'packages/core/src/index.ts'))};`);
const appOf = (tree, name) =>
  bundle(
    tree,
    name,
    [
      `export { default as express } from 'express';`,
      `export { phiguard } from ${JSON.stringify(join(tree, 'packages/express/src/index.ts'))};`,
      `export { createFieldCipher } from ${JSON.stringify(join(tree, 'packages/core/src/index.ts'))};`,
      `export { createStreamSink } from ${JSON.stringify(join(tree, 'packages/core/src/entries/audit.ts'))};`,
    ].join('\n'),
  );

try {
  const doc = document();
  const context = {
    principal: { id: `bench-${role}` },
    roles: [role],
    purposeOfUse: purpose,
    patientRelationship: { careTeam: true },
    request: { method: 'GET', route: '/patients/:id/results', requestId: 'req-1', ip: '127.0.0.1', userAgent: 'bench' },
  };
  const keyring = createLocalKeyring({ key: new Uint8Array(32).fill(1), allowInProduction: true });
  const callOf = (core) => {
    const guard = core.createPhiGuard({
      policy,
      operators,
      secret: DEV_PHIGUARD_SECRET,
      audit: { write() {} },
      relationship: () => ({ careTeam: true }),
      cipher: core.createFieldCipher({ keyring }),
    });
    const decision = guard.policy.decide(context, 'PatientResults');
    if (decision.effect !== 'allow') throw new Error(`${role} / ${purpose} is not allowed the example document`);
    const plan = decision.plan;
    return what === 'serialize' ? () => plan.serialize(doc, context) : () => guard.releaseJson(plan, doc, context, 'read');
  };
  /** The benchmark's protected route (fixture.mjs `phiguardApp`) built from one tree's bundle. */
  const requestsOf = (m, name) => {
    const app = m.express();
    app.disable('x-powered-by');
    const audit = m.createStreamSink(pino.destination({ dest: join(work, `${name}-audit.ndjson`), sync: false, minLength: 4096 }));
    const context = () => ({ principal: { id: `bench-${role}` }, roles: [role], purposeOfUse: purpose });
    app.use(m.phiguard({ policy, operators, secret: DEV_PHIGUARD_SECRET, audit, context, cipher: m.createFieldCipher({ keyring }), relationship: () => ({ careTeam: true }) }));
    app.use(m.express.json({ limit: '100kb' }));
    app.get('/patients/:id/results', (req, res) => void res.json(document()));
    return () => injectMany(app, calls, 32);
  };
  const run =
    what === 'request'
      ? { base: requestsOf(await appOf(other, 'base'), 'base'), head: requestsOf(await appOf(here, 'head'), 'head') }
      : { base: callOf(await coreOf(other, 'base')), head: callOf(await coreOf(here, 'head')) };
  if (what !== 'request' && run.base().json !== run.head().json) console.warn('note: the two revisions release different text for this caller');
  /** CPU µs per call (or request) of `calls` runs of `fn`. */
  const cpu = async (fn) => {
    const start = process.cpuUsage();
    if (what === 'request') await fn();
    else for (let i = 0; i < calls; i++) fn();
    const used = process.cpuUsage(start);
    return (used.user + used.system) / calls;
  };
  for (let i = 0; i < 6; i++) await cpu(run.base), await cpu(run.head);
  const times = { base: [], head: [] };
  // Alternate which goes first, so a drift in machine load falls on both alike.
  for (let r = 0; r < rounds; r++) for (const side of r % 2 === 0 ? ['base', 'head'] : ['head', 'base']) times[side].push(await cpu(run[side]));
  const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  const base = median(times.base);
  const head = median(times.head);
  console.log(`${what}, ${role} (${purpose}): ${revision} ${base.toFixed(2)} µs, this checkout ${head.toFixed(2)} µs per ${what === 'request' ? 'request' : 'call'}; this checkout / ${revision} = ${(head / base).toFixed(3)} (${rounds} interleaved rounds of ${calls} ${what === 'request' ? 'requests' : 'calls'}, CPU time, medians; Node ${process.version})`);
} finally {
  execFileSync('git', ['-C', here, 'worktree', 'remove', '--force', other]);
  rmSync(work, { recursive: true, force: true });
}
