/**
 * Token vault: replaces a value by a random token (`vt_…`) and keeps the value, encrypted with
 * AES-256-GCM, in a PostgreSQL table, so that a privacy officer can re-identify it later, with an
 * audit record of every attempt. Random tokens carry nothing derived from the value
 * (45 CFR 164.514(c)).
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { AccessDeniedError, AuditUnavailableError, DecryptError, OptionsError, needs, type DenyReason } from '../errors.js';
import { didYouMean } from '../suggest.js';
import { option, optionsSchema } from '../options.js';
import { isPurposeOfUse, PURPOSES_OF_USE, type PurposeOfUse } from '../purpose.js';
import type { AccessContext } from '../context.js';
import { denialEvent, disclosureEvent, errorEvent, type AuditEvent, type AuditSink } from '../audit/event.js';
import type { PurgeTarget } from '../governance/retention.js';

/** The part of a `pg.Pool` (or `pg.Client`) the vault uses. */
export interface VaultPool {
  query(text: string, values?: readonly unknown[]): Promise<{ rows: readonly Record<string, unknown>[] }>;
}

/** Options of {@link createVault}. */
export interface VaultOptions {
  /** A PostgreSQL pool (`new pg.Pool(…)`), or anything with the same `query`. */
  readonly pool: VaultPool;
  /**
   * 32 random bytes. The encryption key (AES-256-GCM) and the lookup key (HMAC-SHA256) are
   * derived from it with HKDF; keep it in a KMS or HSM, not beside the database.
   */
  readonly key: Uint8Array;
  /** Where re-identification attempts are recorded (45 CFR 164.312(b)); required. */
  readonly audit: AuditSink;
  /** Table name, optionally schema-qualified (`vault.tokens`). Default `phiguard_vault`. */
  readonly table?: string;
  /** Role a caller needs in `context.roles` to re-identify. Default `privacy-officer`. */
  readonly reidentifyRole?: string;
  /** Purposes of use for which re-identification is allowed. Default: every HL7 PurposeOfUse phiguard knows. */
  readonly purposes?: readonly PurposeOfUse[];
}

/** Options of {@link Vault.tokenize}. */
export interface TokenizeOptions {
  /** What kind of value this is (`ssn`, `mrn`, `patient-id`…). The same value in two domains gets two tokens. */
  readonly domain: string;
  /**
   * The patient the value belongs to (`policy.patientRef(id)`), so that a legal hold on the
   * patient keeps the token from the purge. Recorded with the first tokenization only.
   */
  readonly patientRef?: string;
}

/** A token vault. */
export interface Vault {
  /** The quoted table name the vault uses. */
  readonly table: string;
  /** Creates the table if it does not exist (idempotent). */
  migrate(): Promise<void>;
  /**
   * The vault token of `value` in `domain`: a new random `vt_…` token the first time, the same
   * token afterwards (also under concurrent calls). The value is stored encrypted only.
   */
  tokenize(value: string, options: TokenizeOptions): Promise<string>;
  /**
   * The value behind `token`, for a caller holding the re-identification role and a permitted
   * purpose of use; `null` for an unknown token. Every attempt (allowed, denied, failed) is audited
   * with the token, never the value; if the audit sink fails, nothing is returned.
   * @throws AccessDeniedError when the role or purpose is missing or not permitted.
   * @throws AuditUnavailableError when the audit event cannot be written.
   * @throws DecryptError when the stored ciphertext does not authenticate (tampered or wrong key).
   */
  reidentify(token: string, context: AccessContext): Promise<string | null>;
  /**
   * The vault as a store of the retention job (`createPurgeJob({ rules: [{ target:
   * vault.purgeTarget(), retentionDays }] })`): tokens created before the cut-off, with their
   * patient reference for legal holds. A purged token re-identifies to nothing.
   */
  purgeTarget(): PurgeTarget;
}

