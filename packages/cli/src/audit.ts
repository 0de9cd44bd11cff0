import { readFile } from 'node:fs/promises';
import {
  createChainVerifier,
  parseChainKey,
  createPostgresAuditSink,
  readNdjsonAudit,
  type ChainBreak,
  type ChainVerdict,
  type PgQueryable,
} from '@phiguard/core/audit';
import { EXIT, UsageError, parseCommandArgs, type CliIo, type Command } from './io.js';

interface PgClient extends PgQueryable {
  connect(): Promise<unknown>;
  end(): Promise<void>;
}

/** Loads `pg` only when a PostgreSQL source is given: core does not depend on it. */
async function pgClient(url: string): Promise<PgClient> {
  let mod: { default?: { Client?: unknown }; Client?: unknown };
  try {
    const name = 'pg';
    mod = (await import(name)) as typeof mod;
  } catch {
    throw new UsageError('reading a PostgreSQL audit table needs the `pg` package: run `npm install pg` next to @phiguard/cli');
  }
  const Client = (mod.Client ?? mod.default?.Client) as new (config: { connectionString: string }) => PgClient;
  const client = new Client({ connectionString: url });
  await client.connect();
  return client;
}

const isPgUrl = (s: string): boolean => /^postgres(ql)?:\/\//.test(s);

/** Removes a password from a URL before printing it. */
function safeSource(source: string): string {
  if (!isPgUrl(source)) return source;
  try {
    const u = new URL(source);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://…';
  }
}

function describeBreak(b: ChainBreak, where: (position: number) => string): string {
  const at = b.position === null ? 'end of stream' : where(b.position);
  const seq = b.seq === null ? '' : ` at seq ${b.seq}`;
  const id = b.id === undefined ? '' : ` [event ${b.id}]`;
  return `${b.kind}${seq} (${at})${id}: ${b.detail}`;
}

/** `phiguard audit verify <file.ndjson | postgres://…> --key <hex|base64>` */
export const auditVerify: Command = {
  usage: 'phiguard audit verify <file.ndjson | postgres://user@host:port/db> [--key <hex|base64>]... [--table <name>] [--heads <checkpoint.json>] [--json]',
  summary: 'verify the hash chain of an audit trail; exit 0 intact, 1 broken, 2 usage error',
  async run(args: readonly string[], io: CliIo): Promise<number> {
    const { positionals, values } = parseCommandArgs(args, {
      key: { type: 'string', multiple: true },
      table: { type: 'string' },
      heads: { type: 'string' },
      json: { type: 'boolean', default: false },
    });
    if (positionals.length !== 1) throw new UsageError('give exactly one source: an NDJSON file or a postgres:// URL');
    const source = positionals[0]!;
    // Several --key (or comma-separated keys in the variable) verify across a key rotation.
    const keyTexts = values.key ?? (io.env.PHIGUARD_AUDIT_KEY ?? '').split(',').filter((k) => k.trim() !== '');
    if (keyTexts.length === 0) throw new UsageError('give the chain key with --key or the PHIGUARD_AUDIT_KEY environment variable');
    let key: Uint8Array[];
    try {
      key = keyTexts.map(parseChainKey);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    let heads: { stream: string; seq: number; hash?: string }[] | undefined;
    if (values.heads !== undefined) {
      try {
        const raw = JSON.parse(await readFile(values.heads, 'utf8')) as unknown;
        const list = Array.isArray(raw) ? raw : (raw as { heads?: unknown }).heads;
        if (!Array.isArray(list)) throw new Error('expected an array of { stream, seq, hash } or a verdict with `heads`');
        heads = list as typeof heads;
      } catch (err) {
        throw new UsageError(`cannot read --heads ${values.heads}: ${(err as Error).message}`);
      }
    }
    if (values.table !== undefined && !isPgUrl(source)) throw new UsageError('--table applies to a postgres:// source');

    const verifier = createChainVerifier(heads === undefined ? { key } : { key, heads });
    let where: (position: number) => string;
    if (isPgUrl(source)) {
      let client: PgClient;
      try {
        client = await pgClient(source);
      } catch (err) {
        if (err instanceof UsageError) throw err;
        io.err(`phiguard: cannot connect to ${safeSource(source)}: ${(err as Error).message}\n`);
        return EXIT.usage;
      }
      try {
        const store = createPostgresAuditSink({ pool: client, ...(values.table === undefined ? {} : { table: values.table }) });
        for await (const e of store.read()) verifier.add(e);
      } catch (err) {
        io.err(`phiguard: cannot read the audit table: ${(err as Error).message}\n`);
        return EXIT.usage;
      } finally {
        await client.end().catch(() => undefined);
      }
      where = (p) => `row ${p + 1} in stream/seq order`;
    } else {
      const lines: number[] = [];
      try {
        for await (const { line, value } of readNdjsonAudit(source)) {
          lines.push(line);
          verifier.add(value);
        }
      } catch (err) {
        io.err(`phiguard: cannot read ${source}: ${(err as Error).message}\n`);
        return EXIT.usage;
      }
      where = (p) => `line ${lines[p] ?? p + 1}`;
    }
    const verdict: ChainVerdict = verifier.verdict();
    if (values.json) {
      const breaks = verdict.breaks.map((b) => ({ ...b, where: b.position === null ? null : where(b.position) }));
      io.out(JSON.stringify({ source: safeSource(source), ...verdict, breaks }, null, 2) + '\n');
    } else {
      const broken = new Map(verdict.breaks.map((b) => [b.stream, b]));
      const lines = [`source: ${safeSource(source)}`, `streams: ${verdict.streams}  events: ${verdict.events}  duplicates ignored: ${verdict.duplicates}`];
      for (const h of verdict.heads) {
        const b = broken.get(h.stream);
        lines.push(
          b === undefined
            ? `  ${h.stream}: ok, ${h.events} events, head seq ${h.seq} ${h.hash}`
            : `  ${h.stream}: BROKEN, ${describeBreak(b, where)}`,
        );
      }
      for (const b of verdict.breaks) {
        if (!verdict.heads.some((h) => h.stream === b.stream)) lines.push(`  ${b.stream === '' ? '(no stream)' : b.stream}: BROKEN, ${describeBreak(b, where)}`);
      }
      lines.push(verdict.ok ? 'result: intact' : `result: BROKEN (${verdict.breaks.length} stream${verdict.breaks.length === 1 ? '' : 's'})`);
      io.out(lines.join('\n') + '\n');
    }
    return verdict.ok ? EXIT.ok : EXIT.failed;
  },
};
