#!/usr/bin/env node
/**
 * Rewrites imports written against the former single root entry of @phiguard/core to the entry
 * that now exports each name, and renames the constructors that became createX() factories.
 *
 *   node scripts/migrate-imports.mjs <file or directory>...   (.ts .mts .cts .js .mjs .cjs .md)
 *
 * Only `import { … } from '@phiguard/core'` / `export { … } from '@phiguard/core'` statements
 * are split; a renamed name is replaced in the files that import it from a @phiguard/core entry.
 * Where each name lives is read from packages/core/src (the entries), so run it in this repository.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const core = fileURLToPath(new URL('../packages/core/src/', import.meta.url));
const SUBPATHS = ['adapter', 'audit', 'crypto', 'deid', 'delivery', 'dlp', 'governance', 'policy', 'state'];
/** Former public name → its name now (constructors and sinks that became factories). */
const RENAMED = {
  pinoAuditSink: 'createPinoAuditSink', chainSink: 'createChainSink', durableSink: 'createDurableSink',
  ndjsonFileSink: 'createNdjsonFileSink', otelAuditSink: 'createOtelAuditSink', streamSink: 'createStreamSink',
  teeSink: 'createTeeSink', postgresAuditSink: 'createPostgresAuditSink', bufferedSink: 'createBufferedSink',
  anomalySink: 'createAnomalySink', MemoryAnomalyStore: 'createMemoryAnomalyStore',
  MemoryDisclosureCopyStore: 'createMemoryDisclosureCopyStore', postgresDisclosureCopyStore: 'createPostgresDisclosureCopyStore',
  governedKeyring: 'createGovernedKeyring', MemoryKeyStore: 'createMemoryKeyStore',
  MemoryStateStore: 'createMemoryStateStore', RedisStateStore: 'createRedisStateStore',
};

const entries = { '@phiguard/core': path.join(core, 'index.ts'), '@phiguard/core/testing': path.join(core, 'testing/index.ts') };
for (const sub of SUBPATHS) entries[`@phiguard/core/${sub}`] = path.join(core, 'entries', `${sub}.ts`);
const program = ts.createProgram(Object.values(entries), { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, noEmit: true });
const checker = program.getTypeChecker();
const home = {};
for (const [spec, file] of Object.entries(entries)) {
  for (const symbol of checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(file)))) home[symbol.name] = spec;
}
const homeOf = (name) => home[RENAMED[name] ?? name];

const statement = /^([ \t]*)(import|export)(\s+type)?\s*\{([^}]*)\}\s*from\s*'@phiguard\/core'(;?)/gm;
const anyEntry = /(?:import|export)(?:\s+type)?\s*\{([^}]*)\}\s*from\s*'@phiguard\/core[^']*'/g;

function migrate(text) {
  let unknown = [];
  let out = text.replace(statement, (all, indent, keyword, typeKeyword = '', body, semi) => {
    const groups = new Map();
    for (const element of body.split(',').map((s) => s.trim()).filter(Boolean)) {
      const name = element.replace(/^type\s+/, '').split(/\s+as\s+/)[0].trim();
      const spec = homeOf(name);
      if (!spec) {
        unknown.push(name);
        return all;
      }
      if (!groups.has(spec)) groups.set(spec, []);
      groups.get(spec).push(element);
    }
    const order = [...groups.keys()].sort((a, b) => (a === '@phiguard/core' ? -1 : b === '@phiguard/core' ? 1 : a.localeCompare(b)));
    return order
      .map((spec) => {
        const list = groups.get(spec);
        const one = `${indent}${keyword}${typeKeyword} { ${list.join(', ')} } from '${spec}'${semi}`;
        return one.length <= 120 ? one : `${indent}${keyword}${typeKeyword} {\n${list.map((e) => `${indent}  ${e},`).join('\n')}\n${indent}} from '${spec}'${semi}`;
      })
      .join('\n');
  });
  const renamed = new Set();
  for (const m of out.matchAll(anyEntry)) {
    for (const element of m[1].split(',')) {
      const name = element.trim().replace(/^type\s+/, '').split(/\s+as\s+/)[0].trim();
      if (RENAMED[name]) renamed.add(name);
    }
  }
  for (const name of renamed) {
    out = out.replace(new RegExp(`new ${name}\\(`, 'g'), `${RENAMED[name]}(`).replace(new RegExp(`(?<![\\w$.])${name}\\b`, 'g'), RENAMED[name]);
  }
  return { out, unknown };
}

const walk = (p) => (fs.statSync(p).isDirectory() ? fs.readdirSync(p).filter((n) => n !== 'node_modules' && n !== 'dist').flatMap((n) => walk(path.join(p, n))) : [p]);
let changed = 0;
for (const file of process.argv.slice(2).flatMap(walk).filter((f) => /\.(m|c)?[jt]s$|\.md$/.test(f))) {
  const text = fs.readFileSync(file, 'utf8');
  const { out, unknown } = migrate(text);
  for (const name of unknown) process.stderr.write(`${file}: ${name} is not exported by any entry of @phiguard/core\n`);
  if (out !== text) {
    fs.writeFileSync(file, out);
    changed++;
    process.stdout.write(`${file}\n`);
  }
}
process.stdout.write(`${changed} file(s) rewritten\n`);
