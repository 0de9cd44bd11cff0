import { open, readdir, stat } from 'node:fs/promises';
import { extname, join, relative, sep } from 'node:path';
import type { Finding, PhiType } from '../dlp/index.js';
import { PHI_TYPES, createScanner } from '../dlp/scanner.js';
import { didYouMean } from '../suggest.js';
import { EXIT, UsageError, parseCommandArgs, type CliIo, type Command } from './io.js';

/** One finding in a file, its value masked. */
export interface FileFinding {
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  /** 1-based, in UTF-16 code units. */
  readonly column: number;
  readonly endColumn: number;
  readonly type: PhiType;
  readonly confidence: number;
  readonly masked: string;
}

const TEXT_EXTENSIONS = new Set(['.txt', '.log', '.md', '.json', '.ndjson', '.jsonl', '.csv', '.tsv', '.hl7', '.xml', '.yaml', '.yml', '.sql', '.html', '']);
const SKIP_DIRS = new Set(['node_modules', '.git', 'dist', 'coverage', '.turbo']);
const MAX_BYTES = 10 * 1024 * 1024;

/** A glob (`*`, `**`, `?`) as a regular expression over `/`-separated relative paths. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        re += glob[i + 2] === '/' ? '(?:[^/]*/)*' : '.*';
        i += glob[i + 2] === '/' ? 2 : 1;
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else re += /[\\^$.|+()[\]{}]/.test(c) ? `\\${c}` : c;
  }
  return new RegExp(`^${re}$`);
}

/** Masks all but the last two characters of a finding. */
const mask = (value: string) => (value.length <= 2 ? '**' : '*'.repeat(Math.min(value.length - 2, 12)) + value.slice(-2));

async function* files(root: string, base: string, ignore: readonly RegExp[]): AsyncGenerator<string> {
  const info = await stat(root);
  if (info.isFile()) {
    yield root;
    return;
  }
  for (const entry of await readdir(root, { withFileTypes: true })) {
    const full = join(root, entry.name);
    const rel = relative(base, full).split(sep).join('/');
    if (ignore.some((g) => g.test(rel) || g.test(entry.name))) continue;
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name)) yield* files(full, base, ignore);
    } else if (entry.isFile() && TEXT_EXTENSIONS.has(extname(entry.name).toLowerCase())) yield full;
  }
}

/** Reads a text file, or null for binary or oversized files. */
async function readText(path: string): Promise<string | null> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    if (size > MAX_BYTES) return null;
    const buf = Buffer.alloc(size);
    await handle.read(buf, 0, size, 0);
    return buf.includes(0) ? null : buf.toString('utf8');
  } finally {
    await handle.close();
  }
}

function sarif(findings: readonly FileFinding[]): object {
  const types = [...new Set(findings.map((f) => f.type))].sort();
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'phiguard',
            rules: types.map((t) => ({
              id: `phi/${t}`,
              name: t,
              shortDescription: { text: `Possible ${t.toLowerCase().replace(/_/g, ' ')} (a HIPAA identifier)` },
              defaultConfiguration: { level: 'error' },
            })),
          },
        },
        results: findings.map((f) => ({
          ruleId: `phi/${f.type}`,
          level: 'error',
          message: { text: `Possible ${f.type} (${f.masked}), confidence ${f.confidence.toFixed(2)}` },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: f.file },
                region: { startLine: f.line, startColumn: f.column, endColumn: f.endColumn },
              },
            },
          ],
        })),
      },
    ],
  };
}

/** `phiguard scan <paths…>` */
export const scan: Command = {
  usage: 'phiguard scan <paths…> [--format text|json|sarif] [--ignore <glob>]... [--types SSN,EMAIL,…] [--min-confidence 0.8] [--max-findings 0]',
  summary: 'find HIPAA identifiers in text, JSON, NDJSON and CSV files; exit 1 when there are more than --max-findings',
  async run(args: readonly string[], io: CliIo): Promise<number> {
    const { positionals, values } = parseCommandArgs(args, {
      format: { type: 'string', default: 'text' },
      ignore: { type: 'string', multiple: true },
      types: { type: 'string' },
      'min-confidence': { type: 'string' },
      'max-findings': { type: 'string', default: '0' },
    });
    if (positionals.length === 0) throw new UsageError('give at least one file or directory');
    const format = values.format;
    if (format !== 'text' && format !== 'json' && format !== 'sarif') throw new UsageError('--format must be text, json or sarif');
    const types = values.types?.split(',').map((t) => t.trim()).filter(Boolean);
    for (const t of types ?? []) if (!PHI_TYPES.includes(t as PhiType)) throw new UsageError(`unknown type "${t}"${didYouMean(t, PHI_TYPES)}`);
    const minConfidence = values['min-confidence'] === undefined ? 0 : Number(values['min-confidence']);
    if (!(minConfidence >= 0 && minConfidence <= 1)) throw new UsageError('--min-confidence must be a number from 0 to 1');
    const maxFindings = Number(values['max-findings']);
    if (!Number.isInteger(maxFindings) || maxFindings < 0) throw new UsageError('--max-findings must be an integer ≥ 0');
    const scanner = createScanner({ ...(types ? { types: types as PhiType[] } : {}), minConfidence });
    const ignore = (values.ignore ?? []).map(globToRegExp);

    const findings: FileFinding[] = [];
    let scanned = 0;
    for (const root of positionals) {
      try {
        await stat(root);
      } catch {
        throw new UsageError(`no such file or directory: ${root}`);
      }
      // Ignore globs are relative to each scanned directory.
      for await (const file of files(root, root, ignore)) {
        const text = await readText(file);
        if (text === null) continue;
        scanned++;
        const name = relative(process.cwd(), file).split(sep).join('/');
        let lineStart = 0;
        let line = 1;
        const found: Finding[] = scanner.scan(text);
        // Findings are sorted: walk the line starts forward once.
        let nextBreak = text.indexOf('\n');
        for (const f of found) {
          while (nextBreak !== -1 && nextBreak < f.start) {
            lineStart = nextBreak + 1;
            line++;
            nextBreak = text.indexOf('\n', lineStart);
          }
          findings.push({
            file: name,
            line,
            column: f.start - lineStart + 1,
            endColumn: f.end - lineStart + 1,
            type: f.type,
            confidence: f.confidence,
            masked: mask(text.slice(f.start, f.end)),
          });
        }
      }
    }
    if (format === 'json') io.out(`${JSON.stringify({ files: scanned, findings }, null, 2)}\n`);
    else if (format === 'sarif') io.out(`${JSON.stringify(sarif(findings), null, 2)}\n`);
    else {
      for (const f of findings) io.out(`${f.file}:${f.line}:${f.column}  ${f.type}  ${f.masked}  (${f.confidence.toFixed(2)})\n`);
      io.out(`${findings.length} finding${findings.length === 1 ? '' : 's'} in ${scanned} file${scanned === 1 ? '' : 's'}\n`);
    }
    return findings.length > maxFindings ? EXIT.failed : EXIT.ok;
  },
};
