/**
 * Constants shared by several layers. The bottom layer (`base/`) imports nothing else from core,
 * so anything may import it without a cycle; enforced by `.dependency-cruiser.cjs`.
 */

/** Reason codes a break-glass request may give when the policy lists none. */
export const DEFAULT_BREAK_GLASS_REASONS: readonly string[] = Object.freeze([
  'life-threatening-emergency',
  'patient-unable-to-consent',
  'care-team-unavailable',
  'continuity-of-care',
  'system-downtime',
]);
