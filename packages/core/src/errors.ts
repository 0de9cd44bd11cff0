/**
 * Errors thrown by phiguard. Every error has a stable `code` and an HTTP `status`;
 * messages say what to do next and never carry a field value (no PHI in errors).
 */

/** Stable, machine-readable error codes. */
export type PhiGuardErrorCode =
  | 'policy_invalid'
  | 'options_invalid'
  | 'access_denied'
  | 'authentication_required'
  | 'limit_exceeded'
  | 'raw_body_denied'
  | 'unmapped_route'
  | 'audit_unavailable'
  | 'key_unavailable'
  | 'decrypt_failed'
  | 'dlp_blocked'
  | 'step_up_required'
  | 'state_unavailable'
  | 'break_glass_invalid'
  | 'throttled'
  | 'dependency_missing'
  | DeliveryErrorCode
  | 'internal_error';

/**
 * Stable codes of the delivery errors (pickup links, signed requests, notifications, exports,
 * response hardening). Clients match on these.
 */
export type DeliveryErrorCode =
  | 'link_invalid'
  | 'link_expired'
  | 'link_used'
  | 'link_revoked'
  | 'signature_invalid'
  | 'signature_stale'
  | 'signature_replayed'
  | 'notification_phi'
  | 'export_invalid'
  | 'https_required'
  | 'client_certificate_required'
  | 'client_not_allowed';

/**
 * Marks the error classes of every copy of this module. A package that is both `require`d and
 * `import`ed loads this file twice (dist/index.cjs and dist/index.js), so there are two
 * `PolicyError` classes; `instanceof` compares by this brand and the class name, so an error of
 * one copy is an instance of the same-named class of the other.
 */
const BRAND = Symbol.for('phiguard.error');

/** Base class of every error phiguard throws. */
export class PhiGuardError extends Error {
  static readonly [BRAND] = true;

  /**
   * `instanceof` across the CommonJS and ESM copies of @phiguard/core: true when `value` is
   * an instance of this class, or of a phiguard error class of the same name (or a subclass of
   * one) from the other copy.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
    if (typeof value !== 'object' || value === null) return false;
    for (let proto = Object.getPrototypeOf(value); proto !== null; proto = Object.getPrototypeOf(proto)) {
      const ctor: unknown = Object.hasOwn(proto, 'constructor') ? proto.constructor : undefined;
      if (typeof ctor === 'function' && (ctor as { [BRAND]?: unknown })[BRAND] === true && ctor.name === this.name) return true;
    }
    return false;
  }

  override name = this.constructor.name;
  /** HTTP status an adapter answers with. */
  readonly status: number;
  constructor(
    readonly code: PhiGuardErrorCode,
    message: string,
    status = 500,
  ) {
    super(message);
    this.status = status;
  }
}

/** A policy or its compile options are invalid. Thrown at start-up, never per request. */
export class PolicyError extends PhiGuardError {
  constructor(readonly problems: readonly string[]) {
    super(
      'policy_invalid',
      problems.length === 1
        ? `Invalid phiguard policy: ${problems[0]}`
        : `Invalid phiguard policy (${problems.length} problems):\n- ${problems.join('\n- ')}`,
    );
  }
}

/** What kind of value an option held: enough to fix it, never the value (options hold secrets). */
export type ValueKind = 'undefined' | 'null' | 'boolean' | 'number' | 'bigint' | 'string' | 'symbol' | 'function' | 'array' | 'object' | 'bytes' | 'regexp';

/**
 * One problem with a factory's options, machine-readable. `problem`: `unknown` key (with the
 * closest known one in `suggestion`), wrong `type` of value, `missing` required key, or a value
 * of the right type that is `invalid` (out of range, too short).
 */
export interface OptionIssue {
  readonly problem: 'unknown' | 'type' | 'missing' | 'invalid';
  /** Dotted path of the option (`cache.maxAgeMs`); `''` for the options object itself. */
  readonly path: string;
  /** What the value must be, in words. */
  readonly expected: string;
  /** The kind of value received. */
  readonly received: ValueKind;
  readonly suggestion?: string;
}

