/** Audit: sinks, tamper evidence, FHIR mapping and accounting of disclosures. */
export { canonicalJson, canonicalSplit } from './canonical.js';
export {
  CHAIN_GENESIS,
  CHAIN_KEY_MIN_BYTES,
  chainHash,
  chainSink,
  checkpointMac,
  createChainVerifier,
  parseChainKey,
  verifyChain,
} from './chain.js';
export type {
  ChainBreak,
  ChainBreakKind,
  ChainCheckpoint,
  ChainHead,
  ChainSinkOptions,
  ChainVerdict,
  ChainVerifier,
  ChainedAuditEvent,
  ChainedAuditSink,
  VerifyChainOptions,
} from './chain.js';
export type { AuditBatchSink, AuditLineSink, ChainLink } from './event.js';
export { durableSink, systemTimer } from './durable.js';
export type { AuditTimer, DurableAuditSink, DurableErrorInfo, DurableRecovery, DurableSinkOptions, DurableSinkStats } from './durable.js';
export { ndjsonFileSink, readNdjsonAudit, readNdjsonEvents } from './ndjson.js';
export type { NdjsonFileSink, NdjsonFileSinkOptions } from './ndjson.js';
export { OTEL_AUDIT_EVENT, otelAuditAttributes, otelAuditSink } from './otel.js';
export type { OtelAuditAttributes, OtelTraceApi } from './otel.js';
export { streamSink } from './stream.js';
export type { AuditDestination, StreamAuditSink, StreamSinkOptions } from './stream.js';
export { teeSink } from './tee.js';
export type { TeeAuditSink } from './tee.js';
export { AUDIT_RETENTION_MIN_DAYS, auditTableSql, auditWriterRoleSql, postgresAuditSink } from './postgres.js';
export { auditPurgeTarget } from './purge.js';
export type { AuditPurgeTargetOptions } from './purge.js';
export type { DisclosureQuery, PgQueryable, PostgresAuditSink, PostgresAuditSinkOptions } from './postgres.js';
export { bufferedSink } from './buffered.js';
export type { BufferedAuditSink, BufferedSinkOptions, BufferedSinkStats } from './buffered.js';
export { toFhirAuditEvent, toFhirAuditEvents } from './fhir.js';
export type {
  AuditRecipient,
  FhirAuditEventAgent,
  FhirAuditEventEntity,
  FhirAuditEventR4,
  FhirAuditOptions,
  FhirCodeableConcept,
  FhirCoding,
  FhirIdentifier,
  FhirReference,
} from './fhir.js';
export { accountingOfDisclosures } from './accounting.js';
export type { AccountingQuery, AccountingSource, DisclosureRecord, DisclosureStore, DisclosureSummary } from './accounting.js';
export {
  anomalySink,
  breakGlassRule,
  flaggedPatientsRule,
  massAccessRule,
  MemoryAnomalyStore,
  newNetworkRule,
  nonClinicalResultsRule,
  offHoursRule,
  populationAccessRule,
  repeatedDenialsRule,
} from './anomaly.js';
export type { AnomalyAlert, AnomalyRule, AnomalySink, AnomalySinkOptions, AnomalyStore } from './anomaly.js';
