import { randomUUID } from 'node:crypto';
import type { AuditAction, AuditEvent, AuditOutcome } from '../audit/event.js';
import type { AccessContext } from '../context.js';
import { AuditUnavailableError } from '../errors.js';

/** Where delivery audit events go: any `AuditSink` (`{ write(event) }`). */
export interface DeliveryAuditSink {
  write(event: AuditEvent): void | Promise<void>;
}

/**
 * An audit event about a delivery: the common {@link AuditEvent} plus a `delivery` block of
 * references (link id, export id, keyed hashes, counts), never values.
 */
export interface DeliveryAuditEvent extends AuditEvent {
  readonly delivery: {
    readonly kind: 'pickup-link' | 'export';
    readonly linkId?: string;
    readonly audienceRef?: string;
    readonly expiresAt?: string;
    readonly exportId?: string;
    readonly format?: string;
    readonly records?: number;
    readonly recipient?: string;
    readonly digest?: string;
  };
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/g;
const clean = (value: unknown, cap = 256): string | undefined =>
  typeof value === 'string' ? value.slice(0, cap).replace(CONTROL, '') : undefined;

/** @internal Builds an event in the shape of the engine's events (same keys, same order). */
export function deliveryEvent(
  context: AccessContext | null | undefined,
  action: AuditAction,
  outcome: AuditOutcome,
  resource: { readonly type: string; readonly id?: string },
  delivery: DeliveryAuditEvent['delivery'],
  extra: { readonly reason?: string; readonly attemptedAction?: AuditAction; readonly patientRef?: string; readonly purposeOfUse?: string } = {},
): DeliveryAuditEvent {
  const req = context?.request;
  const roles = Array.isArray(context?.roles) ? context.roles.filter((r): r is string => typeof r === 'string').slice(0, 16).map((r) => clean(r, 64)!) : [];
  return {
    id: randomUUID(),
    time: new Date().toISOString(),
    action,
    outcome,
    attemptedAction: extra.attemptedAction,
    reason: extra.reason,
    actor: { id: clean(context?.principal?.id) ?? null, roles, ip: clean(req?.ip), userAgent: clean(req?.userAgent) },
    purposeOfUse: extra.purposeOfUse ?? clean(context?.purposeOfUse, 16) ?? null,
    patient: extra.patientRef === undefined ? undefined : { ref: extra.patientRef },
    resource,
    disclosed: undefined,
    transforms: undefined,
    request:
      req === undefined
        ? undefined
        : { method: clean(req.method), route: clean(req.route), requestId: clean(req.requestId), traceId: clean(req.traceId) },
    delivery,
  };
}

/** @internal Writes an event; a failing sink becomes AuditUnavailableError (fail closed). */
export async function record(sink: DeliveryAuditSink | undefined, event: DeliveryAuditEvent): Promise<void> {
  if (sink === undefined) return;
  try {
    await sink.write(event);
  } catch {
    // 45 CFR 164.312(b): no disclosure without its audit record.
    throw new AuditUnavailableError();
  }
}
