/**
 * `async` delivery: a bounded in-memory buffer in front of a store, so a request does not wait
 * for the store, yet PHI still fails closed when events can no longer be held.
 */
import { AuditUnavailableError, OptionsError } from '../errors.js';
import { didYouMean } from '../suggest.js';
import type { AuditBatchSink, AuditEvent, AuditSink } from './event.js';

/** Options of {@link bufferedSink}. */
export interface BufferedSinkOptions {
  /** Events held at most (delivered or not); a write beyond it throws AuditUnavailableError. Default 10 000. */
  readonly maxBuffer?: number;
  /** Events per delivery (one `writeBatch`). Default 500. */
  readonly maxBatch?: number;
  /** Longest wait before a partial batch is sent. Default 50 ms. */
  readonly flushIntervalMs?: number;
  /** First retry delay after a failed batch; doubles per failure (with jitter). Default 100 ms. */
  readonly retryMinMs?: number;
  /** Longest retry delay. Default 5 000 ms. */
  readonly retryMaxMs?: number;
  /** Told about each failed delivery (log it, alert on it). Must not throw. */
  readonly onError?: (error: unknown, state: { readonly attempt: number; readonly buffered: number }) => void;
}

/** Delivery counters of a {@link BufferedAuditSink}. */
export interface BufferedSinkStats {
  /** Accepted and not yet acknowledged by the store. */
  readonly buffered: number;
  /** Acknowledged by the store. */
  readonly delivered: number;
  /** Writes refused because the buffer was full or the sink closed. */
  readonly refused: number;
  /** Failed delivery attempts. */
  readonly failures: number;
  /** Consecutive failures of the batch now at the head (0 when healthy). */
  readonly attempt: number;
}

/** A buffering sink; see {@link bufferedSink}. */
export interface BufferedAuditSink extends AuditSink {
  /** Accepts the event (returns synchronously) or throws AuditUnavailableError when full or closed. */
  write(event: AuditEvent): void;
  /**
   * Resolves once every event accepted before the call is acknowledged by the store. Retries
   * until then; with `timeoutMs`, rejects with AuditUnavailableError when it takes longer.
   */
  flush(options?: { readonly timeoutMs?: number }): Promise<void>;
  /** Refuses further writes and flushes (default timeout 10 s); rejects if events remain undelivered. */
  close(options?: { readonly timeoutMs?: number }): Promise<void>;
  stats(): BufferedSinkStats;
}

const BUFFERED_KEYS = ['maxBuffer', 'maxBatch', 'flushIntervalMs', 'retryMinMs', 'retryMaxMs', 'onError'];

function positiveInt(name: string, value: unknown, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || (value as number) < min) throw new OptionsError(`bufferedSink \`${name}\` must be an integer ≥ ${min}`);
  return value as number;
}

/**
 * Buffers events and delivers them to `inner` in order, in batches of up to `maxBatch`, when
 * a batch fills or `flushIntervalMs` after the first pending event. A failed batch stays at the
 * head of the buffer and is retried with exponential back-off, so nothing is dropped or
 * reordered; a batch that reached the store before failing is re-sent, which is harmless
 * because stores ignore an event id they already hold. When `maxBuffer` events are held, a
 * write throws AuditUnavailableError: the engine then refuses the PHI response (503).
 *
 * Events live in memory until acknowledged: call `close()` on graceful shutdown. A crash loses
 * what was buffered (at most `maxBuffer` events) — use the store directly (`sync` mode) when
 * that is not acceptable.
 */
