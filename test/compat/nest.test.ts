import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compressionChecks, minimumNecessaryChecks, refusalHeaderChecks } from './checks.js';
import { seedPatients } from './data.js';
import { NEST_APPS, NEST_FILES, nestDependencies } from './apps.js';
import { installApp, packTarballs, startApp, workDir, type InstalledApp, type RunningApp } from './harness.js';

/**
 * The README's module and decorator in an existing NestJS app, on each supported Nest major,
 * installed from the packed tarballs with the app's own helmet, CORS, compression,
 * passport-jwt, Sequelize and exception filter.
 */
const work = workDir('nest');
const tarballs = packTarballs(work.dir);
afterAll(() => work.remove());

describe.each(NEST_APPS)('$name app', ({ name, nest, passport }) => {
  const seed = seedPatients(14, name.length * 104729 + Number(name.slice(4)));
  let installed: InstalledApp;
  let running: RunningApp;
  beforeAll(async () => {
    installed = installApp(work.dir, { name, files: NEST_FILES, main: 'nest-app.cjs', dependencies: nestDependencies(nest, passport), phiguard: ['core', 'nestjs'] }, tarballs);
    running = await startApp(installed, 'nest-app.cjs', seed);
  }, 200_000);
  afterAll(async () => running?.stop());

  it(`installs without --legacy-peer-deps and runs on Nest ${nest}`, () => {
    const version = (createRequire(`${installed.dir}/`)('@nestjs/core/package.json') as { version: string }).version;
    expect(version.split('.')[0]).toBe(nest.replace(/^\^/, '').split('.')[0]);
  });

  minimumNecessaryChecks(() => running, seed);
  compressionChecks(() => running, seed);
  refusalHeaderChecks(() => running, seed);
});
