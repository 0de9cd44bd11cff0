import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  // peer.ts resolves the optional peers from import.meta.url, which the CommonJS build needs shimmed.
  shims: true,
});
