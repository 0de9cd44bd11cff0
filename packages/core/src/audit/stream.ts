/**
 * Audit lines straight to a stream: a pino destination (`pino.destination()`, a SonicBoom),
 * `process.stdout`, an `fs.WriteStream`. The event is serialized once (its plan's disclosure
 * lists from a cache) and handed over as one line: no logger object in between, no second serialization. This is the
 * cheapest audit path; what it guarantees is the destination's (SonicBoom with `sync: false`
 * holds lines in memory until its buffer fills, so a crash can lose the last ones: use
 * `createDurableSink` where every released response needs its event on disk).
 *
 * To a destination that holds lines itself (SonicBoom with `sync: false` or a `minLength`), the
 * lines of one turn of the event loop are handed over in one write, at the end of that turn:
 * SonicBoom measures the text it holds again on every write, a cost that grows with what it
 * holds, so one write per line cost more than serializing the line. A destination that writes
 * each line as it comes (SonicBoom with `sync: true` and no `minLength`, a writable) gets each
 * line at once, before the response it covers is released.
 *
 * Lines are NDJSON of events by default, or pino's shape (`{"level":30,"time":…,"msg":…,
 * "audit":{…}}`) with `format: 'pino'`, so they can share a file with the application's pino
 * logs; `phiguard audit verify` and `readNdjsonEvents` read both.
 */
import { AuditUnavailableError } from '../errors.js';
import { option, optionIssue, optionsSchema } from '../options.js';
import { canonicalJson } from './canonical.js';
import type { AuditBatchSink, AuditEvent, AuditLineSink } from './event.js';

/** What createStreamSink writes to: SonicBoom, a Node writable, or anything with `write(string)`. */
export interface AuditDestination {
  /** Takes one or more whole lines. A `false` return (back-pressure) is tolerated, as pino does. */
  write(chunk: string): unknown;
  /** SonicBoom's flush, or a writable's callback flush. */
  flush?(cb?: (err?: Error | null) => void): void;
  /** Closes the destination (SonicBoom's end, a writable's end). */
  end?(): void;
}

/** Options of {@link streamSink}. */
export interface StreamSinkOptions {
  /** `'ndjson'` (default): one event per line. `'pino'`: pino's line shape with the event under `audit`. */
  readonly format?: 'ndjson' | 'pino';
}

/** A sink writing audit lines to a stream. */
export interface StreamAuditSink extends AuditBatchSink, AuditLineSink {
  /** Resolves once the destination has flushed what it holds (when it can flush). */
  flush(): Promise<void>;
  /** Flushes and ends the destination; later writes throw AuditUnavailableError. */
  close(): Promise<void>;
}

const LABEL = 'createStreamSink';
const OPTIONS = optionsSchema<StreamSinkOptions>(LABEL, { format: option.oneOf(['ndjson', 'pino'] as const) });

/**
 * An event's JSON text, as JSON.parse(JSON.stringify(event)) reads it: its canonical JSON (keys
 * sorted; the text a hash chain authenticates), written member by member for the engine's event
 * shape. A plan's disclosure lists are frozen and shared by every event of the plan: their text
 * is kept, so a long `disclosed` list is serialized once per plan, not once per event. A value
 * canonical JSON refuses (a non-finite number) is written as JSON.stringify writes it.
 */
export function eventJson(event: AuditEvent): string {
  try {
    return canonicalJson(event);
  } catch {
    return JSON.stringify(event);
  }
}
const PINO_INFO = 30;

// Hand-overs due at the end of this turn. If the process exits first (process.exit in the same
// turn), they run from an exit listener placed before SonicBoom's own exit flush (which pino
// registers when the destination is made), so the lines reach the file with the rest.
const dueAtExit = new Set<() => void>();
let exitListener = false;
function dueAtEndOfTurn(handOver: () => void): void {
  setImmediate(handOver);
  dueAtExit.add(handOver);
  if (exitListener) return;
  exitListener = true;
  process.prependListener('exit', () => {
    for (const h of dueAtExit) h();
  });
}

/**
 * Writes each event as one line to `destination`. A destination that throws (closed, destroyed)
 * makes the write throw AuditUnavailableError, so the PHI response it covers is refused.
 */
export function streamSink(destination: AuditDestination, options: StreamSinkOptions = {}): StreamAuditSink {
  if (destination === null || typeof destination !== 'object' || typeof destination.write !== 'function') {
    throw optionIssue(LABEL, 'destination', 'a stream with write(string): pino.destination(...), process.stdout or an fs.WriteStream', destination, destination === undefined ? 'missing' : 'type');
  }
  const { format = 'ndjson' } = OPTIONS.parse(options);
  const pino = format === 'pino';
  let closed = false;
  // Lines of this turn not yet handed over (`gathers` only), and whether a hand-over failed. A
  // destination that holds lines itself (asynchronous, or buffering up to a minimum length) gets
  // them at the end of the turn; one that writes each line as it comes gets each line at once.
  const { sync, minLength } = destination as { sync?: unknown; minLength?: unknown };
  const gathers = sync === false || (typeof minLength === 'number' && minLength > 0);
  let pending = '';
  let failed = false;

  const handOver = (): void => {
    dueAtExit.delete(handOver);
    const text = pending;
    pending = '';
    if (text === '') return;
    try {
      destination.write(text);
    } catch {
      // The lines were accepted and are lost, as a destination's own buffer would lose them; every
      // later write is refused, so no further release goes out without its line.
      failed = true;
    }
  };

  const line = (event: AuditEvent): string =>
    pino ? `{"level":${PINO_INFO},"time":${Date.now()},"msg":"phiguard.audit","audit":${eventJson(event)}}\n` : `${eventJson(event)}\n`;

  const put = (text: string): void => {
    if (closed || failed) throw new AuditUnavailableError();
    // Rare in SonicBoom (it throws once ended/destroyed); any failure refuses the release it covers.
    const writable = destination as { destroyed?: boolean; writableEnded?: boolean };
    if (writable.destroyed === true || writable.writableEnded === true) throw new AuditUnavailableError();
    if (gathers) {
      if (pending === '') dueAtEndOfTurn(handOver);
      pending += text;
      return;
    }
    try {
      destination.write(text);
    } catch {
      throw new AuditUnavailableError();
    }
  };

  const flush = (): Promise<void> =>
    new Promise((resolve, reject) => {
      handOver();
      if (failed) return reject(new AuditUnavailableError());
      if (typeof destination.flush !== 'function') return resolve();
      try {
        // SonicBoom calls back (once its buffer is written); a writable's flush may not exist.
        destination.flush((err) => (err ? reject(new AuditUnavailableError()) : resolve()));
      } catch {
        reject(new AuditUnavailableError());
      }
    });

  return {
    write(event) {
      put(line(event));
    },
    async writeBatch(events) {
      let text = '';
      for (const e of events) text += line(e);
      put(text);
    },
    async writeLines(ndjson) {
      // Lines already serialized (createBufferedSink with `chain`): passed on as they are, or wrapped for pino.
      if (!pino) return put(ndjson.endsWith('\n') || ndjson === '' ? ndjson : `${ndjson}\n`);
      let text = '';
      const now = Date.now();
      for (const l of ndjson.split('\n')) if (l !== '') text += `{"level":${PINO_INFO},"time":${now},"msg":"phiguard.audit","audit":${l}}\n`;
      put(text);
    },
    flush,
    async close() {
      if (closed) return;
      await flush().catch(() => undefined);
      closed = true;
      // Lines accepted while the flush was under way go out before the end.
      handOver();
      destination.end?.();
    },
  };
}
