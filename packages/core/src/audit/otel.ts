/**
 * OpenTelemetry audit sink: puts a `phiguard.audit` span event on the active span, so traces
 * show what was disclosed and why next to the request that did it.
 */
import { option, optionsSchema } from '../options.js';
import type { AuditEvent, AuditSink } from './event.js';

/** Span attributes: what `Span.addEvent` accepts. */
export type OtelAuditAttributes = Record<string, string | number | boolean>;

/**
 * The part of `@opentelemetry/api`'s `trace` the sink uses. Pass the application's own
 * `trace` (`import { trace } from '@opentelemetry/api'`): core then loads no OpenTelemetry code
 * itself and always talks to the API instance the application's SDK registered with.
 */
export interface OtelTraceApi {
  getActiveSpan():
    | { isRecording(): boolean; addEvent(name: string, attributes?: OtelAuditAttributes): unknown }
    | undefined;
}

/** Name of the span event. */
export const OTEL_AUDIT_EVENT = 'phiguard.audit';

/**
 * The span event attributes for an event: action, outcome, resource type, purpose, patient
 * reference (a keyed hash), reason, counts, chain position. Never field values, resource ids,
 * actor network data or disclosed paths: traces usually go to less protected backends.
 */
export function otelAuditAttributes(event: AuditEvent): OtelAuditAttributes {
  const a: OtelAuditAttributes = {
    'phiguard.event.id': event.id,
    'phiguard.action': event.action,
    'phiguard.outcome': event.outcome,
    'phiguard.resource.type': event.resource.type,
  };
  if (event.attemptedAction !== undefined) a['phiguard.attempted_action'] = event.attemptedAction;
  if (event.reason !== undefined) a['phiguard.reason'] = event.reason;
  if (event.purposeOfUse !== null && event.purposeOfUse !== undefined) a['phiguard.purpose_of_use'] = event.purposeOfUse;
  if (event.patient !== undefined) a['phiguard.patient.ref'] = event.patient.ref;
  if (event.disclosed !== undefined) a['phiguard.disclosed.count'] = event.disclosed.length;
  if (event.transforms !== undefined) a['phiguard.transforms.count'] = Object.keys(event.transforms).length;
  if (event.dlp !== undefined) {
    a['phiguard.dlp.action'] = event.dlp.action;
    a['phiguard.dlp.findings'] = Object.values(event.dlp.counts).reduce((s, n) => s + n, 0);
  }
  if (event.breakGlass !== undefined) a['phiguard.break_glass'] = true;
  if (event.chain !== undefined) {
    a['phiguard.chain.stream'] = event.chain.stream;
    a['phiguard.chain.seq'] = event.chain.seq;
  }
  return a;
}

const OTEL_OPTIONS = optionsSchema<{ readonly trace: OtelTraceApi }>('createOtelAuditSink', {
  trace: option.required(option.implementing<OtelTraceApi>("`trace` from '@opentelemetry/api'", 'getActiveSpan')),
});

/**
 * A sink adding a `phiguard.audit` event to the active span: `createOtelAuditSink({ trace })`.
 * A no-op without an OpenTelemetry SDK, without an active span or when the span is not
 * sampled. Never throws: it is telemetry, not a store of record, so combine it with a durable
 * sink (`createTeeSink(store, createOtelAuditSink({ trace }))`).
 */
export function otelAuditSink(options: { readonly trace: OtelTraceApi }): AuditSink {
  const api = OTEL_OPTIONS.parse(options ?? null).trace;
  return {
    write(event) {
      try {
        const span = api.getActiveSpan();
        if (span === undefined || !span.isRecording()) return;
        span.addEvent(OTEL_AUDIT_EVENT, otelAuditAttributes(event));
      } catch {
        /* telemetry must never fail a request */
      }
    },
  };
}
