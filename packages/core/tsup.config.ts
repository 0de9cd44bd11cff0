import { defineConfig } from 'tsup';

export default defineConfig({
  // `cli` is the `phiguard` command (bin); its shebang is kept and the file made executable.
  entry: { index: 'src/index.ts', testing: 'src/testing/index.ts', cli: 'src/cli/bin.ts' },
  format: ['esm', 'cjs'],
  dts: { entry: { index: 'src/index.ts', testing: 'src/testing/index.ts' } },
  sourcemap: true,
  clean: true,
  target: 'node20',
  // The CLI loads `pg` at run time only for postgres:// sources; never bundle it.
  external: ['pg'],
});
