/**
 * Incident containment (45 CFR 164.308(a)(6)(ii) response and mitigation, 164.308(a)(3)(ii)(C)
 * termination procedures): a deny list of users and client applications, shared by every
 * instance through the state store and read on every PHI request, so that a disabled account
 * is refused everywhere on its next request.
 */
import { actionEvent, denialEvent } from '../audit/event.js';
import type { AccessContext } from '../context.js';
import { AccessDeniedError, OptionsError } from '../errors.js';
import type { StateStore } from '../state/store.js';
import { GOVERNANCE_OPTIONS, ID, audited, hasRole, nowOf, type GovernanceAudit } from './common.js';
import { optionsSchema } from '../options.js';
import type { Clock } from '../base/clock.js';

/** Who a deny-list entry stops. */
export type DenyTarget = { readonly principal: string } | { readonly client: string };

/** Options of {@link createDenyList}. */
export interface DenyListOptions {
  /** The guard's `state` (RedisStateStore shared by every instance). */
  readonly store: StateStore;
  readonly audit: GovernanceAudit;
  /** Roles that may disable and re-enable (security officer, identity administrators). */
  readonly roles: readonly string[];
  /** The clock of expiries and event times. Default: the wall clock. */
  readonly clock?: Clock;
}

/** The shared deny list. Give it to `createPhiGuard({ denyList })` so every PHI request checks it. */
export interface DenyList {
  /** Disables a user or a client on every instance. `reason` is a short code (`offboarding`, `incident:42`). Audited. */
  disable(context: AccessContext, target: DenyTarget, reason: string): Promise<void>;
  /** Lifts an entry. Audited. */
  enable(context: AccessContext, target: DenyTarget): Promise<void>;
  /** The refusal for this caller, or null: one state-store read. Rejects with StateUnavailableError (fail closed). */
  check(context: AccessContext): Promise<'principal_disabled' | 'client_disabled' | null>;
}

const CODE = /^[a-z0-9][a-z0-9:._-]{0,63}$/;
const keyOf = (t: DenyTarget) => ('principal' in t ? `deny:principal:${t.principal}` : `deny:client:${t.client}`);

function target(t: DenyTarget): DenyTarget {
  const id = t !== null && typeof t === 'object' ? ('principal' in t ? t.principal : 'client' in t ? t.client : undefined) : undefined;
  if (typeof id !== 'string' || !ID.test(id) || Object.keys(t).length !== 1) throw new OptionsError('deny list: target must be { principal: id } or { client: id }');
  return t;
}

const { store, audit, roles, clock } = GOVERNANCE_OPTIONS;
const DENY_OPTIONS = optionsSchema<DenyListOptions>('createDenyList', { store, audit, roles, clock });

/** Creates the deny list over a shared state store. */
export function createDenyList(options: DenyListOptions): DenyList {
  const { store, clock } = DENY_OPTIONS.parse(options ?? null);
  const roles = new Set(options.roles);
  const now = nowOf(clock);
  const { audit } = options;
  if (audit === null || typeof audit?.write !== 'function') throw new OptionsError('createDenyList needs `audit` (an AuditSink, or the guard)');
  const permit = async (context: AccessContext, attempted: 'update') => {
    if (hasRole(context, roles)) return;
    await audited(audit, denialEvent(attempted, context, 'DenyList', 'purpose_not_permitted'), now);
    throw new AccessDeniedError('purpose_not_permitted');
  };
  const resourceOf = (t: DenyTarget) => ({ type: 'principal' in t ? 'Principal' : 'Client', id: 'principal' in t ? t.principal : t.client });
  return {
    async disable(context, t, reason) {
      await permit(context, 'update');
      target(t);
      if (typeof reason !== 'string' || !CODE.test(reason)) throw new OptionsError('deny list: reason must be a short code ([a-z0-9:._-], at most 64)');
      await audited(audit, actionEvent('update', context, { resource: resourceOf(t), reason: `containment:disable:${reason}` }), now);
      await store.set(keyOf(t), JSON.stringify({ reason, by: context.principal.id, at: now() }));
    },
    async enable(context, t) {
      await permit(context, 'update');
      target(t);
      await audited(audit, actionEvent('update', context, { resource: resourceOf(t), reason: 'containment:enable' }), now);
      await store.delete(keyOf(t));
    },
    async check(context) {
      const principal = context?.principal?.id;
      const client = context?.principal?.clientId;
      const keys = [typeof principal === 'string' ? keyOf({ principal }) : null, typeof client === 'string' ? keyOf({ client }) : null];
      const present = keys.filter((k): k is string => k !== null);
      if (present.length === 0) return null;
      const found = await store.getMany(present);
      let i = 0;
      if (keys[0] !== null && found[i++] != null) return 'principal_disabled';
      if (keys[1] !== null && found[i] != null) return 'client_disabled';
      return null;
    },
  };
}
