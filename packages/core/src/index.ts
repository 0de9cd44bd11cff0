/**
 * @phiguard/core: the framework-free engine. Policies, decisions, masking and audit events.
 * @packageDocumentation
 */
export { definePolicy } from './policy/define.js';
export { compilePolicy } from './policy/compile.js';
export type { BreakGlassUse, CompileOptions, CompiledPolicy, CompiledResource, Decision } from './policy/compile.js';
export type { CompiledAccess } from './policy/access.js';
export { FieldIndex } from './policy/field-index.js';
export type { DeclaredField, IndexNode } from './policy/field-index.js';
export { compileNarrowing } from './policy/narrow.js';
export type { HandlerNarrowing, NarrowingRules } from './policy/narrow.js';
export { ROLE_TEMPLATES, fromTemplate } from './policy/templates.js';
export type { RoleTemplate } from './policy/templates.js';
export { Plan, DEFAULT_LIMITS } from './policy/plan.js';
export type { Disclosure, Protected, ProtectLimits, Serialized } from './policy/plan.js';
export type { TokenCacheOptions } from './operators/token-cache.js';
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
export { RESTRICTED_ZIP3, RESTRICTED_ZIP3_SOURCE } from './operators/restricted-zip3.js';
export { PURPOSES_OF_USE, isPurposeOfUse } from './purpose.js';
export type { PurposeOfUse } from './purpose.js';
export type { AccessContext, Authentication, BreakGlassClaim, Principal, RequestInfo } from './context.js';
export {
  AccessDeniedError,
  AuditUnavailableError,
  AuthenticationRequiredError,
  DecryptError,
  DlpBlockedError,
  StateUnavailableError,
  StepUpRequiredError,
  ThrottledError,
  KeyUnavailableError,
  LimitExceededError,
  MissingDependencyError,
  OptionsError,
  PhiGuardError,
  PolicyError,
} from './errors.js';
export type { DecryptFailure, DenyReason, PhiGuardErrorCode } from './errors.js';
export type { DataKey, EncryptionContext, Keyring, WrappedKey } from './crypto/keyring.js';
export { encodeContext } from './crypto/context.js';
export { createFieldCipher } from './crypto/field-cipher.js';
export type { FieldCipher, FieldCipherOptions, KeyCacheOptions } from './crypto/field-cipher.js';
export { isCiphertext, OVERHEAD_BYTES as CIPHERTEXT_OVERHEAD_BYTES } from './crypto/format.js';
export { MemoryKeyStore } from './crypto/key-store.js';
export type { KeyStore, StoredDataKey } from './crypto/key-store.js';
export { createRecordCipher } from './crypto/records.js';
export type { RecordCipher, RecordCipherOptions } from './crypto/records.js';
export { reencrypt, rewrapKeys } from './crypto/rotation.js';
export type { RewrapOptions } from './crypto/rotation.js';
export { actionEvent, actionForMethod, breakGlassEvent, denialEvent, disclosureEvent, dlpEvent, errorEvent, pinoAuditSink } from './audit/event.js';
export type { AuditAction, AuditEvent, AuditOutcome, AuditSink, PinoLike } from './audit/event.js';
export * from './audit/index.js';
export { ENGINE_OPTION_KEYS, createPhiGuard } from './guard.js';
export { EXCHANGE_OPTION_KEYS, canonicalId, createExchangeHost } from './exchange/exchange.js';
export type { Claim, ErrorLogger, Exchange, ExchangeHost, ExchangeOptions, Maybe, Released, RequestFacts, RouteKind, Step } from './exchange/exchange.js';
export { codeOf, errorBody, errorHeaders, genericCode, isAnswer, statusOf } from './exchange/http.js';
export type { Answer, ErrorBody } from './exchange/http.js';
export { guardResponse } from './exchange/response.js';
export type { GateHooks, GatedResponse, ResponseGate } from './exchange/response.js';
export { didYouMean } from './suggest.js';
export type { Inspection, PhiGuard, PhiGuardOptions, RelationshipFacts, RelationshipResolver, Release, JsonRelease } from './guard.js';
export { MemoryStateStore, RedisStateStore } from './state/store.js';
export type { RedisLike, RedisStateStoreOptions, StateStore } from './state/store.js';
export { DEFAULT_BREAK_GLASS_REASONS } from './base/constants.js';
export { systemClock } from './base/clock.js';
export type { Clock } from './base/clock.js';
export type { BreakGlassGrant, BreakGlassRequest, BreakGlassService } from './access/break-glass.js';
export * from './dlp/index.js';
export * from './deid/index.js';
export * from './delivery/index.js';
export * from './governance/index.js';
export type { InboundInspection } from './inbound.js';
export { policyReportHtml } from './report/html.js';
export type { PolicyReportOptions } from './report/html.js';
export { disclosureMatrix } from './report/matrix.js';
export type { ResourceMatrix } from './report/matrix.js';
