/**
 * `compilePolicy`: validation (model.ts) → field index (field-index.ts) → plans (plans.ts) →
 * decisions (decide.ts), composed into the {@link CompiledPolicy} users hold.
 */
import { AccessDeniedError, PolicyError } from '../errors.js';
import { hmacDigest } from '../operators/builtin.js';
import type { AccessContext } from '../context.js';
import type { Clock } from '../base/clock.js';
import { didYouMean } from '../suggest.js';
import { unclassifiedWarning } from './unclassified.js';
import { hasRecentMfa, type CompiledAccess } from './access.js';
import { decideAccess, type Decision } from './decide.js';
import { validatePolicy, type CompileOptions, type CompiledResource } from './model.js';
import { createPlanner } from './plans.js';
import type { PlanHost, ProtectLimits, Protected } from './plan.js';
import type { PolicyDefinition } from './types.js';

export type { CompileOptions, CompiledResource } from './model.js';
export type { BreakGlassUse, Decision } from './decide.js';

/** A validated policy with its plans precompiled. Build once at start-up with {@link compilePolicy}. */
export interface CompiledPolicy {
  readonly roles: ReadonlySet<string>;
  /** Routes the policy lists as carrying no PHI (`GET /health`). */
  readonly nonPhi: readonly string[];
  readonly resources: ReadonlyMap<string, CompiledResource>;
  readonly limits: ProtectLimits;
  /** Separation of duties, break-glass terms and what counts as a recent second factor. */
  readonly access: CompiledAccess;
  /**
   * Decides access for `context` to `resource`; pure, never throws for a known resource. Pass
   * `subjectId` (the patient id the request targets, when known before the handler runs) to
   * refuse patient requests for another patient early.
   */
  decide(context: AccessContext, resource: string, subjectId?: string | number): Decision;
  /** Decides, then projects `value`; throws {@link AccessDeniedError} when denied. */
  protect<T = unknown>(value: unknown, context: AccessContext, resource: string): Protected<T>;
  /** Keyed, non-reversible reference to a patient id (`pt_…`), for audit records. */
  patientRef(patientId: string | number): string;
  /** The clock its decisions read ({@link CompileOptions.clock}). */
  readonly clock: Clock;
}

/**
 * Validates a policy and precompiles its plans. Every problem is reported at once in one
 * {@link PolicyError} so a start-up fails with the whole list.
 */
export function compilePolicy(policy: PolicyDefinition, options: CompileOptions = {}): CompiledPolicy {
  const model = validatePolicy(policy, options);
  const { access, limits, refKey, clock } = model;

  const mode = options.mode ?? (process.env.NODE_ENV === 'production' ? 'production' : 'development');
  const warn = options.warn ?? ((message: string) => process.emitWarning(message, { code: 'PHIGUARD_UNCLASSIFIED' }));
  const warned = new Set<string>();
  const host: PlanHost = {
    limits,
    recentMfa: (context) => hasRecentMfa(context, access.stepUp, clock.now()),
    stepUpMaxAge: access.stepUp.maxAgeSeconds,
    onUnclassified:
      mode === 'development'
        ? (resource, paths) => {
            const fresh = paths.filter((p) => {
              const key = `${resource}\0${p}`;
              if (warned.has(key) || warned.size >= 1000) return false;
              warned.add(key);
              return true;
            });
            if (fresh.length > 0) {
              warn(unclassifiedWarning(resource, fresh));
            }
          }
        : null,
  };
  const planner = createPlanner(model, host);

  const decide = (context: AccessContext, resource: string, subjectId?: string | number): Decision => {
    const r = model.resources.get(resource);
    if (r === undefined) throw new PolicyError([`unknown resource "${resource}"${didYouMean(resource, model.resources.keys())}`]);
    return decideAccess(model, planner, r, context, subjectId, clock.now());
  };

  const refCache = new Map<string, string>();
  return Object.freeze({
    roles: model.roles,
    nonPhi: model.nonPhi,
    resources: new Map([...model.resources].map(([k, v]) => [k, v.compiled])),
    limits,
    access,
    decide,
    clock,
    protect<T>(value: unknown, context: AccessContext, resource: string): Protected<T> {
      const decision = decide(context, resource);
      if (decision.effect === 'deny') throw new AccessDeniedError(decision.reason);
      return decision.plan.apply<T>(value, context);
    },
    patientRef(patientId: string | number): string {
      if (!refKey) throw new PolicyError(['patientRef needs options.secret']);
      const id = String(patientId);
      let ref = refCache.get(id);
      if (ref === undefined) {
        ref = `pt_${hmacDigest(refKey, 'patient', id).subarray(0, 16).toString('base64url')}`;
        // Recently seen patients are looked up again and again; keep a bounded cache of refs.
        if (refCache.size >= 4096) refCache.delete(refCache.keys().next().value!);
        refCache.set(id, ref);
      }
      return ref;
    },
  });
}
