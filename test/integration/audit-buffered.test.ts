import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditUnavailableError, createPhiGuard, definePolicy, type AuditEvent } from '@phiguard/core';
import { createBufferedSink, createChainSink, createPostgresAuditSink, verifyChain } from '@phiguard/core/audit';
import { KEY, sampleEvent } from '../../packages/core/test/audit/fixtures.js';
import { pgProxy, testPool, uniqueTable } from '../../packages/core/test/audit/pg.js';
import { dropAuditTableSql } from '@phiguard/core/testing';

let admin: pg.Pool;
const table = uniqueTable('audit_buf');

beforeAll(async () => {
  admin = await testPool();
  await createPostgresAuditSink({ pool: admin, table }).migrate();
});
afterAll(async () => {
  if (admin === undefined) return; // beforeAll already failed loudly
  await admin.query(dropAuditTableSql(table));
  await admin.end();
});

const storedOf = async (stream: string): Promise<AuditEvent[]> =>
  (await admin.query(`SELECT event FROM "${table}" WHERE stream = $1 ORDER BY seq, pos`, [stream])).rows.map((r: { event: AuditEvent }) => r.event);

describe('buffered delivery into a real PostgreSQL', () => {
  it('store down mid-stream: writes succeed until the buffer is full, then throw; recovery drains in order with no loss and no duplicate', async () => {
    const proxy = await pgProxy();
    const pool = new pg.Pool({ connectionString: proxy.url, max: 2, connectionTimeoutMillis: 500 });
    pool.on('error', () => undefined);
    const errors: unknown[] = [];
    const buffered = createBufferedSink(createPostgresAuditSink({ pool, table }), {
      maxBuffer: 300,
      maxBatch: 50,
      flushIntervalMs: 5,
      retryMinMs: 20,
      retryMaxMs: 200,
      onError: (e) => errors.push(e),
    });
    const sink = createChainSink(buffered, { key: KEY, stream: 'buffered-outage' });
    const written: AuditEvent[] = [];
    try {
      for (let i = 0; i < 120; i++) {
        const e = sampleEvent(i);
        expect(sink.write(e)).toBeUndefined();
        written.push(e);
      }
      await buffered.flush();
      expect(await storedOf('buffered-outage')).toHaveLength(120);

      await proxy.down();
      let accepted = 0;
      let refusal: unknown;
      for (let i = 120; i < 1000; i++) {
        const e = sampleEvent(i);
        try {
          sink.write(e);
          written.push(e);
          accepted++;
        } catch (err) {
          refusal = err;
          break;
        }
        if (i % 50 === 0) await new Promise((r) => setTimeout(r, 10)); // let deliveries fail meanwhile
      }
      expect(accepted).toBe(300);
      expect(refusal).toBeInstanceOf(AuditUnavailableError);
      expect(errors.length).toBeGreaterThan(0);
      expect(buffered.stats()).toMatchObject({ buffered: 300, refused: 1 });
      expect(sink.head().seq).toBe(420); // the refused event took no link

      await proxy.up();
      await buffered.flush({ timeoutMs: 15_000 });
      const stored = await storedOf('buffered-outage');
      expect(stored.map((e) => e.id)).toEqual(written.map((e) => e.id));
      expect(new Set(stored.map((e) => e.id)).size).toBe(420);
      expect(verifyChain(stored, { key: KEY })).toMatchObject({ ok: true, events: 420, duplicates: 0 });
    } finally {
      await buffered.close({ timeoutMs: 5000 }).catch(() => undefined);
      await pool.end();
      await proxy.close();
    }
  });

  it('a batch that reached the store but whose acknowledgement was lost is retried without duplicates', async () => {
    let loseAck = 2;
    const flaky = {
      async query(text: string, values?: unknown[]) {
        const r = await admin.query(text, values);
        if (text.startsWith('INSERT') && loseAck-- > 0) throw new Error('connection reset after commit');
        return r;
      },
    };
    const buffered = createBufferedSink(createPostgresAuditSink({ pool: flaky, table }), { maxBatch: 25, flushIntervalMs: 1, retryMinMs: 5 });
    const sink = createChainSink(buffered, { key: KEY, stream: 'lost-ack' });
    for (let i = 0; i < 100; i++) sink.write(sampleEvent(i));
    await buffered.close();
    const stored = await storedOf('lost-ack');
    expect(stored).toHaveLength(100);
    expect(buffered.stats()).toMatchObject({ delivered: 100, failures: 2 });
    expect(verifyChain(stored, { key: KEY }).ok).toBe(true);
  });

  it('the engine refuses PHI (AuditUnavailableError, 503) when the buffer is full, and releases it again after recovery', async () => {
    const proxy = await pgProxy();
    const pool = new pg.Pool({ connectionString: proxy.url, max: 1, connectionTimeoutMillis: 500 });
    pool.on('error', () => undefined);
    const buffered = createBufferedSink(createPostgresAuditSink({ pool, table }), { maxBuffer: 3, flushIntervalMs: 1, retryMinMs: 10, retryMaxMs: 50 });
    const guard = createPhiGuard({
      policy: definePolicy({
        roles: ['clinician'],
        resources: { Note: { subject: 'patientId', fields: { patientId: 'direct-identifier', text: 'clinical' }, disclose: { clinician: { TREAT: { '*': 'send' } } } } },
      }),
      audit: createChainSink(buffered, { key: KEY, stream: 'engine' }),
      secret: 'phiguard-test-secret-0123456789abcdef',
      mode: 'production',
    });
    const ctx = { principal: { id: 'dr-1' }, roles: ['clinician'], purposeOfUse: 'TREAT' };
    const serve = () => {
      const d = guard.authorize(ctx, 'Note', 'read');
      if (d.effect !== 'allow') throw new Error('expected allow');
      return guard.release(d.plan, { patientId: 'p-1', text: 'ok' }, ctx, 'read');
    };
    try {
      await proxy.down();
      for (let i = 0; i < 3; i++) expect(serve().pending).toBeUndefined(); // async mode: nothing to await
      let err: unknown;
      try {
        serve();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(AuditUnavailableError);
      expect((err as AuditUnavailableError).status).toBe(503);
      await proxy.up();
      await buffered.flush({ timeoutMs: 10_000 });
      expect(serve().value).toEqual({ patientId: 'p-1', text: 'ok' });
      await buffered.flush();
      expect(await storedOf('engine')).toHaveLength(4);
    } finally {
      await buffered.close({ timeoutMs: 5000 }).catch(() => undefined);
      await pool.end();
      await proxy.close();
    }
  });
});
