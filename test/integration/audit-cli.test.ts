import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { createChainSink, createNdjsonFileSink, createPinoAuditSink, createPostgresAuditSink } from '@phiguard/core/audit';
import { main, type CliIo } from '../../packages/cli/src/main.js';
import { KEY, sampleEvent } from '../../packages/core/test/audit/fixtures.js';
import { PG_URL, testPool, uniqueTable } from '../../packages/core/test/audit/pg.js';
import { dropAuditTableSql } from '@phiguard/core/testing';

const HEX = Buffer.from(KEY).toString('hex');
const dir = mkdtempSync(join(tmpdir(), 'phiguard-cli-'));

async function run(args: string[], env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { out: (t) => void (stdout += t), err: (t) => void (stderr += t), env };
  const code = await main(args, io);
  return { code, stdout, stderr };
}

async function writeTrail(path: string, streams: Record<string, number>): Promise<void> {
  const file = createNdjsonFileSink({ path });
  const sinks = Object.entries(streams).map(([stream, n]) => ({ sink: createChainSink(file, { key: KEY, stream }), n }));
  for (let i = 0; i < Math.max(...sinks.map((s) => s.n)); i++) {
    for (const s of sinks) if (i < s.n) await s.sink.write(sampleEvent(i));
  }
  await file.close();
}

describe('phiguard audit verify <pino log>', () => {
  it('verifies the audit events of a pino log as written, beside the application’s own lines, and finds tampering', async () => {
    const path = join(dir, 'app.log');
    const destination = pino.destination({ dest: path, sync: true });
    const logger = pino(destination);
    const sink = createChainSink(createPinoAuditSink(logger), { key: KEY, stream: 'api-1' });
    for (let i = 0; i < 6; i++) {
      logger.info({ route: '/health' }, 'application line');
      await sink.write(sampleEvent(i));
    }
    destination.flushSync();
    const intact = await run(['audit', 'verify', path, '--key', HEX]);
    expect(intact.stdout).toContain('result: intact');
    expect(intact.stdout).toMatch(/api-1: ok, 6 events/);
    expect(intact.code).toBe(0);
    const lines = readFileSync(path, 'utf8').split('\n');
    const at = lines.findIndex((l) => l.includes('"seq":3'));
    lines[at] = lines[at]!.replace('"outcome":"success"', '"outcome":"error"');
    const tampered = join(dir, 'app-tampered.log');
    writeFileSync(tampered, lines.join('\n'));
    const broken = await run(['audit', 'verify', tampered, '--key', HEX]);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toMatch(/api-1: BROKEN, modified at seq 3/);
  });
});

