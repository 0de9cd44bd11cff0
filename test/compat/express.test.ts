import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { minimumNecessaryChecks } from './checks.js';
import { seedPatients } from './data.js';
import { installApp, packTarballs, startApp, workDir, type InstalledApp, type RunningApp } from './harness.js';

/**
 * The README's one line in an existing Express app, on each supported Express major, installed
 * from the packed tarballs with the app's own helmet, cors, compression, passport-jwt,
 * Sequelize and error handler.
 */
export const EXPRESS_APPS = [
  { name: 'express4', express: '^4.22.1' },
  { name: 'express4-floor', express: '4.18.3' },
  { name: 'express5', express: '^5.1.0' },
] as const;

export const expressDependencies = (express: string) => ({
  express,
  helmet: '^8.1.0',
  cors: '^2.8.5',
  compression: '^1.8.0',
  passport: '^0.7.0',
  'passport-jwt': '^4.0.1',
  sequelize: '^6.37.7',
  pg: '^8.16.0',
  'pg-hstore': '^2.3.4',
});

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
      files: ['express-app.cjs', 'policy.cjs', 'db.cjs', 'audit.cjs'],
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
});
