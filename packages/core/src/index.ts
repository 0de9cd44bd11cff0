/**
 * @phiguard/core: the framework-free engine. Policies, decisions, masking and audit events.
 * @packageDocumentation
 */
export { definePolicy } from './policy/define.js';
export { compilePolicy } from './policy/compile.js';
export type { CompileOptions, CompiledPolicy, CompiledResource, Decision } from './policy/compile.js';
export { Plan, DEFAULT_LIMITS } from './policy/plan.js';
export type { Disclosure, Protected, ProtectLimits } from './policy/plan.js';
export type {
  BuiltinOperatorName,
  DisclosureMatrix,
  FieldClass,
  FieldDeclarations,
  FieldSpec,
  OperatorSpec,
  PolicyDefinition,
  ResourceDefinition,
  RuleSet,
  Selector,
} from './policy/types.js';
export type { CustomOperator } from './operators/builtin.js';
export { RESTRICTED_ZIP3 } from './operators/restricted-zip3.js';
export { PURPOSES_OF_USE, isPurposeOfUse } from './purpose.js';
export type { PurposeOfUse } from './purpose.js';
export type { AccessContext, Principal, RequestInfo } from './context.js';
export {
  AccessDeniedError,
  AuditUnavailableError,
  AuthenticationRequiredError,
  DecryptError,
  DlpBlockedError,
  KeyUnavailableError,
  LimitExceededError,
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
export { actionForMethod, denialEvent, disclosureEvent, dlpEvent, errorEvent, pinoAuditSink } from './audit/event.js';
export type { AuditAction, AuditEvent, AuditOutcome, AuditSink, PinoLike } from './audit/event.js';
export * from './audit/index.js';
export { createPhiGuard } from './guard.js';
export { didYouMean } from './suggest.js';
export type { Inspection, PhiGuard, PhiGuardOptions, Release } from './guard.js';
export * from './dlp/index.js';
export * from './deid/index.js';
export type { InboundInspection } from './inbound.js';
