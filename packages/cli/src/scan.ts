import { open, readdir, stat } from 'node:fs/promises';
import { basename, extname, join, relative, sep } from 'node:path';
import { createScanner } from '@phiguard/core';
import { didYouMean } from '@phiguard/core/adapter';
import { PHI_TYPES, type Finding, type PhiType } from '@phiguard/core/dlp';
import { EXIT, UsageError, parseCommandArgs, type CliIo, type Command } from './io.js';
import { VERSION } from './version.js';

/** One finding in a file (or in its path), its value masked. */
export interface FileFinding {
  /** The path relative to the working directory, `/`-separated, identifiers in its names masked. */
  readonly file: string;
  /** `name` when the identifier is in the file's or a directory's name (`file` is then the path up to that name); columns then count in that name. */
  readonly in?: 'name';
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

/**
 * Lockfiles: machine-written package sources and integrity hashes. Their registry URLs and
 * hashes are not identifiers; other findings in them still count.
 */
const LOCKFILES = new Set(['package-lock.json', 'npm-shrinkwrap.json', 'pnpm-lock.yaml', 'yarn.lock', 'bun.lock', 'composer.lock', 'Gemfile.lock', 'Cargo.lock', 'poetry.lock', 'Pipfile.lock', 'deno.lock']);
const LOCK_NOISE = /\b(?:https?|git\+https?|git\+ssh|ssh):\/\/[^\s"',]+|\b(?:sha1|sha256|sha384|sha512)-[A-Za-z0-9+/=]+|\b[0-9a-f]{40,128}\b/g;
function lockfileNoise(text: string): (start: number, end: number) => boolean {
  const spans: [number, number][] = [];
  for (const m of text.matchAll(LOCK_NOISE)) spans.push([m.index, m.index + m[0].length]);
  return (start, end) => {
    // Spans are sorted and disjoint: binary search for one that contains the finding.
    let lo = 0;
    let hi = spans.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const [s, e] = spans[mid]!;
      if (end <= s) hi = mid - 1;
      else if (start >= e) lo = mid + 1;
      else return start >= s && end <= e;
    }
    return false;
  };
}

/** SARIF artifact URI: a relative reference, each path segment percent-encoded (RFC 3986). */
const toUri = (path: string) => path.split('/').map((seg) => (seg === '..' || seg === '.' ? seg : encodeURIComponent(seg))).join('/');

/** Every file under `root`, and whether its content is read as text (every name is scanned). */
async function* files(root: string, base: string, ignore: readonly RegExp[]): AsyncGenerator<{ path: string; text: boolean }> {
  const info = await stat(root);
  if (info.isFile()) {
    yield { path: root, text: true };
    return;
  }
  for (const entry of await readdir(root, { withFileTypes: true })) {
    const full = join(root, entry.name);
    const rel = relative(base, full).split(sep).join('/');
    if (ignore.some((g) => g.test(rel) || g.test(entry.name))) continue;
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name)) yield* files(full, base, ignore);
    } else if (entry.isFile()) yield { path: full, text: TEXT_EXTENSIONS.has(extname(entry.name).toLowerCase()) };
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
    $schema: 'https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'phiguard',
            version: VERSION,
            semanticVersion: VERSION,
            informationUri: 'https://www.npmjs.com/package/@phiguard/core',
            rules: types.map((t) => ({
              id: `phi/${t}`,
              name: t,
              shortDescription: { text: `Possible ${t.toLowerCase().replace(/_/g, ' ')} (a HIPAA identifier)` },
              defaultConfiguration: { level: 'error' },
            })),
          },
        },
        // Columns are counted in UTF-16 code units (JavaScript string offsets); URIs are relative to the working directory.
        columnKind: 'utf16CodeUnits',
        results: findings.map((f) => ({
          ruleId: `phi/${f.type}`,
          level: 'error',
          message: { text: `Possible ${f.type} (${f.masked})${f.in === 'name' ? ' in the file name' : ''}, confidence ${f.confidence.toFixed(2)}` },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: toUri(f.file), uriBaseId: '%SRCROOT%' },
                // A finding in the name has no region inside the file.
                ...(f.in === 'name' ? {} : { region: { startLine: f.line, startColumn: f.column, endColumn: f.endColumn } }),
              },
            },
          ],
        })),
      },
    ],
  };
}