/**
 * Options passed to a phiguard factory are invalid. Thrown at start-up. `issues` lists every
 * problem found (empty for checks made after the options were parsed, such as a policy
 * resource that needs a cipher); neither the message nor the issues carry an option's value.
 */
export class OptionsError extends PhiGuardError {
  readonly issues: readonly OptionIssue[];
  constructor(message: string, issues: readonly OptionIssue[] = []) {
    super('options_invalid', message);
    this.issues = Object.freeze([...issues]);
  }
}

/**
 * Why access was denied. Stable: clients and audit consumers match on these.
 * - `purpose_required`: the request carries no purpose of use.
 * - `purpose_unknown`: the purpose is not an HL7 v3 PurposeOfUse code the policy knows.
 * - `role_unknown`: none of the caller's roles appears in the policy.
 * - `purpose_not_permitted`: the caller's roles have no rule for this resource and purpose.
 * - `not_own_record`: purpose PATRQT (patient request) used for another patient's record.
 * - `separation_of_duties`: the caller holds roles the policy declares incompatible.
 * - `relationship_required`: the rule needs a care-team or encounter relationship the caller lacks.
 * - `break_glass_invalid`: the invoked grant is unknown, revoked, expired, another user's or another patient's.
 * - `break_glass_not_permitted`: none of the caller's roles may use break-glass.
 * - `principal_disabled`: the user is on the shared deny list (incident containment).
 * - `client_disabled`: the calling client application is on the shared deny list.
 * - `break_glass_pending`: the grant waits for a reviewer's approval.
 * - `recipient_unknown`: a disclosure names a recipient the registry does not hold.
 * - `agreement_missing` / `agreement_expired`: the recipient needs a current business associate agreement (164.502(e)).
 * - `authorization_required`: the disclosure needs a valid authorization (164.508) and names none.
 * - `authorization_invalid`: the authorization is unknown, another patient's or another recipient's.
 * - `authorization_expired` / `authorization_revoked`: it was valid once (164.508(b)(2)(i), (b)(5)).
 * - `out_of_scope`: the records asked for lie outside the authorization's types or dates.
 * - `channel_exception_required`: an unsecured delivery without the patient's recorded request (164.524(c)(2)).
 */
export type DenyReason =
  | 'purpose_required'
  | 'purpose_unknown'
  | 'role_unknown'
  | 'purpose_not_permitted'
  | 'not_own_record'
  | 'separation_of_duties'
  | 'relationship_required'
  | 'break_glass_invalid'
  | 'break_glass_not_permitted'
  | 'principal_disabled'
  | 'client_disabled'
  | 'break_glass_pending'
  | 'recipient_unknown'
  | 'agreement_missing'
  | 'agreement_expired'
  | 'authorization_required'
  | 'authorization_invalid'
  | 'authorization_expired'
  | 'authorization_revoked'
  | 'out_of_scope'
  | 'channel_exception_required';

/** Access to a resource is denied (HTTP 403). */
export class AccessDeniedError extends PhiGuardError {
  constructor(readonly reason: DenyReason) {
    super('access_denied', `Access denied (${reason}).`, 403);
  }
}

/** The caller is not authenticated (HTTP 401). Throw it from a context resolver. */
export class AuthenticationRequiredError extends PhiGuardError {
  constructor(message = 'Authentication required: send a valid bearer token.') {
    super('authentication_required', message, 401);
  }
}

const LIMIT_MEANING = { maxDepth: 'nesting depth', maxNodes: 'values visited', maxChars: 'characters sent' } as const;

/**
 * A value is too large or too deep to protect within the configured limits. The response is
 * refused as a whole (fail closed) rather than sent partly or unfiltered.
 */
export class LimitExceededError extends PhiGuardError {
  constructor(
    readonly limit: 'maxDepth' | 'maxNodes' | 'maxChars',
    /** The configured bound that was exceeded. */
    readonly max: number,
  ) {
    // Names the option to raise; carries no value of the document.
    super(
      'limit_exceeded',
      `Response refused: the document exceeds limits.${limit} (${LIMIT_MEANING[limit]}): a circular ` +
        `reference, or a document larger than the limits. If documents this large are legitimate, ` +
        `raise \`limits.${limit}\` in the phiguard options (or compilePolicy's).`,
    );
  }
}

