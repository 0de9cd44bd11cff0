import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (pkg: string) => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    // Unit and integration suites exercise the TypeScript sources; the packaging suite
    // exercises the built tarballs.
    alias: {
      '@phiguard/core': src('core'),
      '@phiguard/express': src('express'),
      '@phiguard/kms': src('kms'),
      '@phiguard/nestjs': src('nestjs'),
    },
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
  },
});
