/**
 * `async` delivery: a bounded in-memory buffer in front of a store, so a request does not wait
 * for the store, yet PHI still fails closed when events can no longer be held.
 */
import { createHmac } from 'node:crypto';
import { AuditUnavailableError } from '../errors.js';
import { canonicalSplit } from './canonical.js';
import { withinTimeout } from './io.js';
import { option, optionsSchema } from '../options.js';
import { auditTimerRule, systemTimer, type AuditTimer } from './timer.js';
import { chainShape, chainStart, needSink, type ChainHead } from './chain.js';
import type { AuditBatchSink, AuditEvent, AuditLineSink, AuditSink } from './event.js';

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
  /**
   * Chain the events here, in the background flush, instead of wrapping the sink in `createChainSink`
   * (same links, same MAC, same verification): a write then only serializes the event once, and
   * the link and HMAC are computed when its batch is delivered. With a store that takes
   * `writeLines` (PostgreSQL), the serialized lines are sent as they are.
   */
  readonly chain?: { readonly key: Uint8Array; readonly stream?: string; readonly resume?: { readonly seq: number; readonly hash: string } };
  /** Timers of the deliveries and retries (tests advance them by hand). Default: real time. */
  readonly timer?: AuditTimer;
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
  /** With `chain`: the stream id and the head of the events chained so far (null without `chain`). */
  chainHead(): ChainHead | null;
}

const LABEL = 'createBufferedSink';
const OPTIONS = optionsSchema<BufferedSinkOptions>(LABEL, {
  maxBuffer: option.atLeast(1),
  maxBatch: option.atLeast(1),
  flushIntervalMs: option.atLeast(0),
  retryMinMs: option.atLeast(1),
  retryMaxMs: option.atLeast(1),
  onError: option.func(),
  timer: auditTimerRule(),
  chain: option.nested(optionsSchema<NonNullable<BufferedSinkOptions['chain']>>(LABEL, chainShape(LABEL)), '{ key, stream?, resume? }'),
});

/** An event serialized once, waiting for its link: canonical JSON before and after `chain`. */
interface Split {
  readonly head: string;
  readonly tail: string;
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
  needSink(LABEL, 'inner', inner);
  const { maxBuffer = 10_000, maxBatch = 500, flushIntervalMs = 50, retryMinMs = 100, retryMaxMs = 5000, onError, timer = systemTimer } = OPTIONS.parse(options);
  const batchWriter = typeof (inner as Partial<AuditBatchSink>).writeBatch === 'function' ? (inner as AuditBatchSink) : null;
  const start = options.chain === undefined ? null : chainStart(options.chain);
  const chain = start === null ? null : { ...start, streamJson: JSON.stringify(start.stream) };
  const lineWriter =
    chain !== null && typeof (inner as Partial<AuditLineSink>).writeLines === 'function' ? (inner as AuditSink & AuditLineSink) : null;

  const buffer: AuditEvent[] = [];
  // With `chain`, aligned with `buffer`: the split text, then (once chained) the stored line.
  const texts: (Split | string)[] = [];
  let chained = 0; // how many events at the head of the buffer carry their link

  /** Links the first `n` buffered events (in order, once: a retried batch resends the same bytes). */
  const link = (n: number): void => {
    if (chain === null) return;
    for (; chained < n; chained++) {
      const split = texts[chained] as Split;
      const seq = chain.seq + 1;
      const linkText = `"prev":"${chain.prev}","seq":${seq},"stream":${chain.streamJson}}`;
      // The MAC covers the canonical JSON of the event with chain = { prev, seq, stream }, as createChainSink's does.
      const hash = createHmac('sha256', chain.key).update(split.head).update(`"chain":{${linkText}`).update(split.tail).digest('hex');
      buffer[chained] = { ...buffer[chained]!, chain: { stream: chain.stream, seq, prev: chain.prev, hash } };
      texts[chained] = `${split.head}"chain":{"hash":"${hash}",${linkText}${split.tail}\n`;
      chain.seq = seq;
      chain.prev = hash;
    }
  };
  let accepted = 0;
  let delivered = 0;
  let refused = 0;
  let failures = 0;
  let attempt = 0;
  let closed = false;
  let pumping = false;
  let armed: unknown = null;
  let retrying = false;
  const waiters: { target: number; resolve: () => void }[] = [];

  const settleWaiters = (): void => {
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (delivered >= waiters[i]!.target) waiters.splice(i, 1)[0]!.resolve();
    }
  };

  /** Delivers `batch`. One by one (no writeBatch), what succeeded before a failure is acknowledged. */
  const deliver = async (batch: AuditEvent[]): Promise<void> => {
    if (lineWriter !== null) {
      await lineWriter.writeLines(texts.slice(0, batch.length).join(''));
      return;
    }
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
    if (chain !== null) {
      texts.splice(0, n);
      chained -= n;
    }
    delivered += n;
    settleWaiters();
  };

  const arm = (delay: number): void => {
    if (armed !== null) timer.clear(armed);
    armed = timer.set(() => {
      armed = null;
      retrying = false;
      void pump();
    }, delay);
    // Buffered events must not keep a process alive on their own; close() drains on shutdown.
    (armed as { unref?: () => void }).unref?.();
  };

  const pump = async (): Promise<void> => {
    if (pumping) return;
    pumping = true;
    try {
      while (buffer.length > 0) {
        link(Math.min(maxBatch, buffer.length));
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
    else if (armed === null) arm(flushIntervalMs);
  };

  const flush = (flushOptions: { readonly timeoutMs?: number } = {}): Promise<void> => {
    const target = accepted;
    if (delivered >= target) return Promise.resolve();
    const done = new Promise<void>((resolve) => waiters.push({ target, resolve }));
    // A flush is a request to deliver now, also during back-off.
    if (!pumping) arm(0);
    return withinTimeout(done, flushOptions.timeoutMs);
  };

  return {
    write(event: AuditEvent): void {
      // 45 CFR 164.312(b): an event that cannot be held is refused, so its PHI is not released.
      if (closed || buffer.length >= maxBuffer) {
        refused++;
        throw new AuditUnavailableError();
      }
      if (chain !== null) texts.push(canonicalSplit(event as unknown as Record<string, unknown>, 'chain'));
      buffer.push(event);
      accepted++;
      schedule();
    },
    flush,
    async close(closeOptions: { readonly timeoutMs?: number } = {}) {
      closed = true;
      await flush({ timeoutMs: closeOptions.timeoutMs ?? 10_000 });
      if (armed !== null) timer.clear(armed);
      armed = null;
      const maybe = inner as Partial<{ close(): Promise<void> }>;
      if (typeof maybe.close === 'function') await maybe.close();
    },
    stats: () => ({ buffered: buffer.length, delivered, refused, failures, attempt }),
    chainHead: () => (chain === null ? null : { stream: chain.stream, seq: chain.seq, hash: chain.prev }),
  };
}
