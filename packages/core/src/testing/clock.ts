import type { Clock } from '../base/clock.js';

/** A {@link Clock} that moves only when told: pass it as `clock` and advance it instead of sleeping. */
export interface ManualClock extends Clock {
  /** Moves the time forward by `ms` (≥ 0). */
  advance(ms: number): void;
  /** Sets the time (epoch milliseconds). */
  set(epochMs: number): void;
}

/** A manual clock starting at `startMs` (default: the wall clock when created). */
export function createManualClock(startMs: number = Date.now()): ManualClock {
  if (!Number.isFinite(startMs)) throw new TypeError('createManualClock: startMs must be a finite number of epoch milliseconds');
  let t = startMs;
  return {
    now: () => t,
    advance(ms: number) {
      if (!(ms >= 0) || !Number.isFinite(ms)) throw new TypeError('ManualClock.advance: ms must be a finite number ≥ 0 (time does not run backwards)');
      t += ms;
    },
    set(epochMs: number) {
      if (!Number.isFinite(epochMs)) throw new TypeError('ManualClock.set: epochMs must be a finite number');
      t = epochMs;
    },
  };
}
