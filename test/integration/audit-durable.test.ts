/**
 * createDurableSink shipping to a real PostgreSQL (scripts/services postgres): NDJSON text stored as
 * written, the store going down and coming back (through a proxy that cuts every connection),
 * shipping resumed after a restart without duplicates, and the trail verifying with the CLI.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuditEvent } from '@phiguard/core';
import { canonicalJson, createDurableSink, createPostgresAuditSink } from '@phiguard/core/audit';
import { main as cli } from '../../packages/cli/src/main.js';
import { KEY, sampleEvent } from '../../packages/core/test/audit/fixtures.js';
import { pgProxy, PG_URL, testPool, uniqueTable } from '../../packages/core/test/audit/pg.js';
import { dropAuditTableSql } from '@phiguard/core/testing';

let pool: pg.Pool;
const tables: string[] = [];
const dirs: string[] = [];
const KEY_HEX = Buffer.from(KEY).toString('hex');

beforeAll(async () => {
  pool = await testPool(4);
});
afterAll(async () => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  if (pool === undefined) return;
  for (const t of tables) await pool.query(dropAuditTableSql(t)).catch(() => undefined);
  await pool.end();
});

async function store(p: pg.Pool = pool) {
  const table = uniqueTable('audit_durable');
  tables.push(table);
  const s = createPostgresAuditSink({ pool: p, table });
  await s.migrate();
  return { s, table };
}
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'phiguard-durable-pg-'));
  dirs.push(d);
  return d;
};
const rows = async (table: string) =>
  (await pool.query<{ id: string; seq: string; event: AuditEvent }>(`SELECT id, seq::text, event FROM "${table}" ORDER BY pos`)).rows;

async function verify(table: string): Promise<{ code: number; out: string }> {
  const out: string[] = [];
  const code = await cli(['audit', 'verify', PG_URL, '--table', table, '--key', KEY_HEX], {
    out: (s: string) => void out.push(s),
    err: (s: string) => void out.push(s),
    env: {},
  });
  return { code, out: out.join('') };
}

describe('createDurableSink → PostgreSQL', () => {
  it('writeLines stores NDJSON as written, in order, once per id (a repeated shipment stores nothing)', async () => {
    const { s, table } = await store();
    const events = Array.from({ length: 30 }, (_, i) => sampleEvent(i));
    const text = events.map((e) => canonicalJson(e) + '\n').join('');
    await s.writeLines(text);
    await s.writeLines(text);
    await s.writeLines('');
    const stored = await rows(table);
    expect(stored.map((r) => r.id)).toEqual(events.map((e) => e.id));
    expect(stored.map((r) => r.event)).toEqual(events.map((e) => JSON.parse(JSON.stringify(e))));
    await expect(s.writeLines('{"not":"an event"}\n')).rejects.toThrow();
  });

  it('PostgreSQL down, then back: responses keep being committed locally, and the backlog is stored once', async () => {
    const proxy = await pgProxy();
    const proxied = new pg.Pool({ connectionString: proxy.url, max: 2, connectionTimeoutMillis: 1000 });
    proxied.on('error', () => undefined);
    try {
      const { s, table } = await store(proxied);
      const failures: string[] = [];
      const sink = createDurableSink({ key: KEY, dir: tempDir(), ship: s, retryMinMs: 20, retryMaxMs: 100, onError: (_e, i) => void failures.push(i.phase) });
      for (let i = 0; i < 20; i++) await sink.write(sampleEvent(i));
      await sink.drain();
      await proxy.down();
      for (let i = 20; i < 60; i++) await sink.write(sampleEvent(i)); // each resolves: on local disk
      expect(sink.stats().backlogBytes).toBeGreaterThan(0);
      await proxy.up();
      await sink.drain({ timeoutMs: 20_000 });
      expect(failures).toContain('ship');
      await sink.close();
      const stored = await rows(table);
      expect(stored).toHaveLength(60);
      expect(stored.map((r) => Number(r.seq))).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
      expect(await verify(table)).toMatchObject({ code: 0 });
    } finally {
      await proxied.end().catch(() => undefined);
      await proxy.close();
    }
  }, 60_000);

  it('a restart that re-ships what PostgreSQL already holds (acknowledgement lost) stores no event twice; the chain verifies across it', async () => {
    const { s, table } = await store();
    const dir = tempDir();
    const first = createDurableSink({ key: KEY, dir, ship: s });
    for (let i = 0; i < 40; i++) await first.write(sampleEvent(i));
    await first.close();
    // As if killed after the store committed a shipment and before the acknowledgement was saved.
    const ack = JSON.parse(readFileSync(join(dir, 'shipped.json'), 'utf8')) as { offset: number };
    writeFileSync(join(dir, 'shipped.json'), JSON.stringify({ ...ack, offset: 0 }));
    const again = createDurableSink({ key: KEY, dir, ship: s });
    expect(again.recovery.head.seq).toBe(40);
    for (let i = 40; i < 50; i++) await again.write(sampleEvent(i));
    await again.close();
    expect(again.stats().shipped).toBe(50);
    const stored = await rows(table);
    expect(stored).toHaveLength(50);
    expect(new Set(stored.map((r) => r.id)).size).toBe(50);
    const verdict = await verify(table);
    expect(verdict.code).toBe(0);
    expect(verdict.out).toMatch(/streams: 1 {2}events: 50 {2}duplicates ignored: 0/);
  });
});
