/**
 * PostgreSQL audit store: an append-only table (45 CFR 164.312(b), 164.316(b)(2) retention),
 * idempotent batched inserts, and the queries the verifier and the accounting of disclosures
 * need. Takes any pool-like object (`pg.Pool`, a client); core never imports `pg`.
 */
import { OptionsError } from '../errors.js';
import { option, optionsSchema } from '../options.js';
import type { ChainCheckpoint, ChainHead } from './chain.js';
import type { AuditAction, AuditBatchSink, AuditEvent, AuditLineSink } from './event.js';

/** The subset of `pg.Pool` (or `pg.Client`) the store uses. */
export interface PgQueryable {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[]; rowCount?: number | null }>;
}

/** Options of {@link postgresAuditSink}. */
export interface PostgresAuditSinkOptions {
  readonly pool: PgQueryable;
  /** Table name, optionally schema-qualified (`audit.events`). Default `phiguard_audit`. */
  readonly table?: string;
  /** Rows per INSERT statement in a batch (≤ 5000). Default 500. */
  readonly batchRows?: number;
}

/** Query of {@link PostgresAuditSink.disclosures}. */
export interface DisclosureQuery {
  readonly patientRef: string;
  /** Inclusive lower bound (ISO-8601 or Date). */
  readonly from?: string | Date;
  /** Exclusive upper bound. */
  readonly to?: string | Date;
  readonly actions?: readonly AuditAction[];
}

/** A PostgreSQL audit sink and store. */
export interface PostgresAuditSink extends AuditBatchSink, AuditLineSink {
  /** The quoted table name. */
  readonly table: string;
  /** Creates the table, indexes and append-only triggers if missing (idempotent, safe to run concurrently). */
  migrate(): Promise<void>;
  /** The last chain link stored for `stream` (to resume it after a restart), or null. */
  head(stream: string): Promise<ChainHead | null>;
  /** Every stored event, by stream then seq then insertion: the order `verifyChain` wants. Paged by keyset. */
  read(options?: { readonly pageSize?: number }): AsyncGenerator<AuditEvent>;
  /** Successful events about one patient in a time range, by time. */
  disclosures(query: DisclosureQuery): Promise<AuditEvent[]>;
  /** The retention checkpoints of `auditPurgeTarget`, for `verifyChain({ checkpoints })`; [] before any purge. */
  checkpoints(): Promise<ChainCheckpoint[]>;
}

/** Shortest retention the audit purge accepts, in days: six years with their leap days (45 CFR 164.316(b)(2)(i)). */
export const AUDIT_RETENTION_MIN_DAYS = 2192;

const IDENT = /^[a-z_][a-z0-9_]{0,62}$/;

const qualify = (schema: string | null, name: string): string => (schema === null ? `"${name}"` : `"${schema}"."${name}"`);

/** A validated table name: its quoted form, schema and base name, and the store's other objects, qualified. */
export interface StoreNames {
  readonly quoted: string;
  readonly schema: string | null;
  readonly base: string;
  /** The append-only checkpoint table. */
  readonly checkpoints: string;
  /** The trigger function refusing UPDATE, TRUNCATE and uncovered DELETE on the table. */
  readonly appendOnly: string;
  /** The trigger function checking a checkpoint insert. */
  readonly checkpointCheck: string;
  /** The trigger function keeping the checkpoint table append-only. */
  readonly checkpointsAppendOnly: string;
  /** The purge function (checkpoint + prefix delete in one call). */
  readonly purge: string;
}

export function tableName(table: string | undefined): StoreNames {
  const name = table ?? 'phiguard_audit';
  const parts = typeof name === 'string' ? name.split('.') : [];
  /* Precondition: the table name is one or two lowercase SQL identifiers. */
  if (parts.length < 1 || parts.length > 2 || !parts.every((p) => IDENT.test(p))) {
    throw new OptionsError('the audit table must be a lowercase SQL identifier, optionally schema-qualified (`audit.events`)');
  }
  const base = parts[parts.length - 1]!;
  const schema = parts.length === 2 ? parts[0]! : null;
  const q = (suffix: string) => qualify(schema, `${base}_${suffix}`);
  return {
    quoted: parts.map((p) => `"${p}"`).join('.'),
    schema,
    base,
    checkpoints: q('checkpoints'),
    appendOnly: q('append_only'),
    checkpointCheck: q('checkpoint_check'),
    checkpointsAppendOnly: q('checkpoints_append_only'),
    purge: q('purge_prefix'),
  };
}


