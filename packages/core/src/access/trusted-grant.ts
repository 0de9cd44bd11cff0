/**
 * Validated break-glass grants are marked by the engine that validated them against the state
 * store. A `validated` block a caller writes into a context itself is not marked, so the decision
 * treats it as no grant at all: the framework-free API cannot be talked into the emergency view.
 */
const trusted = new WeakSet<object>();

/** Marks a grant the engine has just validated. */
export function trustGrant<T extends object>(grant: T): T {
  trusted.add(grant);
  return grant;
}

/** Whether the engine validated this grant (a caller-written one never is). */
export function isTrustedGrant(grant: unknown): boolean {
  return grant !== null && typeof grant === 'object' && trusted.has(grant);
}
