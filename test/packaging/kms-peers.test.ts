import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KmsServer } from '../../packages/kms/test/kms-server.js';
import { createSoftHsm } from '../../packages/kms/test/softhsm.js';
import type { SoftHsm } from '../../packages/kms/test/softhsm.js';

/**
 * Keyrings are opt-in: two TypeScript consumers install the packed @phiguard/express and
 * @phiguard/kms tarballs and, from the npm registry, one keyring backend each. The AWS consumer
 * gets no pkcs11js (no C++ tool chain needed), the HSM consumer no AWS SDK; each type-checks
 * strictly (declarations included), encrypts a field through its keyring against a real
 * backend (a loopback KMS, SoftHSM2), and is told which package to install for the other.
 */
const root = resolve(__dirname, '../..');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const ARN = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
let dir: string;
let tarballs: Record<'core' | 'express' | 'kms', string>;
let kms: KmsServer;
let hsm: SoftHsm;

const run = (cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env) =>
  execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'phiguard-kms-peers-'));
  const packed = join(dir, 'tarballs');
  mkdirSync(packed);
  for (const pkg of ['core', 'express', 'kms']) run('npm', ['pack', '--silent', '--pack-destination', packed], join(root, 'packages', pkg));
  const find = (name: string) => join(packed, readdirSync(packed).find((f) => f.startsWith(`phiguard-${name}-`))!);
  tarballs = { core: find('core'), express: find('express'), kms: find('kms') };
  kms = await KmsServer.start([ARN]);
  hsm = createSoftHsm(['consumer-token']);
}, 60_000);

afterAll(async () => {
  await kms?.close();
  hsm?.remove();
  rmSync(dir, { recursive: true, force: true });
});

/** A consumer project: its package.json, `npm install` of the tarballs plus `extra` from the registry. */
function consumer(name: string, extra: string[], packageJson: Record<string, unknown> = {}, flags: string[] = []): string {
  const cwd = join(dir, name);
  mkdirSync(cwd);
  writeFileSync(join(cwd, 'package.json'), JSON.stringify({ name, private: true, type: 'module', ...packageJson }));
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...flags, tarballs.core, tarballs.express, tarballs.kms, '@types/node@20', '@types/express@5', ...extra], cwd);
  return cwd;
}

/** Type-checks `source` strictly (the packages' declarations too), compiles it and runs it. */
async function typecheckAndRun(cwd: string, source: string, env: NodeJS.ProcessEnv): Promise<unknown> {
  writeFileSync(join(cwd, 'app.mts'), source);
  const args = ['--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--types', 'node', '--skipLibCheck', 'false', '--outDir', 'out', 'app.mts'];
  let diagnostics = '';
  try {
    run(process.execPath, [tsc, ...args], cwd);
  } catch (error) {
    diagnostics = String((error as { stdout?: string }).stdout ?? error);
  }
  expect(diagnostics).toBe('');
  // Asynchronously: the loopback KMS answers from this process.
  const { stdout } = await promisify(execFile)(process.execPath, ['out/app.mjs'], { cwd, encoding: 'utf8', env: { ...process.env, ...env } });
  return JSON.parse(stdout);
}

/** Runs a CommonJS script (the packages' dist/index.cjs, and the peers' CommonJS entries). */
async function runCommonJs(cwd: string, source: string, env: NodeJS.ProcessEnv): Promise<unknown> {
  writeFileSync(join(cwd, 'app.cjs'), source);
  const { stdout } = await promisify(execFile)(process.execPath, ['app.cjs'], { cwd, encoding: 'utf8', env: { ...process.env, ...env } });
  return JSON.parse(stdout);
}

/** The same round trip from CommonJS: the keyring's commands must work with the application's own client. */
const commonJsRoundTrip = (make: string, other: string, close: string) => `
const { createFieldCipher, MissingDependencyError } = require('@phiguard/core');
const { createAwsKmsKeyring, createPkcs11Keyring } = require('@phiguard/kms');
(async () => {
  ${make}
  const cipher = createFieldCipher({ keyring });
  const context = { tenant: 'clinic-2', resource: 'Patient', field: 'ssn', record: 'p-2' };
  const opened = await cipher.decrypt(await cipher.encrypt('987-65-4321', context), context);
  let missing;
  try { ${other}; } catch (error) { missing = error instanceof MissingDependencyError ? error.dependency : String(error); }
  ${close}
  console.log(JSON.stringify({ roundTrip: opened === '987-65-4321', missing }));
})().catch((error) => { console.log(JSON.stringify({ failed: String(error) })); });
`;

