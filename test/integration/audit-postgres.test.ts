import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditTableSql, auditWriterRoleSql, createChainSink, createPostgresAuditSink, verifyChain } from '@phiguard/core/audit';
import { KEY, sampleEvent } from '../../packages/core/test/audit/fixtures.js';
import { testPool, uniqueTable } from '../../packages/core/test/audit/pg.js';
import { dropAuditTableSql } from '@phiguard/core/testing';

let pool: pg.Pool;
const table = uniqueTable('audit_pg');
const role = uniqueTable('audit_writer');

beforeAll(async () => {
  pool = await testPool();
});
afterAll(async () => {
  if (pool === undefined) return; // beforeAll already failed loudly
  await pool.query(`${dropAuditTableSql(table)}; DROP ROLE IF EXISTS "${role}"`);
  await pool.end();
});

const count = async (): Promise<number> => Number(((await pool.query(`SELECT count(*)::int AS n FROM "${table}"`)).rows[0] as { n: number }).n);

describe('createPostgresAuditSink on a real PostgreSQL', () => {
  it('dropAuditTableSql removes every table, trigger and function the migration created, and nothing else', async () => {
    const scratch = uniqueTable('audit_drop');
    const objects = async () => {
      const tables = await pool.query(`SELECT relname FROM pg_class WHERE relname LIKE $1`, [`${scratch}%`]);
      const functions = await pool.query(`SELECT proname FROM pg_proc WHERE proname LIKE $1`, [`${scratch}%`]);
      const triggers = await pool.query(`SELECT tgname FROM pg_trigger WHERE tgname LIKE $1`, [`${scratch}%`]);
      return [...tables.rows.map((r: { relname: string }) => r.relname), ...functions.rows.map((r: { proname: string }) => r.proname), ...triggers.rows.map((r: { tgname: string }) => r.tgname)];
    };
    await createPostgresAuditSink({ pool, table: scratch }).migrate();
    const created = await objects();
    expect(created).toEqual(expect.arrayContaining([scratch, `${scratch}_checkpoints`, `${scratch}_append_only`, `${scratch}_purge_prefix`]));
    await pool.query(dropAuditTableSql(scratch));
    expect(await objects()).toEqual([]);
  });

  it('migrates idempotently, also when instances migrate at once', async () => {
    const sink = createPostgresAuditSink({ pool, table });
    await Promise.all([sink.migrate(), sink.migrate(), sink.migrate()]);
    await sink.migrate();
    const { rows } = await pool.query(`SELECT column_name FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position`, [table]);
    expect(rows.map((r: { column_name: string }) => r.column_name)).toEqual([
      'id', 'stream', 'seq', 'time', 'action', 'outcome', 'patient_ref', 'actor', 'event', 'pos', 'inserted_at',
    ]);
  });

  it('stores the full event as jsonb with query columns, and reads it back verifiable', async () => {
    const sink = createPostgresAuditSink({ pool, table });
    const chained = createChainSink(sink, { key: KEY, stream: 'pg-a' });
    const events = Array.from({ length: 5 }, (_, i) => sampleEvent(i));
    for (const e of events) await chained.write(e);
    const { rows } = await pool.query(`SELECT stream, seq::int, time, action, outcome, patient_ref, actor, event FROM "${table}" WHERE stream = 'pg-a' ORDER BY seq`);
    expect(rows).toHaveLength(5);
    const row = rows[2] as Record<string, unknown>;
    expect(row).toMatchObject({ stream: 'pg-a', seq: 3, action: events[2]!.action, outcome: 'success', patient_ref: events[2]!.patient!.ref, actor: events[2]!.actor.id });
    expect((row.time as Date).toISOString()).toBe(events[2]!.time);
    expect((row.event as { id: string }).id).toBe(events[2]!.id);
    const read = [];
    for await (const e of sink.read()) read.push(e);
    expect(verifyChain(read, { key: KEY })).toMatchObject({ ok: true, events: 5 });
    expect(await sink.head('pg-a')).toEqual({ stream: 'pg-a', seq: 5, hash: chained.head().hash });
    expect(await sink.head('nope')).toBeNull();
  });

  it('ignores duplicates: the same event id inserted again is a no-op (idempotent retries)', async () => {
    const sink = createPostgresAuditSink({ pool, table });
    const before = await count();
    const e = sampleEvent(10);
    await sink.write(e);
    await sink.write(e);
    await sink.writeBatch([e, sampleEvent(11), e]);
    expect(await count()).toBe(before + 2);
  });

  it('batches: many events in multi-row INSERTs, in order, all stored', async () => {
    const statements: string[] = [];
    const spy = { query: (text: string, values?: unknown[]) => (statements.push(text), pool.query(text, values)) };
    const sink = createPostgresAuditSink({ pool: spy, table, batchRows: 100 });
    const chained = createChainSink(sink, { key: KEY, stream: 'pg-batch' });
    const events = Array.from({ length: 250 }, (_, i) => sampleEvent(i));
    // Chain them in order, then store the chained copies in one batch.
    const captured: Parameters<typeof sink.write>[0][] = [];
    const capture = createChainSink({ write: (e) => void captured.push(e) }, { key: KEY, stream: 'pg-batch' });
    for (const e of events) capture.write(e);
    await sink.writeBatch(captured);
    expect(statements).toHaveLength(3);
    expect(statements[0]!.match(/\),\(/g)).toHaveLength(99);
    const { rows } = await pool.query(`SELECT count(*)::int AS n, min(seq)::int AS lo, max(seq)::int AS hi FROM "${table}" WHERE stream = 'pg-batch'`);
    expect(rows[0]).toEqual({ n: 250, lo: 1, hi: 250 });
    expect(chained.head().seq).toBe(0);
  });

  it('is append-only: UPDATE, DELETE and TRUNCATE are rejected even for the owner', async () => {
    await expect(pool.query(`UPDATE "${table}" SET outcome = 'error'`)).rejects.toThrow(/append-only: UPDATE refused/);
    await expect(pool.query(`DELETE FROM "${table}" WHERE seq = 1`)).rejects.toThrow(/append-only: DELETE refused/);
    await expect(pool.query(`TRUNCATE "${table}"`)).rejects.toThrow(/append-only: TRUNCATE refused/);
    const rejected = await pool.query(`UPDATE "${table}" SET outcome = 'error'`).catch((e: { code?: string }) => e.code);
    expect(rejected).toBe('42501');
    expect(await count()).toBeGreaterThan(0);
  });

  it('the writer role may INSERT and SELECT only', async () => {
    await pool.query(auditWriterRoleSql({ table, role }));
    await pool.query(auditWriterRoleSql({ table, role })); // idempotent
    const client = await pool.connect();
    try {
      await client.query(`SET ROLE "${role}"`);
      const sink = createPostgresAuditSink({ pool: client, table });
      await sink.write(sampleEvent(30));
      expect((await client.query(`SELECT count(*) FROM "${table}"`)).rows).toHaveLength(1);
      await expect(client.query(`UPDATE "${table}" SET outcome = 'error'`)).rejects.toThrow(/permission denied/);
      await expect(client.query(`DELETE FROM "${table}"`)).rejects.toThrow(/permission denied/);
      await expect(client.query(`TRUNCATE "${table}"`)).rejects.toThrow(/permission denied/);
      await expect(client.query(`ALTER TABLE "${table}" DISABLE TRIGGER ALL`)).rejects.toThrow(/must be owner/);
      await expect(client.query(`DROP TABLE "${table}"`)).rejects.toThrow(/must be owner/);
    } finally {
      await client.query('RESET ROLE');
      client.release();
    }
  });

  it('rejects what is not an event and validates options and names', async () => {
    const sink = createPostgresAuditSink({ pool, table });
    await expect(sink.write({ ...sampleEvent(1), id: '' })).rejects.toThrow(/not an audit event/);
    expect(() => createPostgresAuditSink({ pool, table: 'Robert"); DROP TABLE x;--' })).toThrow(/lowercase SQL identifier/);
    expect(() => createPostgresAuditSink({ pool, tabel: 'x' } as never)).toThrow(/did you mean "table"/);
    expect(() => createPostgresAuditSink({} as never)).toThrow(/needs `pool`/);
    expect(auditTableSql('audit.events')).toContain('"audit"."events"');
  });
});
