import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accountingOfDisclosures, createPostgresAuditSink, type PostgresAuditSink } from '@phiguard/core/audit';
import { trail } from '../../packages/core/test/audit/fixtures.js';
import { testPool, uniqueTable } from '../../packages/core/test/audit/pg.js';
import { dropAuditTableSql } from '@phiguard/core/testing';

let pool: pg.Pool;
let store: PostgresAuditSink;
const table = uniqueTable('audit_acc');
const statements: string[] = [];
const events = trail();

beforeAll(async () => {
  pool = await testPool();
  store = createPostgresAuditSink({ pool: { query: (t: string, v?: unknown[]) => (statements.push(t), pool.query(t, v)) }, table });
  await store.migrate();
  await store.writeBatch(events);
});
afterAll(async () => {
  if (pool === undefined) return; // beforeAll already failed loudly
  await pool.query(dropAuditTableSql(table));
  await pool.end();
});

describe('accountingOfDisclosures over PostgreSQL', () => {
  it('answers with one SQL query by patient_ref and time range, the same list as over the events', async () => {
    statements.length = 0;
    const query = { patientRef: 'pt_patient-a', from: '2026-01-01T00:00:00Z', to: '2027-01-01T00:00:00Z' };
    const fromPg = await accountingOfDisclosures(store, query);
    expect(statements).toHaveLength(1);
    expect(statements[0]).toMatch(/WHERE patient_ref = \$1 AND time >= \$2 AND time < \$3 AND outcome = 'success'/);
    expect(fromPg).toEqual(await accountingOfDisclosures(events, query));
    expect(fromPg.map((r) => [r.action, r.who.id, r.purposeOfUse])).toEqual([
      ['disclose', 'insurer-7', 'HPAYMT'],
      ['export', 'researcher-2', 'HRESCH'],
      ['read', 'dr-who', 'TREAT'],
    ]);
  });

  it('uses the patient/time index', async () => {
    await pool.query('SET enable_seqscan = off');
    const { rows } = await pool.query(`EXPLAIN SELECT event FROM "${table}" WHERE patient_ref = 'x' AND time >= now() - interval '6 years' AND time < now()`);
    await pool.query('SET enable_seqscan = on');
    expect(JSON.stringify(rows)).toContain(`${table}_patient_time`);
  });
});