/**
 * DDL removing what {@link auditTableSql} created for `table`: the table, its checkpoint table,
 * their triggers and functions. For test suites and benchmarks that create a store per run; an
 * audit trail in use is subject to retention, not to this.
 */
export function dropAuditTableSql(table?: string): string {
  const t = tableName(table);
  return `DROP TABLE IF EXISTS ${t.quoted}, ${t.checkpoints} CASCADE;
DROP FUNCTION IF EXISTS ${t.appendOnly}(), ${t.checkpointCheck}(), ${t.checkpointsAppendOnly}(), ${t.purge}(text, bigint, text, timestamptz, text);`;
}

/**
 * DDL for the audit table: columns for querying (stream, seq, time, action, outcome,
 * patient_ref, actor) plus the full event as jsonb; the event id as primary key (idempotent
 * inserts); a trigger refusing UPDATE, TRUNCATE and any DELETE not covered by a retention
 * checkpoint, whoever runs them; the append-only checkpoint table, whose inserts are checked
 * (a stored event's hash, older than the cut-off, cut-off at least six years ago); and the
 * purge function writing a checkpoint and deleting the prefix it covers in one call. Idempotent.
 */
export function auditTableSql(table?: string): string {
  const t = tableName(table);
  const { appendOnly: fn, checkpoints: cp, checkpointCheck: cpCheck, checkpointsAppendOnly: cpFn, purge } = t;
  return `
CREATE TABLE IF NOT EXISTS ${t.quoted} (
  id text PRIMARY KEY,
  stream text NOT NULL DEFAULT '',
  seq bigint NOT NULL DEFAULT 0,
  time timestamptz NOT NULL,
  action text NOT NULL,
  outcome text NOT NULL,
  patient_ref text,
  actor text,
  event jsonb NOT NULL,
  pos bigint GENERATED ALWAYS AS IDENTITY,
  inserted_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX IF NOT EXISTS "${t.base}_stream_seq" ON ${t.quoted} (stream, seq, pos);
CREATE INDEX IF NOT EXISTS "${t.base}_patient_time" ON ${t.quoted} (patient_ref, time);
CREATE INDEX IF NOT EXISTS "${t.base}_actor_time" ON ${t.quoted} (actor, time);
CREATE TABLE IF NOT EXISTS ${cp} (
  stream text NOT NULL,
  seq bigint NOT NULL,
  hash text NOT NULL,
  cutoff timestamptz NOT NULL,
  mac text NOT NULL,
  purged bigint NOT NULL DEFAULT 0,
  at timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (stream, seq)
);
-- A row may be deleted only when a checkpoint of its stream covers it (seq at or below the
-- checkpoint, time before its cut-off); UPDATE and TRUNCATE are always refused.
CREATE OR REPLACE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $phiguard$
BEGIN
  IF TG_OP = 'DELETE' AND EXISTS (SELECT 1 FROM ${cp} c WHERE c.stream = OLD.stream AND c.seq >= OLD.seq AND OLD.time < c.cutoff) THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'audit table %.% is append-only: % refused', TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'insufficient_privilege',
          HINT = 'audit events are removed only by the retention purge, after a checkpoint of their stream';
END
$phiguard$;
DROP TRIGGER IF EXISTS "${t.base}_no_update_delete" ON ${t.quoted};
CREATE TRIGGER "${t.base}_no_update_delete" BEFORE UPDATE OR DELETE ON ${t.quoted}
  FOR EACH ROW EXECUTE FUNCTION ${fn}();
DROP TRIGGER IF EXISTS "${t.base}_no_truncate" ON ${t.quoted};
CREATE TRIGGER "${t.base}_no_truncate" BEFORE TRUNCATE ON ${t.quoted}
  FOR EACH STATEMENT EXECUTE FUNCTION ${fn}();
-- A checkpoint must name a stored event by its hash, follow the stream's last checkpoint, cover
-- only events older than its cut-off, and the cut-off must be at least the retention floor ago.
CREATE OR REPLACE FUNCTION ${cpCheck}() RETURNS trigger LANGUAGE plpgsql AS $phiguard$
BEGIN
  IF NEW.cutoff > now() - interval '${AUDIT_RETENTION_MIN_DAYS} days' THEN
    RAISE EXCEPTION 'audit checkpoint refused: the cut-off is less than ${AUDIT_RETENTION_MIN_DAYS} days ago' USING ERRCODE = 'check_violation';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM ${t.quoted} e WHERE e.stream = NEW.stream AND e.seq = NEW.seq AND e.event->'chain'->>'hash' = NEW.hash) THEN
    RAISE EXCEPTION 'audit checkpoint refused: no stored event has this stream, seq and hash' USING ERRCODE = 'check_violation';
  END IF;
  IF EXISTS (SELECT 1 FROM ${cp} c WHERE c.stream = NEW.stream AND c.seq >= NEW.seq) THEN
    RAISE EXCEPTION 'audit checkpoint refused: the stream already has a checkpoint at or after this seq' USING ERRCODE = 'check_violation';
  END IF;
  IF EXISTS (SELECT 1 FROM ${t.quoted} e WHERE e.stream = NEW.stream AND e.seq <= NEW.seq AND e.time >= NEW.cutoff) THEN
    RAISE EXCEPTION 'audit checkpoint refused: it would cover events newer than its cut-off' USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END
$phiguard$;
CREATE OR REPLACE FUNCTION ${cpFn}() RETURNS trigger LANGUAGE plpgsql AS $phiguard$
BEGIN
  RAISE EXCEPTION 'audit checkpoints %.% are append-only: % refused', TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END
$phiguard$;
DROP TRIGGER IF EXISTS "${t.base}_checkpoint_check" ON ${cp};
CREATE TRIGGER "${t.base}_checkpoint_check" BEFORE INSERT ON ${cp} FOR EACH ROW EXECUTE FUNCTION ${cpCheck}();
DROP TRIGGER IF EXISTS "${t.base}_checkpoint_no_update_delete" ON ${cp};
CREATE TRIGGER "${t.base}_checkpoint_no_update_delete" BEFORE UPDATE OR DELETE ON ${cp} FOR EACH ROW EXECUTE FUNCTION ${cpFn}();
DROP TRIGGER IF EXISTS "${t.base}_checkpoint_no_truncate" ON ${cp};
CREATE TRIGGER "${t.base}_checkpoint_no_truncate" BEFORE TRUNCATE ON ${cp} FOR EACH STATEMENT EXECUTE FUNCTION ${cpFn}();
-- The purge of one stream prefix: the checkpoint and the delete in one transaction (one call).
CREATE OR REPLACE FUNCTION ${purge}(p_stream text, p_seq bigint, p_hash text, p_cutoff timestamptz, p_mac text) RETURNS bigint LANGUAGE plpgsql AS $phiguard$
DECLARE n bigint;
BEGIN
  INSERT INTO ${cp} (stream, seq, hash, cutoff, mac) VALUES (p_stream, p_seq, p_hash, p_cutoff, p_mac);
  DELETE FROM ${t.quoted} WHERE stream = p_stream AND seq <= p_seq;
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END
$phiguard$;
REVOKE ALL ON ${t.quoted} FROM PUBLIC;
REVOKE ALL ON ${cp} FROM PUBLIC;
REVOKE ALL ON FUNCTION ${purge}(text, bigint, text, timestamptz, text) FROM PUBLIC;
`;
}

