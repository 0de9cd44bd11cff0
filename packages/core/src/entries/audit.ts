/**
 * @phiguard/core/audit: audit event builders, sinks (pino, stream, NDJSON, PostgreSQL, OpenTelemetry,
 * buffered, durable, tee, anomaly), the tamper-evident chain, FHIR AuditEvent mapping and the
 * accounting of disclosures. `AuditEvent` and `AuditSink` are in the root entry.
 * @packageDocumentation
 */
export { actionEvent, breakGlassEvent, denialEvent, disclosureEvent, dlpEvent, errorEvent, pinoAuditSink as createPinoAuditSink } from '../audit/event.js';
export { AUDIT_ACTIONS } from '../audit/event.js';
export type { AuditAction, AuditOutcome, PinoLike } from '../audit/event.js';
export { canonicalJson, canonicalSplit } from '../audit/canonical.js';
export {
  CHAIN_GENESIS,
  CHAIN_KEY_MIN_BYTES,
  chainHash,
  chainSink as createChainSink,
  checkpointMac,
  createChainVerifier,
  parseChainKey,
  verifyChain,
} from '../audit/chain.js';
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
} from '../audit/chain.js';
export type { AuditBatchSink, AuditLineSink, ChainLink } from '../audit/event.js';
export { durableSink as createDurableSink } from '../audit/durable.js';
export { systemTimer } from '../audit/timer.js';
export type { AuditTimer } from '../audit/timer.js';
export type { DurableAuditSink, DurableErrorInfo, DurableRecovery, DurableShipTarget, DurableSinkOptions, DurableSinkStats } from '../audit/durable.js';
export { ndjsonFileSink as createNdjsonFileSink, readNdjsonAudit, readNdjsonEvents } from '../audit/ndjson.js';
export type { NdjsonFileSink, NdjsonFileSinkOptions } from '../audit/ndjson.js';
export { OTEL_AUDIT_EVENT, otelAuditAttributes, otelAuditSink as createOtelAuditSink } from '../audit/otel.js';
export type { OtelAuditAttributes, OtelTraceApi } from '../audit/otel.js';
export { streamSink as createStreamSink } from '../audit/stream.js';
export type { AuditDestination, StreamAuditSink, StreamSinkOptions } from '../audit/stream.js';
export { teeSink as createTeeSink } from '../audit/tee.js';
export type { TeeAuditSink } from '../audit/tee.js';
export { AUDIT_RETENTION_MIN_DAYS, auditTableSql, auditWriterRoleSql, postgresAuditSink as createPostgresAuditSink } from '../audit/postgres.js';
export { auditPurgeTarget as createAuditPurgeTarget } from '../audit/purge.js';
export type { AuditPurgeTargetOptions } from '../audit/purge.js';
export type { DisclosureQuery, PgQueryable, PostgresAuditSink, PostgresAuditSinkOptions } from '../audit/postgres.js';
export { bufferedSink as createBufferedSink } from '../audit/buffered.js';
export type { BufferedAuditSink, BufferedSinkOptions, BufferedSinkStats } from '../audit/buffered.js';
export { toFhirAuditEvent, toFhirAuditEvents } from '../audit/fhir.js';
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
} from '../audit/fhir.js';
export { accountingOfDisclosures } from '../audit/accounting.js';
export type { AccountingQuery, AccountingSource, DisclosureRecord, DisclosureStore, DisclosureSummary } from '../audit/accounting.js';
export {
  anomalySink as createAnomalySink,
  breakGlassRule,
  flaggedPatientsRule,
  massAccessRule,
  createMemoryAnomalyStore,
  newNetworkRule,
  nonClinicalResultsRule,
  offHoursRule,
  populationAccessRule,
  repeatedDenialsRule,
} from '../audit/anomaly.js';
export type { AnomalyAlert, AnomalyRule, AnomalySink, AnomalySinkOptions, AnomalyStore } from '../audit/anomaly.js';
