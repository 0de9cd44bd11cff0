/** Vault tokens under the retention job, on the real PostgreSQL server: expired removed, held and recent kept, the run audited. */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type AuditEvent } from '@phiguard/core';
import { createVault } from '@phiguard/core/deid';
import { createLegalHolds, createPurgeJob } from '@phiguard/core/governance';
import { createMemoryStateStore } from '@phiguard/core/state';
import { pgSuite } from '../../packages/core/test/audit/pg.js';

const DAY = 86_400_000;
const { table, pool: poolOf } = pgSuite('gov_vault_it');
const officer = { principal: { id: 'po-1' }, roles: ['privacy-officer'], purposeOfUse: 'HOPERAT' } as const;

describe('vault.purgeTarget with createPurgeJob', () => {
  it('removes tokens past retention, keeps held and recent ones, and records the run', async () => {
    const pool = poolOf();
    const events: AuditEvent[] = [];
    const audit = { write: (e: AuditEvent) => void events.push(e) };
    const vault = createVault({ pool, key: randomBytes(32), audit, table });
    await vault.migrate();
    await vault.migrate();
    // Ages in days, and whose value each token is (pt_0 will be on hold).
    const ages = [400, 380, 370, 366, 200, 10, 0, 399, 398];
    const tokens: string[] = [];
    for (const [i, age] of ages.entries()) {
      const token = await vault.tokenize(`value-${i}`, { domain: 'mrn', patientRef: `pt_${i % 3}` });
      tokens.push(token);
      await pool.query(`UPDATE "${table}" SET created_at = now() - make_interval(days => $1) WHERE token = $2`, [age, token]);
    }
    // A token without a patient reference is purged like any other.
    const anonymous = await vault.tokenize('free-standing', { domain: 'ssn' });
    await pool.query(`UPDATE "${table}" SET created_at = now() - interval '500 days' WHERE token = $1`, [anonymous]);
    await expect(vault.tokenize('x', { domain: 'mrn', patientRef: '' })).rejects.toThrow(/patientRef/);

    const now = Date.now();
    const holds = createLegalHolds({ store: createMemoryStateStore(), audit, patientRef: (id) => `pt_${id}`, roles: ['privacy-officer'], clock: { now: () => now } });
    await holds.place(officer, { id: 'litigation-1', patientId: 0 });
    const job = createPurgeJob({ rules: [{ target: vault.purgeTarget(), retentionDays: 365 }], holds, audit, clock: { now: () => now }, batch: 2 });
    const [report] = await job.run(officer);

    const expired = ages.map((a, i) => [a, i] as const).filter(([a]) => a > 365).map(([, i]) => i);
    const held = expired.filter((i) => i % 3 === 0);
    expect(report).toMatchObject({ target: `vault:${table}`, purged: expired.length - held.length + 1, held: held.length });
    const { rows } = await pool.query(`SELECT token FROM "${table}"`);
    const left = new Set((rows as { token: string }[]).map((r) => r.token));
    for (const [i, token] of tokens.entries()) expect(left.has(token), `token ${i} (age ${ages[i]})`).toBe(!expired.includes(i) || held.includes(i));
    expect(left.has(anonymous)).toBe(false);
    // A purged token re-identifies to nothing; a kept one still does.
    const purged = tokens[expired.find((i) => !held.includes(i))!]!;
    expect(await vault.reidentify(purged, { ...officer, purposeOfUse: 'HLEGAL' })).toBeNull();
    expect(await vault.reidentify(tokens[0]!, { ...officer, purposeOfUse: 'HLEGAL' })).toBe('value-0');
    // The purge is documented: store, cut-off and counts, no token.
    const run = events.find((e) => e.reason === 'retention:purge')!;
    expect(run).toMatchObject({ action: 'delete', actor: { id: 'po-1' }, resource: { type: 'retention', id: `vault:${table}` } });
    expect(JSON.stringify(run)).not.toContain('vt_');
    // Idempotent: a second run finds only the held tokens.
    const [again] = await job.run(officer);
    expect(again).toMatchObject({ purged: 0, held: held.length });
  });
});
