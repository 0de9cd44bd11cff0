import { defineConfig } from 'tsup';

// The `phiguard` command only: no library entry (the engine is @phiguard/core). ESM, since the
// committed bin/phiguard.js imports dist/cli.js.
export default defineConfig({
  entry: { cli: 'src/bin.ts' },
  format: ['esm'],
  sourcemap: true,
  clean: true,
  target: 'node20',
  // The engine is a dependency, not bundled; `pg` is loaded at run time only for postgres:// sources.
  external: ['@phiguard/core', 'pg'],
});
