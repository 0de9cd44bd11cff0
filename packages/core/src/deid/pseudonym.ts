/**
 * Keyed pseudonyms: HMAC-SHA256 under a subkey derived per tenant and per study, so that a
 * patient's tokens link within one study and cannot be joined across studies or tenants.
 */
import { createHmac, hkdfSync } from 'node:crypto';
import { OptionsError, needs } from '../errors.js';
import { didYouMean } from '../suggest.js';

/** Options of {@link createPseudonymizer}. */
export interface PseudonymizerOptions {
  /** Root secret, 32 or more random bytes. Rotating it changes every token. */
  readonly key: Uint8Array;
  /** Tenant (organization) the tokens belong to; tokens of two tenants never match. */
  readonly tenant: string;
  /**
   * Bytes of HMAC kept, 8 to 32. Default 16 (128 bits, 22 base64url characters): the chance that
   * two of n distinct values share a token is about n²/2^129, negligible for any real study.
   * At 8 bytes (11 characters) it is n²/2^65: about 3·10⁻⁸ for a million values.
   */
  readonly bytes?: number;
  /** Token prefix. Default `ps_`. */
  readonly prefix?: string;
}

/** Options of one {@link Pseudonymizer.token} call. */
export interface PseudonymOptions {
  /** Study (or data recipient, or extract) the token is for; tokens of two studies never match. */
  readonly study: string;
}

/** A pseudonymizer for one tenant. */
export interface Pseudonymizer {
  /**
   * Deterministic token of `value` for `study`: the same value gives the same token in that
   * study, an unrelated token in any other. Values are NFC-normalized first. Not reversible; keep
   * a vault (see `createVault`) if re-identification must be possible.
   */
  token(value: string | number, options: PseudonymOptions): string;
}

const OPTION_KEYS = ['key', 'tenant', 'bytes', 'prefix'];
const MAX_LABEL = 256;
const STUDY_CACHE = 1024;

/** HKDF info: a fixed label and length-prefixed parts, so no two (kind, name) pairs collide. */
function info(kind: string, name: string): Buffer {
  const label = Buffer.from(`phiguard/pseudonym/v1/${kind}`, 'utf8');
  const value = Buffer.from(name, 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(value.length);
  return Buffer.concat([label, Buffer.from([0]), len, value]);
}

function label(value: unknown, what: string): string {
  needs(
    typeof value === 'string' && value.length > 0 && value.length <= MAX_LABEL,
    () => new OptionsError(`createPseudonymizer: \`${what}\` must be a non-empty string of at most ${MAX_LABEL} characters.`),
  );
  return value.normalize('NFC');
}

/**
 * Creates a pseudonymizer for one tenant. The tenant key is derived once
 * (HKDF-SHA256(key, info = tenant)); each study key is derived from it on first use and cached.
 *
 * @example
 * const ps = createPseudonymizer({ key: secret, tenant: 'acme-health' });
 * ps.token('1001', { study: 'diabetes-2026' }); // 'ps_…' (22 characters after the prefix)
 */
export function createPseudonymizer(options: PseudonymizerOptions): Pseudonymizer {
  /* Precondition: the key is at least 32 bytes and the options have known keys only. */
  needs(options !== null && typeof options === 'object', () => new OptionsError('createPseudonymizer: pass options { key, tenant }.'));
  for (const k of Object.keys(options)) {
    needs(OPTION_KEYS.includes(k), () => new OptionsError(`createPseudonymizer: unknown option \`${k}\`${didYouMean(k, OPTION_KEYS)}`));
  }
  needs(
    options.key instanceof Uint8Array && options.key.length >= 32,
    () => new OptionsError('createPseudonymizer: `key` must be a Uint8Array of at least 32 random bytes (crypto.randomBytes(32)).'),
  );
  const tenant = label(options.tenant, 'tenant');
  const bytes = options.bytes ?? 16;
  needs(
    Number.isInteger(bytes) && bytes >= 8 && bytes <= 32,
    () => new OptionsError('createPseudonymizer: `bytes` must be an integer from 8 to 32 (16 recommended).'),
  );
  const prefix = options.prefix ?? 'ps_';
  needs(
    typeof prefix === 'string' && prefix.length <= 16,
    () => new OptionsError('createPseudonymizer: `prefix` must be a string of at most 16 characters.'),
  );
  const tenantKey = Buffer.from(hkdfSync('sha256', options.key, 'phiguard', info('tenant', tenant), 32));
  const studyKeys = new Map<string, Buffer>();

  return {
    token(value, tokenOptions) {
      needs(
        tokenOptions !== null && typeof tokenOptions === 'object',
        () => new OptionsError('Pseudonymizer.token: pass { study }.'),
      );
      const study = label(tokenOptions.study, 'study');
      needs(
        typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value)),
        () => new OptionsError('Pseudonymizer.token: the value must be a string or a finite number.'),
      );
      let studyKey = studyKeys.get(study);
      if (studyKey === undefined) {
        studyKey = Buffer.from(hkdfSync('sha256', tenantKey, 'phiguard', info('study', study), 32));
        if (studyKeys.size >= STUDY_CACHE) studyKeys.delete(studyKeys.keys().next().value!);
        studyKeys.set(study, studyKey);
      }
      const mac = createHmac('sha256', studyKey).update(String(value).normalize('NFC'), 'utf8').digest();
      return prefix + mac.subarray(0, bytes).toString('base64url');
    },
  };
}
