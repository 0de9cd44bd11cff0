/**
 * Keyed pseudonyms: HMAC-SHA256 under a subkey derived per tenant and per study, so that a
 * patient's tokens link within one study and cannot be joined across studies or tenants.
 */
import { createHmac, hkdfSync } from 'node:crypto';
import { OptionsError, needs } from '../errors.js';
import { option, optionsSchema } from '../options.js';

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

const MAX_LABEL = 256;
const OPTIONS = optionsSchema<PseudonymizerOptions>('createPseudonymizer', {
  key: option.required(option.custom('a Uint8Array of at least 32 random bytes (crypto.randomBytes(32))', ['bytes'], (v) => (v as Uint8Array).length >= 32)),
  tenant: option.required(option.string(`a non-empty string of at most ${MAX_LABEL} characters`, (v) => v.length > 0 && v.length <= MAX_LABEL)),
  bytes: option.integer(8, 32, 'an integer from 8 to 32 (16 recommended)'),
  prefix: option.string('a string of at most 16 characters', (v) => v.length <= 16),
});
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
  const { bytes = 16, prefix = 'ps_' } = OPTIONS.parse(options ?? null);
  const tenant = options.tenant.normalize('NFC');
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
