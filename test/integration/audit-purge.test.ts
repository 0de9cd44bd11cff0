/** The audit table under the retention job, on the real PostgreSQL server: whole chain prefixes purged, holds and recent events kept, the chain still verifying through keyed checkpoints, and every other change refused. */
import { randomBytes, randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuditEvent } from '@phiguard/core';
import { AUDIT_RETENTION_MIN_DAYS, auditWriterRoleSql, checkpointMac, createAuditPurgeTarget, createChainSink, createPostgresAuditSink, verifyChain, type ChainedAuditEvent } from '@phiguard/core/audit';
import { createLegalHolds, createPurgeJob, type PurgeAuditEvent } from '@phiguard/core/governance';
import { createMemoryStateStore } from '@phiguard/core/state';
import { seededRandom, dropAuditTableSql } from '@phiguard/core/testing';
import { main } from '../../packages/cli/src/main.js';
import { PG_URL, testPool, uniqueTable } from '../../packages/core/test/audit/pg.js';

const DAY = 86_400_000;
const table = uniqueTable('audit_purge_it');
const officer = { principal: { id: 'po-1' }, roles: ['privacy-officer'], purposeOfUse: 'HOPERAT' } as const;
const now = Date.now();
const clock = { now: () => now };
const key = randomBytes(32);
let pool: pg.Pool;

beforeAll(async () => {
  pool = await testPool();
});
afterAll(async () => {
  if (pool === undefined) return;
  await pool.query(
    dropAuditTableSql(table),
  );
  await pool.end();
});

const event = (ageDays: number, patientRef: string): AuditEvent => ({
  id: randomUUID(),
  time: new Date(now - ageDays * DAY).toISOString(),
  action: 'read',
  outcome: 'success',
  actor: { id: 'dr-1', roles: ['clinician'] },
  purposeOfUse: 'TREAT',
  patient: { ref: patientRef },
  resource: { type: 'Observation' },
});

const HELD = 'pt_held';
// Ages around the six-year line: past it, just past it, just inside it, recent.
const AGES = [3000, 2600, AUDIT_RETENTION_MIN_DAYS + 1, AUDIT_RETENTION_MIN_DAYS - 1, 30];

interface Layout {
  readonly stream: string;
  readonly ages: number[];
  readonly refs: string[];
}

async function readAll(sink: ReturnType<typeof createPostgresAuditSink>): Promise<ChainedAuditEvent[]> {
  const out: ChainedAuditEvent[] = [];
  for await (const e of sink.read({ pageSize: 7 })) out.push(e as ChainedAuditEvent);
  return out;
}

