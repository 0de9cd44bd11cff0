/**
 * The access decision: a pure function of the model, the caller's context, the resource and
 * (when known before the handler runs) the patient the request targets.
 */
import { isTrustedGrant } from '../access/trusted-grant.js';
import type { DenyReason } from '../errors.js';
import type { AccessContext } from '../context.js';
import { isPurposeOfUse, type PurposeOfUse } from '../purpose.js';
import { relationshipsOf } from './access.js';
import type { PolicyModel, ResourceModel } from './model.js';
import type { Plan } from './plan.js';
import type { Planner } from './plans.js';

/** Outcome of an access decision. */
export type Decision =
  | { readonly effect: 'allow'; readonly plan: Plan; readonly breakGlass?: BreakGlassUse }
  | {
      readonly effect: 'deny';
      readonly reason: DenyReason;
      /** From `PhiGuard.authorize` with an asynchronous sink: settles once the denial is recorded. Answer after it. */
      readonly pending?: Promise<void>;
    };

/** The grant an access was allowed under; audited with every disclosure it permits. */
export interface BreakGlassUse {
  readonly grantId: string;
  readonly reason: string;
  /** Epoch milliseconds. */
  readonly expiresAt: number;
}

const denials = new Map<DenyReason, Decision>();
/** @internal One frozen denial per reason. */
export function deny(reason: DenyReason): Decision {
  let d = denials.get(reason);
  if (d === undefined) denials.set(reason, (d = Object.freeze({ effect: 'deny', reason })));
  return d;
}

/** @internal Decides access for `context` to `resource` (a resource of `model`). */
export function decideAccess(
  model: PolicyModel,
  planner: Planner,
  resource: ResourceModel,
  context: AccessContext,
  subjectId: string | number | undefined,
  now: number,
): Decision {
  const purpose = context.purposeOfUse;
  const grant = context.breakGlass !== undefined && context.breakGlass !== null;
  if (!grant) {
    if (purpose === undefined || purpose === null || purpose === '') return deny('purpose_required');
    if (!isPurposeOfUse(purpose)) return deny('purpose_unknown');
  }
  let known: string[] | null = null;
  for (const role of Array.isArray(context.roles) ? context.roles : []) if (model.roles.has(role)) (known ??= []).push(role);
  if (known === null) return deny('role_unknown');
  for (const set of model.access.separationOfDuties) {
    if (set.every((r) => known!.includes(r))) return deny('separation_of_duties');
  }
  if (grant) return underGrant(model, planner, resource, context, known, subjectId, now);
  if (!isPurposeOfUse(purpose)) return deny('purpose_unknown');
  let permitted = known.filter((role) => resource.rules.get(role)?.has(purpose));
  if (permitted.length === 0) return deny('purpose_not_permitted');
  // 45 CFR 164.524: a patient's own record only; refused before the handler when the target is known.
  if (purpose === 'PATRQT' && subjectId !== undefined) {
    const own = context.principal?.patientId;
    if ((typeof own !== 'string' && typeof own !== 'number') || String(own) !== String(subjectId)) return deny('not_own_record');
  }
  // A role whose rule needs a relationship the caller lacks contributes nothing.
  const relationships = resource.compiled.relationships;
  if (relationships.size > 0) {
    const held = relationshipsOf(context);
    permitted = permitted.filter((role) => {
      const needed = relationships.get(role)?.get(purpose);
      return needed === undefined || held.includes(needed);
    });
    if (permitted.length === 0) return deny('relationship_required');
  }
  return { effect: 'allow', plan: planner.planOf(resource, permitted, purpose) };
}

/** Emergency access under a grant the guard validated: ETREAT rules, no relationship needed. */
function underGrant(
  model: PolicyModel,
  planner: Planner,
  resource: ResourceModel,
  context: AccessContext,
  known: string[],
  subjectId: string | number | undefined,
  now: number,
): Decision {
  const claim = context.breakGlass!;
  const grant = claim.validated;
  const terms = model.access.breakGlass;
  if (terms === null) return deny('break_glass_not_permitted');
  if (
    grant === undefined ||
    // Only a grant the engine validated and marked, never one a caller wrote into the context.
    !isTrustedGrant(grant) ||
    grant.expiresAt <= now ||
    grant.principalId !== context.principal?.id ||
    (subjectId !== undefined && String(subjectId) !== grant.patientId)
  ) {
    return deny('break_glass_invalid');
  }
  const eligible = known.filter((r) => terms.roles.has(r));
  if (eligible.length === 0) return deny('break_glass_not_permitted');
  const etreat: PurposeOfUse = 'ETREAT';
  const permitted = eligible.filter((r) => resource.rules.get(r)?.has(etreat));
  if (permitted.length === 0) return deny('purpose_not_permitted');
  return {
    effect: 'allow',
    plan: planner.planOf(resource, permitted, etreat),
    breakGlass: { grantId: claim.grantId, reason: grant.reason, expiresAt: grant.expiresAt },
  };
}
