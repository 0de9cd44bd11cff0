/**
 * Disclosure outside the organization, governed: the recipient admitted by the registry
 * (business associate agreement, 164.502(e)), the authorization verified and its scope applied
 * to the data (164.508), the record projected by the policy (minimum necessary, 164.502(b)),
 * and one audit event with the 164.528(b)(2) elements and a digest of the exact bytes released.
 */
import { randomUUID } from 'node:crypto';
import { denialEvent, disclosureEvent, errorEvent, type AuditEvent } from '../audit/event.js';
import type { AccessContext } from '../context.js';
import type { FieldCipher } from '../crypto/field-cipher.js';
import { getDefaultScanner, type Scanner } from '../dlp/scanner.js';
import { AccessDeniedError, OptionsError, PhiGuardError, StepUpRequiredError, type DenyReason } from '../errors.js';
import type { PhiGuard } from '../guard.js';
import { readPath } from '../policy/path.js';
import { canonicalId } from '../ids.js';
import { didYouMean } from '../suggest.js';
import { inScope, scopeCovers, scopeProblems, type AuthorizationScope, type Authorizations } from './authorizations.js';
import { GOVERNANCE_OPTIONS, audited, nowOf, timeOf } from './common.js';
import { checkKeys, option, optionsSchema } from '../options.js';
import type { Clock } from '../base/clock.js';
import type { DenyList } from './containment.js';
import type { DisclosureCopyStore } from './copies.js';
import { DELIVERY_METHODS, DISCLOSURE_BASES, disclosureDigest, type DeliveryMethod, type DisclosureBasis, type DisclosureDetails } from './disclosure.js';
import type { RecipientRegistry } from './recipients.js';

/** How the service finds the dated, typed records inside a resource value (to apply an authorization's scope). */
export interface RecordSelector {
  /** Top-level key of the array of records (`reports`). */
  readonly collection: string;
  /** The record's type, as authorizations name it. */
  readonly typeOf: (record: unknown) => string;
  /** The record's clinical date (ISO-8601). */
  readonly dateOf: (record: unknown) => string | undefined;
}

/** Options of {@link createDisclosures}. */
export interface DisclosuresOptions {
  /** The engine that decides and projects (its policy's matrix) and receives the audit events. */
  readonly guard: PhiGuard;
  readonly recipients: RecipientRegistry;
  /** Needed for disclosures on the basis `authorization`. */
  readonly authorizations?: Authorizations;
  /** Per resource: where its records are, for scope. A resource without one is released whole or not at all. */
  readonly records?: Readonly<Record<string, RecordSelector>>;
  /** Keeps an encrypted copy of each release (with `cipher`), for `keepCopy` requests. */
  readonly copies?: DisclosureCopyStore;
  readonly cipher?: FieldCipher;
  /** Checks purpose statements for identifiers. Default: the built-in scanner. */
  readonly scanner?: Scanner;
  /** Verifies channel exceptions for unsecured delivery methods (see createChannelExceptions). */
  readonly channelExceptions?: { verify(ref: string, patientId: string | number, method: DeliveryMethod): Promise<boolean> };
  /** Refuses disclosures by a disabled user or client (desk routes do not pass through `guard.resolve`). */
  readonly denyList?: DenyList;
  /** The clock of expiries and event times. Default: the wall clock. */
  readonly clock?: Clock;
}

/** One disclosure asked of {@link Disclosures.disclose}. */
export interface DisclosureRequest {
  readonly resource: string;
  /** The whole record as the application holds it; the policy decides what of it leaves. */
  readonly value: unknown;
  readonly patientId: string | number;
  readonly recipientId: string;
  /** Brief statement of purpose, as the patient will read it in the accounting (no identifiers). */
  readonly purpose: string;
  readonly basis: DisclosureBasis;
  /** Required for basis `authorization`. */
  readonly authorizationId?: string;
  /** The record types and dates asked for; refused when the authorization does not cover them. */
  readonly asked?: AuthorizationScope;
  readonly deliveryMethod: DeliveryMethod;
  /** Recorded channel exception for an `unsecured-*` delivery method. */
  readonly channelExceptionRef?: string;
  /** Audit action. Default `disclose`. */
  readonly action?: 'disclose' | 'export';
  /** Keep an encrypted copy of the bytes (needs `copies` and `cipher`). */
  readonly keepCopy?: boolean;
  /** Turns the projected value into the bytes sent. Default JSON.stringify. */
  readonly serialize?: (value: unknown) => string;
}