/**
 * SQL creating (if missing) a NOLOGIN role that may only INSERT and SELECT on the audit table.
 * Grant it to the application's login role (`GRANT phiguard_audit_writer TO app;`); keep the
 * table owned by another role, so the application can neither change rows nor drop the triggers.
 */
export function auditWriterRoleSql(options: { readonly table?: string; readonly role?: string } = {}): string {
  const t = tableName(options.table);
  const role = options.role ?? 'phiguard_audit_writer';
  if (!IDENT.test(role)) throw new OptionsError('the writer role must be a lowercase SQL identifier');
  const schemaGrant = t.schema === null ? '' : `GRANT USAGE ON SCHEMA "${t.schema}" TO "${role}";\n`;
  return `
DO $phiguard$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${role}') THEN
    CREATE ROLE "${role}" NOLOGIN;
  END IF;
END $phiguard$;
${schemaGrant}REVOKE ALL ON ${t.quoted} FROM "${role}";
GRANT INSERT, SELECT ON ${t.quoted} TO "${role}";
`;
}

/** @internal The `table` option of the audit table's factories. */
export const tableRule = () =>
  option.string('a lowercase SQL identifier, optionally schema-qualified (`audit.events`)', (v) => {
    const parts = v.split('.');
    return parts.length <= 2 && parts.every((p) => IDENT.test(p));
  });
