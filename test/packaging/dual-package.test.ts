import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Installs the packed tarballs (what npm publishes) into throwaway CommonJS and ESM consumers
 * and checks that `require`, `import` and the TypeScript declarations of each resolve.
 */
const root = resolve(__dirname, '../..');
const packages = ['core', 'express', 'kms', 'nestjs'];
let dir: string;

const run = (cmd: string, args: string[], cwd: string) => execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'phiguard-pack-'));
  const modules = join(dir, 'node_modules');
  mkdirSync(join(modules, '@phiguard'), { recursive: true });
  for (const pkg of packages) {
    const packed = join(dir, `${pkg}-pack`);
    mkdirSync(packed);
    run('npm', ['pack', '--silent', '--pack-destination', packed], join(root, 'packages', pkg));
    const tarball = readdirSync(packed).find((f) => f.endsWith('.tgz'))!;
    run('tar', ['-xzf', join(packed, tarball), '-C', packed], dir);
    cpSync(join(packed, 'package'), join(modules, '@phiguard', pkg), { recursive: true });
  }
  // Third-party dependencies come from the workspace install.
  for (const dep of ['express', 'path-to-regexp', 'typescript', '@types', '@aws-sdk', 'pkcs11js', '@nestjs', 'reflect-metadata', 'rxjs']) {
    symlinkSync(join(root, 'node_modules', dep), join(modules, dep));
  }
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const consumer = (style: 'require' | 'import') => `
${style === 'require' ? "const core = require('@phiguard/core'); const ex = require('@phiguard/express'); const kms = require('@phiguard/kms'); const nest = require('@phiguard/nestjs'); const testing = require('@phiguard/core/testing');" : "import * as core from '@phiguard/core'; import * as ex from '@phiguard/express'; import * as kms from '@phiguard/kms'; import * as nest from '@phiguard/nestjs'; import * as testing from '@phiguard/core/testing';"}
const policy = core.definePolicy({ roles: ['r'], resources: { R: { fields: { a: 'clinical', b: 'direct-identifier' }, disclose: { r: { TREAT: { a: 'send' } } } } } });
const compiled = core.compilePolicy(policy, { mode: 'production' });
const out = compiled.protect({ a: 1, b: 2 }, { principal: { id: 'u' }, roles: ['r'], purposeOfUse: 'TREAT' }, 'R');
console.log(JSON.stringify({ out: out.value, phiguard: typeof ex.phiguard, nest: nest.PHIGUARD_OPTIONS, kms: typeof kms, canaries: testing.createCanaries({ seed: 1 }).length, keyring: typeof kms.LocalKeyring, denied: new core.AccessDeniedError('role_unknown').status }));
`;

describe('published packages', () => {
  it.each(['require', 'import'] as const)('work from a consumer that uses %s', (style) => {
    const file = join(dir, style === 'require' ? 'consumer.cjs' : 'consumer.mjs');
    writeFileSync(file, consumer(style));
    const result = JSON.parse(run(process.execPath, [file], dir));
    expect(result).toEqual({ out: { a: 1 }, phiguard: 'function', nest: 'phiguard:options', kms: 'object', canaries: 3, keyring: 'function', denied: 403 });
  });

  it.each(['cts', 'mts'] as const)('ship declarations that type-check in a .%s consumer', (ext) => {
    const file = join(dir, `typed.${ext}`);
    writeFileSync(
      file,
      `import { definePolicy, compilePolicy, type AuditEvent } from '@phiguard/core';
import { phiguard } from '@phiguard/express';
import type { Keyring } from '@phiguard/kms';
import { expectNoPhi, type Captured } from '@phiguard/core/testing';
const policy = definePolicy({ roles: ['r'], resources: { R: { fields: { a: 'clinical' }, disclose: { r: { TREAT: { a: 'send' } } } } } });
export const c = compilePolicy(policy);
export const m: typeof phiguard = phiguard;
export type E = AuditEvent;
export type K = Keyring;
export const check: (c: readonly Captured[]) => void = (c) => expectNoPhi(c);
`,
    );
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const out = (() => {
      try {
        return run(process.execPath, [tsc, '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--types', 'node', '--skipLibCheck', 'false', file], dir);
      } catch (err) {
        return String((err as { stdout?: string }).stdout ?? err);
      }
    })();
    expect(out).toBe('');
  });
});
