import { actionEvent, type AuditAction, type AuditEvent, type AuditOutcome } from '../audit/event.js';
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

/** @internal An engine-shaped event (see `actionEvent`) with the delivery block added. */
export function deliveryEvent(
  context: AccessContext | null | undefined,
  action: AuditAction,
  outcome: AuditOutcome,
  resource: { readonly type: string; readonly id?: string },
  delivery: DeliveryAuditEvent['delivery'],
  extra: { readonly reason?: string; readonly attemptedAction?: AuditAction; readonly patientRef?: string; readonly purposeOfUse?: string } = {},
): DeliveryAuditEvent {
  return { ...actionEvent(action, context ?? null, { resource, outcome, ...extra }), delivery };
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