describe('createAuditPurgeTarget with createPurgeJob', () => {
  let store: ReturnType<typeof createPostgresAuditSink>;
  const layouts: Layout[] = [];

  beforeAll(async () => {
    store = createPostgresAuditSink({ pool, table });
    await store.migrate();
    await store.migrate(); // idempotent
    // Seeded, so a failing layout can be replayed.
    const next = seededRandom(20_261_207);
    for (let s = 0; s < 12; s++) {
      const stream = `app-${s}`;
      const n = 1 + Math.floor(next() * 10);
      const ages: number[] = [];
      const refs: string[] = [];
      // Mostly ageing order, with an occasional recent event among old ones (clock skew, late writes).
      for (let i = 0; i < n; i++) {
        ages.push(next() < 0.7 ? AGES[Math.min(AGES.length - 1, Math.floor(i / 3))]! : AGES[Math.floor(next() * AGES.length)]!);
        refs.push(next() < 0.12 ? HELD : `pt_${Math.floor(next() * 5)}`);
      }
      layouts.push({ stream, ages, refs });
      const chain = createChainSink(store, { key, stream });
      for (let i = 0; i < n; i++) await chain.write(event(ages[i]!, refs[i]!));
    }
    // A stream entirely past retention, and one without a chain (never purged).
    layouts.push({ stream: 'app-old', ages: [3000, 2900, 2800], refs: ['pt_1', 'pt_2', 'pt_3'] });
    const old = createChainSink(store, { key, stream: 'app-old' });
    for (const a of [3000, 2900, 2800]) await old.write(event(a, 'pt_1'));
    await store.write(event(3000, 'pt_9'));
  });

  // The model: a stream is cut before its first event that is inside retention or held.
  const expected = () =>
    layouts.map((l) => {
      const stop = l.ages.findIndex((a, i) => a <= AUDIT_RETENTION_MIN_DAYS || l.refs[i] === HELD);
      const cut = stop === -1 ? l.ages.length : stop;
      const heldKept = stop !== -1 && l.refs[stop] === HELD && l.ages[stop]! > AUDIT_RETENTION_MIN_DAYS ? l.ages.slice(stop).filter((a) => a > AUDIT_RETENTION_MIN_DAYS).length : 0;
      return { stream: l.stream, cut, kept: l.ages.length - cut, heldKept };
    });

  it('refuses a retention shorter than six years, and defaults to it', () => {
    const target = createAuditPurgeTarget({ pool, key, table });
    expect(target.defaultRetentionDays).toBe(AUDIT_RETENTION_MIN_DAYS);
    const audit = { write: () => undefined };
    expect(() => createPurgeJob({ rules: [{ target, retentionDays: AUDIT_RETENTION_MIN_DAYS - 1 }], audit })).toThrow(/at least 2192 days/);
    expect(() => createPurgeJob({ rules: [{ target, retentionDays: 365 }], audit })).toThrow(/at least/);
    expect(() => createPurgeJob({ rules: [{ target }], audit })).not.toThrow();
    expect(() => createAuditPurgeTarget({ pool, key: randomBytes(16), table })).toThrow(/chain key/);
    expect(() => createAuditPurgeTarget({ pool, key, table, pageSise: 3 } as never)).toThrow(/pageSize/);
  });

  it('purges whole expired prefixes, keeps held and recent events with what follows them, audits the run, and the chain still verifies', async () => {
    const before = await readAll(store);
    // Before any purge the table verifies from genesis.
    expect(verifyChain(before.filter((e) => e.chain !== undefined), { key }).ok).toBe(true);

    const events: AuditEvent[] = [];
    const audit = { write: (e: AuditEvent) => void events.push(e) };
    const holds = createLegalHolds({ store: createMemoryStateStore(), audit, patientRef: (id) => `pt_${id}`, roles: ['privacy-officer'], clock });
    await holds.place(officer, { id: 'litigation-1', patientId: 'held' });
    const job = createPurgeJob({ rules: [{ target: createAuditPurgeTarget({ pool, key, table, pageSize: 3 }) }], holds, audit, clock });
    const [report] = await job.run(officer);

    const want = expected();
    const cuts = want.filter((w) => w.cut > 0).map((w) => ({ stream: w.stream, seq: w.cut })).sort((a, b) => a.stream.localeCompare(b.stream));
    expect(report).toEqual({
      target: `audit:${table}`,
      cutoff: new Date(now - AUDIT_RETENTION_MIN_DAYS * DAY).toISOString(),
      purged: want.reduce((n, w) => n + w.cut, 0),
      held: want.reduce((n, w) => n + w.heldKept, 0),
      cuts,
    });
    expect(report!.held).toBeGreaterThan(0); // the seed places at least one hold in an expired prefix
    const after = await readAll(store);
    for (const w of want) {
      const left = after.filter((e) => e.chain?.stream === w.stream).map((e) => e.chain.seq);
      expect(left, w.stream).toEqual(Array.from({ length: w.kept }, (_, i) => w.cut + 1 + i));
    }
    expect(after.filter((e) => e.chain === undefined)).toHaveLength(1); // unchained: never purged

    // The run is audited: counts and cut points, no patient reference or event content.
    const purgeEvent = events.find((e) => e.reason === 'retention:purge') as PurgeAuditEvent;
    expect(purgeEvent).toMatchObject({ action: 'delete', resource: { type: 'retention', id: `audit:${table}` }, retention: report });
    expect(JSON.stringify(purgeEvent)).not.toMatch(/pt_/);

    // The rest verifies with the checkpoints, and does not without them (the prefixes are gone).
    const checkpoints = await store.checkpoints();
    expect(checkpoints.map((c) => ({ stream: c.stream, seq: c.seq }))).toEqual(cuts);
    const chained = after.filter((e) => e.chain !== undefined);
    const verdict = verifyChain(chained, { key, checkpoints });
    expect(verdict.breaks).toEqual([]);
    expect(verdict.ok).toBe(true);
    expect(verdict.heads.find((h) => h.stream === 'app-old')).toMatchObject({ seq: 3, events: 0 });
    const bare = verifyChain(chained, { key });
    expect(bare.ok).toBe(false);
    expect(bare.breaks.every((b) => b.kind === 'deleted')).toBe(true);

    // A deletion anywhere else is still reported: the first event after a cut, or one in the middle.
    const cutStream = want.find((w) => w.cut > 0 && w.kept >= 3)!;
    const rest = chained.filter((e) => e.chain.stream === cutStream.stream);
    const withoutFirst = chained.filter((e) => e !== rest[0]);
    expect(verifyChain(withoutFirst, { key, checkpoints }).breaks).toEqual([expect.objectContaining({ stream: cutStream.stream, kind: 'deleted', seq: cutStream.cut + 1 })]);
    const withoutMiddle = chained.filter((e) => e !== rest[1]);
    expect(verifyChain(withoutMiddle, { key, checkpoints }).breaks).toEqual([expect.objectContaining({ stream: cutStream.stream, kind: 'deleted', seq: cutStream.cut + 2 })]);

    // Idempotent: a second run removes nothing and writes no checkpoint.
    const [again] = await job.run(officer);
    expect(again).toMatchObject({ purged: 0, cuts: [] });
    expect(await readAll(store)).toHaveLength(after.length);
    expect(await store.checkpoints()).toHaveLength(checkpoints.length);

    // Releasing the hold lets the next run cut further, and the chain verifies again.
    await holds.release(officer, 'litigation-1');
    const [released] = await job.run(officer);
    expect(released!.purged).toBeGreaterThan(0);
    expect(verifyChain((await readAll(store)).filter((e) => e.chain !== undefined), { key, checkpoints: await store.checkpoints() }).ok).toBe(true);
  });

  it('still refuses every other UPDATE, DELETE and TRUNCATE, on events and checkpoints', async () => {
    const kept = await readAll(store);
    const expiredKept = kept.find((e) => Date.parse(e.time) < now - AUDIT_RETENTION_MIN_DAYS * DAY)!;
    const recent = kept.find((e) => Date.parse(e.time) > now - 100 * DAY)!;
    for (const id of [expiredKept.id, recent.id]) {
      await expect(pool.query(`DELETE FROM "${table}" WHERE id = $1`, [id])).rejects.toThrow(/append-only: DELETE refused/);
      await expect(pool.query(`UPDATE "${table}" SET action = 'create' WHERE id = $1`, [id])).rejects.toThrow(/append-only: UPDATE refused/);
    }
    await expect(pool.query(`DELETE FROM "${table}"`)).rejects.toThrow(/append-only/);
    await expect(pool.query(`TRUNCATE "${table}"`)).rejects.toThrow(/append-only: TRUNCATE refused/);
    await expect(pool.query(`DELETE FROM "${table}_checkpoints"`)).rejects.toThrow(/append-only: DELETE refused/);
    await expect(pool.query(`UPDATE "${table}_checkpoints" SET seq = seq + 1`)).rejects.toThrow(/append-only: UPDATE refused/);
    await expect(pool.query(`TRUNCATE "${table}_checkpoints"`)).rejects.toThrow(/append-only: TRUNCATE refused/);
    expect(await readAll(store)).toHaveLength(kept.length);
  });

  it('refuses a checkpoint that names no stored event, covers recent events or cuts inside six years; a forged one is reported by the verifier', async () => {
    const chain = createChainSink(store, { key, stream: 'forge' });
    for (const a of [3000, 2900, 2800, 10]) await chain.write(event(a, 'pt_2'));
    const rows = (await readAll(store)).filter((e) => e.chain?.stream === 'forge');
    const cutoff = new Date(now - AUDIT_RETENTION_MIN_DAYS * DAY).toISOString();
    const insert = (seq: number, hash: string, at: string, mac = 'f'.repeat(64)) =>
      pool.query(`INSERT INTO "${table}_checkpoints" (stream, seq, hash, cutoff, mac) VALUES ('forge', $1, $2, $3, $4)`, [seq, hash, at, mac]);
    await expect(insert(2, 'a'.repeat(64), cutoff)).rejects.toThrow(/no stored event/);
    await expect(insert(4, rows[3]!.chain.hash, cutoff)).rejects.toThrow(/newer than its cut-off/);
    await expect(insert(2, rows[1]!.chain.hash, new Date(now - 365 * DAY).toISOString())).rejects.toThrow(/less than 2192 days/);
    // Whoever may write checkpoints but lacks the chain key can still cut a valid prefix in the
    // database; the verifier then reports the stream as forged, not as fine.
    await pool.query(`SELECT "${table}_purge_prefix"('forge', 2, $1, $2, $3)`, [rows[1]!.chain.hash, cutoff, 'f'.repeat(64)]);
    await expect(insert(1, rows[0]!.chain.hash, cutoff)).rejects.toThrow(); // behind the last checkpoint; its event is gone too
    const checkpoints = await store.checkpoints();
    const left = (await readAll(store)).filter((e) => e.chain !== undefined);
    const verdict = verifyChain(left, { key, checkpoints });
    expect(verdict.breaks).toEqual([expect.objectContaining({ stream: 'forge', kind: 'forged', seq: 2 })]);
    // A checkpoint keyed with another key is as forged; one with the right key verifies.
    const genuine = checkpoints.find((c) => c.stream === 'forge')!;
    const other = { ...genuine, mac: checkpointMac(genuine, randomBytes(32)) };
    const fixed = { ...genuine, mac: checkpointMac(genuine, key) };
    const rest = checkpoints.filter((c) => c.stream !== 'forge');
    expect(verifyChain(left, { key, checkpoints: [...rest, other] }).breaks).toEqual([expect.objectContaining({ stream: 'forge', kind: 'forged' })]);
    expect(verifyChain(left, { key, checkpoints: [...rest, fixed] }).ok).toBe(true);
    // A genuine checkpoint moved to another seq or hash does not verify either.
    expect(verifyChain(left, { key, checkpoints: [...rest, { ...fixed, seq: 1 }] }).breaks[0]).toMatchObject({ stream: 'forge', kind: 'forged' });
  });

  it('does not cut through a tampered event: the purge stops before it and the verifier still reports it', async () => {
    const chain = createChainSink(store, { key, stream: 'tamper' });
    for (const a of [3000, 2990, 2980, 2970, 2960]) await chain.write(event(a, 'pt_3'));
    const genuine = (await readAll(store)).filter((e) => e.chain?.stream === 'tamper');
    // Someone who may only insert adds a made-up event claiming seq 3.
    const fake = { ...genuine[2]!, id: randomUUID(), action: 'create' as const };
    await store.write(fake);
    const audit = { write: () => undefined };
    const job = createPurgeJob({ rules: [{ target: createAuditPurgeTarget({ pool, key, table }) }], audit, clock });
    const [report] = await job.run(officer);
    expect(report!.cuts).toContainEqual({ stream: 'tamper', seq: 2 });
    const left = (await readAll(store)).filter((e) => e.chain?.stream === 'tamper');
    expect(left.map((e) => e.id)).toEqual([genuine[2]!.id, fake.id, genuine[3]!.id, genuine[4]!.id]);
    const verdict = verifyChain(left, { key, checkpoints: (await store.checkpoints()).filter((c) => c.stream === 'tamper') });
    expect(verdict.breaks).toEqual([expect.objectContaining({ stream: 'tamper', kind: 'forged', id: fake.id })]);
  });

  it('gives the writer role neither the checkpoint table nor the purge function', async () => {
    const role = `audit_writer_${randomBytes(3).toString('hex')}`;
    await pool.query(auditWriterRoleSql({ table, role }));
    const client = await pool.connect();
    try {
      await client.query(`SET ROLE "${role}"`);
      await expect(client.query(`INSERT INTO "${table}_checkpoints" (stream, seq, hash, cutoff, mac) VALUES ('x', 1, $1, now() - interval '7 years', $1)`, ['a'.repeat(64)])).rejects.toThrow(/permission denied/);
      await expect(client.query(`SELECT "${table}_purge_prefix"('x', 1, $1, now() - interval '7 years', $1)`, ['a'.repeat(64)])).rejects.toThrow(/permission denied/);
      await expect(client.query(`DELETE FROM "${table}"`)).rejects.toThrow(/permission denied/);
    } finally {
      await client.query('RESET ROLE').catch(() => undefined);
      client.release();
      await pool.query(`REVOKE ALL ON "${table}" FROM "${role}"; DROP ROLE IF EXISTS "${role}"`).catch(() => undefined);
    }
  });

  it('phiguard audit verify reads the checkpoints: ok after a purge, broken at a deletion past a cut', async () => {
    const run = async () => {
      let stdout = '';
      const code = await main(['audit', 'verify', PG_URL, '--table', table, '--key', key.toString('hex'), '--json'], { out: (t) => void (stdout += t), err: (t) => void (stdout += t), env: {} });
      return { code, verdict: JSON.parse(stdout) as { ok: boolean; breaks: { stream: string; kind: string }[] } };
    };
    // Earlier tests left a forged checkpoint ('forge'), a made-up event ('tamper') and an unchained
    // event: exactly those break; every purged stream verifies.
    const r = await run();
    expect(r.code).toBe(1);
    expect(r.verdict.breaks.map((b) => [b.stream, b.kind]).sort()).toEqual([['', 'inserted'], ['forge', 'forged'], ['tamper', 'forged']]);
    // Someone bypassing the trigger removes the first event after a cut: reported as deleted. (A
    // stream's last events removed leave no trace but against a head checkpointed elsewhere, `--heads`.)
    const { rows } = await pool.query(
      `SELECT c.stream, c.seq::int AS seq FROM (SELECT stream, max(seq) AS seq FROM "${table}_checkpoints" GROUP BY stream) c JOIN "${table}" e ON e.stream = c.stream AND e.seq = c.seq + 2 WHERE c.stream LIKE 'app-%' ORDER BY c.stream LIMIT 1`,
    );
    const cp = rows[0] as { stream: string; seq: number };
    await pool.query(`ALTER TABLE "${table}" DISABLE TRIGGER USER`);
    const gone = await pool.query(`DELETE FROM "${table}" WHERE stream = $1 AND seq = $2`, [cp.stream, cp.seq + 1]);
    await pool.query(`ALTER TABLE "${table}" ENABLE TRIGGER USER`);
    expect(gone.rowCount).toBe(1);
    const after = await run();
    expect(after.verdict.breaks.filter((b) => b.stream.startsWith('app-'))).toEqual([expect.objectContaining({ stream: cp.stream, kind: 'deleted', seq: cp.seq + 1 })]);
  });
});
