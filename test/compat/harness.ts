/**
 * Small real applications installed the way a user installs phiguard: the packed tarballs of
 * @phiguard/core, @phiguard/express and @phiguard/nestjs (what npm publishes) go into a fresh
 * directory with its own package.json next to the framework versions under test, with one
 * `npm install` per app (offline-first from the npm cache). Each app runs as its own Node
 * process on a loopback port, on the project's PostgreSQL, and writes its audit trail to an
 * NDJSON file the checks read.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import ts from 'typescript';
import type { Seeded } from './data.js';

const root = resolve(__dirname, '../..');
export const PG_URL = process.env.PHIGUARD_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:55432/postgres';

/** The child's environment without the npm variables of an enclosing `npm test` (workspace, prefix…). */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k) && k !== 'INIT_CWD' && k !== 'NODE_OPTIONS') env[k] = v;
  return { ...env, ...extra };
}

/** Packs the built packages once per suite file; returns tarball paths by package name. */
export function packTarballs(dir: string): Record<'core' | 'express' | 'nestjs', string> {
  const out = {} as Record<'core' | 'express' | 'nestjs', string>;
  for (const pkg of ['core', 'express', 'nestjs'] as const) {
    const source = join(root, 'packages', pkg);
    if (!existsSync(join(source, 'dist', 'index.js'))) {
      throw new Error(`packages/${pkg}/dist is missing: run \`npx turbo run build\` (npm test does) before the compat suite`);
    }
    const dest = join(dir, `${pkg}-pack`);
    mkdirSync(dest, { recursive: true });
    execFileSync('npm', ['pack', '--silent', '--pack-destination', dest], { cwd: source, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    out[pkg] = join(dest, readdirSync(dest).find((f) => f.endsWith('.tgz'))!);
  }
  return out;
}

export interface AppSpec {
  /** Directory name and audit stream label, e.g. `express4`. */
  readonly name: string;
  /** Source files copied from test/compat/apps (`.ts` files are transpiled to `.cjs`). */
  readonly files: readonly string[];
  /** Entry file in the app directory, after transpiling. */
  readonly main: string;
  /** Third-party dependencies with the versions under test. */
  readonly dependencies: Readonly<Record<string, string>>;
  /** phiguard packages the app depends on. */
  readonly phiguard: readonly ('core' | 'express' | 'nestjs')[];
}

export interface InstalledApp {
  readonly dir: string;
  readonly installMs: number;
}

/**
 * Creates the app directory and runs its one `npm install`: no `--legacy-peer-deps` and no
 * `--force`, so a peer range that excludes the framework version fails here with ERESOLVE.
 */
export function installApp(base: string, spec: AppSpec, tarballs: Record<string, string>): InstalledApp {
  const dir = join(base, spec.name);
  mkdirSync(dir, { recursive: true });
  const dependencies: Record<string, string> = { ...spec.dependencies };
  for (const p of spec.phiguard) dependencies[`@phiguard/${p}`] = `file:${tarballs[p]}`;
  // @phiguard/express and @phiguard/nestjs depend on @phiguard/core@0.1.0: the packed one.
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `compat-${spec.name}`, private: true, dependencies, overrides: { '@phiguard/core': `file:${tarballs.core}` } }, null, 2));
  for (const file of spec.files) {
    const from = join(__dirname, 'apps', file);
    const name = file.split('/').pop()!;
    if (file.endsWith('.ts')) {
      // The application's own TypeScript, compiled as its build would (decorator metadata for Nest's DI).
      const out = ts.transpileModule(readFileSync(from, 'utf8'), {
        compilerOptions: {
          module: ts.ModuleKind.CommonJS,
          target: ts.ScriptTarget.ES2022,
          experimentalDecorators: true,
          emitDecoratorMetadata: true,
          esModuleInterop: true,
        },
        fileName: name,
      });
      writeFileSync(join(dir, name.replace(/\.ts$/, '.cjs')), out.outputText);
    } else copyFileSync(from, join(dir, name));
  }
  const started = Date.now();
  try {
    execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'], {
      cwd: dir,
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 180_000,
    });
  } catch (err) {
    const e = err as { stderr?: Buffer | string; stdout?: Buffer | string };
    throw new Error(`npm install of the ${spec.name} app failed:\n${String(e.stderr ?? '')}${String(e.stdout ?? '')}`);
  }
  return { dir, installMs: Date.now() - started };
}

export interface RunningApp {
  readonly base: string;
  readonly table: string;
  readonly auditFile: string;
  /** Everything the app printed (its own logs and phiguard's error lines). */
  output(): string;
  /** Audit events written so far. */
  audit(): Record<string, unknown>[];
  stop(): Promise<void>;
}

export const JWT_SECRET = randomBytes(32).toString('hex');

/** Starts the app on a loopback port with a fresh table seeded from `seed`; resolves once it listens. */
export async function startApp(app: InstalledApp, main: string, seed: Seeded, env: Record<string, string> = {}): Promise<RunningApp> {
  const table = `compat_${randomBytes(5).toString('hex')}`;
  const auditFile = join(app.dir, `audit-${table}.ndjson`);
  const seedFile = join(app.dir, `seed-${table}.json`);
  writeFileSync(seedFile, JSON.stringify(seed.rows));
  writeFileSync(auditFile, '');
  const child: ChildProcess = spawn(process.execPath, [join(app.dir, main)], {
    cwd: app.dir,
    env: cleanEnv({
      PORT: '0',
      DATABASE_URL: PG_URL,
      PATIENT_TABLE: table,
      SEED_FILE: seedFile,
      AUDIT_FILE: auditFile,
      JWT_SECRET,
      PHIGUARD_SECRET: randomBytes(32).toString('hex'),
      NODE_ENV: 'production',
      ...env,
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const base = await new Promise<string>((resolvePort, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      output += `${line}\n`;
      const m = /^listening on (\d+)$/.exec(line);
      if (m) resolvePort(`http://127.0.0.1:${m[1]}`);
    });
    child.once('exit', (code) => reject(new Error(`the app exited with ${code} before listening:\n${output}`)));
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    base,
    table,
    auditFile,
    output: () => output,
    audit: () =>
      readFileSync(auditFile, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    async stop() {
      child.kill('SIGTERM');
      await exited;
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      try {
        await client.query(`DROP TABLE IF EXISTS "${table}"`);
      } finally {
        await client.end();
      }
    },
  };
}

/** A fresh base directory for one suite file's apps. */
export function workDir(label: string): { dir: string; remove(): Promise<void> } {
  const dir = mkdtempSync(join(tmpdir(), `phiguard-compat-${label}-`));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Deletes an app's directory (its node_modules): the suite leaves nothing behind. */
export function removeApp(app: InstalledApp | undefined): Promise<void> {
  return app === undefined ? Promise.resolve() : rm(app.dir, { recursive: true, force: true });
}

/** Removing an app's node_modules takes long on a loaded machine: hooks that do it get this long. */
export const REMOVE_TIMEOUT = 180_000;
