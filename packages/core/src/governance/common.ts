import { createHmac, hkdfSync } from 'node:crypto';
import type { AuditEvent } from '../audit/event.js';
import type { AccessContext } from '../context.js';
import { AuditUnavailableError } from '../errors.js';
import { option, optionIssue, type OptionRule } from '../options.js';
import type { StateStore } from '../state/store.js';
import { systemClock, type Clock } from '../base/clock.js';

/** Where governance services write their audit events: an AuditSink, or `guard` itself (its `write`). */
export interface GovernanceAudit {
  write(event: AuditEvent): void | Promise<void> | undefined;
}

/** @internal Writes an event (timed by `now` when given); a failing sink means the operation did not happen (fail closed). */
export async function audited(audit: GovernanceAudit, event: AuditEvent, now?: () => number): Promise<void> {
  try {
    await audit.write(now === undefined ? event : { ...event, time: new Date(now()).toISOString() });
  } catch {
    // 45 CFR 164.312(b): no governance change without its record.
    throw new AuditUnavailableError();
  }
}

/** @internal True when the caller holds one of `roles`. */
export function hasRole(context: AccessContext | null | undefined, roles: ReadonlySet<string>): boolean {
  return Array.isArray(context?.roles) && context.roles.some((r) => roles.has(r));
}

/** @internal A non-empty list of roles. */
export const rolesRule = (): OptionRule<readonly string[]> =>
  option.array<string>('a list of at least one role', (v) => v.length > 0 && v.every((r) => typeof r === 'string' && r !== ''));

/**
 * @internal The options the registers share, checked in one place: each register's schema takes
 * the ones it has (`{ store, audit, patientRef, roles, clock }`) and adds its own.
 */
export const GOVERNANCE_OPTIONS = Object.freeze({
  store: option.required(option.implementing<StateStore>('a StateStore (MemoryStateStore, or RedisStateStore shared by every instance)', 'getMany')),
  audit: option.required(option.implementing<GovernanceAudit>('an AuditSink, or the guard (an object with write(event))', 'write')),
  patientRef: option.required(option.func<(patientId: string | number) => string>('a function (patientId) => reference (guard.policy.patientRef)')),
  roles: option.required(rolesRule()),
  clock: option.clock(),
});

/** @internal The `clock` option as a function of epoch milliseconds. */
export function nowOf(clock: Clock | undefined): () => number {
  const c = clock ?? systemClock;
  return () => c.now();
}

/** @internal A keyed reference function (`<prefix>_<hex>`) under a key derived from `secret` for `label`. */
export function keyedRef(where: string, secret: unknown, label: string, prefix: string): (value: string) => string {
  const bytes = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret instanceof Uint8Array ? Buffer.from(secret) : null;
  if (bytes === null || bytes.length < 32) {
    throw optionIssue(where, 'secret', 'a string or Uint8Array of at least 32 bytes (keys the references written to audit)', secret, secret === undefined ? 'missing' : bytes === null ? 'type' : 'invalid');
  }
  const key = Buffer.from(hkdfSync('sha256', bytes, 'phiguard', label, 32));
  return (value) => `${prefix}_${createHmac('sha256', key).update(value.normalize('NFC').trim().toLowerCase()).digest('hex').slice(0, 32)}`;
}

/** @internal Epoch ms of an ISO date or Date, or NaN. */
export const timeOf = (v: unknown): number => (v instanceof Date ? v.getTime() : typeof v === 'string' ? Date.parse(v) : Number.NaN);

/** @internal A bounded identifier (registry ids, authorization ids). */
export const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