const IDENT = /^[a-z_][a-z0-9_]{0,62}$/;
const OPTIONS = optionsSchema<VaultOptions>('createVault', {
  pool: option.required(option.implementing('a pg.Pool (an object with query(text, values))', 'query')),
  key: option.required(option.custom('a Uint8Array of 32 random bytes (crypto.randomBytes(32))', ['bytes'], (v) => (v as Uint8Array).length === 32)),
  // 45 CFR 164.312(b): no re-identification without an audit trail.
  audit: option.required(option.implementing('an audit sink { write(event) }; re-identification is always audited', 'write')),
  table: option.string('a lowercase SQL identifier, optionally schema-qualified (`schema.table`)', (v) => {
    const parts = v.split('.');
    return parts.length <= 2 && parts.every((p) => IDENT.test(p));
  }),
  reidentifyRole: option.string('a non-empty string', (v) => v !== ''),
  purposes: option.array('a list of HL7 PurposeOfUse codes'),
});
const TOKEN = /^vt_[A-Za-z0-9_-]{22}$/;
const RESOURCE = 'VaultToken';
const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Length-prefixed `parts`: unambiguous input for an HMAC or AAD. */
function framed(...parts: string[]): Buffer {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const b = Buffer.from(p, 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32BE(b.length);
    chunks.push(len, b);
  }
  return Buffer.concat(chunks);
}

/**
 * Creates a token vault on PostgreSQL. Validates the options once; call `migrate()` at start-up.
 *
 * @example
 * const vault = createVault({ pool, key, audit: sink });
 * await vault.migrate();
 * const token = await vault.tokenize('912-48-3571', { domain: 'ssn' }); // 'vt_…'
 * await vault.reidentify(token, { principal: { id: 'po-1' }, roles: ['privacy-officer'], purposeOfUse: 'HLEGAL' });
 */
