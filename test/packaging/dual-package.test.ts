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
const packages = ['core', 'express', 'kms', 'nestjs', 'cli'];

/** The subpaths of @phiguard/core (besides `.`): each a documented entry with an API report. */
const SUBPATHS = ['adapter', 'audit', 'crypto', 'deid', 'delivery', 'dlp', 'governance', 'policy', 'state', 'testing'];

/**
 * What the root entry of @phiguard/core exports: the names a user starts with. A name added to
 * (or removed from) the root is a decision, so it is a change to this list as well.
 */
const ROOT_VALUES = [
  'AccessDeniedError', 'AuditUnavailableError', 'AuthenticationRequiredError', 'DecryptError', 'DlpBlockedError',
  'KeyUnavailableError', 'LimitExceededError', 'MissingDependencyError', 'OptionsError', 'PhiGuardError', 'PolicyError',
  'StateUnavailableError', 'StepUpRequiredError', 'ThrottledError',
  'compilePolicy', 'createFieldCipher', 'createPhiGuard', 'createScanner', 'definePolicy', 'systemClock',
];
const ROOT_TYPES = [
  'AccessContext', 'AuditEvent', 'AuditSink', 'Authentication', 'BreakGlassClaim', 'BreakGlassGrant', 'BreakGlassRequest',
  'BreakGlassService', 'BuiltinOperatorName', 'Clock', 'CompileOptions', 'CompiledPolicy', 'CompiledResource', 'CustomOperator',
  'Decision', 'DecryptFailure', 'DenyReason', 'DisclosureMatrix', 'FieldCipher', 'FieldCipherOptions', 'FieldClass',
  'FieldDeclarations', 'FieldSpec', 'Inspection', 'JsonRelease', 'KeyCacheOptions', 'Keyring', 'OperatorSpec', 'OptionIssue', 'PhiGuard',
  'PhiGuardErrorCode', 'PhiGuardOptions', 'PolicyDefinition', 'Principal', 'PurposeOfUse', 'Relationship', 'RelationshipFacts',
  'RelationshipResolver', 'Release', 'RequestInfo', 'ResourceDefinition', 'RuleSet', 'Scanner', 'ScannerOptions', 'Selector',
  'SensitiveCategory', 'SensitiveDefinition', 'ValueKind',
];
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
console.log(JSON.stringify({ out: out.value, phiguard: typeof ex.phiguard, nest: nest.PHIGUARD_OPTIONS, kms: typeof kms, canaries: testing.createCanaries({ seed: 1 }).length, keyring: typeof kms.createLocalKeyring, denied: new core.AccessDeniedError('role_unknown').status }));
`;

describe('published packages', () => {
  it.each(['require', 'import'] as const)('work from a consumer that uses %s', (style) => {
    const file = join(dir, style === 'require' ? 'consumer.cjs' : 'consumer.mjs');
    writeFileSync(file, consumer(style));
    const result = JSON.parse(run(process.execPath, [file], dir));
    expect(result).toEqual({ out: { a: 1 }, phiguard: 'function', nest: 'phiguard:options', kms: 'object', canaries: 3, keyring: 'function', denied: 403 });
  });

  // The durable sink's worker is a file beside the bundle (dist/audit-worker.js or .cjs), found
  // from the copy that starts it: both must be in the tarball and start.
  it.each(['require', 'import'] as const)('start the durable audit sink\'s worker thread from a consumer that uses %s', (style) => {
    const file = join(dir, style === 'require' ? 'durable.cjs' : 'durable.mjs');
    // The sink's files, where the consumer writes them (the test reads them back).
    const wal = mkdtempSync(join(tmpdir(), 'phiguard-pack-wal-'));
    writeFileSync(
      file,
      `${style === 'require' ? "const { createDurableSink } = require('@phiguard/core/audit');" : "import { createDurableSink } from '@phiguard/core/audit';"}
