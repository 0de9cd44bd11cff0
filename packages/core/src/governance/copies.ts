/**
 * Encrypted copies of what was released, so that the exact bytes behind a disclosure's digest
 * can be produced later (an accounting request, a complaint, a breach assessment). Ciphertext
 * only: the field cipher encrypts before the store sees anything.
 */
import type { PgQueryable } from '../audit/postgres.js';
import { option, optionsSchema } from '../options.js';
import type { PurgeCandidate, PurgeTarget } from './retention.js';

/** One kept copy. */
export interface DisclosureCopy {
  readonly id: string;
  readonly patientRef: string;
  /** Epoch ms. */
  readonly createdAt: number;
  readonly ciphertext: string;
}

/** Where copies are kept; also a purge target of the retention job. */
export interface DisclosureCopyStore extends PurgeTarget {
  put(copy: DisclosureCopy): Promise<void>;
  get(id: string): Promise<DisclosureCopy | null>;
}

/** Copies in process memory (one instance, tests). */
export class MemoryDisclosureCopyStore implements DisclosureCopyStore {
  readonly name = 'disclosure-copies';
  readonly #copies = new Map<string, DisclosureCopy>();
  async put(copy: DisclosureCopy) {
    this.#copies.set(copy.id, { ...copy });
  }
  async get(id: string) {
    return this.#copies.get(id) ?? null;
  }
  async candidates(before: number, limit: number): Promise<PurgeCandidate[]> {
    const out: PurgeCandidate[] = [];
    for (const c of this.#copies.values()) {
      if (out.length === limit) break;
      if (c.createdAt < before) out.push({ id: c.id, patientRef: c.patientRef, createdAt: c.createdAt });
    }
    return out;
  }
  async remove(ids: readonly string[]) {
    let n = 0;
    for (const id of ids) if (this.#copies.delete(id)) n++;
    return n;
  }
}

const IDENT = /^[a-z_][a-z0-9_]{0,62}$/;

/** Options of {@link postgresDisclosureCopyStore}. */
export interface PostgresCopyStoreOptions {
  readonly pool: PgQueryable;
  /** Table name. Default `phiguard_disclosure_copies`. */
  readonly table?: string;
}

const COPY_OPTIONS = optionsSchema<PostgresCopyStoreOptions>('createPostgresDisclosureCopyStore', {
  pool: option.required(option.implementing<PgQueryable>('a pg.Pool (or any object with query(text, values))', 'query')),
  table: option.string('a lowercase SQL identifier', (v) => IDENT.test(v)),
});

/** A PostgreSQL copy store; `migrate()` creates its table. */
export function postgresDisclosureCopyStore(options: PostgresCopyStoreOptions): DisclosureCopyStore & { migrate(): Promise<void> } {
  const { pool, table = 'phiguard_disclosure_copies' } = COPY_OPTIONS.parse(options ?? null);
  const t = `"${table}"`;
  return {
    name: 'disclosure-copies',
    async migrate() {
      await pool.query(
        `CREATE TABLE IF NOT EXISTS ${t} (id text PRIMARY KEY, patient_ref text NOT NULL, created_at timestamptz NOT NULL, ciphertext text NOT NULL);
         CREATE INDEX IF NOT EXISTS "${table}_created" ON ${t} (created_at)`,
      );
    },
    async put(copy) {
      await pool.query(`INSERT INTO ${t} (id, patient_ref, created_at, ciphertext) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING`, [
        copy.id,
        copy.patientRef,
        new Date(copy.createdAt).toISOString(),
        copy.ciphertext,
      ]);
    },
    async get(id) {
      const { rows } = await pool.query(`SELECT id, patient_ref, created_at, ciphertext FROM ${t} WHERE id = $1`, [id]);
      const r = rows[0] as { id: string; patient_ref: string; created_at: Date; ciphertext: string } | undefined;
      return r === undefined ? null : { id: r.id, patientRef: r.patient_ref, createdAt: new Date(r.created_at).getTime(), ciphertext: r.ciphertext };
    },
    async candidates(before, limit) {
      const { rows } = await pool.query(`SELECT id, patient_ref, created_at FROM ${t} WHERE created_at < $1 ORDER BY created_at LIMIT $2`, [new Date(before).toISOString(), limit]);
      return (rows as { id: string; patient_ref: string; created_at: Date }[]).map((r) => ({ id: r.id, patientRef: r.patient_ref, createdAt: new Date(r.created_at).getTime() }));
    },
    async remove(ids) {
      if (ids.length === 0) return 0;
      const r = await pool.query(`DELETE FROM ${t} WHERE id = ANY($1::text[])`, [ids]);
      return r.rowCount ?? 0;
    },
  };
}

/** A {@link DisclosureCopyStore} in process memory (one instance, tests). */
export function createMemoryDisclosureCopyStore(): DisclosureCopyStore {
  return new MemoryDisclosureCopyStore();
}
