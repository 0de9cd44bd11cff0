/**
 * The suites each compat app runs, shared by the test files and the pending ones: install the
 * app once, start it on a fresh table, run the checks over HTTP, stop it and remove it.
 */
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compressionChecks, errorHandlerChecks, minimumNecessaryChecks, refusalHeaderChecks } from './checks.js';
import { seedPatients } from './data.js';
import { EXPRESS_FILES, NEST_APPS, NEST_FILES, expressDependencies, nestDependencies, type ExpressApp } from './apps.js';
import { REMOVE_TIMEOUT, installApp, packTarballs, removeApp, startApp, workDir, type InstalledApp, type RunningApp } from './harness.js';

function suiteDir(label: string): Record<string, string> & { dir: string } {
  const work = workDir(label);
  afterAll(() => work.remove(), REMOVE_TIMEOUT);
  return { dir: work.dir, ...packTarballs(work.dir) };
}

const majorOf = (range: string) => range.replace(/^\^/, '').split('.')[0];

/**
 * The README's one line in an existing Express app, on each Express version given, installed
 * from the packed tarballs with the app's own helmet, cors, compression, passport-jwt,
 * Sequelize and error handler.
 */
export function expressSuite(apps: readonly ExpressApp[], options: { compression: boolean }): void {
  const packed = suiteDir('express');
  describe.each(apps)('$name app', ({ name, express }) => {
    const seed = seedPatients(14, name.length * 7919);
    let installed: InstalledApp | undefined;
    let running: RunningApp | undefined;
    beforeAll(async () => {
      installed = installApp(packed.dir, { name, files: EXPRESS_FILES, main: 'express-app.cjs', dependencies: expressDependencies(express), phiguard: ['core', 'express'] }, packed);
      running = await startApp(installed, 'express-app.cjs', seed);
    }, 200_000);
    afterAll(async () => {
      await running?.stop();
      await removeApp(installed);
    }, REMOVE_TIMEOUT);

    it(`installs without --legacy-peer-deps and runs on Express ${express}`, () => {
      const version = (createRequire(`${installed!.dir}/`)('express/package.json') as { version: string }).version;
      expect(version.split('.')[0]).toBe(majorOf(express));
    });

    minimumNecessaryChecks(() => running!, seed);
    if (options.compression) compressionChecks(() => running!, seed);
    refusalHeaderChecks(() => running!, seed);
    errorHandlerChecks(() => running!, seed);
  });
}

/**
 * The README's module and decorator in an existing NestJS app, on each supported Nest major,
 * installed from the packed tarballs with the app's own helmet, CORS, compression,
 * passport-jwt, Sequelize and exception filter.
 */
export function nestSuite(apps: typeof NEST_APPS, options: { errorFilter: boolean }): void {
  const packed = suiteDir('nest');
  describe.each(apps)('$name app', ({ name, nest, passport }) => {
    const seed = seedPatients(14, name.length * 104729 + Number(name.slice(4)));
    let installed: InstalledApp | undefined;
    let running: RunningApp | undefined;
    beforeAll(async () => {
      installed = installApp(packed.dir, { name, files: NEST_FILES, main: 'nest-app.cjs', dependencies: nestDependencies(nest, passport), phiguard: ['core', 'nestjs'] }, packed);
      running = await startApp(installed, 'nest-app.cjs', seed);
    }, 200_000);
    afterAll(async () => {
      await running?.stop();
      await removeApp(installed);
    }, REMOVE_TIMEOUT);

    it(`installs without --legacy-peer-deps and runs on Nest ${nest}`, () => {
      const version = (createRequire(`${installed!.dir}/`)('@nestjs/core/package.json') as { version: string }).version;
      expect(version.split('.')[0]).toBe(majorOf(nest));
    });

    minimumNecessaryChecks(() => running!, seed);
    compressionChecks(() => running!, seed);
    refusalHeaderChecks(() => running!, seed);
    if (options.errorFilter) errorHandlerChecks(() => running!, seed);
  });
}
