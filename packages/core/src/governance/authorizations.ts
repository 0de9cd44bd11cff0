/**
 * Authorizations for disclosure (45 CFR 164.508): intake, revocation and the check made before
 * every release, over a store every instance shares, so that a revocation recorded on one
 * instance stops releases on all of them.
 */
import { actionEvent, denialEvent } from '../audit/event.js';
import type { AccessContext } from '../context.js';
import { AccessDeniedError, OptionsError, type DenyReason } from '../errors.js';
import type { StateStore } from '../state/store.js';
import { GOVERNANCE_OPTIONS, ID, audited, hasRole, nowOf, rolesRule, timeOf, type GovernanceAudit } from './common.js';
import { option, optionsSchema } from '../options.js';
import type { Clock } from '../base/clock.js';

/** Which records an authorization covers (164.508(c)(1)(i): "a specific and meaningful description"). */
export interface AuthorizationScope {
  /** Record types covered (`lab-report`, LOINC or local codes); absent: every type. */
  readonly recordTypes?: readonly string[];
  /** Records dated on or after (ISO-8601). */
  readonly from?: string;
  /** Records dated before (ISO-8601). */
  readonly to?: string;
}

/** An authorization as taken in. */
export interface AuthorizationInput {
  readonly id: string;
  readonly patientId: string | number;
  /** The recipient's registry id (164.508(c)(1)(iii)). */
  readonly recipientId: string;
  /** (c)(1)(iv) The purpose, as the patient signed it. */
  readonly purpose: string;
  readonly scope: AuthorizationScope;
  /** (c)(1)(v) An expiration date … */
  readonly expiresAt?: string;
  /** … or an expiration event. */
  readonly expirationEvent?: string;
  /** (c)(1)(vi) The signature date. */
  readonly signedAt: string;
  /** Who signed: the patient (default) or a personal representative (164.502(g)). */
  readonly signer?: 'patient' | 'personal-representative';
  /**
   * For a personal representative: the reference of the document giving their authority (power
   * of attorney, guardianship order, 164.508(c)(1)(vi)), kept in document management.
   */
  readonly authorityRef?: string;
  /** Sensitive categories (HIV, genetic…) the patient named explicitly. */
  readonly sensitiveCategories?: readonly string[];
}

/** An authorization as stored: the patient by keyed reference, never by id. */
export interface StoredAuthorization extends Omit<AuthorizationInput, 'patientId'> {
  readonly patientRef: string;
  readonly signer: 'patient' | 'personal-representative';
  readonly recordedAt: number;
  readonly recordedBy: string;
  readonly revocation?: { readonly at: number; readonly by: string };
}

/** Options of {@link createAuthorizations}. */
export interface AuthorizationsOptions {
  /** Shared by every instance (RedisStateStore in production). */
  readonly store: StateStore;
  readonly audit: GovernanceAudit;
  /** The keyed patient reference of audit events: `guard.policy.patientRef`. */
  readonly patientRef: (patientId: string | number) => string;
  /** Roles that take authorizations in. */
  readonly intakeRoles: readonly string[];
  /** Roles that may record a revocation (164.508(b)(5)). */
  readonly revokerRoles: readonly string[];
  /** The clock of expiries and event times. Default: the wall clock. */
  readonly clock?: Clock;
}

/** The verdict of {@link Authorizations.verify}. */
export type AuthorizationVerdict =
  | { readonly ok: true; readonly authorization: StoredAuthorization }
  | { readonly ok: false; readonly reason: DenyReason };

/** Authorizations: intake, revocation, the release check and scope. */
export interface Authorizations {
  /** Takes an authorization in (intake roles only). Throws OptionsError naming the missing elements. Audited. */
  record(context: AccessContext, input: AuthorizationInput): Promise<StoredAuthorization>;
  /** Records a revocation, effective on every instance at once (revoker roles only). Audited. */
  revoke(context: AccessContext, id: string): Promise<void>;
  get(id: string): Promise<StoredAuthorization | null>;
  /** Whether `id` authorizes a disclosure of this patient's records to this recipient now. */
  verify(id: string, to: { readonly patientId: string | number; readonly recipientId: string }): Promise<AuthorizationVerdict>;
}

