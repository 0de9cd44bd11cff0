/**
 * The suites each compat app runs, shared by the test files: install the
 * app once, then for each way an existing app wires phiguard in, start it on a fresh table, run
 * the checks over HTTP and stop it; remove the app at the end.
 */
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compressionChecks, errorHandlerChecks, minimumNecessaryChecks, nonPhiExactChecks, ormInstanceChecks, refusalHeaderChecks } from './checks.js';
import { seedPatients, type Seeded } from './data.js';
import { EXPRESS_FILES, NEST_APPS, NEST_FILES, expressDependencies, nestDependencies, type ExpressApp } from './apps.js';
import { REMOVE_TIMEOUT, installApp, packTarballs, removeApp, startApp, workDir, type InstalledApp, type RunningApp } from './harness.js';

function suiteDir(label: string): Record<string, string> & { dir: string } {
  const work = workDir(label);
  afterAll(() => work.remove(), REMOVE_TIMEOUT);
  return { dir: work.dir, ...packTarballs(work.dir) };
}

const majorOf = (range: string) => range.replace(/^\^/, '').split('.')[0];

/** One running variant of an installed app (its env picks how phiguard is wired in). */
function variant(title: string, installed: () => InstalledApp, main: string, seed: Seeded, env: Record<string, string>, checks: (app: () => RunningApp) => void): void {
  describe(title, () => {
    let running: RunningApp | undefined;
    beforeAll(async () => void (running = await startApp(installed(), main, seed, env)), 60_000);
    afterAll(async () => running?.stop());
    checks(() => running!);
  });
}

function everyCheck(app: () => RunningApp, seed: Seeded): void {
  minimumNecessaryChecks(app, seed);
  compressionChecks(app, seed);
  refusalHeaderChecks(app, seed);
  errorHandlerChecks(app, seed);
}

/**
 * The README's one line in an existing Express app, on each Express version given, installed
 * from the packed tarballs with the app's own helmet, cors, compression, passport-jwt,
 * Sequelize and error handler: mounted after the app's authentication, mounted first (the
 * README's order, authentication per router after it), and with non-PHI routes marked on a
 * mount or listed in the `nonPhi` option.
 */
export function expressSuite(apps: readonly ExpressApp[]): void {
  const packed = suiteDir('express');
  describe.each(apps)('$name app', ({ name, express }) => {
    const seed = seedPatients(14, name.length * 7919);
    let installed: InstalledApp | undefined;
    beforeAll(() => {
      installed = installApp(packed.dir, { name, files: EXPRESS_FILES, main: 'express-app.cjs', dependencies: expressDependencies(express), phiguard: ['core', 'express'] }, packed);
    }, 200_000);
    afterAll(() => removeApp(installed), REMOVE_TIMEOUT);

    it(`installs without --legacy-peer-deps and runs on Express ${express}`, () => {
      const version = (createRequire(`${installed!.dir}/`)('express/package.json') as { version: string }).version;
      expect(version.split('.')[0]).toBe(majorOf(express));
    });

    const app = () => installed!;
    variant('phiguard after the app’s authentication', app, 'express-app.cjs', seed, {}, (running) => everyCheck(running, seed));
    variant('phiguard mounted first, authentication per router after it', app, 'express-app.cjs', seed, { PHIGUARD_ORDER: 'first' }, (running) => everyCheck(running, seed));
    variant('non-PHI marked with nonPhi() on the /fhir mount', app, 'express-app.cjs', seed, { PHIGUARD_ORDER: 'first', NONPHI: 'mount' }, (running) => nonPhiExactChecks(running, seed, 'mount'));
    variant('non-PHI routes listed in the nonPhi option', app, 'express-app.cjs', seed, { PHIGUARD_ORDER: 'first', NONPHI: 'policy' }, (running) => nonPhiExactChecks(running, seed, 'list'));
    variant('ORM instances returned as they are', app, 'express-app.cjs', seed, { ORM_ROWS: 'instances' }, (running) => ormInstanceChecks(running, seed));
  });
}

/**
 * The README's module and decorator in an existing NestJS app, on each supported Nest major,
 * installed from the packed tarballs with the app's own helmet, CORS, compression,
 * passport-jwt, Sequelize and global exception filter; authentication as passport middleware
 * and as controller guards (AuthGuard('jwt')).
 */
export function nestSuite(apps: typeof NEST_APPS): void {
  const packed = suiteDir('nest');
  describe.each(apps)('$name app', ({ name, nest, passport }) => {
    const seed = seedPatients(14, name.length * 104729 + Number(name.slice(4)));
    let installed: InstalledApp | undefined;
    beforeAll(() => {
      installed = installApp(packed.dir, { name, files: NEST_FILES, main: 'nest-app.cjs', dependencies: nestDependencies(nest, passport), phiguard: ['core', 'nestjs'] }, packed);
    }, 200_000);
    afterAll(() => removeApp(installed), REMOVE_TIMEOUT);

    it(`installs without --legacy-peer-deps and runs on Nest ${nest}`, () => {
      const version = (createRequire(`${installed!.dir}/`)('@nestjs/core/package.json') as { version: string }).version;
      expect(version.split('.')[0]).toBe(majorOf(nest));
    });

    const app = () => installed!;
    variant('authentication as passport middleware', app, 'nest-app.cjs', seed, {}, (running) => everyCheck(running, seed));
    variant('authentication as controller guards (AuthGuard("jwt"))', app, 'nest-app.cjs', seed, { NEST_AUTH: 'guard' }, (running) => everyCheck(running, seed));
    variant('ORM instances returned as they are', app, 'nest-app.cjs', seed, { ORM_ROWS: 'instances' }, (running) => ormInstanceChecks(running, seed));
  });
}