/** The audit sink failed; PHI is not released without an audit record (HTTP 503). */
export class AuditUnavailableError extends PhiGuardError {
  constructor() {
    super('audit_unavailable', 'Audit sink unavailable; PHI was not released.', 503);
  }
}

/**
 * A key management service or HSM could not produce or unwrap a data key (down, throttled past
 * the retries, too slow). Encryption and decryption fail closed (HTTP 503).
 */
export class KeyUnavailableError extends PhiGuardError {
  constructor(message = 'Key service unavailable; the operation failed closed.') {
    super('key_unavailable', message, 503);
  }
}

/**
 * Why a decryption failed. Stable:
 * - `malformed`: not a phiguard ciphertext, truncated, or badly encoded.
 * - `unsupported_version`: a format version or algorithm this release does not know.
 * - `unknown_key`: the data key it names is not in the key store.
 * - `key_commitment`: the data key does not match the key commitment in the ciphertext.
 * - `authentication`: the tag did not verify: tampered bytes or a different encryption context.
 * - `unwrap`: the keyring refused to unwrap the data key (wrong master key or context).
 */
export type DecryptFailure =
  | 'malformed'
  | 'unsupported_version'
  | 'unknown_key'
  | 'key_commitment'
  | 'authentication'
  | 'unwrap';

/** A ciphertext or wrapped key could not be decrypted; never returns garbage instead. */
export class DecryptError extends PhiGuardError {
  constructor(readonly reason: DecryptFailure) {
    super('decrypt_failed', `Decryption failed (${reason}).`);
  }
}

/**
 * A request body held identifiers where the resource's DLP policy blocks them (HTTP 422). Carries
 * counts by type only; the body is never echoed.
 */
export class DlpBlockedError extends PhiGuardError {
  constructor(readonly counts: Readonly<Record<string, number>>) {
    super('dlp_blocked', 'Request refused: it contains identifiers this endpoint does not accept in free text.', 422);
  }
}

/**
 * The data needs a fresh multi-factor authentication (HTTP 401, reason `step_up_required`):
 * authenticate again with a second factor and retry.
 */
export class StepUpRequiredError extends PhiGuardError {
  readonly reason = 'step_up_required';
  constructor(readonly maxAgeSeconds: number) {
    super('step_up_required', `Step-up authentication required: a second factor within the last ${maxAgeSeconds} s.`, 401);
  }
}

/**
 * The shared state store (break-glass grants, nonces, counters) cannot answer. What depends on it
 * fails closed (HTTP 503); plain role-based reads do not depend on it.
 */
export class StateUnavailableError extends PhiGuardError {
  constructor(message = 'State store unavailable; the operation failed closed.') {
    super('state_unavailable', message, 503);
  }
}

/** The caller is throttled after an anomaly (mass access, repeated denials): HTTP 429. */
export class ThrottledError extends PhiGuardError {
  constructor() {
    super('throttled', 'Too many requests: access is paused for this user; contact the privacy office.', 429);
  }
}

/**
 * An optional peer dependency that a feature needs is not installed (for example
 * `@aws-sdk/client-kms` for the AWS KMS keyring, `pkcs11js` for the PKCS#11 keyring). Thrown
 * when the feature is constructed, at start-up; the message names the package to install.
 */
export class MissingDependencyError extends PhiGuardError {
  constructor(
    /** The npm package to install. */
    readonly dependency: string,
    /** What needs it (a class or function name). */
    readonly requiredBy: string,
    hint = '',
  ) {
    super(
      'dependency_missing',
      `${requiredBy} needs the optional peer dependency ${dependency}, which is not installed: ` +
        `run \`npm install ${dependency}\`.${hint ? ` ${hint}` : ''}`,
    );
  }
}

/** Precondition helper: throws `error()` unless `condition` holds. */
export function needs(condition: unknown, error: () => Error): asserts condition {
  if (!condition) throw error();
}
