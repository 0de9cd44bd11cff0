import { canonicalId } from '../ids.js';
import { randomUUID } from 'node:crypto';
import type { AuditEvent } from '../audit/event.js';
import { denialEvent } from '../audit/event.js';
import { systemClock, type Clock } from '../base/clock.js';
import type { AccessContext } from '../context.js';
import { AccessDeniedError, OptionsError, PhiGuardError } from '../errors.js';
import type { StateStore } from '../state/store.js';

/** A break-glass grant as stored. Holds a keyed patient reference, never the patient id. */
export interface BreakGlassGrant {
  readonly id: string;
  readonly principalId: string;
  readonly roles: readonly string[];
  readonly patientRef: string;
  readonly reason: string;
  /** The requester's free-text justification: kept for the reviewer, never written to audit. */
  readonly justification: string;
  readonly issuedAt: number;
  readonly expiresAt: number;
  readonly review?: { readonly reviewer: string; readonly decision: 'appropriate' | 'inappropriate'; readonly at: number };
}

/** What a request for emergency access gives. */
export interface BreakGlassRequest {
  readonly patientId: string | number;
  /** One of the configured reason codes. */
  readonly reason: string;
  /** Free text, at least `minJustification` characters. */
  readonly justification: string;
  /** Lifetime in minutes; default and maximum `maxMinutes`. */
  readonly minutes?: number;
}

/** Emergency access: grant, validate, revoke, and review after the fact. */
export interface BreakGlassService {
  /** Grants the caller emergency access to one patient (purpose ETREAT), audited as `break-glass`. */
  grant(context: AccessContext, request: BreakGlassRequest): Promise<{ readonly grantId: string; readonly expiresAt: number }>;
  /** Ends a grant at once on every instance sharing the store. Audited. */
  revoke(context: AccessContext, grantId: string): Promise<void>;
  /** The grant's terms when it is live and belongs to this caller and patient; null otherwise. */
  validate(context: AccessContext, grantId: string, patientId: string | number): Promise<NonNullable<NonNullable<AccessContext['breakGlass']>['validated']> | null>;
  /** Grants awaiting after-action review, oldest first. Reviewers only. */
  pendingReviews(context: AccessContext): Promise<BreakGlassGrant[]>;
  /** Records the reviewer's decision and takes the grant off the queue. Audited. */
  review(context: AccessContext, grantId: string, decision: 'appropriate' | 'inappropriate'): Promise<void>;
}

/** @internal What the guard gives the service. */
export interface BreakGlassHost {
  readonly store: StateStore;
  readonly roles: ReadonlySet<string>;
  readonly reviewerRoles: ReadonlySet<string>;
  readonly reasons: readonly string[];
  readonly minJustification: number;
  readonly maxMinutes: number;
  readonly retentionDays: number;
  /** The engine's clock (grant issue, expiry, revocation and review times). Default: the wall clock. */
  readonly clock?: Clock;
  readonly patientRef: (id: string | number) => string;
  readonly write: (event: AuditEvent) => Promise<void> | undefined;
  readonly event: (context: AccessContext, kind: string, grant: Pick<BreakGlassGrant, 'id' | 'reason' | 'expiresAt' | 'patientRef'>) => AuditEvent;
}

const GRANT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const grantKey = (id: string) => `bg:grant:${id}`;
const revokedKey = (id: string) => `bg:revoked:${id}`;
const REVIEW_QUEUE = 'bg:review';

class BreakGlassRefused extends PhiGuardError {
  constructor(message: string) {
    super('break_glass_invalid', message, 400);
  }
}