export function bufferedSink(inner: AuditSink, options: BufferedSinkOptions = {}): BufferedAuditSink {
  if (inner === null || typeof inner !== 'object' || typeof inner.write !== 'function') {
    throw new OptionsError('bufferedSink(inner, options) needs an inner audit sink (an object with write(event))');
  }
  if (options === null || typeof options !== 'object') throw new OptionsError('bufferedSink options must be an object');
  for (const k of Object.keys(options)) {
    if (!BUFFERED_KEYS.includes(k)) throw new OptionsError(`unknown bufferedSink option "${k}"${didYouMean(k, BUFFERED_KEYS)}`);
  }
  const maxBuffer = positiveInt('maxBuffer', options.maxBuffer, 10_000);
  const maxBatch = positiveInt('maxBatch', options.maxBatch, 500);
  const flushIntervalMs = positiveInt('flushIntervalMs', options.flushIntervalMs, 50, 0);
  const retryMinMs = positiveInt('retryMinMs', options.retryMinMs, 100);
  const retryMaxMs = positiveInt('retryMaxMs', options.retryMaxMs, 5000);
  if (options.onError !== undefined && typeof options.onError !== 'function') throw new OptionsError('bufferedSink `onError` must be a function');
  const onError = options.onError;
  const batchWriter = typeof (inner as Partial<AuditBatchSink>).writeBatch === 'function' ? (inner as AuditBatchSink) : null;

  const buffer: AuditEvent[] = [];
  let accepted = 0;
  let delivered = 0;
  let refused = 0;
  let failures = 0;
  let attempt = 0;
  let closed = false;
  let pumping = false;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let retrying = false;
  const waiters: { target: number; resolve: () => void }[] = [];

  const settleWaiters = (): void => {
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (delivered >= waiters[i]!.target) waiters.splice(i, 1)[0]!.resolve();
    }
  };

  /** Delivers `batch`. One by one (no writeBatch), what succeeded before a failure is acknowledged. */
  const deliver = async (batch: AuditEvent[]): Promise<void> => {
    if (batchWriter !== null) {
      await batchWriter.writeBatch(batch);
      return;
    }
    let done = 0;
    try {
      for (const e of batch) {
        await inner.write(e);
        done++;
      }
    } finally {
      if (done > 0 && done < batch.length) ack(done);
    }
  };

  const ack = (n: number): void => {
    buffer.splice(0, n);
    delivered += n;
    settleWaiters();
  };

  const arm = (delay: number): void => {
    if (timer !== null) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      retrying = false;
      void pump();
    }, delay);
    // Buffered events must not keep a process alive on their own; close() drains on shutdown.
    timer.unref?.();
  };

  const pump = async (): Promise<void> => {
    if (pumping) return;
    pumping = true;
    try {
      while (buffer.length > 0) {
        const batch = buffer.slice(0, maxBatch);
        const before = delivered;
        try {
          await deliver(batch);
        } catch (err) {
          failures++;
          attempt++;
          try {
            onError?.(err, { attempt, buffered: buffer.length });
          } catch {
            /* a failing observer must not stop delivery */
          }
          const base = Math.min(retryMaxMs, retryMinMs * 2 ** Math.min(attempt - 1, 30));
          retrying = true;
          arm(Math.round(base / 2 + (Math.random() * base) / 2));
          return;
        }
        attempt = 0;
        ack(batch.length - (delivered - before));
      }
    } finally {
      pumping = false;
    }
  };

  const schedule = (): void => {
    if (pumping || retrying) return;
    if (buffer.length >= maxBatch) arm(0);
    else if (timer === null) arm(flushIntervalMs);
  };

  const flush = (flushOptions: { readonly timeoutMs?: number } = {}): Promise<void> => {
    const target = accepted;
    if (delivered >= target) return Promise.resolve();
    const done = new Promise<void>((resolve) => waiters.push({ target, resolve }));
    // A flush is a request to deliver now, also during back-off.
    if (!pumping) arm(0);
    const { timeoutMs } = flushOptions;
    if (timeoutMs === undefined) return done;
    return new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new AuditUnavailableError()), timeoutMs);
      t.unref?.();
      void done.then(() => {
        clearTimeout(t);
        resolve();
      });
    });
  };

  return {
    write(event: AuditEvent): void {
      // 45 CFR 164.312(b): an event that cannot be held is refused, so its PHI is not released.
      if (closed || buffer.length >= maxBuffer) {
        refused++;
        throw new AuditUnavailableError();
      }
      buffer.push(event);
      accepted++;
      schedule();
    },
    flush,
    async close(closeOptions: { readonly timeoutMs?: number } = {}) {
      closed = true;
      await flush({ timeoutMs: closeOptions.timeoutMs ?? 10_000 });
      if (timer !== null) clearTimeout(timer);
      timer = null;
      const maybe = inner as Partial<{ close(): Promise<void> }>;
      if (typeof maybe.close === 'function') await maybe.close();
    },
    stats: () => ({ buffered: buffer.length, delivered, refused, failures, attempt }),
  };
}
