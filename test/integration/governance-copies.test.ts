/** The PostgreSQL store of release copies, on the real server: as a copy store and as a purge target. */
import { describe, expect, it } from 'vitest';
import { type AuditEvent } from '@phiguard/core';
import { createLegalHolds, createPurgeJob, createPostgresDisclosureCopyStore } from '@phiguard/core/governance';
import { createMemoryStateStore } from '@phiguard/core/state';
import { pgSuite } from '../../packages/core/test/audit/pg.js';

const DAY = 86_400_000;
const { table, pool: poolOf } = pgSuite('gov_copies_it');

describe('createPostgresDisclosureCopyStore', () => {
  it('migrates idempotently, keeps ciphertext only, returns candidates oldest first, and purges in batches around held records', async () => {
    const pool = poolOf();
    const store = createPostgresDisclosureCopyStore({ pool, table });
    await store.migrate();
    await store.migrate();
    const t0 = Date.parse('2025-01-01T00:00:00Z');
    for (let i = 0; i < 25; i++) await store.put({ id: `c${String(i).padStart(2, '0')}`, patientRef: `pt_${i % 3}`, createdAt: t0 + (25 - i) * DAY, ciphertext: `pg1.${i}` });
    await store.put({ id: 'c00', patientRef: 'pt_x', createdAt: t0, ciphertext: 'other' }); // same id: kept as first written
    expect(await store.get('c00')).toEqual({ id: 'c00', patientRef: 'pt_0', createdAt: t0 + 25 * DAY, ciphertext: 'pg1.0' });
    expect(await store.get('nope')).toBeNull();
    const oldest = await store.candidates(t0 + 5 * DAY, 100);
    expect(oldest.map((c) => c.id)).toEqual(['c24', 'c23', 'c22', 'c21']);

    const events: AuditEvent[] = [];
    const audit = { write: (e: AuditEvent) => void events.push(e) };
    const now = () => t0 + 40 * DAY;
    const holds = createLegalHolds({ store: createMemoryStateStore(), audit, patientRef: (id) => `pt_${id}`, roles: ['po'], clock: { now } });
    await holds.place({ principal: { id: 'po-1' }, roles: ['po'] }, { id: 'h', patientId: 1 });
    const job = createPurgeJob({ rules: [{ target: store, retentionDays: 20 }], holds, audit, clock: { now }, batch: 3 });
    const [report] = await job.run({ principal: { id: 'po-1' }, roles: ['po'] });
    // Created before day 20: i = 6…24 (19 copies); those of pt_1 are held.
    const expired = Array.from({ length: 25 }, (_, i) => i).filter((i) => t0 + (25 - i) * DAY < t0 + 20 * DAY);
    const held = expired.filter((i) => i % 3 === 1);
    expect(report).toMatchObject({ purged: expired.length - held.length, held: held.length });
    const { rows } = await pool.query(`SELECT id FROM "${table}" ORDER BY id`);
    const left = (rows as { id: string }[]).map((r) => r.id);
    const expectedLeft = Array.from({ length: 25 }, (_, i) => i).filter((i) => !expired.includes(i) || held.includes(i)).map((i) => `c${String(i).padStart(2, '0')}`);
    expect(left).toEqual(expectedLeft);
    expect(events.at(-1)).toMatchObject({ action: 'delete', reason: 'retention:purge', retention: { target: 'disclosure-copies' } });
    expect(() => createPostgresDisclosureCopyStore({ pool, table: 'Bad-Name' })).toThrow(/identifier/);
  });
});
