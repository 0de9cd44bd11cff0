import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import {
  AccessDeniedError,
  AuditUnavailableError,
  DecryptError,
  OptionsError,
  type AccessContext,
  type AuditEvent,
} from '@phiguard/core';
import { createVault, type Vault } from '@phiguard/core/deid';

const PG_URL = process.env.PHIGUARD_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:55432/postgres';
const TABLE = `deid_vault_${randomBytes(4).toString('hex')}`;
const KEY = randomBytes(32);

const officer: AccessContext = { principal: { id: 'po-7' }, roles: ['privacy-officer'], purposeOfUse: 'HLEGAL' };
const clinician: AccessContext = { principal: { id: 'dr-1' }, roles: ['ordering-provider'], purposeOfUse: 'TREAT' };

let pool: pg.Pool;
const events: AuditEvent[] = [];
const sink = { write: (e: AuditEvent) => void events.push(e) };
let vault: Vault;

beforeAll(async () => {
  pool = new pg.Pool({ connectionString: PG_URL, max: 8, connectionTimeoutMillis: 5000 });
  try {
    await pool.query('SELECT 1');
  } catch (err) {
    // Fail loudly: the vault suite never skips.
    throw new Error(
      `PostgreSQL is unreachable at ${PG_URL} (${(err as Error).message}). Start it with \`scripts/services postgres\` ` +
        'or set PHIGUARD_TEST_PG_URL to a server where the tests may create tables.',
    );
  }
  vault = createVault({ pool, key: KEY, audit: sink, table: TABLE });
  await vault.migrate();
});

afterAll(async () => {
  await pool?.query(`DROP TABLE IF EXISTS "${TABLE}"`);
  await pool?.end();
});

