import type { FieldDeclarations, PolicyDefinition } from './types.js';

/**
 * Declares a policy with full type checking: rules may only name declared roles, HL7 purpose
 * codes and declared field paths. Returns the definition unchanged; validate and precompile it
 * with {@link compilePolicy}.
 *
 * @example
 * const policy = definePolicy({
 *   roles: ['billing'],
 *   resources: {
 *     LabResult: {
 *       fields: { mrn: 'direct-identifier', 'tests[].code': 'clinical' },
 *       disclose: { billing: { HPAYMT: { mrn: { op: 'partial', keep: 4 }, '@clinical': 'send' } } },
 *     },
 *   },
 * });
 */
export function definePolicy<
  const Role extends string,
  const Resources extends Record<string, FieldDeclarations>,
>(policy: PolicyDefinition<Role, Resources>): PolicyDefinition<Role, Resources> {
  return policy;
}
