/**
 * Retention of the PostgreSQL audit table (45 CFR 164.316(b)(2)(i), 164.530(j)(2): six years):
 * a purge target that removes, per stream, the longest chain prefix that is past retention, not
 * held and verifies, after recording a keyed checkpoint that lets the rest of the stream verify.
 */
import { timingSafeEqual } from 'node:crypto';
import type { HeldRefs, PurgeCut, SweepPurgeTarget } from '../governance/retention.js';
import { option, optionsSchema } from '../options.js';
import { CHAIN_GENESIS, CHAIN_KEY_MIN_BYTES, chainHash, checkpointMac } from './chain.js';
import type { AuditEvent, ChainLink } from './event.js';
import { AUDIT_RETENTION_MIN_DAYS, poolRule, tableName, tableRule, type PgQueryable } from './postgres.js';

/** Options of {@link auditPurgeTarget}. */
export interface AuditPurgeTargetOptions {
  readonly pool: PgQueryable;
  /** The chain key: verifies the prefix before it is cut and keys the checkpoint. */
  readonly key: Uint8Array;
  /** The audit table (as given to `createPostgresAuditSink`). Default `phiguard_audit`. */
  readonly table?: string;
  /** Events read per round trip while verifying a prefix. Default 5000. */
  readonly pageSize?: number;
}

const OPTIONS = optionsSchema<AuditPurgeTargetOptions>('createAuditPurgeTarget', {
  pool: option.required(poolRule()),
  key: option.required(option.custom(`the chain key (at least ${CHAIN_KEY_MIN_BYTES} bytes)`, ['bytes'], (v) => (v as Uint8Array).length >= CHAIN_KEY_MIN_BYTES)),
  table: tableRule(),
  pageSize: option.atLeast(1, 'a positive integer'),
});

interface StreamPlan {
  stream: string;
  from_seq: string;
  from_hash: string | null;
  stop_seq: string | null;
  held_seq: string | null;
  max_seq: string;
}

/**
 * The audit table as a target of `createPurgeJob` (default retention six years, never less:
 * {@link AUDIT_RETENTION_MIN_DAYS}). For each stream it removes events from the last
 * checkpoint up to, not including, the first event that is too recent, names a held patient,
 * or does not verify; it never removes unchained events. Each cut is one call of the table's
 * purge function: the checkpoint and the delete commit together.
 *
 * @example
 * const job = createPurgeJob({ rules: [{ target: auditPurgeTarget({ pool, key: chainKey }) }], holds, audit });
 */
export function auditPurgeTarget(options: AuditPurgeTargetOptions): SweepPurgeTarget {
  const { pool, pageSize = 5000 } = OPTIONS.parse(options ?? null);
  const key = Buffer.from(options.key);
  const t = tableName(options.table);
  const { checkpoints: cp, purge: purgeFn } = t;

  // The longest verifying prefix of (from, limit]: the seq and hash of its last event.
  const verifiedPrefix = async (stream: string, from: number, fromHash: string, limit: number): Promise<{ seq: number; hash: string }> => {
    let seq = from;
    let prev = fromHash;
    let before = fromHash; // the hash at seq - 1
    let after: [string, string] = [String(from), '0'];
    for (;;) {
      const { rows } = await pool.query(
        `SELECT seq::text AS seq_key, pos::text AS pos_key, event FROM ${t.quoted} WHERE stream = $1 AND (seq, pos) > ($2::bigint, $3::bigint) AND seq <= $4 ORDER BY seq, pos LIMIT $5`,
        [stream, after[0], after[1], limit, pageSize],
      );
      const page = rows as { seq_key: string; pos_key: string; event: AuditEvent }[];
      for (const r of page) {
        const link = r.event.chain as ChainLink | undefined;
        let ok = false;
        try {
          ok = link !== undefined && timingSafeEqual(Buffer.from(chainHash(r.event, link, key), 'hex'), Buffer.from(link.hash, 'hex'));
        } catch {
          ok = false;
        }
        if (ok && link!.seq === seq + 1 && link!.prev === prev) {
          seq = link!.seq;
          before = prev;
          prev = link!.hash;
          continue;
        }
        // A break: cut before it (and before any other row claiming this seq), keeping the evidence.
        // Rows come by seq, so a break either claims the seq just accepted or a later one.
        return Number(r.seq_key) === seq ? { seq: seq - 1, hash: before } : { seq, hash: prev };
      }
      const last = page[page.length - 1];
      if (last === undefined || page.length < pageSize) return { seq, hash: prev };
      after = [last.seq_key, last.pos_key];
    }
  };

  return {
    name: `audit:${t.schema === null ? t.base : `${t.schema}.${t.base}`}`,
    defaultRetentionDays: AUDIT_RETENTION_MIN_DAYS,
    minRetentionDays: AUDIT_RETENTION_MIN_DAYS,
    async sweep(before: number, held: HeldRefs) {
      const cutoff = new Date(before).toISOString();
      const heldRefs = [...held.patientRefs];
      const { rows } = await pool.query(
        `WITH c AS (SELECT DISTINCT ON (stream) stream, seq, hash FROM ${cp} ORDER BY stream, seq DESC)
SELECT e.stream, coalesce(c.seq, 0)::text AS from_seq, c.hash AS from_hash,
  (min(e.seq) FILTER (WHERE e.time >= $1 OR e.patient_ref = ANY($2::text[])))::text AS stop_seq,
  (min(e.seq) FILTER (WHERE e.patient_ref = ANY($2::text[]) AND e.time < $1))::text AS held_seq,
  max(e.seq)::text AS max_seq
FROM ${t.quoted} e LEFT JOIN c ON c.stream = e.stream
WHERE e.stream <> '' AND e.seq > coalesce(c.seq, 0)
GROUP BY e.stream, c.seq, c.hash ORDER BY e.stream`,
        [cutoff, heldRefs],
      );
      let purged = 0;
      let heldCount = 0;
      const cuts: PurgeCut[] = [];
      for (const p of rows as StreamPlan[]) {
        const from = Number(p.from_seq);
        const limit = p.stop_seq === null ? Number(p.max_seq) : Number(p.stop_seq) - 1;
        if (p.held_seq !== null && p.held_seq === p.stop_seq) {
          // Kept for the hold: the held event and every expired one after it in its stream.
          const n = await pool.query(`SELECT count(*)::int AS n FROM ${t.quoted} WHERE stream = $1 AND seq >= $2::bigint AND time < $3`, [p.stream, p.stop_seq, cutoff]);
          heldCount += Number((n.rows[0] as { n: number }).n);
        }
        if (limit <= from) continue;
        const cut = await verifiedPrefix(p.stream, from, from === 0 ? CHAIN_GENESIS : p.from_hash!, limit);
        if (cut.seq <= from) continue;
        const mac = checkpointMac({ stream: p.stream, seq: cut.seq, hash: cut.hash, cutoff }, key);
        const done = await pool.query(`SELECT ${purgeFn}($1, $2::bigint, $3, $4::timestamptz, $5)::text AS n`, [p.stream, cut.seq, cut.hash, cutoff, mac]);
        purged += Number((done.rows[0] as { n: string }).n);
        cuts.push({ stream: p.stream, seq: cut.seq });
      }
      return { purged, held: heldCount, cuts };
    },
  };
}
