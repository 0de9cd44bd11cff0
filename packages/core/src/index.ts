/**
 * @phiguard/core: the framework-free engine. The root entry holds only what a user starts with:
 * define and compile a policy, create the guard, a scanner and a field cipher, the typed errors and
 * the types to write a policy, a context and the guard options. Everything else has a subpath
 * (`@phiguard/core/audit`, `/dlp`, `/crypto`, `/deid`, `/delivery`, `/governance`, `/policy`,
 * `/state`, `/testing`, and `/adapter` for framework adapters); see the package README.
 * @packageDocumentation
 */
export { definePolicy } from './policy/define.js';
export { compilePolicy } from './policy/compile.js';
export type { CompileOptions, CompiledPolicy, CompiledResource, Decision } from './policy/compile.js';
export type {
  BuiltinOperatorName,
  DisclosureMatrix,
  FieldClass,
  FieldDeclarations,
  FieldSpec,
  OperatorSpec,
  PolicyDefinition,
  ResourceDefinition,
  Relationship,
  RuleSet,
  Selector,
  SensitiveCategory,
  SensitiveDefinition,
} from './policy/types.js';
export type { CustomOperator } from './operators/builtin.js';
export type { PurposeOfUse } from './purpose.js';
export type { AccessContext, Authentication, BreakGlassClaim, Principal, RequestInfo } from './context.js';
export { createPhiGuard } from './guard.js';
export type { Inspection, JsonRelease, PhiGuard, PhiGuardOptions, RelationshipFacts, RelationshipResolver, Release } from './guard.js';
export type { BreakGlassGrant, BreakGlassRequest, BreakGlassService } from './access/break-glass.js';
export type { AuditEvent, AuditSink } from './audit/event.js';
export { createScanner } from './dlp/scanner.js';
export type { ScanOptions, Scanner, ScannerOptions } from './dlp/scanner.js';
export { createFieldCipher } from './crypto/field-cipher.js';
export type { FieldCipher, FieldCipherOptions, KeyCacheOptions } from './crypto/field-cipher.js';
export type { Keyring } from './crypto/keyring.js';
export { systemClock } from './base/clock.js';
export type { Clock } from './base/clock.js';
export {
  AccessDeniedError,
  AuditUnavailableError,
  AuthenticationRequiredError,
  DecryptError,
  DlpBlockedError,
  KeyUnavailableError,
  LimitExceededError,
  MissingDependencyError,
  OptionsError,
  PhiGuardError,
  PolicyError,
  StateUnavailableError,
  StepUpRequiredError,
  ThrottledError,
} from './errors.js';
export type { DecryptFailure, DenyReason, OptionIssue, PhiGuardErrorCode, ValueKind } from './errors.js';
