import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compressionChecks, errorHandlerChecks, minimumNecessaryChecks, refusalHeaderChecks } from './checks.js';
import { seedPatients } from './data.js';
import { EXPRESS_APPS, EXPRESS_FILES, expressDependencies } from './apps.js';
import { installApp, packTarballs, startApp, workDir, type InstalledApp, type RunningApp } from './harness.js';

/**
 * The README's one line in an existing Express app, on each supported Express major, installed
 * from the packed tarballs with the app's own helmet, cors, compression, passport-jwt,
 * Sequelize and error handler.
 */
const work = workDir('express');
const tarballs = packTarballs(work.dir);
afterAll(() => work.remove());

describe.each(EXPRESS_APPS)('$name app', ({ name, express }) => {
  const seed = seedPatients(14, name.length * 7919);
  let installed: InstalledApp;
  let running: RunningApp;
  beforeAll(async () => {
    installed = installApp(work.dir, {
      name,
      files: EXPRESS_FILES,
      main: 'express-app.cjs',
      dependencies: expressDependencies(express),
      phiguard: ['core', 'express'],
    }, tarballs);
    running = await startApp(installed, 'express-app.cjs', seed);
  }, 200_000);
  afterAll(async () => running?.stop());

  it(`installs without --legacy-peer-deps and runs on Express ${express}`, async () => {
    const { createRequire } = await import('node:module');
    const version = (createRequire(`${installed.dir}/`)('express/package.json') as { version: string }).version;
    expect(version.split('.')[0]).toBe(express.replace(/^\^/, '').split('.')[0]);
  });

  minimumNecessaryChecks(() => running, seed);
  compressionChecks(() => running, seed);
  refusalHeaderChecks(() => running, seed);
  errorHandlerChecks(() => running, seed);
});
