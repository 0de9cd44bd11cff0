/**
 * NDJSON audit files: one event per line, appended, with group commit and fdatasync.
 */
import { createReadStream, openSync, close as fsClose } from 'node:fs';
import { createInterface } from 'node:readline';
import { AuditUnavailableError } from '../errors.js';
import { option, optionsSchema } from '../options.js';
import type { AuditBatchSink, AuditEvent } from './event.js';
import { writeFully } from './io.js';

/** Options of {@link ndjsonFileSink}. */
export interface NdjsonFileSinkOptions {
  /** File to append to; created with mode 0600 when missing. */
  readonly path: string;
  /**
   * `true` (default): a write resolves only after its line is on stable storage (fdatasync;
   * concurrent writes share one fsync). `false`: it resolves once the OS has the bytes, which
   * survives a process crash but not a power loss or kernel crash.
   */
  readonly sync?: boolean;
}

/** An NDJSON file sink. */
export interface NdjsonFileSink extends AuditBatchSink {
  readonly path: string;
  /** Resolves when every write so far has settled. */
  flush(): Promise<void>;
  /** Flushes, then closes the file; later writes throw AuditUnavailableError. */
  close(): Promise<void>;
}

const OPTIONS = optionsSchema<NdjsonFileSinkOptions>('createNdjsonFileSink', {
  path: option.required(option.string('the file to append to', (v) => v !== '')),
  sync: option.boolean(),
});

interface Pending {
  readonly text: string;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

/**
 * Appends each event as one JSON line. Lines are written in `write` order; writes that arrive
 * while a write is in progress are grouped into one `write(2)` and one fsync. A failed append
 * rejects every write of its group (none is acknowledged) and the next append starts on a fresh
 * line, so a torn line stays a single unreadable line, which the verifier reports.
 */
export function ndjsonFileSink(options: NdjsonFileSinkOptions): NdjsonFileSink {
  OPTIONS.parse(options ?? null);
  const sync = options.sync ?? true;
  // Opened now so a bad path or permission fails at start-up, not on the first request.
  const fd = openSync(options.path, 'a', 0o600);
  let queue: Pending[] = [];
  let writing: Promise<void> | null = null;
  let torn = false;
  let closed = false;

  const append = (buf: Buffer): Promise<void> => writeFully(fd, buf, sync);

  const drain = async (): Promise<void> => {
    while (queue.length > 0) {
      const group = queue;
      queue = [];
      const text = (torn ? '\n' : '') + group.map((p) => p.text).join('');
      try {
        await append(Buffer.from(text, 'utf8'));
        torn = false;
        for (const p of group) p.resolve();
      } catch (err) {
        torn = true;
        for (const p of group) p.reject(err);
      }
    }
    writing = null;
  };

  const enqueue = (text: string): Promise<void> => {
    if (closed) throw new AuditUnavailableError();
    const p = new Promise<void>((resolve, reject) => queue.push({ text, resolve, reject }));
    if (writing === null) writing = drain();
    return p;
  };

  const line = (event: AuditEvent): string => JSON.stringify(event) + '\n';

  return {
    path: options.path,
    write: (event) => enqueue(line(event)),
    writeBatch: async (events) => {
      if (events.length > 0) await enqueue(events.map(line).join(''));
    },
    async flush() {
      while (writing !== null) await writing;
    },
    async close() {
      if (closed) return;
      closed = true;
      while (writing !== null) await writing;
      await new Promise<void>((resolve, reject) => fsClose(fd, (e) => (e ? reject(e) : resolve())));
    },
  };
}

/**
 * Reads an NDJSON audit file line by line, yielding each non-blank line's number (1-based) and
 * parsed value, or the raw text when the line is not JSON (so the verifier reports it there).
 */
export async function* readNdjsonAudit(path: string): AsyncGenerator<{ readonly line: number; readonly value: unknown }> {
  const rl = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  let line = 0;
  for await (const text of rl) {
    line++;
    if (text.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = text;
    }
    // A pino log (createPinoAuditSink): the event is the line's `audit` object; the application's own
    // log lines in the same file are not audit events and are passed over.
    if (isPinoLine(value)) {
      const audit = (value as { audit?: unknown }).audit;
      if (audit === undefined) continue;
      value = audit;
    }
    yield { line, value };
  }
}

/** A line pino wrote: a numeric level, a time and a message, none of which an audit event has at its top. */
function isPinoLine(value: unknown): boolean {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const v = value as { level?: unknown; msg?: unknown; time?: unknown; audit?: unknown };
  return typeof v.level === 'number' && (typeof v.msg === 'string' || v.audit !== undefined);
}

/** The events of an NDJSON audit file (unreadable lines skipped: verify the file for those). */
export async function* readNdjsonEvents(path: string): AsyncGenerator<AuditEvent> {
  for await (const { value } of readNdjsonAudit(path)) {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) yield value as AuditEvent;
  }
}
