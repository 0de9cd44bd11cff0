// This checkout against another revision on the example document, the two interleaved in each
// process: a change of a few percent shows on a shared machine, where separate runs vary by more
// than that. Each tree is bundled from its sources (esbuild), so neither needs a build; the
// document, policy and keyring are this checkout's.
//   node test/bench/compare.mjs <git revision> [--role ordering-provider] [--purpose TREAT]
//     [--what release | serialize | request] [--processes 6] [--rounds 11] [--calls 5000]
// `release` is `guard.releaseJson` (projection, serialization, patient refs and the audit event,
// to a sink that keeps nothing); `serialize` is `plan.serialize` alone; `request` is the
// benchmark's protected route (fixture.mjs `phiguardApp`: `app.use(phiguard(...))`, audit lines
// to a pino file destination), each tree with its own bundled Express, 32 requests in flight on
// real IncomingMessage / ServerResponse objects.
// A process keeps its code placement and heap layout for its whole life: with the same code on
// both sides, one side came out up to 12% ahead of the other within a process. So the comparison
// runs in several processes, half of them loading this checkout first; each process measures both
// sides in alternating rounds (CPU time, medians), and the figure printed is the median over the
// processes of this checkout's time as a share of the revision's, with their range.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : process.argv[i + 1];
};
const what = arg('what', 'release');
const role = arg('role', 'ordering-provider');
const purpose = arg('purpose', 'TREAT');
const rounds = Number(arg('rounds', 11));
const calls = Number(arg('calls', what === 'request' ? 3000 : 5000));
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

if (process.argv[2] === '--child') await measure(JSON.parse(process.argv[3]));
else await compare(process.argv[2]);

/** Bundles both trees, then runs the processes and prints the comparison. */
async function compare(revision) {
  if (revision === undefined || revision.startsWith('--')) {
    console.error('usage: node test/bench/compare.mjs <git revision> [--role R] [--purpose P] [--what release|serialize|request] [--processes N] [--rounds N] [--calls N]');
    process.exit(2);
  }
  const processes = Number(arg('processes', 6));
  const here = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
  const work = mkdtempSync(join(tmpdir(), 'phiguard-compare-'));
  const other = join(work, 'tree');
  execFileSync('git', ['-C', here, 'worktree', 'add', '--detach', '--quiet', other, revision]);
  try {
    const bundles = { base: await bundle(here, other, join(work, 'base.mjs')), head: await bundle(here, here, join(work, 'head.mjs')) };
    const results = [];
    for (let p = 0; p < processes; p++) {
      const order = p % 2 === 0 ? ['base', 'head'] : ['head', 'base'];
      const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--child', JSON.stringify({ bundles, order, work }), ...process.argv.slice(3)], { encoding: 'utf8' });
      results.push(JSON.parse(out));
    }
    const ratios = results.map((r) => r.head / r.base);
    const unit = what === 'request' ? 'request' : 'call';
    console.log(
      `${what}, ${role} (${purpose}): ${revision} ${median(results.map((r) => r.base)).toFixed(2)} µs, this checkout ${median(results.map((r) => r.head)).toFixed(2)} µs per ${unit}; ` +
        `this checkout / ${revision} = ${median(ratios).toFixed(3)} (processes ${Math.min(...ratios).toFixed(3)}–${Math.max(...ratios).toFixed(3)}; ` +
        `${processes} processes × ${rounds} alternating rounds of ${calls} ${unit}s, CPU time; Node ${process.version})`,
    );
  } finally {
    execFileSync('git', ['-C', here, 'worktree', 'remove', '--force', other]);
    rmSync(work, { recursive: true, force: true });
  }
}

