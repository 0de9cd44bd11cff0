/**
 * @phiguard/core/audit: audit event builders, sinks (pino, stream, NDJSON, PostgreSQL, OpenTelemetry,
 * buffered, durable, tee, anomaly), the tamper-evident chain, FHIR AuditEvent mapping and the
 * accounting of disclosures. `AuditEvent` and `AuditSink` are in the root entry.
 * @packageDocumentation
 */
export { actionEvent, breakGlassEvent, denialEvent, disclosureEvent, dlpEvent, errorEvent, pinoAuditSink } from '../audit/event.js';
export type { AuditAction, AuditOutcome, PinoLike } from '../audit/event.js';
export * from '../audit/index.js';
