/**
 * Time and timers of the audit sinks that work in the background (the buffered sink's deliveries
 * and retries, the durable sink's batch writer and shipper).
 */
import type { Clock } from '../base/clock.js';
import { option, type OptionRule } from '../options.js';

/**
 * A {@link Clock} (only intervals are read from `now()`) that can also schedule; injectable so
 * tests advance time by hand instead of sleeping.
 */
export interface AuditTimer extends Clock {
  set(callback: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

/** Real time. */
export const systemTimer: AuditTimer = Object.freeze({
  now: () => performance.now(),
  set: (callback: () => void, ms: number): unknown => setTimeout(callback, ms),
  clear: (handle: unknown) => clearTimeout(handle as ReturnType<typeof setTimeout>),
});

/** The options rule of a sink's `timer`. */
export const auditTimerRule = (): OptionRule<AuditTimer> => option.implementing('an AuditTimer { now(), set(callback, ms), clear(handle) }', 'now', 'set', 'clear');