const key = new Uint8Array(32).fill(7);
const sink = createDurableSink({ dir: ${JSON.stringify(wal)}, key });
const event = (i) => ({ id: 'e-' + i, time: new Date(0).toISOString(), action: 'read', outcome: 'success', actor: { id: 'u' }, purposeOfUse: 'TREAT' });
Promise.all([0, 1, 2].map((i) => sink.write(event(i)))).then(async () => {
  const stats = sink.stats();
  await sink.close();
  console.log(JSON.stringify({ committed: stats.committed, pending: stats.pending, broken: stats.broken }));
});
`,
    );
    try {
      expect(JSON.parse(run(process.execPath, [file], dir))).toEqual({ committed: 3, pending: 0, broken: false });
      const lines = readdirSync(wal).filter((n) => n.startsWith('wal-'));
      expect(lines).toHaveLength(1);
    } finally {
      rmSync(wal, { recursive: true, force: true });
    }
  });

  it('errors of the require copy of @phiguard/core are instances of the import copy\'s classes, and the reverse', () => {
    // A CommonJS dependency and an ESM app load dist/index.cjs and dist/index.js: two copies of
    // every class. `instanceof` must still answer by error kind, for every error class exported.
    const file = join(dir, 'errors.mjs');
    writeFileSync(
      file,
      `import { createRequire } from 'node:module';
import * as root from '@phiguard/core';
import * as delivery from '@phiguard/core/delivery';
import * as deid from '@phiguard/core/deid';
// Every error class, wherever its entry: the root holds the engine's, /delivery and /deid their own.
const esm = { ...root, ...delivery, ...deid };
const req = createRequire(import.meta.url);
const cjs = { ...req('@phiguard/core'), ...req('@phiguard/core/delivery'), ...req('@phiguard/core/deid') };
const args = { PolicyError: [['x']], AccessDeniedError: ['role_unknown'], DecryptError: ['malformed'], LimitExceededError: ['maxDepth', 1], DlpBlockedError: [{}], StepUpRequiredError: [60], MissingDependencyError: ['pkg', 'X'], PhiGuardError: ['internal_error', 'm'], DeliveryError: ['link_invalid', 'm', 410], PickupLinkError: ['link_used'], SignatureError: ['signature_stale'], NotificationPhiError: ['body', ['SSN']], FF1DomainError: ['m'] };
const names = Object.keys(esm).filter((n) => typeof esm[n] === 'function' && (esm[n] === esm.PhiGuardError || esm[n].prototype instanceof esm.PhiGuardError)).sort();
const matrix = [];
for (const [from, to] of [[cjs, esm], [esm, cjs]]) {
  for (const made of names) {
    const error = new from[made](...(args[made] ?? ['message']));
    for (const cls of names) matrix.push([made, cls, error instanceof to[cls], error instanceof from[cls]]);
  }
}
console.log(JSON.stringify({ names, distinct: cjs.PolicyError !== esm.PolicyError, matrix,
  plain: [new Error('x') instanceof esm.PhiGuardError, null instanceof cjs.PolicyError, ({ name: 'PolicyError' }) instanceof esm.PolicyError, Object.create(cjs.PolicyError.prototype) instanceof esm.PolicyError] }));
`,
    );
    const result = JSON.parse(run(process.execPath, [file], dir)) as {
      names: string[];
      distinct: boolean;
      matrix: [string, string, boolean, boolean][];
      plain: boolean[];
    };
    expect(result.distinct).toBe(true);
    expect(result.names).toEqual(expect.arrayContaining(['PhiGuardError', 'PolicyError', 'OptionsError', 'AccessDeniedError', 'DecryptError', 'MissingDependencyError']));
    expect(result.names.length).toBeGreaterThanOrEqual(15);
    for (const [made, cls, acrossCopies, sameCopy] of result.matrix) {
      // Across copies exactly as within one: same class, its base classes, nothing else.
      expect({ made, cls, acrossCopies }).toEqual({ made, cls, acrossCopies: sameCopy });
    }
    expect(result.matrix.filter(([made, cls, across]) => across && made !== cls).every(([, cls]) => ['PhiGuardError', 'OptionsError', 'DeliveryError'].includes(cls))).toBe(true);
    // A plain Error, null and a look-alike are not phiguard errors; a bare prototype of the other copy is.
    expect(result.plain).toEqual([false, false, false, true]);
  });

  it.each(['cts', 'mts'] as const)('ship declarations that type-check in a .%s consumer', (ext) => {
    const file = join(dir, `typed.${ext}`);
    writeFileSync(
      file,
      `import { definePolicy, compilePolicy, type AuditEvent } from '@phiguard/core';
