/**
 * @phiguard/core/policy: helpers for writing and reviewing policies (role templates, purposes of
 * use, the restricted ZIP3 list, the disclosure matrix) and the types of compiled plans.
 * `definePolicy`, `compilePolicy` and the policy types are in the root entry.
 * @packageDocumentation
 */
export { ROLE_TEMPLATES, fromTemplate } from '../policy/templates.js';
export type { RoleTemplate } from '../policy/templates.js';
export { PURPOSES_OF_USE, isPurposeOfUse } from '../purpose.js';
export { RESTRICTED_ZIP3, RESTRICTED_ZIP3_2000, RESTRICTED_ZIP3_2000_SOURCE, RESTRICTED_ZIP3_SOURCE } from '../operators/restricted-zip3.js';
export { DEFAULT_BREAK_GLASS_REASONS } from '../base/constants.js';
export { DEFAULT_LIMITS } from '../policy/plan.js';
// Plans come from a compiled policy (`decision.plan`, `planFor`); the class is not constructed by users.
export type { Disclosure, Plan, Protected, ProtectLimits, Serialized } from '../policy/plan.js';
export type { BreakGlassUse } from '../policy/compile.js';
export type { CompiledAccess } from '../policy/access.js';
export type { TokenCacheOptions } from '../operators/token-cache.js';
export { disclosureMatrix } from '../policy/matrix.js';
export type { ResourceMatrix } from '../policy/matrix.js';
export { declarationSources, flattenDeclarations, policyFromFieldDeclarations } from '../policy/declarations.js';
export type { DeclarationMergeOptions, DeclarationSource, FieldDeclaration, NestedDeclaration } from '../policy/declarations.js';