describe('createVault on PostgreSQL', () => {
  it('migrate() is idempotent', async () => {
    await vault.migrate();
    const cols = await pool.query(`SELECT column_name FROM information_schema.columns WHERE table_name = $1 ORDER BY column_name`, [TABLE]);
    expect(cols.rows.map((r) => r['column_name'])).toEqual(['ciphertext', 'created_at', 'domain', 'lookup', 'patient_ref', 'token']);
  });

  it('tokenize is idempotent per (domain, value) and random across values and domains', async () => {
    const a = await vault.tokenize('912-48-3571', { domain: 'ssn' });
    expect(a).toMatch(/^vt_[A-Za-z0-9_-]{22}$/);
    expect(await vault.tokenize('912-48-3571', { domain: 'ssn' })).toBe(a);
    expect(await vault.tokenize('912-48-3572', { domain: 'ssn' })).not.toBe(a);
    expect(await vault.tokenize('912-48-3571', { domain: 'mrn' })).not.toBe(a);
    // A second vault on the same table and key finds the same token (the lookup is keyed, not random).
    expect(await createVault({ pool, key: KEY, audit: sink, table: TABLE }).tokenize('912-48-3571', { domain: 'ssn' })).toBe(a);
  });

  it('gives one token under concurrent first calls for the same value', async () => {
    const tokens = await Promise.all(Array.from({ length: 12 }, () => vault.tokenize('MRN00037731', { domain: 'race' })));
    expect(new Set(tokens).size).toBe(1);
    const rows = await pool.query(`SELECT count(*)::int AS n FROM "${TABLE}" WHERE domain = 'race'`);
    expect(rows.rows[0]!['n']).toBe(1);
  });

  it('stores the value only encrypted (no plaintext column, no plaintext bytes)', async () => {
    const token = await vault.tokenize('avery.sampleton@example.org', { domain: 'email' });
    const { rows } = await pool.query(`SELECT * FROM "${TABLE}" WHERE token = $1`, [token]);
    const row = rows[0]!;
    expect(JSON.stringify(row)).not.toContain('sampleton');
    expect((row['ciphertext'] as Buffer).includes(Buffer.from('sampleton'))).toBe(false);
    expect((row['lookup'] as Buffer).length).toBe(32);
  });

  it('re-identifies for the privacy officer and audits the disclosure with the token, never the value', async () => {
    const token = await vault.tokenize('912-48-3571', { domain: 'ssn' });
    events.length = 0;
    expect(await vault.reidentify(token, officer)).toBe('912-48-3571');
    expect(events).toHaveLength(1);
    const e = events[0]!;
    expect(e).toMatchObject({
      action: 'disclose',
      outcome: 'success',
      reason: 'reidentify',
      purposeOfUse: 'HLEGAL',
      actor: { id: 'po-7', roles: ['privacy-officer'] },
      resource: { type: 'VaultToken', id: token },
      disclosed: ['ssn'],
    });
    expect(JSON.stringify(e)).not.toContain('912-48');
  });

  it('denies a caller without the role, audits the denial, and throws AccessDeniedError', async () => {
    const token = await vault.tokenize('912-48-3571', { domain: 'ssn' });
    events.length = 0;
    const err = await vault.reidentify(token, clinician).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AccessDeniedError);
    expect((err as AccessDeniedError).reason).toBe('purpose_not_permitted');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ action: 'deny', outcome: 'denied', attemptedAction: 'disclose', reason: 'purpose_not_permitted', resource: { type: 'VaultToken', id: token } });
    expect(JSON.stringify(events[0])).not.toContain('912-48');
  });

  it('requires a purpose of use, and one the vault permits', async () => {
    const token = await vault.tokenize('912-48-3571', { domain: 'ssn' });
    await expect(vault.reidentify(token, { ...officer, purposeOfUse: null })).rejects.toMatchObject({ reason: 'purpose_required' });
    await expect(vault.reidentify(token, { ...officer, purposeOfUse: 'CURIOSITY' })).rejects.toMatchObject({ reason: 'purpose_unknown' });
    const strict = createVault({ pool, key: KEY, audit: sink, table: TABLE, purposes: ['HLEGAL'], reidentifyRole: 'dpo' });
    await expect(strict.reidentify(token, { ...officer, roles: ['dpo'], purposeOfUse: 'TREAT' })).rejects.toMatchObject({ reason: 'purpose_not_permitted' });
    await expect(strict.reidentify(token, officer)).rejects.toBeInstanceOf(AccessDeniedError);
    expect(await strict.reidentify(token, { ...officer, roles: ['dpo'] })).toBe('912-48-3571');
  });

  it('returns null for an unknown or malformed token, and audits the attempt', async () => {
    events.length = 0;
    expect(await vault.reidentify(`vt_${randomBytes(16).toString('base64url')}`, officer)).toBeNull();
    expect(await vault.reidentify('not a token; 912-48-3571', officer)).toBeNull();
    expect(events.map((e) => [e.outcome, e.reason])).toEqual([
      ['error', 'token_unknown'],
      ['error', 'token_malformed'],
    ]);
    expect(JSON.stringify(events)).not.toContain('912-48');
  });

  it('refuses a ciphertext moved to another token (the token is bound as AAD)', async () => {
    const a = await vault.tokenize('value-a', { domain: 'swap' });
    const b = await vault.tokenize('value-b', { domain: 'swap' });
    await pool.query(`UPDATE "${TABLE}" SET ciphertext = (SELECT ciphertext FROM "${TABLE}" WHERE token = $1) WHERE token = $2`, [a, b]);
    await expect(vault.reidentify(b, officer)).rejects.toBeInstanceOf(DecryptError);
    expect(await vault.reidentify(a, officer)).toBe('value-a');
  });

  it('refuses to decrypt under another key', async () => {
    const token = await vault.tokenize('912-48-3571', { domain: 'ssn' });
    const other = createVault({ pool, key: randomBytes(32), audit: sink, table: TABLE });
    await expect(other.reidentify(token, officer)).rejects.toMatchObject({ reason: 'authentication' });
  });

  it('returns nothing when the audit sink fails (fail closed)', async () => {
    const token = await vault.tokenize('912-48-3571', { domain: 'ssn' });
    const broken = createVault({ pool, key: KEY, table: TABLE, audit: { write: () => Promise.reject(new Error('disk full')) } });
    await expect(broken.reidentify(token, officer)).rejects.toBeInstanceOf(AuditUnavailableError);
  });

  it('Precondition: pool, 32-byte key, audit sink, a safe table name, known options', () => {
    expect(() => createVault({ pool, key: randomBytes(16), audit: sink })).toThrow(/32 random bytes/);
    expect(() => createVault({ pool, key: KEY } as never)).toThrow(/audit/);
    expect(() => createVault({ pool: {} as never, key: KEY, audit: sink })).toThrow(/pool/);
    expect(() => createVault({ pool, key: KEY, audit: sink, table: 'x; DROP TABLE y' })).toThrow(OptionsError);
    expect(() => createVault({ pool, key: KEY, audit: sink, table: 'Vault' })).toThrow(/lowercase/);
    expect(createVault({ pool, key: KEY, audit: sink, table: 'deid.tokens' }).table).toBe('"deid"."tokens"');
    expect(() => createVault({ pool, key: KEY, audit: sink, purposes: ['TREATS' as never] })).toThrow(/did you mean "TREAT"/);
    expect(() => createVault({ pool, key: KEY, audit: sink, tabel: 'x' } as never)).toThrow(/did you mean "table"/);
  });

  it('Precondition: tokenize needs a string value and a domain', async () => {
    await expect(vault.tokenize(42 as never, { domain: 'x' })).rejects.toThrow(OptionsError);
    await expect(vault.tokenize('x', {} as never)).rejects.toThrow(/domain/);
  });
});