const installed = (cwd: string, pkg: string) => existsSync(join(cwd, 'node_modules', pkg, 'package.json'));

/** What a consumer prints: its round trip, and the error of the keyring it did not install. */
const shared = (other: string) => `
const cipher = createFieldCipher({ keyring });
const context = { tenant: 'clinic-1', resource: 'Patient', field: 'ssn', record: 'p-1' };
const sealed = await cipher.encrypt('123-45-6789', context);
const opened = await cipher.decrypt(sealed, context);
let missing: { name: string; code: string; dependency: string; message: string; isPhiGuardError: boolean } | undefined;
try {
  ${other};
} catch (error) {
  if (error instanceof MissingDependencyError) {
    missing = { name: error.name, code: error.code, dependency: error.dependency, message: error.message, isPhiGuardError: error instanceof PhiGuardError };
  }
}
const policy = definePolicy({ roles: ['clerk'], resources: { Patient: { fields: { ssn: 'direct-identifier' }, disclose: { clerk: { TREAT: { ssn: 'deny' } } } } } });
const middleware: RequestHandler = phiguard({ policy, secret: 'consumer-secret-'.repeat(3), audit: { write: () => undefined }, context: () => ({ principal: { id: 'u' }, roles: ['clerk'], purposeOfUse: 'TREAT' }) });
console.log(JSON.stringify({ roundTrip: opened === '123-45-6789', sealedHasPlaintext: sealed.includes('123-45-6789'), missing, middleware: typeof middleware }));
`;

const imports = `import { createFieldCipher, definePolicy, MissingDependencyError, PhiGuardError } from '@phiguard/core';
import { phiguard } from '@phiguard/express';
import type { RequestHandler } from 'express';
`;