/** @internal Builds the service over a state store. */
export function createBreakGlassService(host: BreakGlassHost): BreakGlassService {
  const clock = host.clock ?? systemClock;
  const retentionMs = host.retentionDays * 86_400_000;
  const hasRole = (context: AccessContext, roles: ReadonlySet<string>) => (context.roles ?? []).some((r) => roles.has(r));
  const load = async (id: string): Promise<{ grant: BreakGlassGrant; revoked: boolean } | null> => {
    if (typeof id !== 'string' || !GRANT_ID.test(id)) return null;
    const [raw, revoked] = await host.store.getMany([grantKey(id), revokedKey(id)]);
    if (raw === null || raw === undefined) return null;
    return { grant: JSON.parse(raw) as BreakGlassGrant, revoked: revoked !== null && revoked !== undefined };
  };
  const audited = async (event: AuditEvent) => {
    await host.write(event);
  };

  return {
    async grant(context, request) {
      if (!hasRole(context, host.roles)) {
        await audited(denialEvent('break-glass', context, 'break-glass', 'break_glass_not_permitted'));
        throw new AccessDeniedError('break_glass_not_permitted');
      }
      const { patientId, reason, justification } = request ?? ({} as BreakGlassRequest);
      if ((typeof patientId !== 'string' && typeof patientId !== 'number') || String(patientId).length === 0) {
        throw new BreakGlassRefused('Break-glass needs the patient id.');
      }
      if (!host.reasons.includes(reason)) throw new BreakGlassRefused(`Break-glass reason must be one of: ${host.reasons.join(', ')}.`);
      if (typeof justification !== 'string' || justification.trim().length < host.minJustification) {
        throw new BreakGlassRefused(`Break-glass needs a justification of at least ${host.minJustification} characters.`);
      }
      const minutes = request.minutes ?? host.maxMinutes;
      if (!Number.isFinite(minutes) || minutes <= 0 || minutes > host.maxMinutes) {
        throw new BreakGlassRefused(`Break-glass lasts at most ${host.maxMinutes} minutes.`);
      }
      const now = clock.now();
      const grant: BreakGlassGrant = {
        id: randomUUID(),
        principalId: context.principal.id,
        roles: [...(context.roles ?? [])].filter((r) => host.roles.has(r)),
        // The patient in one form (`1%30%30%31` is 1001): the grant, its audit and its review name the chart it opens.
        patientRef: host.patientRef(canonicalId(patientId)!),
        reason,
        justification: justification.slice(0, 2000),
        issuedAt: now,
        expiresAt: now + Math.round(minutes * 60_000),
      };
      // Kept past expiry for the after-action review.
      await host.store.set(grantKey(grant.id), JSON.stringify(grant), retentionMs);
      await host.store.addToSet(REVIEW_QUEUE, grant.id);
      await audited(host.event(context, 'granted', grant));
      return { grantId: grant.id, expiresAt: grant.expiresAt };
    },

    async revoke(context, grantId) {
      const found = await load(grantId);
      if (found === null) throw new BreakGlassRefused('No such break-glass grant.');
      const { grant } = found;
      if (grant.principalId !== context.principal.id && !hasRole(context, host.reviewerRoles)) {
        throw new AccessDeniedError('break_glass_not_permitted');
      }
      await host.store.set(revokedKey(grant.id), String(clock.now()), retentionMs);
      await audited(host.event(context, 'revoked', grant));
    },

    async validate(context, grantId, patientId) {
      const found = await load(grantId);
      if (found === null || found.revoked) return null;
      const { grant } = found;
      if (grant.expiresAt <= clock.now()) return null;
      if (grant.principalId !== context.principal?.id) return null;
      const patient = canonicalId(patientId);
      if (patient === undefined || grant.patientRef !== host.patientRef(patient)) return null;
      return { patientId: patient, principalId: grant.principalId, reason: grant.reason, expiresAt: grant.expiresAt };
    },

    async pendingReviews(context) {
      if (!hasRole(context, host.reviewerRoles)) throw new AccessDeniedError('break_glass_not_permitted');
      const ids = await host.store.members(REVIEW_QUEUE);
      const raws = await host.store.getMany(ids.map(grantKey));
      return raws
        .filter((r): r is string => typeof r === 'string')
        .map((r) => JSON.parse(r) as BreakGlassGrant)
        .sort((a, b) => a.issuedAt - b.issuedAt);
    },

    async review(context, grantId, decision) {
      if (!hasRole(context, host.reviewerRoles)) throw new AccessDeniedError('break_glass_not_permitted');
      if (decision !== 'appropriate' && decision !== 'inappropriate') throw new OptionsError('review decision must be "appropriate" or "inappropriate"');
      const found = await load(grantId);
      if (found === null) throw new BreakGlassRefused('No such break-glass grant.');
      const reviewed: BreakGlassGrant = { ...found.grant, review: { reviewer: context.principal.id, decision, at: clock.now() } };
      await host.store.set(grantKey(grantId), JSON.stringify(reviewed), retentionMs);
      await host.store.removeFromSet(REVIEW_QUEUE, grantId);
      await audited(host.event(context, `reviewed:${decision}`, found.grant));
    },
  };
}