/**
 * Scans the names along a path (directories and file) as text, once per directory, and returns
 * the path with every identifier masked; findings in names are pushed to `out`.
 */
// Records are often saved as `Doe_Jane_DOB_….txt` or `Jane Doe records/`: two or three
// capitalised words right before an identifier or record word are a person's name.
const NAME_IN_FILE_NAME =
  /(?<![\p{L}\p{N}])\p{Lu}[\p{Ll}'’-]{1,30}[ .-]{1,2}\p{Lu}[\p{Ll}'’-]{1,30}(?:[ .-]{1,2}\p{Lu}[\p{Ll}'’-]{1,30})?(?=[ .-]{1,2}(?:DOB|dob|D\.O\.B|SSN|ssn|MRN|mrn|DOS|[Cc]hart|[Rr]ecords?|[Ll]abs?|[Rr]esults?|[Nn]otes?|[Ss]cans?|[Ii]ntake|[Cc]onsent)(?![\p{L}]))/gu;

function nameFindings(text: string, types: ReadonlySet<PhiType> | null, found: readonly Finding[]): Finding[] {
  if (types !== null && !types.has('PERSON_NAME')) return [...found];
  const out = [...found];
  for (const m of text.matchAll(NAME_IN_FILE_NAME)) {
    const start = m.index;
    const end = start + m[0].length;
    if (found.some((f) => f.start < end && start < f.end)) continue;
    out.push({ type: 'PERSON_NAME', start, end, confidence: 0.75 });
  }
  return out.sort((a, b) => a.start - b.start);
}

function namesScanner(scanner: { scan(text: string): Finding[] }, out: FileFinding[], types: ReadonlySet<PhiType> | null, minConfidence: number) {
  const seen = new Map<string, string>();
  return (path: string): string => {
    const segments = path.split('/');
    let masked = '';
    let raw = '';
    for (let i = 0; i < segments.length; i++) {
      const seg = segments[i]!;
      raw = i === 0 ? seg : `${raw}/${seg}`;
      let m = seen.get(raw);
      if (m === undefined) {
        // Separators in names (`Doe_Jane_SSN_…`) read as spaces, so word boundaries hold; offsets are unchanged.
        const text = seg.replace(/[_+]/g, ' ');
        const found = nameFindings(text, types, scanner.scan(text)).filter((f) => f.confidence >= minConfidence);
        m = seg;
        for (const f of [...found].reverse()) m = m.slice(0, f.start) + mask(seg.slice(f.start, f.end)) + m.slice(f.end);
        // The finding's file is the masked path up to this name; its columns count in the name.
        const file = masked === '' ? m : `${masked}/${m}`;
        for (const f of found) out.push({ file, in: 'name', line: 1, column: f.start + 1, endColumn: f.end + 1, type: f.type, confidence: f.confidence, masked: mask(seg.slice(f.start, f.end)) });
        seen.set(raw, m);
      }
      masked = i === 0 ? m : `${masked}/${m}`;
    }
    return masked;
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
    const maskPath = namesScanner(scanner, findings, types ? new Set(types as PhiType[]) : null, minConfidence);
    let scanned = 0;
    for (const root of positionals) {
      try {
        await stat(root);
      } catch {
        throw new UsageError(`no such file or directory: ${root}`);
      }
      // Ignore globs are relative to each scanned directory.
      for await (const { path: file, text: isText } of files(root, root, ignore)) {
        // Names are scanned even when the content is not: a file's name can itself be PHI.
        const name = maskPath(relative(process.cwd(), file).split(sep).join('/'));
        if (!isText) continue;
        const text = await readText(file);
        if (text === null) continue;
        scanned++;
        const noise = LOCKFILES.has(basename(file)) ? lockfileNoise(text) : null;
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
          if (noise !== null && noise(f.start, f.end)) continue;
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
      for (const f of findings) {
        io.out(f.in === 'name' ? `${f.file}  ${f.type}  ${f.masked}  (${f.confidence.toFixed(2)})  [in the name]\n` : `${f.file}:${f.line}:${f.column}  ${f.type}  ${f.masked}  (${f.confidence.toFixed(2)})\n`);
      }
      io.out(`${findings.length} finding${findings.length === 1 ? '' : 's'} in ${scanned} file${scanned === 1 ? '' : 's'}\n`);
    }
    return findings.length > maxFindings ? EXIT.failed : EXIT.ok;
  },
};