const OPTIONS = optionsSchema<AuthorizationsOptions>('createAuthorizations', {
  store: GOVERNANCE_OPTIONS.store,
  audit: GOVERNANCE_OPTIONS.audit,
  patientRef: GOVERNANCE_OPTIONS.patientRef,
  intakeRoles: option.required(rolesRule()),
  revokerRoles: option.required(rolesRule()),
  clock: GOVERNANCE_OPTIONS.clock,
});
const authKey = (id: string) => `gov:authorization:${id}`;
const revokedKey = (id: string) => `gov:authorization-revoked:${id}`;
const text = (v: unknown, max: number) => typeof v === 'string' && v.trim() !== '' && v.length <= max;

/** 164.508(b)(2), (c)(1): the problems of an authorization (element names, never values). */
export function authorizationProblems(input: AuthorizationInput, now: number): string[] {
  const p: string[] = [];
  if (input === null || typeof input !== 'object') return ['authorization must be an object'];
  if (typeof input.id !== 'string' || !ID.test(input.id)) p.push('id must be a short identifier');
  if ((typeof input.patientId !== 'string' && typeof input.patientId !== 'number') || String(input.patientId) === '') p.push('patientId is required');
  if (typeof input.recipientId !== 'string' || !ID.test(input.recipientId)) p.push('recipientId is required (164.508(c)(1)(iii))');
  if (!text(input.purpose, 500)) p.push('purpose is required (164.508(c)(1)(iv))');
  if (Number.isNaN(timeOf(input.signedAt))) p.push('signedAt must be a date (164.508(c)(1)(vi))');
  else if (timeOf(input.signedAt) > now) p.push('signedAt is in the future');
  if (input.expiresAt === undefined && !text(input.expirationEvent, 200)) p.push('expiresAt or expirationEvent is required (164.508(c)(1)(v))');
  if (input.expiresAt !== undefined && Number.isNaN(timeOf(input.expiresAt))) p.push('expiresAt must be a date');
  if (input.signer !== undefined && input.signer !== 'patient' && input.signer !== 'personal-representative') p.push('signer must be "patient" or "personal-representative"');
  if (input.signer === 'personal-representative' && (typeof input.authorityRef !== 'string' || !ID.test(input.authorityRef))) p.push('authorityRef is required for a personal representative (164.502(g), 164.508(c)(1)(vi))');
  if (input.authorityRef !== undefined && (typeof input.authorityRef !== 'string' || !ID.test(input.authorityRef))) p.push('authorityRef must be a short document reference');
  p.push(...scopeProblems(input.scope, 'scope'));
  if (input.sensitiveCategories !== undefined && (!Array.isArray(input.sensitiveCategories) || input.sensitiveCategories.some((c) => !text(c, 64)))) p.push('sensitiveCategories must list category names');
  return p;
}

/** The problems of a scope `{ recordTypes?, from?, to? }` (names and rules, never values). */
export function scopeProblems(s: unknown, where: string): string[] {
  const p: string[] = [];
  if (s === null || typeof s !== 'object' || Array.isArray(s)) return [`${where} is required (164.508(c)(1)(i)): { recordTypes?, from?, to? }`];
  const scope = s as Record<string, unknown>;
  const types = scope.recordTypes;
  if (types !== undefined && (!Array.isArray(types) || types.length === 0 || types.some((t) => !text(t, 128)))) p.push(`${where}.recordTypes must list record types`);
  if (scope.from !== undefined && Number.isNaN(timeOf(scope.from))) p.push(`${where}.from must be a date`);
  if (scope.to !== undefined && Number.isNaN(timeOf(scope.to))) p.push(`${where}.to must be a date`);
  if (scope.from !== undefined && scope.to !== undefined && !(timeOf(scope.from) < timeOf(scope.to))) p.push(`${where}.from must be before ${where}.to`);
  for (const k of Object.keys(scope)) if (!['recordTypes', 'from', 'to'].includes(k)) p.push(`${where}: unknown key "${k.slice(0, 64)}"`);
  return p;
}

/** True when a record of `type` dated `date` lies inside the scope. Undated records are outside a dated scope (fail closed). */
export function inScope(scope: AuthorizationScope, record: { readonly type: string; readonly date?: string | Date | null }): boolean {
  if (scope.recordTypes !== undefined && !scope.recordTypes.includes(record.type)) return false;
  if (scope.from === undefined && scope.to === undefined) return true;
  const t = timeOf(record.date ?? undefined);
  if (Number.isNaN(t)) return false;
  return (scope.from === undefined || t >= timeOf(scope.from)) && (scope.to === undefined || t < timeOf(scope.to));
}

