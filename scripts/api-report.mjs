#!/usr/bin/env node
/**
 * API reports of the public entries (API Extractor), one per entry point, committed under
 * packages/<pkg>/api/. `node scripts/api-report.mjs` regenerates them (`npm run api`);
 * `--check` (run by `npm run lint`) fails when the built declarations no longer match a
 * committed report, so a change to the public surface is a visible diff in review.
 * Reads the built declarations (dist/*.d.ts): build first.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CompilerState, Extractor, ExtractorConfig } from '@microsoft/api-extractor';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const check = process.argv.includes('--check');
// The repository's TypeScript (the one the packages are built with), not the one bundled with API Extractor.
const typescriptCompilerFolder = join(root, 'node_modules', 'typescript');

/** Package → its entry points (the `exports` map: `index` is `.`). */
const ENTRIES = {
  core: ['index', 'adapter', 'audit', 'crypto', 'deid', 'delivery', 'dlp', 'governance', 'policy', 'state', 'testing'],
  express: ['index'],
  nestjs: ['index'],
  kms: ['index'],
};
// Entries where an `@internal` declaration may appear: the one for adapter authors.
const INTERNAL_ALLOWED = new Set(['core/adapter']);

const temp = mkdtempSync(join(tmpdir(), 'phiguard-api-'));
const problems = [];
try {
  for (const [pkg, entries] of Object.entries(ENTRIES)) {
    const dir = join(root, 'packages', pkg);
    if (!check) mkdirSync(join(dir, 'api'), { recursive: true });
    const configFor = (entry) =>
      ExtractorConfig.prepare({
        configObjectFullPath: join(dir, 'api-extractor.json'), // not read: the object below is the configuration
        packageJsonFullPath: join(dir, 'package.json'),
        configObject: {
          projectFolder: dir,
          mainEntryPointFilePath: join(dir, 'dist', `${entry}.d.ts`),
          compiler: {
            overrideTsconfig: {
              compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2023'], types: ['node'], strict: true, skipLibCheck: true },
              files: entries.map((e) => join(dir, 'dist', `${e}.d.ts`)),
            },
          },
          apiReport: {
            enabled: true,
            reportFileName: entry === 'index' ? pkg : `${pkg}-${entry}`,
            reportFolder: join(dir, 'api'),
            reportTempFolder: join(temp, pkg),
          },
          docModel: { enabled: false },
          dtsRollup: { enabled: false },
          tsdocMetadata: { enabled: false },
          newlineKind: 'lf',
          messages: {
            compilerMessageReporting: { default: { logLevel: 'warning' } },
            extractorMessageReporting: {
              default: { logLevel: 'warning' },
              // A type reachable from an entry but exported by a sibling entry (`AuditAction` from
              // /audit in the guard's signatures): the report names it, and it has one home.
              'ae-forgotten-export': { logLevel: 'none', addToApiReportFile: false },
              // No release tags besides @internal: everything exported is public.
              'ae-missing-release-tag': { logLevel: 'none', addToApiReportFile: false },
              'ae-internal-missing-underscore': { logLevel: 'none', addToApiReportFile: false },
              // Documentation coverage is a review matter, not a surface change.
              'ae-undocumented': { logLevel: 'none', addToApiReportFile: false },
              // `{@link chainSink}` in a comment that predates the public name `createChainSink`.
              'ae-unresolved-link': { logLevel: 'none', addToApiReportFile: false },
            },
            tsdocMessageReporting: { default: { logLevel: 'none', addToApiReportFile: false } },
          },
        },
      });
    // One TypeScript program per package, shared by its entries.
    const first = configFor(entries[0]);
    const compilerState = CompilerState.create(first, { typescriptCompilerFolder, additionalEntryPoints: entries.map((e) => join(dir, 'dist', `${e}.d.ts`)) });
    for (const entry of entries) {
      const name = `${pkg}/${entry}`;
      const config = entry === entries[0] ? first : configFor(entry);
      const result = Extractor.invoke(config, {
        localBuild: !check,
        typescriptCompilerFolder,
        compilerState,
        messageCallback: (m) => {
          if (m.logLevel === 'none') return;
          if (m.messageId === 'console-preamble' || m.messageId === 'console-api-report-unchanged' || m.messageId === 'console-api-report-copied' || m.messageId === 'console-api-report-created') m.handled = true;
        },
      });
      if (!result.succeeded) problems.push(`${name}: ${result.apiReportChanged ? 'the public API changed: run `npm run api` and commit packages/*/api/' : `${result.errorCount} error(s)`}`);
      if (!INTERNAL_ALLOWED.has(name)) {
        // The report just produced (written to the temp folder in both modes).
        const report = readFileSync(join(temp, pkg, `${entry === 'index' ? pkg : `${pkg}-${entry}`}.api.md`), 'utf8');
        // A top-level declaration marked @internal (members of a public class are the class's business).
        if (/^\/\/ @internal/m.test(report)) problems.push(`${name}: exports an @internal declaration (only @phiguard/core/adapter may)`);
      }
    }
  }
} finally {
  rmSync(temp, { recursive: true, force: true });
}
if (problems.length > 0) {
  process.stderr.write(`api: ${problems.join('\napi: ')}\n`);
  process.exitCode = 1;
} else {
  process.stdout.write(`api: ${Object.values(ENTRIES).flat().length} reports ${check ? 'match' : 'written'}\n`);
}
