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
  // Each build loads the peers' entry of its own format: the CommonJS build require()s the AWS
  // SDK's CommonJS entry (the copy a CommonJS application's own KMSClient comes from).
  esbuildOptions(options, { format }) {
    options.define = { ...options.define, __PHIGUARD_KMS_CJS__: format === 'cjs' ? 'true' : 'false' };
  },
});