/** `tree`'s express adapter and core in one module, with everything they import. */
async function bundle(here, tree, outfile) {
  const esbuild = await import('esbuild');
  const src = (path) => JSON.stringify(join(tree, 'packages', path));
  await esbuild.build({
    stdin: {
      contents: [
        `export * from ${src('core/src/index.ts')};`,
        `export { createStreamSink } from ${src('core/src/entries/audit.ts')};`,
        `export { phiguard } from ${src('express/src/index.ts')};`,
        // Its own Express: the adapter hooks the router it finds, and each side must find its own.
        `export { default as express } from 'express';`,
      ].join('\n'),
      resolveDir: here,
      loader: 'js',
    },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile,
    logLevel: 'error',
    external: ['pino'],
    nodePaths: [join(here, 'node_modules')],
    banner: { js: "import { createRequire as __phiguardRequire } from 'node:module'; const require = __phiguardRequire(import.meta.url);" },
    plugins: [
      {
        // The packages' imports of each other resolve inside the same tree.
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
  return outfile;
}

/** One process: both sides, loaded in `order`, measured in alternating rounds; prints their medians as JSON. */
async function measure({ bundles, order, work }) {
  process.env.NODE_ENV = 'production';
  const { pino } = await import('pino');
  const { createLocalKeyring } = await import('../../packages/kms/dist/index.js');
  const { DEV_PHIGUARD_SECRET, document, injectMany, operators, policy } = await import('./fixture.mjs');
  const keyring = createLocalKeyring({ key: new Uint8Array(32).fill(1), allowInProduction: true });
  const doc = document();
  const context = {
    principal: { id: `bench-${role}` },
    roles: [role],
    purposeOfUse: purpose,
    patientRelationship: { careTeam: true },
    request: { method: 'GET', route: '/patients/:id/results', requestId: 'req-1', ip: '127.0.0.1', userAgent: 'bench' },
  };
  /** What one round runs `calls` times, from one side's bundle. */
  const workOf = (m, side) => {
    if (what === 'request') {
      const app = m.express();
      app.disable('x-powered-by');
      const audit = m.createStreamSink(pino.destination({ dest: join(work, `${side}-${process.pid}.ndjson`), sync: false, minLength: 4096 }));
      const resolveContext = () => ({ principal: { id: `bench-${role}` }, roles: [role], purposeOfUse: purpose });
      app.use(m.phiguard({ policy, operators, secret: DEV_PHIGUARD_SECRET, audit, context: resolveContext, cipher: m.createFieldCipher({ keyring }), relationship: () => ({ careTeam: true }) }));
      app.use(m.express.json({ limit: '100kb' }));
      app.get('/patients/:id/results', (req, res) => void res.json(document()));
      return () => injectMany(app, calls, 32);
    }
    const guard = m.createPhiGuard({ policy, operators, secret: DEV_PHIGUARD_SECRET, audit: { write() {} }, relationship: () => ({ careTeam: true }), cipher: m.createFieldCipher({ keyring }) });
    const decision = guard.policy.decide(context, 'PatientResults');
    if (decision.effect !== 'allow') throw new Error(`${role} / ${purpose} is not allowed the example document`);
    const once = what === 'serialize' ? () => decision.plan.serialize(doc, context) : () => guard.releaseJson(decision.plan, doc, context, 'read');
    return () => {
      for (let i = 0; i < calls; i++) once();
    };
  };
  const sides = {};
  for (const side of order) sides[side] = workOf(await import(pathToFileURL(bundles[side]).href), side);
  /** CPU µs per call (or request) of one round. */
  const cpu = async (fn) => {
    const start = process.cpuUsage();
    await fn();
    const used = process.cpuUsage(start);
    return (used.user + used.system) / calls;
  };
  for (let i = 0; i < 4; i++) for (const side of order) await cpu(sides[side]);
  const times = { base: [], head: [] };
  // Alternate which goes first, so a drift in machine load falls on both alike.
  for (let r = 0; r < rounds; r++) for (const side of r % 2 === 0 ? order : [...order].reverse()) times[side].push(await cpu(sides[side]));
  process.stdout.write(JSON.stringify({ base: median(times.base), head: median(times.head) }));
  process.exit(0);
}