/** A disclosure made: the bytes to send (exactly those digested), the projected value and its event. */
export interface DisclosureResult<T = unknown> {
  readonly body: string;
  readonly value: T;
  readonly event: AuditEvent;
  readonly disclosureId: string;
}

/** Governed disclosures. */
export interface Disclosures {
  /**
   * Releases a record to a recipient, or refuses with AccessDeniedError (403; reasons
   * `recipient_unknown`, `agreement_missing`, `agreement_expired`, `authorization_required`,
   * `authorization_invalid`, `authorization_expired`, `authorization_revoked`, `out_of_scope`,
   * or the policy's own), every refusal audited. Resolves only once the disclosure event is recorded.
   */
  disclose<T = unknown>(context: AccessContext, request: DisclosureRequest): Promise<DisclosureResult<T>>;
}

const limits = (s: AuthorizationScope) => s.recordTypes !== undefined || s.from !== undefined || s.to !== undefined;
const OPTIONS = optionsSchema<DisclosuresOptions>('createDisclosures', {
  guard: option.required(option.implementing<PhiGuard>('the guard (createPhiGuard)', 'authorize')),
  recipients: option.required(option.implementing<RecipientRegistry>('the recipient registry (createRecipientRegistry)', 'admit')),
  authorizations: option.implementing<Authorizations>('the authorizations (createAuthorizations)', 'record'),
  records: option.custom('an object of resource → { collection, typeOf(record), dateOf(record) }', ['object']),
  copies: option.implementing<DisclosureCopyStore>('a disclosure copy store', 'put'),
  cipher: option.implementing<FieldCipher>('a field cipher (createFieldCipher)', 'encrypt', 'decrypt'),
  scanner: option.implementing<Scanner>('a DLP scanner (createScanner)', 'scan'),
  channelExceptions: option.implementing('the channel exceptions (createChannelExceptions)', 'verify'),
  denyList: option.implementing<DenyList>('the deny list (createDenyList)', 'check'),
  clock: GOVERNANCE_OPTIONS.clock,
});
const REQUEST_KEYS = ['resource', 'value', 'patientId', 'recipientId', 'purpose', 'basis', 'authorizationId', 'asked', 'deliveryMethod', 'channelExceptionRef', 'action', 'keepCopy', 'serialize'];

