import { fileURLToPath } from 'node:url';
import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

// The subpath entries of @phiguard/core besides `testing` (packages/core/src/entries/<name>.ts).
const CORE_SUBPATHS = ['adapter', 'audit', 'crypto', 'deid', 'delivery', 'dlp', 'governance', 'policy', 'state'];

const src = (pkg: string) => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url));

export default defineConfig({
  // SWC instead of esbuild: NestJS dependency injection reads the decorator metadata
  // (`design:paramtypes`) that esbuild does not emit. Options come from each file's tsconfig.
  plugins: [swc.vite({ module: { type: 'es6' } })],
  resolve: {
    // Unit and integration suites exercise the TypeScript sources; the packaging suite
    // exercises the built tarballs.
    alias: {
      // More specific first: '@phiguard/core' would otherwise also match the subpaths.
      '@phiguard/core/testing': fileURLToPath(new URL('./packages/core/src/testing/index.ts', import.meta.url)),
      ...Object.fromEntries(
        CORE_SUBPATHS.map((sub) => [`@phiguard/core/${sub}`, fileURLToPath(new URL(`./packages/core/src/entries/${sub}.ts`, import.meta.url))]),
      ),
      '@phiguard/core': src('core'),
      '@phiguard/express': src('express'),
      '@phiguard/kms': src('kms'),
      '@phiguard/nestjs': src('nestjs'),
    },
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    // Installs (first time) and starts PostgreSQL, Redis, SoftHSM2 and Chromium for the suites.
    globalSetup: ['test/setup/services.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
  },
});
