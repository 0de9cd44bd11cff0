/**
 * The one clock convention of phiguard: every component that reads the time (grant expiry,
 * step-up age, key-cache age, state TTLs) takes a `clock` option and calls `clock.now()`.
 * Tests pass a clock they advance instead of sleeping.
 */

/** A source of the current time. */
export interface Clock {
  /** Milliseconds since the Unix epoch, like `Date.now()`. */
  now(): number;
}

/** The wall clock: the default everywhere. */
export const systemClock: Clock = Object.freeze({ now: () => Date.now() });

/** Whether `value` can serve as a {@link Clock}; factories check their `clock` option with it. */
export function isClock(value: unknown): value is Clock {
  return value !== null && typeof value === 'object' && typeof (value as Clock).now === 'function';
}