describe('phiguard audit verify <file.ndjson>', () => {
  const path = join(dir, 'trail.ndjson');
  beforeAll(() => writeTrail(path, { 'api-1': 12, 'api-2': 8 }));

  it('exits 0 on an intact trail and prints streams and events', async () => {
    const r = await run(['audit', 'verify', path, '--key', HEX]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('streams: 2  events: 20');
    expect(r.stdout).toMatch(/api-1: ok, 12 events, head seq 12 [0-9a-f]{64}/);
    expect(r.stdout).toContain('result: intact');
  });

  it('exits 1 on a tampered line and names the stream, kind, seq and line', async () => {
    const lines = readFileSync(path, 'utf8').split('\n');
    // Line 9 is api-1's 5th event (lines alternate api-1, api-2).
    const event = JSON.parse(lines[8]!) as { chain: { stream: string; seq: number } };
    expect(event.chain).toMatchObject({ stream: 'api-1', seq: 5 });
    lines[8] = lines[8]!.replace('"outcome":"success"', '"outcome":"error"');
    const tampered = join(dir, 'tampered.ndjson');
    writeFileSync(tampered, lines.join('\n'));
    const r = await run(['audit', 'verify', tampered], { PHIGUARD_AUDIT_KEY: Buffer.from(KEY).toString('base64') });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/api-1: BROKEN, modified at seq 5 \(line 9\)/);
    expect(r.stdout).toMatch(/api-2: ok, 8 events/);
    expect(r.stdout).toContain('result: BROKEN (1 stream)');
  });

  it('exits 1 on a deleted line and reports the gap; --json gives the verdict', async () => {
    const lines = readFileSync(path, 'utf8').split('\n');
    lines.splice(3, 1); // api-2 seq 2
    const cut = join(dir, 'cut.ndjson');
    writeFileSync(cut, lines.join('\n'));
    const r = await run(['audit', 'verify', cut, '--key', HEX, '--json']);
    expect(r.code).toBe(1);
    const verdict = JSON.parse(r.stdout) as { ok: boolean; breaks: { stream: string; kind: string; seq: number; where: string }[] };
    expect(verdict.ok).toBe(false);
    expect(verdict.breaks).toEqual([expect.objectContaining({ stream: 'api-2', kind: 'deleted', seq: 2, where: 'line 5' })]);
  });

  it('detects a truncated tail against a checkpoint given with --heads', async () => {
    const checkpoint = join(dir, 'heads.json');
    const full = await run(['audit', 'verify', path, '--key', HEX, '--json']);
    writeFileSync(checkpoint, full.stdout);
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    const short = join(dir, 'short.ndjson');
    writeFileSync(short, lines.slice(0, -2).join('\n') + '\n');
    const r = await run(['audit', 'verify', short, '--key', HEX, '--heads', checkpoint]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/deleted at seq \d+ \(end of stream\)/);
  });

  it('verifies across a key rotation with several keys', async () => {
    const { randomBytes } = await import('node:crypto');
    const oldKey = randomBytes(32);
    const rotated = join(dir, 'rotated.ndjson');
    const file = createNdjsonFileSink({ path: rotated });
    await createChainSink(file, { key: oldKey, stream: 'before' }).write(sampleEvent(1));
    await createChainSink(file, { key: KEY, stream: 'after' }).write(sampleEvent(2));
    await file.close();
    expect((await run(['audit', 'verify', rotated, '--key', HEX])).code).toBe(1);
    expect((await run(['audit', 'verify', rotated, '--key', HEX, '--key', oldKey.toString('hex')])).code).toBe(0);
    expect((await run(['audit', 'verify', rotated], { PHIGUARD_AUDIT_KEY: `${HEX},${oldKey.toString('base64')}` })).code).toBe(0);
  });

  it('exits 2 on usage errors, with the usage', async () => {
    expect((await run(['audit', 'verify', path])).stderr).toMatch(/--key or the PHIGUARD_AUDIT_KEY/);
    expect((await run(['audit', 'verify', path])).code).toBe(2);
    expect((await run(['audit', 'verify', path, '--key', 'abc'])).code).toBe(2);
    expect((await run(['audit', 'verify', '--key', HEX])).code).toBe(2);
    expect((await run(['audit', 'verify', path, '--key', HEX, '--bogus'])).code).toBe(2);
    expect((await run(['audit', 'verify', join(dir, 'missing.ndjson'), '--key', HEX])).code).toBe(2);
    const unknown = await run(['audit', 'frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "audit frobnicate"');
    expect((await run([])).code).toBe(2);
    expect((await run(['--help'])).stdout).toContain('phiguard audit verify');
  });

  it('the bin entry is an executable script', () => {
    const bin = readFileSync(new URL('../../packages/cli/src/bin.ts', import.meta.url), 'utf8');
    expect(bin.startsWith('#!/usr/bin/env node\n')).toBe(true);
    const pkg = JSON.parse(readFileSync(new URL('../../packages/cli/package.json', import.meta.url), 'utf8')) as { bin: Record<string, string> };
    expect(pkg.bin).toEqual({ phiguard: './bin/phiguard.js' });
    // Committed (not built), so npm links it on the first install; it loads the built CLI.
    expect(readFileSync(new URL('../../packages/cli/bin/phiguard.js', import.meta.url), 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  it('npm links the bin on install, and the linked command runs', () => {
    const linked = fileURLToPath(new URL('../../node_modules/.bin/phiguard', import.meta.url));
    const help = spawnSync(linked, ['--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('phiguard audit verify');
  });
});

describe('phiguard audit verify <postgres://…>', () => {
  let pool: pg.Pool;
  const table = uniqueTable('audit_cli');
  beforeAll(async () => {
    pool = await testPool();
    const store = createPostgresAuditSink({ pool, table });
    await store.migrate();
    const a = createChainSink(store, { key: KEY, stream: 'pg-1' });
    const b = createChainSink(store, { key: KEY, stream: 'pg-2' });
    for (let i = 0; i < 10; i++) {
      await a.write(sampleEvent(i));
      await b.write(sampleEvent(i + 100));
    }
  });
  afterAll(async () => {
    if (pool === undefined) return; // beforeAll already failed loudly
    await pool.query(dropAuditTableSql(table));
    await pool.end();
  });

  it('exits 0 on an intact table', async () => {
    const r = await run(['audit', 'verify', PG_URL, '--table', table, '--key', HEX]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('streams: 2  events: 20');
  });

  it('exits 1 on a table tampered by someone able to bypass the trigger', async () => {
    await pool.query(`ALTER TABLE "${table}" DISABLE TRIGGER USER`);
    await pool.query(`UPDATE "${table}" SET event = jsonb_set(event, '{purposeOfUse}', '"HPAYMT"') WHERE stream = 'pg-2' AND seq = 4`);
    await pool.query(`DELETE FROM "${table}" WHERE stream = 'pg-1' AND seq = 7`);
    await pool.query(`ALTER TABLE "${table}" ENABLE TRIGGER USER`);
    const r = await run(['audit', 'verify', PG_URL, '--table', table, '--key', HEX]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/pg-1: BROKEN, deleted at seq 7 \(row 7 in stream\/seq order\)/);
    expect(r.stdout).toMatch(/pg-2: BROKEN, modified at seq 4 \(row 13 in stream\/seq order\)/);
    expect(r.stdout).toContain('result: BROKEN (2 streams)');
  });

  it('exits 2 when the server is unreachable, without printing a password', async () => {
    const r = await run(['audit', 'verify', 'postgres://u:secret@127.0.0.1:1/db', '--key', HEX]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('cannot connect');
    expect(r.stderr).not.toContain('secret');
  });
});
