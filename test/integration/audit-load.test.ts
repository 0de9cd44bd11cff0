import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuditEvent } from '@phiguard/core';
import { createBufferedSink, createChainSink, createChainVerifier, createPostgresAuditSink } from '@phiguard/core/audit';
import { KEY, sampleEvent } from '../../packages/core/test/audit/fixtures.js';
import { testPool, uniqueTable } from '../../packages/core/test/audit/pg.js';
import { dropAuditTableSql } from '@phiguard/core/testing';

let pool: pg.Pool;
const table = uniqueTable('audit_load');

beforeAll(async () => {
  pool = await testPool(8);
  await createPostgresAuditSink({ pool, table }).migrate();
});
afterAll(async () => {
  if (pool === undefined) return; // beforeAll already failed loudly
  await pool.query(dropAuditTableSql(table));
  await pool.end();
});

describe('audit under load', () => {
  it('10,000 events from 4 instances through buffered → PostgreSQL: all stored once, in order, chains verify', async () => {
    const N = 10_000;
    const instances = Array.from({ length: 4 }, (_, i) => {
      const buffered = createBufferedSink(createPostgresAuditSink({ pool, table }), { maxBuffer: N, maxBatch: 500, flushIntervalMs: 5 });
      return { buffered, sink: createChainSink(buffered, { key: KEY, stream: `load-${i}` }) };
    });
    const ids = new Set<string>();
    const started = performance.now();
    for (let i = 0; i < N; i++) {
      const e: AuditEvent = sampleEvent(i);
      ids.add(e.id);
      instances[i % 4]!.sink.write(e);
      // Yield now and then, as a server between requests, so deliveries run meanwhile.
      if (i % 1000 === 999) await new Promise((r) => setImmediate(r));
    }
    const accepted = performance.now();
    await Promise.all(instances.map((x) => x.buffered.close()));
    const elapsed = performance.now() - started;
    const perSecond = Math.round(N / (elapsed / 1000));
    console.info(`audit load: ${N} events accepted in ${(accepted - started).toFixed(0)} ms, stored in ${elapsed.toFixed(0)} ms (${perSecond} events/s into PostgreSQL, batches of 500)`);

    const { rows } = await pool.query(`SELECT count(*)::int AS n, count(DISTINCT id)::int AS d FROM "${table}"`);
    expect(rows[0]).toEqual({ n: N, d: N });
    const verifier = createChainVerifier({ key: KEY });
    let read = 0;
    for await (const e of createPostgresAuditSink({ pool, table }).read({ pageSize: 3000 })) {
      expect(ids.has(e.id)).toBe(true);
      verifier.add(e);
      read++;
    }
    expect(read).toBe(N);
    const verdict = verifier.verdict();
    expect(verdict).toMatchObject({ ok: true, streams: 4, events: N, duplicates: 0, breaks: [] });
    expect(verdict.heads.map((h) => h.seq)).toEqual([2500, 2500, 2500, 2500]);
    expect(instances.every((x) => x.buffered.stats().delivered === 2500)).toBe(true);
    expect(perSecond).toBeGreaterThan(1000);
  }, 120_000);
});
