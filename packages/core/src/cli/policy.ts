import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PolicyError } from '../errors.js';
import { compilePolicy, type CompileOptions, type CompiledPolicy } from '../policy/compile.js';
import { PURPOSES_OF_USE } from '../purpose.js';
import type { PolicyDefinition } from '../policy/types.js';
import { policyReportHtml } from '../report/html.js';
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

/** `phiguard policy check <module> [--sample <resource>=<file.json>]...` */
export const policyCheck: Command = {
  usage: 'phiguard policy check <policy module> [--sample <Resource>=<payload.json>]...',
  summary: 'validate a policy; with samples, list their fields the policy does not classify (exit 1 when any)',
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
    let unclassified = 0;
    for (const sample of parsed.values.sample ?? []) {
      const eq = sample.indexOf('=');
      if (eq < 1) throw new UsageError(`--sample takes <Resource>=<file.json> (got "${sample}")`);
      const resource = sample.slice(0, eq);
      if (!policy.resources.has(resource)) throw new UsageError(`the policy has no resource "${resource}"`);
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
      if (role === undefined) {
        io.out(`${resource}: no role has rules to walk the sample with\n`);
        continue;
      }
      const paths = warnings.flatMap((w) => (/fields, not sent \(deny by default\): (.*)\. Classify/.exec(w)?.[1] ?? '').split(', ').filter(Boolean));
      unclassified += paths.length;
      io.out(paths.length === 0 ? `${resource}: every field of the sample is classified\n` : `${resource}: unclassified fields (not sent until classified):\n${paths.map((p) => `  ${p}\n`).join('')}`);
    }
    return unclassified === 0 ? EXIT.ok : EXIT.failed;
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
