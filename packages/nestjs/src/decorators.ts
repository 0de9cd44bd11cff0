import { SetMetadata } from '@nestjs/common';
import { OptionsError, type PurposeOfUse as PurposeOfUseCode } from '@phiguard/core';
import { checkNarrowingRules, checkResourceName, type NarrowingRules } from '@phiguard/core/adapter';
import { AUDIT_ACTIONS, type AuditAction as AuditActionName } from '@phiguard/core/audit';
import { isPurposeOfUse } from '@phiguard/core/policy';
import { METADATA } from './tokens.js';

/** Operators a handler may use to narrow the central policy (core's): it can take fields away, never add or unmask. */
export { NARROWING_OPERATORS } from '@phiguard/core/adapter';

/** A per-handler rule set: selector (field path, `@class`, `*`) → `send` | `deny`. */
export type MinimumNecessaryRules = NarrowingRules;

/**
 * Claims a controller or a handler for a policy resource: responses are projected through the
 * caller's plan, requests are authorized and audited. A handler's claim overrides its class's.
 * The name is checked against the policy at bootstrap.
 */
export function PhiResource(resource: string): ClassDecorator & MethodDecorator {
  return SetMetadata(METADATA.resource, checkResourceName(resource, '@PhiResource'));
}

/**
 * The purpose of use assumed when the request asserts none (the resolver returned no
 * `purposeOfUse`). A purpose the request does assert always wins; the default is audited like one.
 */
export function Purpose(purpose: PurposeOfUseCode): ClassDecorator & MethodDecorator {
  /* Precondition: an HL7 v3 PurposeOfUse code. */
  if (!isPurposeOfUse(purpose)) throw new OptionsError(`@Purpose("${String(purpose)}"): not an HL7 v3 PurposeOfUse code phiguard knows (TREAT, HPAYMT, …)`);
  return SetMetadata(METADATA.purpose, purpose);
}

/** Marks a controller or handler as carrying no PHI: no decision, no projection, no audit. */
export function SkipPhiGuard(): ClassDecorator & MethodDecorator {
  return SetMetadata(METADATA.skip, true);
}

/** The audit action recorded for the route (default: from the HTTP method, `GET` → `read`). */
export function AuditAs(action: AuditActionName): ClassDecorator & MethodDecorator {
  if (!AUDIT_ACTIONS.includes(action)) throw new OptionsError(`@AuditAs("${String(action)}"): expected one of ${AUDIT_ACTIONS.join(', ')}`);
  return SetMetadata(METADATA.auditAction, action);
}

/**
 * Lets emergency (break-glass) access apply on this route: a grant invoked with
 * `X-Break-Glass-Grant` (or set as `breakGlass` by the context resolver) is validated by core and,
 * when valid, decides the request. On routes without it any claim is dropped. The resolver also
 * sees it as `route.allowBreakGlass`.
 */
export function AllowBreakGlass(): ClassDecorator & MethodDecorator {
  return SetMetadata(METADATA.breakGlass, true);
}

/**
 * Narrows what a handler may release below the central policy (45 CFR 164.514(d)): a rule set of
 * `send` / `deny` by field path, `@class` or `*` (most specific wins, unmatched fields
 * are withheld). A field leaves only when the central policy's rule for the caller sends it AND
 * this rule set sends it; the central operator (mask, token…) still applies. It can only take
 * away. Validated against the resource's fields at bootstrap.
 *
 * @example `@MinimumNecessary({ 'reports[].code': 'send', 'reports[].issued': 'send' })`
 */
export function MinimumNecessary(rules: MinimumNecessaryRules): MethodDecorator & ClassDecorator {
  return SetMetadata(METADATA.minimumNecessary, checkNarrowingRules(rules, '@MinimumNecessary'));
}