/** @internal The `pool` option of the PostgreSQL factories. */
export const poolRule = () => option.implementing<PgQueryable>('a pg.Pool (or any object with query(text, values))', 'query');
const PG_OPTIONS = optionsSchema<PostgresAuditSinkOptions>('createPostgresAuditSink', {
  pool: option.required(poolRule()),
  table: tableRule(),
  batchRows: option.integer(1, 5000),
});
const COLUMNS = 9;

function toTime(v: string | Date | undefined, fallback: string): string {
  if (v === undefined) return fallback;
  const d = v instanceof Date ? v : new Date(v);
  if (Number.isNaN(d.getTime())) throw new OptionsError('`from` and `to` must be ISO-8601 dates');
  return d.toISOString();
}

/**
 * An audit sink inserting into PostgreSQL. `write` inserts one row; `writeBatch` inserts many
 * with multi-row INSERTs in one transaction-free statement each (`batchRows` rows per
 * statement), in order. `ON CONFLICT (id) DO NOTHING` makes a retried batch harmless, so
 * delivery is at-least-once without duplicates.
 */
export function postgresAuditSink(options: PostgresAuditSinkOptions): PostgresAuditSink {
  const { pool, batchRows = 500 } = PG_OPTIONS.parse(options ?? null);
  const t = tableName(options.table);
  const insertSql = (rows: number): string => {
    const tuples: string[] = [];
    for (let r = 0; r < rows; r++) {
      const b = r * COLUMNS;
      tuples.push(`($${b + 1},$${b + 2},$${b + 3},$${b + 4},$${b + 5},$${b + 6},$${b + 7},$${b + 8},$${b + 9}::jsonb)`);
    }
    return `INSERT INTO ${t.quoted} (id, stream, seq, time, action, outcome, patient_ref, actor, event) VALUES ${tuples.join(',')} ON CONFLICT (id) DO NOTHING`;
  };
  const fullSql = insertSql(batchRows);
  const params = (e: AuditEvent, out: unknown[]): void => {
    /* Precondition: an event has a string id and a valid time; anything else is not recorded. */
    if (e === null || typeof e !== 'object' || typeof e.id !== 'string' || e.id === '' || Number.isNaN(Date.parse(e.time))) {
      throw new TypeError('not an audit event: it needs an id and an ISO-8601 time');
    }
    out.push(
      e.id,
      e.chain?.stream ?? '',
      e.chain?.seq ?? 0,
      e.time,
      e.action,
      e.outcome,
      e.patient?.ref ?? null,
      e.actor?.id ?? null,
      JSON.stringify(e),
    );
  };
  const writeBatch = async (events: readonly AuditEvent[]): Promise<void> => {
    for (let i = 0; i < events.length; i += batchRows) {
      const chunk = events.slice(i, i + batchRows);
      const values: unknown[] = [];
      for (const e of chunk) params(e, values);
      await pool.query(chunk.length === batchRows ? fullSql : insertSql(chunk.length), values);
    }
  };
  // NDJSON text goes to the server as one text parameter, as written: PostgreSQL splits and
  // parses it (no re-serialization here, one statement per chunk). Lines keep their order.
  // OFFSET 0 keeps the subquery from being flattened, which would parse each line once per
  // column read from it (nine times) instead of once: 4× the cost, measured.
  const linesSql = `INSERT INTO ${t.quoted} (id, stream, seq, time, action, outcome, patient_ref, actor, event)
SELECT e->>'id', coalesce(e->'chain'->>'stream', ''), coalesce((e->'chain'->>'seq')::bigint, 0), (e->>'time')::timestamptz,
  e->>'action', e->>'outcome', e->'patient'->>'ref', e->'actor'->>'id', e
FROM (SELECT l::jsonb AS e, n FROM string_to_table($1, E'\\n') WITH ORDINALITY AS s(l, n) WHERE l <> '' OFFSET 0) AS x
ORDER BY n
ON CONFLICT (id) DO NOTHING`;
  return {
    table: t.quoted,
    write: (event) => writeBatch([event]),
    writeBatch,
    async writeLines(ndjson: string) {
      if (typeof ndjson !== 'string') throw new TypeError('writeLines takes NDJSON text');
      if (ndjson.length > 0) await pool.query(linesSql, [ndjson]);
    },
    async migrate() {
      // One multi-statement query runs as one implicit transaction (all or nothing, and no
      // half-open transaction left on a pooled connection), serialized across instances by an
      // advisory lock held until it ends.
      await pool.query(`SELECT pg_advisory_xact_lock(hashtext('phiguard_audit_migrate'));\n${auditTableSql(options.table)}`);
    },
    async head(stream: string) {
      const { rows } = await pool.query(
        `SELECT seq, event->'chain'->>'hash' AS hash FROM ${t.quoted} WHERE stream = $1 ORDER BY seq DESC, pos DESC LIMIT 1`,
        [stream],
      );
      const row = rows[0] as { seq: string | number; hash: string | null } | undefined;
      return row === undefined || row.hash === null ? null : { stream, seq: Number(row.seq), hash: row.hash };
    },
    async *read(readOptions = {}) {
      const pageSize = readOptions.pageSize ?? 5000;
      let after: [string, string, string] | null = null;
      for (;;) {
        const res: { rows: unknown[] } = after === null
          ? await pool.query(`SELECT stream, seq::text AS seq_key, pos::text AS pos_key, event FROM ${t.quoted} ORDER BY stream, seq, pos LIMIT $1`, [pageSize])
          : await pool.query(
              `SELECT stream, seq::text AS seq_key, pos::text AS pos_key, event FROM ${t.quoted} WHERE (stream, seq, pos) > ($1, $2::bigint, $3::bigint) ORDER BY stream, seq, pos LIMIT $4`,
              [...after, pageSize],
            );
        // Keys travel as text: bigint beyond 2^53 must not round.
        const rows = res.rows as { stream: string; seq_key: string; pos_key: string; event: AuditEvent }[];
        for (const r of rows) yield r.event;
        const last = rows[rows.length - 1];
        if (last === undefined || rows.length < pageSize) return;
        after = [last.stream, last.seq_key, last.pos_key];
      }
    },
    async disclosures(query: DisclosureQuery) {
      const actions = query.actions ?? ['read', 'disclose', 'export'];
      const { rows } = await pool.query(
        `SELECT event FROM ${t.quoted} WHERE patient_ref = $1 AND time >= $2 AND time < $3 AND outcome = 'success' AND action = ANY($4::text[]) ORDER BY time, id`,
        [query.patientRef, toTime(query.from, '-infinity'), toTime(query.to, 'infinity'), actions],
      );
      return (rows as { event: AuditEvent }[]).map((r) => r.event);
    },
    async checkpoints() {
      const cp = t.checkpoints;
      const exists = await pool.query('SELECT to_regclass($1) IS NOT NULL AS ok', [cp]);
      if ((exists.rows[0] as { ok: boolean } | undefined)?.ok !== true) return [];
      const { rows } = await pool.query(`SELECT stream, seq::text AS seq, hash, cutoff, mac FROM ${cp} ORDER BY stream, seq`);
      return (rows as { stream: string; seq: string; hash: string; cutoff: Date | string; mac: string }[]).map((r) => ({
        stream: r.stream,
        seq: Number(r.seq),
        hash: r.hash,
        cutoff: new Date(r.cutoff).toISOString(),
        mac: r.mac,
      }));
    },
  };
}
