import { defineConfig } from 'tsup';

// esbuild compiles the decorators but emits no `design:paramtypes` metadata, so every
// constructor parameter in this example names its provider with an explicit @Inject(TOKEN).
// The Express example's policy, data, view, auth and repository are bundled from its sources.
export default defineConfig({
  entry: ['src/server.ts', 'src/app.ts', 'src/token.ts'],
  format: ['esm'],
  dts: false,
  sourcemap: true,
  clean: true,
  target: 'node20',
});
