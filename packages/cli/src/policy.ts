import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  PolicyError,
  compilePolicy,
  createScanner,
  type CompileOptions,
  type CompiledPolicy,
  type CompiledResource,
  type PolicyDefinition,
} from '@phiguard/core';
import { ANY_KEY, ELEMENT, isOrmWrapperPath, parsePath, unclassifiedPaths } from '@phiguard/core/adapter';
import type { JsonPath } from '@phiguard/core/dlp';
import { PURPOSES_OF_USE } from '@phiguard/core/policy';
import { policyReportHtml } from './report/html.js';
import { EXIT, UsageError, parseCommandArgs, type CliIo, type Command } from './io.js';

/**
 * Loads a policy module: its `policy` export (or default), with its `operators` export when it
 * has one. A random secret stands in for the real one: checks and reports never need it.
 */
async function loadPolicy(path: string, warnings: string[]): Promise<CompiledPolicy> {
  let mod: { policy?: unknown; default?: unknown; operators?: unknown };
  try {
    mod = (await import(pathToFileURL(resolve(path)).href)) as typeof mod;
  } catch (err) {
    throw new UsageError(`cannot load the policy module ${path}: ${(err as Error).message}`);
  }
  const policy = (mod.policy ?? (mod.default as { policy?: unknown } | undefined)?.policy ?? mod.default) as PolicyDefinition | undefined;
  if (policy === undefined || policy === null || typeof policy !== 'object' || !('resources' in policy)) {
    throw new UsageError(`${path} exports no policy: export it as \`policy\` (from definePolicy) or as the default export`);
  }
  const operators = mod.operators as CompileOptions['operators'];
  return compilePolicy(policy, { secret: randomBytes(32), operators, mode: 'development', warn: (m) => void warnings.push(m) });
}

/**
 * The values a sample holds at a declared path (`[]` each element, `*` each key), with where
 * they are; the keys a `*` matched are values too (a map keyed by MRN is a list of MRNs).
 */
function valuesAt(value: unknown, segments: readonly string[], at: JsonPath, out: { path: JsonPath; value: unknown }[]): void {
  if (segments.length === 0) {
    out.push({ path: at, value });
    return;
  }
  if (value === null || typeof value !== 'object') return;
  const [head, ...rest] = segments as [string, ...string[]];
  if (head === ELEMENT) {
    if (Array.isArray(value)) value.forEach((v, i) => valuesAt(v, rest, [...at, i], out));
  } else if (head === ANY_KEY) {
    if (Array.isArray(value)) return;
    for (const k of Object.keys(value)) {
      out.push({ path: [...at, k], value: k });
      valuesAt((value as Record<string, unknown>)[k], rest, [...at, k], out);
    }
  } else if (!Array.isArray(value) && Object.hasOwn(value, head)) {
    valuesAt((value as Record<string, unknown>)[head], rest, [...at, head], out);
  }
}

const IDENTIFIER = /^[A-Za-z_$][\w$-]{0,63}$/;

/** A sample path for output: indexes and identifier-like keys as they are, any other key as `[?]` (it may be the identifier). */
function displayPath(path: JsonPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (IDENTIFIER.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += '[?]';
  }
  return out === '' ? '(root)' : out;
}

/** Findings below this confidence are not reported: a check that cries wolf gets switched off. */
const MIN_CONFIDENCE = 0.5;

/**
 * Identifiers the DLP scanner finds in the sample's values under `non-phi` fields: those are
 * sent to every role as they are, so an identifier there is a leak waiting for its request.
 * Numbers are read as text (an SSN stored as a number is still an SSN); property names too.
 */
function nonPhiFindings(resource: CompiledResource, payload: unknown): { path: string; type: string }[] {
  const scanner = createScanner({ minConfidence: MIN_CONFIDENCE });
  const out: { path: string; type: string }[] = [];
  const seen = new Set<string>();
  for (const [field, spec] of resource.fields) {
    if (spec.class !== 'non-phi') continue;
    const segments = parsePath(field);
    if (typeof segments === 'string') continue;
    const found: { path: JsonPath; value: unknown }[] = [];
    valuesAt(payload, segments, [], found);
    for (const { path, value } of found) {
      const asText: unknown =
        typeof value === 'number' ? String(value) : JSON.parse(JSON.stringify(value ?? null, (_k, v: unknown) => (typeof v === 'number' ? String(v) : v)));
      const findings = typeof asText === 'string' ? scanner.scan(asText).map((f) => ({ ...f, path: [] as JsonPath })) : scanner.scanObject(asText, { keys: true });
      for (const f of findings) {
        const where = displayPath([...path, ...f.path]);
        const key = `${where}\0${f.type}`;
        if (seen.has(key)) continue;
        seen.add(key);
        out.push({ path: where, type: f.type });
      }
    }
  }
  return out;
}