import { phiguard } from '@phiguard/express';
import type { Keyring } from '@phiguard/kms';
import { expectNoPhi, type Captured } from '@phiguard/core/testing';
${SUBPATHS.map((sub, i) => `import type * as sub${i} from '@phiguard/core/${sub}';\nexport type S${i} = keyof typeof sub${i};`).join('\n')}
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
  }, 90_000);

  it.each(['require', 'import'] as const)('load every subpath of @phiguard/core with %s, with the same names as the other format', (style) => {
    const file = join(dir, style === 'require' ? 'entries.cjs' : 'entries.mjs');
    const load =
      style === 'require'
        ? `const load = async (s) => require(s);`
        : `const load = (s) => import(s);`;
    writeFileSync(
      file,
      `${load}
const { createRequire } = require('node:module');
(async () => {
  const exportsMap = require('@phiguard/core/package.json').exports;
  const out = {};
  for (const key of Object.keys(exportsMap).filter((k) => k !== './package.json')) {
    const spec = key === '.' ? '@phiguard/core' : '@phiguard/core/' + key.slice(2);
    const mod = await load(spec);
    out[key] = Object.keys(mod).filter((k) => k !== 'default' && k !== '__esModule').sort();
  }
  console.log(JSON.stringify(out));
})();
`.replace("const { createRequire } = require('node:module');\n", style === 'require' ? '' : "import { createRequire } from 'node:module';\nconst require = createRequire(import.meta.url);\n"),
    );
    const loaded = JSON.parse(run(process.execPath, [file], dir)) as Record<string, string[]>;
    expect(Object.keys(loaded).sort()).toEqual(['.', ...SUBPATHS.map((s) => `./${s}`)].sort());
    for (const [key, names] of Object.entries(loaded)) expect({ key, empty: names.length === 0 }).toEqual({ key, empty: false });
    expect(loaded['.']).toEqual([...ROOT_VALUES].sort());
    // One home per name: no value is exported by two entries.
    const seen = new Map<string, string>();
    for (const [key, names] of Object.entries(loaded)) {
      for (const name of names) {
        expect({ name, also: seen.get(name) }).toEqual({ name, also: undefined });
        seen.set(name, key);
      }
    }
  });

  it('declare every subpath for import and require, and the root exports exactly the curated names', async () => {
    const pkg = JSON.parse(run(process.execPath, ['-p', "JSON.stringify(require('@phiguard/core/package.json').exports)"], dir)) as Record<string, { import: { types: string; default: string }; require: { types: string; default: string } } | string>;
    for (const sub of SUBPATHS) {
      expect(pkg[`./${sub}`]).toEqual({
        import: { types: `./dist/${sub}.d.ts`, default: `./dist/${sub}.js` },
        require: { types: `./dist/${sub}.d.cts`, default: `./dist/${sub}.cjs` },
      });
    }
    // Values and types of the root entry, read from the published declarations.
    const ts = (await import('typescript')).default;
    const rootDts = join(dir, 'node_modules', '@phiguard', 'core', 'dist', 'index.d.ts');
    const program = ts.createProgram([rootDts], { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022 });
    const checker = program.getTypeChecker();
    const values: string[] = [];
    const types: string[] = [];
    for (const symbol of checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(rootDts)!)!)) {
      const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
      (target.flags & ts.SymbolFlags.Value ? values : types).push(symbol.name);
    }
    expect(values.sort()).toEqual([...ROOT_VALUES].sort());
    expect(types.sort()).toEqual([...ROOT_TYPES].sort());
  }, 60_000);

  it('ship the phiguard command in @phiguard/cli, running on the packed @phiguard/core', () => {
    const pkg = JSON.parse(run(process.execPath, ['-p', "JSON.stringify(require('@phiguard/cli/package.json'))"], dir)) as { bin: Record<string, string>; dependencies: Record<string, string> };
    expect(pkg.bin).toEqual({ phiguard: './bin/phiguard.js' });
    expect(Object.keys(pkg.dependencies)).toEqual(['@phiguard/core']);
    const help = run(process.execPath, [join(dir, 'node_modules', '@phiguard', 'cli', 'bin', 'phiguard.js'), '--help'], dir);
    expect(help).toContain('phiguard audit verify');
    expect(help).toContain('phiguard policy check');
    // The engine no longer carries a command.
    expect(run(process.execPath, ['-p', "JSON.stringify(require('@phiguard/core/package.json').bin ?? null)"], dir).trim()).toBe('null');
  });
});