export function createVault(options: VaultOptions): Vault {
  /* Precondition: known option keys; a pool, a 32-byte key and an audit sink. */
  const { pool, audit, table: tableName = 'phiguard_vault', reidentifyRole: role = 'privacy-officer' } = OPTIONS.parse(options ?? null);
  const table = tableName.split('.').map((p) => `"${p}"`).join('.');
  const purposes = new Set<string>(options.purposes ?? PURPOSES_OF_USE);
  for (const p of purposes) {
    needs(isPurposeOfUse(p), () => new OptionsError(`createVault: purposes: "${String(p)}" is not an HL7 PurposeOfUse code phiguard knows${didYouMean(String(p), PURPOSES_OF_USE)}.`));
  }

  const encKey = Buffer.from(hkdfSync('sha256', options.key, 'phiguard', 'phiguard/vault/encrypt/v1', 32));
  const lookupKey = Buffer.from(hkdfSync('sha256', options.key, 'phiguard', 'phiguard/vault/lookup/v1', 32));
  const lookupOf = (domain: string, value: string): Buffer => createHmac('sha256', lookupKey).update(framed(domain, value)).digest();
  // The token and domain are bound as AAD: a ciphertext moved to another row does not decrypt.
  const aadOf = (token: string, domain: string): Buffer => framed('phiguard/vault/v1', token, domain);

  function seal(value: string, token: string, domain: string): Buffer {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', encKey, iv);
    cipher.setAAD(aadOf(token, domain));
    const body = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
    return Buffer.concat([Buffer.from([VERSION]), iv, body, cipher.getAuthTag()]);
  }

  function open(sealed: Buffer, token: string, domain: string): string {
    if (sealed.length < 1 + IV_BYTES + TAG_BYTES) throw new DecryptError('malformed');
    if (sealed[0] !== VERSION) throw new DecryptError('unsupported_version');
    const iv = sealed.subarray(1, 1 + IV_BYTES);
    const tag = sealed.subarray(sealed.length - TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', encKey, iv);
    decipher.setAAD(aadOf(token, domain));
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([decipher.update(sealed.subarray(1 + IV_BYTES, sealed.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new DecryptError('authentication');
    }
  }

  async function record(event: AuditEvent): Promise<void> {
    try {
      await audit.write(event);
    } catch {
      throw new AuditUnavailableError();
    }
  }

  const withToken = (event: AuditEvent, token: string | null): AuditEvent =>
    token === null ? event : { ...event, resource: { type: RESOURCE, id: token } };

  return {
    table,

    async migrate() {
      await pool.query(
        `CREATE TABLE IF NOT EXISTS ${table} (
          token text PRIMARY KEY,
          domain text NOT NULL,
          lookup bytea NOT NULL,
          ciphertext bytea NOT NULL,
          created_at timestamptz NOT NULL DEFAULT now(),
          UNIQUE (domain, lookup)
        )`,
      );
      // Added after the first release: tables created before it gain the column here.
      await pool.query(`ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS patient_ref text`);
    },

    purgeTarget() {
      return {
        name: `vault:${tableName}`,
        async candidates(before, limit) {
          const found = await pool.query(`SELECT token, patient_ref, created_at FROM ${table} WHERE created_at < $1 ORDER BY created_at, token LIMIT $2`, [new Date(before), limit]);
          return found.rows.map((r) => ({
            id: String(r['token']),
            ...(typeof r['patient_ref'] === 'string' ? { patientRef: r['patient_ref'] } : {}),
            createdAt: new Date(r['created_at'] as string | Date).getTime(),
          }));
        },
        async remove(ids) {
          if (ids.length === 0) return 0;
          const done = await pool.query(`WITH gone AS (DELETE FROM ${table} WHERE token = ANY($1::text[]) RETURNING 1) SELECT count(*)::int AS n FROM gone`, [ids]);
          return Number(done.rows[0]?.['n'] ?? 0);
        },
      };
    },

    async tokenize(value, tokenizeOptions) {
      /* Precondition: a string value and a domain name. */
      needs(typeof value === 'string', () => new OptionsError('Vault.tokenize: the value must be a string.'));
      const domain = tokenizeOptions?.domain;
      needs(
        typeof domain === 'string' && domain.length > 0 && domain.length <= 128,
        () => new OptionsError('Vault.tokenize: pass { domain }, a non-empty string of at most 128 characters.'),
      );
      const patientRef = tokenizeOptions.patientRef;
      needs(patientRef === undefined || (typeof patientRef === 'string' && patientRef.length > 0 && patientRef.length <= 128), () => new OptionsError('Vault.tokenize: `patientRef` must be the keyed patient reference (policy.patientRef(id)).'));
      const normalized = value.normalize('NFC');
      const lookup = lookupOf(domain, normalized);
      const existing = await pool.query(`SELECT token FROM ${table} WHERE domain = $1 AND lookup = $2`, [domain, lookup]);
      if (existing.rows[0] !== undefined) return String(existing.rows[0]['token']);
      const token = `vt_${randomBytes(16).toString('base64url')}`;
      const inserted = await pool.query(
        `INSERT INTO ${table} (token, domain, lookup, ciphertext, patient_ref) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (domain, lookup) DO NOTHING RETURNING token`,
        [token, domain, lookup, seal(normalized, token, domain), patientRef ?? null],
      );
      if (inserted.rows[0] !== undefined) return token;
      // Another caller stored the same value between our SELECT and INSERT: use its token.
      const winner = await pool.query(`SELECT token FROM ${table} WHERE domain = $1 AND lookup = $2`, [domain, lookup]);
      if (winner.rows[0] === undefined) throw new Error('Vault.tokenize: the row vanished after a conflicting insert; retry.');
      return String(winner.rows[0]['token']);
    },

    async reidentify(token, context) {
      const purpose = context?.purposeOfUse;
      const roles = Array.isArray(context?.roles) ? context.roles : [];
      // Only a well-formed token is recorded: the argument may be anything the caller sent.
      const shown = typeof token === 'string' && TOKEN.test(token) ? token : null;
      let reason: DenyReason | null = null;
      if (purpose === undefined || purpose === null || purpose === '') reason = 'purpose_required';
      else if (!isPurposeOfUse(purpose)) reason = 'purpose_unknown';
      else if (!roles.includes(role) || !purposes.has(purpose)) reason = 'purpose_not_permitted';
      if (reason !== null) {
        await record(withToken(denialEvent('disclose', context ?? null, RESOURCE, reason), shown));
        throw new AccessDeniedError(reason);
      }
      const pou = purpose as PurposeOfUse;
      if (shown === null) {
        await record(errorEvent('disclose', context, RESOURCE, 'token_malformed'));
        return null;
      }
      const found = await pool.query(`SELECT domain, ciphertext FROM ${table} WHERE token = $1`, [shown]);
      const row = found.rows[0];
      if (row === undefined) {
        await record(withToken(errorEvent('disclose', context, RESOURCE, 'token_unknown'), shown));
        return null;
      }
      const domain = String(row['domain']);
      let value: string;
      try {
        value = open(row['ciphertext'] as Buffer, shown, domain);
      } catch (err) {
        await record(withToken(errorEvent('disclose', context, RESOURCE, 'decrypt_failed'), shown));
        throw err;
      }
      const event = disclosureEvent(
        'disclose',
        context,
        { resource: RESOURCE, purposeOfUse: pou, roles, disclosed: [domain], transforms: {} },
        { resourceId: shown },
      );
      // Recorded before the value is returned: no audit record, no re-identification.
      await record({ ...event, reason: 'reidentify' });
      return value;
    },
  };
}
