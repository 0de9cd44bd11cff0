import { defineConfig } from 'tsup';

// One file per public entry: the root, `testing` and the subpaths in src/entries/ (see the
// `exports` map in package.json, which lists the same names).
const SUBPATHS = ['adapter', 'audit', 'crypto', 'deid', 'delivery', 'dlp', 'governance', 'policy', 'state'];
const entry = {
  index: 'src/index.ts',
  testing: 'src/testing/index.ts',
  ...Object.fromEntries(SUBPATHS.map((name) => [name, `src/entries/${name}.ts`])),
};
// Not an entry of the package: the durable audit sink's worker thread loads it from beside the bundle.
const worker = { 'audit-worker': 'src/audit/durable-worker.ts' };

export default defineConfig({
  entry: { ...entry, ...worker },
  format: ['esm', 'cjs'],
  dts: { entry },
  sourcemap: true,
  clean: true,
  target: 'node20',
});