/** True when every record a request asks for (its types and range) lies within the authorization's scope. */
export function scopeCovers(scope: AuthorizationScope, asked: AuthorizationScope): boolean {
  if (scope.recordTypes !== undefined) {
    if (asked.recordTypes === undefined || asked.recordTypes.some((t) => !scope.recordTypes!.includes(t))) return false;
  }
  if (scope.from !== undefined && (asked.from === undefined || timeOf(asked.from) < timeOf(scope.from))) return false;
  if (scope.to !== undefined && (asked.to === undefined || timeOf(asked.to) > timeOf(scope.to))) return false;
  return true;
}

/** Creates the authorization service. */
export function createAuthorizations(options: AuthorizationsOptions): Authorizations {
  const { store, audit, patientRef, clock } = OPTIONS.parse(options ?? null);
  const intake = new Set(options.intakeRoles);
  const revokers = new Set(options.revokerRoles);
  const now = nowOf(clock);

  const get = async (id: string): Promise<StoredAuthorization | null> => {
    if (typeof id !== 'string' || !ID.test(id)) return null;
    const [raw, revoked] = await store.getMany([authKey(id), revokedKey(id)]);
    if (raw === null || raw === undefined) return null;
    const a = JSON.parse(raw) as StoredAuthorization;
    return revoked === null || revoked === undefined ? a : { ...a, revocation: JSON.parse(revoked) as { at: number; by: string } };
  };
  const refuse = async (context: AccessContext, attempted: 'create' | 'update', id: string | undefined): Promise<never> => {
    await audited(audit, { ...denialEvent(attempted, context, 'Authorization', 'purpose_not_permitted'), resource: id === undefined ? { type: 'Authorization' } : { type: 'Authorization', id: String(id).slice(0, 128) } }, now);
    throw new AccessDeniedError('purpose_not_permitted');
  };

  return {
    async record(context, input) {
      if (!hasRole(context, intake)) return refuse(context, 'create', typeof input?.id === 'string' ? input.id : undefined);
      const problems = authorizationProblems(input, now());
      if (problems.length > 0) throw new OptionsError(`authorization: ${problems.join('; ')}`);
      const { patientId, ...rest } = input;
      const stored: StoredAuthorization = {
        ...rest,
        scope: { ...input.scope },
        signer: input.signer ?? 'patient',
        patientRef: patientRef(patientId),
        recordedAt: now(),
        recordedBy: context.principal.id,
      };
      // 45 CFR 164.508(b)(6), 164.530(j): the signed authorization is documentation to retain.
      await audited(audit, actionEvent('create', context, { resource: { type: 'Authorization', id: stored.id }, reason: 'authorization:intake', patientRef: stored.patientRef }), now);
      if (!(await store.setIfAbsent(authKey(stored.id), JSON.stringify(stored), 6 * 366 * 86_400_000))) {
        throw new OptionsError('authorization: an authorization with this id is already on file');
      }
      return stored;
    },

    async revoke(context, id) {
      if (!hasRole(context, revokers)) return refuse(context, 'update', id);
      const found = await get(id);
      if (found === null) throw new OptionsError('revoke: no authorization with this id is on file');
      // 45 CFR 164.508(b)(5): effective from receipt; audited before it takes effect.
      await audited(audit, actionEvent('update', context, { resource: { type: 'Authorization', id: found.id }, reason: 'authorization:revoke', patientRef: found.patientRef }), now);
      await store.set(revokedKey(found.id), JSON.stringify({ at: now(), by: context.principal.id }), 6 * 366 * 86_400_000);
    },

    get,

    async verify(id, to) {
      const a = await get(id);
      if (a === null || a.patientRef !== patientRef(to.patientId) || a.recipientId !== to.recipientId) return { ok: false, reason: 'authorization_invalid' };
      if (a.revocation !== undefined) return { ok: false, reason: 'authorization_revoked' };
      if (a.expiresAt !== undefined && timeOf(a.expiresAt) <= now()) return { ok: false, reason: 'authorization_expired' };
      return { ok: true, authorization: a };
    },
  };
}