describe('keyring backends are optional peers of @phiguard/kms', () => {
  it('an AWS consumer installs no pkcs11js, type-checks, round-trips through KMS, and is told to install pkcs11js for an HSM', async () => {
    const cwd = consumer('aws-consumer', ['@aws-sdk/client-kms@^3.1164.0']);
    expect(installed(cwd, '@aws-sdk/client-kms')).toBe(true);
    expect(installed(cwd, 'pkcs11js')).toBe(false);
    const out = await typecheckAndRun(
      cwd,
      `${imports}import { KMSClient } from '@aws-sdk/client-kms';
import { createAwsKmsKeyring, createPkcs11Keyring } from '@phiguard/kms';
const client = new KMSClient({ region: 'us-east-1', endpoint: process.env.KMS_ENDPOINT, maxAttempts: 1, credentials: { accessKeyId: 'AKIDLOOPBACK', secretAccessKey: 'loopback' } });
const keyring = createAwsKmsKeyring({ keyIds: ['${ARN}'], client });
${shared("createPkcs11Keyring({ tokenLabel: 'hsm', pin: '0000', keyLabel: 'k' })")}
client.destroy();`,
      { KMS_ENDPOINT: kms.endpoint },
    );
    expect(out).toEqual({
      roundTrip: true,
      sealedHasPlaintext: false,
      middleware: 'function',
      missing: {
        name: 'MissingDependencyError',
        code: 'dependency_missing',
        dependency: 'pkcs11js',
        isPhiGuardError: true,
        message: expect.stringContaining('run `npm install pkcs11js`'),
      },
    });
    expect(kms.calls.GenerateDataKey).toBeGreaterThanOrEqual(1);
    const calls = kms.calls.GenerateDataKey;
    const fromCommonJs = await runCommonJs(
      cwd,
      commonJsRoundTrip(
        `const { KMSClient } = require('@aws-sdk/client-kms');
  const client = new KMSClient({ region: 'us-east-1', endpoint: process.env.KMS_ENDPOINT, maxAttempts: 1, credentials: { accessKeyId: 'AKIDLOOPBACK', secretAccessKey: 'loopback' } });
  const keyring = createAwsKmsKeyring({ keyIds: ['${ARN}'], client });`,
        "createPkcs11Keyring({ tokenLabel: 'hsm', pin: '0000', keyLabel: 'k' })",
        'client.destroy();',
      ),
      { KMS_ENDPOINT: kms.endpoint },
    );
    expect(fromCommonJs).toEqual({ roundTrip: true, missing: 'pkcs11js' });
    expect(kms.calls.GenerateDataKey).toBe(calls + 1);
  }, 300_000);

  it('an HSM consumer installs no AWS SDK, builds pkcs11js once approved (npm 11 allowScripts), round-trips through SoftHSM2, and is told to install the AWS SDK', async () => {
    // npm 11 blocks dependency install scripts; the README documents this approval.
    const cwd = consumer('hsm-consumer', ['pkcs11js@^2.1.7'], { allowScripts: { pkcs11js: true } });
    expect(installed(cwd, 'pkcs11js')).toBe(true);
    expect(existsSync(join(cwd, 'node_modules', 'pkcs11js', 'build', 'Release', 'pkcs11.node'))).toBe(true);
    expect(installed(cwd, '@aws-sdk/client-kms')).toBe(false);
    expect(readdirSync(join(cwd, 'node_modules')).filter((d) => d === '@aws-sdk' || d === '@smithy')).toEqual([]);
    const token = hsm.tokens[0]!;
    const out = await typecheckAndRun(
      cwd,
      `${imports}import { createAwsKmsKeyring, createPkcs11Key, createPkcs11Keyring } from '@phiguard/kms';
const options = { tokenLabel: '${token.label}', pin: '${token.pin}', keyLabel: 'consumer-master' };
await createPkcs11Key({ ...options, ifExists: 'keep' });
const keyring = createPkcs11Keyring(options);
${shared("createAwsKmsKeyring({ keyIds: ['" + ARN + "'] })")}
await keyring.close();`,
      { SOFTHSM2_CONF: process.env.SOFTHSM2_CONF },
    );
    expect(out).toEqual({
      roundTrip: true,
      sealedHasPlaintext: false,
      middleware: 'function',
      missing: {
        name: 'MissingDependencyError',
        code: 'dependency_missing',
        dependency: '@aws-sdk/client-kms',
        isPhiGuardError: true,
        message: expect.stringContaining('run `npm install @aws-sdk/client-kms`'),
      },
    });
    const fromCommonJs = await runCommonJs(
      cwd,
      commonJsRoundTrip(
        `const keyring = createPkcs11Keyring({ tokenLabel: '${token.label}', pin: '${token.pin}', keyLabel: 'consumer-master' });`,
        "createAwsKmsKeyring({ keyIds: ['" + ARN + "'] })",
        'await keyring.close();',
      ),
      { SOFTHSM2_CONF: process.env.SOFTHSM2_CONF },
    );
    expect(fromCommonJs).toEqual({ roundTrip: true, missing: '@aws-sdk/client-kms' });
  }, 300_000);

  it('a skipped pkcs11js build (install scripts not run): the keyring says how to approve and rebuild, and that remedy works', async () => {
    // What npm's install-script policy does to an unapproved or denied package; --ignore-scripts
    // gives the same tree on any npm configuration.
    const cwd = consumer('hsm-unbuilt', ['pkcs11js@^2.1.7'], {}, ['--ignore-scripts']);
    const addon = join(cwd, 'node_modules', 'pkcs11js', 'build', 'Release', 'pkcs11.node');
    expect(existsSync(addon)).toBe(false);
    writeFileSync(
      join(cwd, 'probe.mjs'),
      `import { createPkcs11Keyring } from '@phiguard/kms';
const k = createPkcs11Keyring({ tokenLabel: 'consumer-token', pin: '0000', keyLabel: 'k' });
try { await k.generateDataKey({ tenant: 't' }); } catch (e) { console.log(JSON.stringify({ name: e.name, message: e.message })); }`,
    );
    const { stdout } = await promisify(execFile)(process.execPath, ['probe.mjs'], { cwd, encoding: 'utf8' });
    const error = JSON.parse(stdout) as { name: string; message: string };
    expect(error.name).toBe('KeyUnavailableError');
    expect(error.message).toContain('npm install-scripts approve pkcs11js');
    expect(error.message).toContain('npm rebuild pkcs11js');
    // The remedy the message (and the README) gives.
    run('npm', ['install-scripts', 'approve', 'pkcs11js'], cwd);
    run('npm', ['rebuild', 'pkcs11js'], cwd);
    expect(existsSync(addon)).toBe(true);
  }, 300_000);
});