/** Creates the disclosure service. */
export function createDisclosures(options: DisclosuresOptions): Disclosures {
  const { guard, recipients, authorizations, records = {}, copies, cipher, channelExceptions, denyList } = OPTIONS.parse(options ?? null);
  if ((copies === undefined) !== (cipher === undefined)) throw new OptionsError('createDisclosures: `copies` and `cipher` go together (copies are kept encrypted)');
  for (const [name, sel] of Object.entries(records)) {
    if (!guard.policy.resources.has(name)) throw new OptionsError(`createDisclosures records: unknown resource "${name}"`);
    if (typeof sel?.collection !== 'string' || typeof sel.typeOf !== 'function' || typeof sel.dateOf !== 'function') {
      throw new OptionsError(`createDisclosures records.${name} needs { collection, typeOf(record), dateOf(record) }`);
    }
  }
  const scanner = options.scanner ?? getDefaultScanner();
  const now = nowOf(options.clock);

  return {
    async disclose<T>(context: AccessContext, request: DisclosureRequest): Promise<DisclosureResult<T>> {
      checkKeys('disclose', request, REQUEST_KEYS);
      const { resource, value, patientId, recipientId, purpose, basis, authorizationId, asked, deliveryMethod } = request;
      const action = request.action ?? 'disclose';
      /* Precondition: every disclosure says to whom, why, on what basis and how (164.528(b)(2)). */
      if (typeof resource !== 'string' || !guard.policy.resources.has(resource)) throw new OptionsError(`disclose: \`resource\` must be a resource of the policy${typeof resource === 'string' ? didYouMean(resource, [...guard.policy.resources.keys()]) : ''}`);
      if (!DISCLOSURE_BASES.includes(basis)) throw new OptionsError(`disclose: basis must be one of ${DISCLOSURE_BASES.join(', ')}`);
      if (!DELIVERY_METHODS.includes(deliveryMethod)) throw new OptionsError(`disclose: deliveryMethod must be one of ${DELIVERY_METHODS.join(', ')}`);
      if (action !== 'disclose' && action !== 'export') throw new OptionsError('disclose: action must be "disclose" or "export"');
      if (typeof purpose !== 'string' || purpose.trim() === '' || purpose.length > 200) throw new OptionsError('disclose: `purpose` must be a brief statement (at most 200 characters)');
      // The statement is written to audit: it must not carry an identifier.
      if (scanner.scan(purpose).length > 0) throw new OptionsError('disclose: `purpose` holds what looks like an identifier; state the purpose without names, dates or numbers of the patient');
      if (request.serialize !== undefined && typeof request.serialize !== 'function') throw new OptionsError('disclose: `serialize` must be a function (value) => string');
      if (request.keepCopy !== undefined && typeof request.keepCopy !== 'boolean') throw new OptionsError('disclose: `keepCopy` must be a boolean');
      if (request.channelExceptionRef !== undefined && typeof request.channelExceptionRef !== 'string') throw new OptionsError('disclose: `channelExceptionRef` must be a string');
      if (authorizationId !== undefined && typeof authorizationId !== 'string') throw new OptionsError('disclose: `authorizationId` must be a string');
      if (asked !== undefined) {
        const problems = scopeProblems(asked, 'asked');
        if (problems.length > 0) throw new OptionsError(`disclose: ${problems.join('; ')}`);
      }
      if (request.keepCopy === true && copies === undefined) throw new OptionsError('disclose: keepCopy needs `copies` and `cipher` in createDisclosures');
      /* Precondition: the disclosure is of this patient's record (the authorization and the accounting are the patient's). */
      if ((typeof patientId !== 'string' && typeof patientId !== 'number') || String(patientId) === '') throw new OptionsError('disclose: `patientId` must be the patient id');
      const subjectPath = guard.policy.resources.get(resource)!.subjectPath;
      const subject = subjectPath === null ? undefined : readPath(value, subjectPath);
      if (subjectPath !== null && (canonicalId(subject) === undefined || canonicalId(subject) !== canonicalId(patientId))) throw new OptionsError('disclose: `patientId` must be the subject of `value`');
      const patientRef = guard.policy.patientRef(patientId);
      const refuse = async (reason: DenyReason): Promise<never> => {
        await audited(guard, denialEvent(action, context, resource, reason, { patientRef }), now);
        throw new AccessDeniedError(reason);
      };

      // 45 CFR 164.308(a)(6)(ii): a contained user or client discloses nothing.
      const disabled = denyList === undefined ? null : await denyList.check(context);
      if (disabled !== null) return refuse(disabled);

      // 45 CFR 164.502(e): a recipient needing a business associate agreement must have a current one.
      const recipient = await recipients.admit(context, recipientId, { patientRef, resource, action });

      if (request.deliveryMethod.startsWith('unsecured-')) {
        // 45 CFR 164.524(c)(2), (c)(3): unsecured delivery only at the patient's recorded request.
        const ref = request.channelExceptionRef;
        if (typeof ref !== 'string' || channelExceptions === undefined || !(await channelExceptions.verify(ref, patientId, deliveryMethod))) {
          return refuse('channel_exception_required');
        }
      }

      // 45 CFR 164.508: an authorization, valid now, for this patient and recipient; its scope limits the data.
      let scope: AuthorizationScope | null = null;
      if (basis === 'authorization' || authorizationId !== undefined) {
        if (authorizations === undefined) throw new OptionsError('disclose: basis "authorization" needs `authorizations` in createDisclosures');
        if (typeof authorizationId !== 'string') return refuse('authorization_required');
        const verdict = await authorizations.verify(authorizationId, { patientId, recipientId });
        if (!verdict.ok) return refuse(verdict.reason);
        scope = verdict.authorization.scope;
        if (asked !== undefined && !scopeCovers(scope, asked)) return refuse('out_of_scope');
      }

      const selector = records[resource];
      let source = value;
      let description: DisclosureDetails['description'] = { recordTypes: [], records: 0 };
      if (selector !== undefined && value !== null && typeof value === 'object') {
        const all = readPath(value, [selector.collection]);
        const list = Array.isArray(all) ? all : [];
        const limit = scope;
        const kept = list.filter((r) => (limit === null || inScope(limit, { type: selector.typeOf(r), date: selector.dateOf(r) })) && (asked === undefined || inScope(asked, { type: selector.typeOf(r), date: selector.dateOf(r) })));
        // A limited scope that leaves no record releases nothing (the identity alone is not what was authorized).
        if (scope !== null && limits(scope) && kept.length === 0) return refuse('out_of_scope');
        // A shallow copy with the out-of-scope records left out; the application's value is not mutated.
        source = { ...(value as Record<string, unknown>), [selector.collection]: kept };
        const dates = kept.map((r) => selector.dateOf(r)).filter((d): d is string => typeof d === 'string' && !Number.isNaN(timeOf(d))).sort((a, b) => timeOf(a) - timeOf(b));
        description = {
          recordTypes: [...new Set(kept.map((r) => selector.typeOf(r)))].sort(),
          ...(dates.length > 0 ? { from: new Date(timeOf(dates[0])).toISOString(), to: new Date(timeOf(dates.at(-1))).toISOString() } : {}),
          records: kept.length,
        };
      } else if (scope !== null && limits(scope)) {
        // Nothing to apply a limited scope to: fail closed rather than release it whole.
        return refuse('out_of_scope');
      }

      const decision = guard.authorize(context, resource, action, patientId);
      if (decision.effect === 'deny') {
        if (decision.pending !== undefined) await decision.pending;
        throw new AccessDeniedError(decision.reason);
      }
      if (decision.effect !== 'allow') throw new AccessDeniedError('purpose_not_permitted');
      const plaintexts = await guard.prepare(decision.plan, source);
      let projected;
      try {
        projected = decision.plan.apply<T>(source, context, plaintexts);
      } catch (err) {
        // Refused or failed while projecting: on record either way, then the original error.
        const event =
          err instanceof AccessDeniedError || err instanceof StepUpRequiredError
            ? denialEvent(action, context, resource, err.reason, { patientRef })
            : errorEvent(action, context, resource, err instanceof PhiGuardError ? err.code : 'internal_error');
        await audited(guard, event, now).catch(() => undefined);
        throw err;
      }
      const body = (request.serialize ?? JSON.stringify)(projected.value);
      if (typeof body !== 'string') throw new OptionsError('disclose: serialize must return a string');
      const disclosureId = randomUUID();
      let copyRef: string | undefined;
      if (request.keepCopy === true) {
        const ciphertext = await cipher!.encrypt(body, { tenant: 'phiguard', purpose: 'disclosure-copy', id: disclosureId });
        await copies!.put({ id: disclosureId, patientRef, createdAt: now(), ciphertext });
        copyRef = disclosureId;
      }
      const details: DisclosureDetails = {
        recipient,
        purpose: purpose.trim(),
        basis,
        ...(authorizationId === undefined ? {} : { authorizationRef: authorizationId }),
        deliveryMethod,
        digest: disclosureDigest(body),
        bytes: Buffer.byteLength(body, 'utf8'),
        ...(copyRef === undefined ? {} : { copyRef }),
        description,
        ...(request.channelExceptionRef === undefined ? {} : { channelExceptionRef: request.channelExceptionRef }),
      };
      const compiled = guard.policy.resources.get(resource)!;
      const rawId = compiled.idPath ? readPath(source, compiled.idPath) : undefined;
      const base = disclosureEvent(action, context, projected.disclosure, {
        patientRef,
        resourceId: typeof rawId === 'string' || typeof rawId === 'number' ? String(rawId).slice(0, 128) : undefined,
      });
      const event: AuditEvent = { ...base, time: new Date(now()).toISOString(), disclosure: details };
      // 45 CFR 164.528, 164.312(b): nothing leaves before its record is written.
      await audited(guard, event);
      return { body, value: projected.value, event, disclosureId };
    },
  };
}