/** `phiguard policy check <module> [--sample <resource>=<file.json>]...` */
export const policyCheck: Command = {
  usage: 'phiguard policy check <policy module> [--sample <Resource>=<payload.json>]...',
  summary: 'validate a policy; with samples, list their unclassified fields and the identifiers DLP finds under non-phi fields (exit 1 when any)',
  async run(args: readonly string[], io: CliIo): Promise<number> {
    const parsed = parseCommandArgs(args, { sample: { type: 'string', multiple: true } });
    if (parsed.positionals.length !== 1) throw new UsageError('give exactly one policy module');
    const warnings: string[] = [];
    let policy: CompiledPolicy;
    try {
      policy = await loadPolicy(parsed.positionals[0]!, warnings);
    } catch (err) {
      if (err instanceof PolicyError) {
        io.err(`${err.message}\n`);
        return EXIT.failed;
      }
      throw err;
    }
    io.out(`policy valid: ${policy.resources.size} resources, ${policy.roles.size} roles\n`);
    let problems = 0;
    // A declared ORM wrapper path sends whatever the wrapper holds (every column) under one class.
    for (const resource of policy.resources.values()) {
      const wrappers = [...resource.fields.keys()].filter(isOrmWrapperPath);
      if (wrappers.length === 0) continue;
      problems += wrappers.length;
      io.out(
        `${resource.name}: fields that are an ORM instance's wrapper, not columns (they hold every column): ${wrappers.join(', ')}\n` +
          '  return plain rows (Sequelize `raw: true` or `get({ plain: true })`, Mongoose `.lean()`) and classify their columns instead\n',
      );
    }
    for (const sample of parsed.values.sample ?? []) {
      const eq = sample.indexOf('=');
      if (eq < 1) throw new UsageError(`--sample takes <Resource>=<file.json> (got "${sample}")`);
      const resource = sample.slice(0, eq);
      const compiled = policy.resources.get(resource);
      if (compiled === undefined) throw new UsageError(`the policy has no resource "${resource}"`);
      let payload: unknown;
      try {
        payload = JSON.parse(await readFile(sample.slice(eq + 1), 'utf8'));
      } catch (err) {
        throw new UsageError(`cannot read ${sample.slice(eq + 1)}: ${(err as Error).message}`);
      }
      // Any role and purpose with rules walks the whole document; development mode reports what it skipped.
      warnings.length = 0;
      const role = [...policy.roles].find((r) => {
        for (const p of PURPOSES_OF_USE) {
          const d = policy.decide({ principal: { id: 'check', patientId: 'check' }, roles: [r], purposeOfUse: p, patientRelationship: ['care-team', 'encounter'] }, resource);
          if (d.effect === 'allow') {
            try {
              d.plan.apply(payload, { principal: { id: 'check', patientId: 'check' }, patientRelationship: ['care-team', 'encounter'], authentication: { methods: ['mfa'], time: Date.now() / 1000 } });
            } catch {
              /* a patient-only plan refuses other records; the walk still ran */
            }
            return true;
          }
        }
        return false;
      });
      const findings = nonPhiFindings(compiled, payload);
      problems += findings.length;
      if (findings.length > 0) {
        // Paths and types only: the sample's values are PHI as far as this command knows.
        io.out(`${resource}: identifiers found under non-phi fields (sent unchanged to every role):\n${findings.map((f) => `  ${f.path}  ${f.type}\n`).join('')}`);
      }
      if (role === undefined) {
        io.out(`${resource}: no role has rules to walk the sample with\n`);
        continue;
      }
      const paths = warnings.flatMap(unclassifiedPaths);
      problems += paths.length;
      const wrappers = paths.filter(isOrmWrapperPath);
      const plain = paths.filter((p) => !isOrmWrapperPath(p));
      if (paths.length === 0) io.out(`${resource}: every field of the sample is classified\n`);
      if (plain.length > 0) io.out(`${resource}: unclassified fields (not sent until classified):\n${plain.map((p) => `  ${p}\n`).join('')}`);
      if (wrappers.length > 0) {
        io.out(
          `${resource}: the sample holds ORM instances, not plain rows (do not classify these paths; they hold every column):\n${wrappers.map((p) => `  ${p}\n`).join('')}` +
            '  return plain rows (Sequelize `raw: true` or `get({ plain: true })`, Mongoose `.lean()`) and classify their columns\n',
        );
      }
    }
    return problems === 0 ? EXIT.ok : EXIT.failed;
  },
};

/** `phiguard policy report <module> --out report.html` */
export const policyReport: Command = {
  usage: 'phiguard policy report <policy module> --out <report.html> [--title <text>]',
  summary: 'write a self-contained HTML page: disclosure matrix, sensitive categories, access rules, data flow',
  async run(args: readonly string[], io: CliIo): Promise<number> {
    const parsed = parseCommandArgs(args, { out: { type: 'string' }, title: { type: 'string' } });
    if (parsed.positionals.length !== 1) throw new UsageError('give exactly one policy module');
    if (parsed.values.out === undefined) throw new UsageError('give the output file with --out');
    const policy = await loadPolicy(parsed.positionals[0]!, []);
    const html = policyReportHtml(policy, parsed.values.title === undefined ? {} : { title: parsed.values.title });
    await writeFile(parsed.values.out, html, 'utf8');
    io.out(`wrote ${parsed.values.out} (${Buffer.byteLength(html)} bytes)\n`);
    return EXIT.ok;
  },
};
