/**
 * `durable` delivery: group commit to a local write-ahead file, then shipping to the store.
 *
 * A write resolves once the batch holding its event is on stable storage (one write(2) and one
 * fdatasync cover every event that arrived within `intervalMs`), so a response released after it
 * can never be missing from the trail, whatever happens to the process next. The hash chain is
 * computed by the batch writer, off the request. A shipper drains committed lines to the store
 * (PostgreSQL or any sink), idempotently, from an acknowledged position that survives restarts.
 * 45 CFR 164.312(b) audit controls, 164.312(c)(1) integrity.
 */
import { createHmac, randomUUID } from 'node:crypto';
import {
  closeSync,
  constants as fsConstants,
  fsyncSync,
  fstatSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  read as fsRead,
  readFileSync,
  readdirSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { TextEncoder } from 'node:util';
import { Worker } from 'node:worker_threads';
import { AuditUnavailableError, OptionsError } from '../errors.js';
import { option, optionIssue, optionsSchema } from '../options.js';
import { canonicalSplit } from './canonical.js';
import { auditTimerRule, systemTimer, type AuditTimer } from './timer.js';
import { withinTimeout, writeFully } from './io.js';
import { CHAIN_GENESIS, chainHash, chainKeyRule, streamIdRule, type ChainHead } from './chain.js';
import { tableRule } from './postgres.js';
import type { AuditBatchSink, AuditEvent, AuditLineSink, AuditSink, ChainLink } from './event.js';


/** Options of {@link durableSink}. */
export interface DurableSinkOptions {
  /** Directory of the write-ahead files (created 0700 when missing). One writer per directory. */
  readonly dir: string;
  /** The chain key, at least 32 random bytes, kept apart from the policy secret. */
  readonly key: Uint8Array;
  /** Stream id for a new directory (default `s-<uuid>`); an existing directory continues its own stream. */
  readonly stream?: string;
  /**
   * Where the shipper delivers committed events, idempotently on event id: a sink object (a
   * PostgreSQL store, any sink) with `worker: false`, or a {@link DurableShipTarget} that the
   * worker builds for itself (a sink object cannot cross to another thread).
   */
  readonly ship?: AuditSink | DurableShipTarget;
  /**
   * Run the batch writer, the hash chain and the shipper on a worker thread (`node:worker_threads`),
   * so that the request's thread only serializes each event and is told once per commit. Default:
   * true unless `ship` is a sink object or `timer` is given (both belong to this thread).
   */
  readonly worker?: boolean;
  /** Longest wait before a partial batch is committed. Default 1 ms (0: as soon as the writer is idle). */
  readonly intervalMs?: number;
  /** Events per commit. Default 1024. */
  readonly maxBatch?: number;
  /** Events waiting for a commit at most; a write beyond it throws AuditUnavailableError. Default 20 000. */
  readonly maxPending?: number;
  /** `true` (default): commit = fdatasync. `false`: commit = the kernel has the bytes (survives a process crash, not a power loss). */
  readonly fsync?: boolean;
  /** A new write-ahead file is started beyond this size. Default 64 MiB. */
  readonly segmentBytes?: number;
  /** Committed bytes not yet shipped at most; writes beyond it throw AuditUnavailableError. Default 1 GiB. */
  readonly maxBacklogBytes?: number;
  /** Bytes of lines per shipment (one statement). Default 1 MiB. */
  readonly shipBytes?: number;
  /**
   * Longest wait before committed lines smaller than `shipBytes` are shipped. Default 50 ms:
   * shipping is not on the request path, and fewer, larger statements cost the store less.
   */
  readonly shipIntervalMs?: number;
  /** Keep write-ahead files once shipped (default false: deleted). */
  readonly keepShipped?: boolean;
  /** First retry delay after a failed shipment; doubles per failure (with jitter). Default 100 ms. */
  readonly retryMinMs?: number;
  /** Longest retry delay. Default 5 000 ms. */
  readonly retryMaxMs?: number;
  /** Told about each failed commit or shipment, and about lines discarded on recovery. Must not throw. */
  readonly onError?: (error: unknown, info: DurableErrorInfo) => void;
  /** Clock and timers (tests); only with `worker: false`. Default: real time. */
  readonly timer?: AuditTimer;
}

/**
 * A store described as data, for a durable sink whose shipper runs on its worker thread:
 * - `postgres`: a `pg.Pool` of `poolSize` connections (default 1) to `connectionString`, writing to
 *   `table` (default `phiguard_audit`) as `createPostgresAuditSink` does. Needs the `pg` package;
 *   create the table beforehand (`createPostgresAuditSink(...).migrate()`).
 * - `module`: an absolute path or `file:` URL of an ES module whose default export, called with
 *   `options` (structured-cloneable data), returns (or resolves to) an audit sink idempotent on
 *   event id, optionally with `writeLines` and `close()`.
 */
export type DurableShipTarget =
  | { readonly postgres: { readonly connectionString: string; readonly table?: string; readonly poolSize?: number } }
  | { readonly module: string; readonly options?: unknown };

/** What failed, for {@link DurableSinkOptions.onError}. */
export interface DurableErrorInfo {
  /** `worker`: the worker thread died; every pending and later write is refused. */
  readonly phase: 'commit' | 'ship' | 'recover' | 'worker';
  /** Consecutive failures of this phase. */
  readonly attempt: number;
}

/** Counters of a {@link DurableAuditSink}. */
export interface DurableSinkStats {
  /** Accepted, not yet committed. */
  readonly pending: number;
  /** Committed since start. */
  readonly committed: number;
  /** Commits (fsyncs) since start. */
  readonly commits: number;
  /** Committed bytes not yet acknowledged by the store. */
  readonly backlogBytes: number;
  /** Lines acknowledged by the store since start. */
  readonly shipped: number;
  /** Writes refused (full, backlog too large, closed, or the disk failing). */
  readonly refused: number;
  /** Failed commits and shipments. */
  readonly failures: number;
  /** True once the write-ahead file could not be repaired after a failed commit: every write is refused. */
  readonly broken: boolean;
}

/** What recovery found in the directory at start-up. */
export interface DurableRecovery {
  /** The stream's head read back from the files. */
  readonly head: ChainHead;
  /** Bytes at the end of the last file that were not a whole, verifying, linking line (a torn write): moved aside. */
  readonly discardedBytes: number;
  /** Where the discarded bytes were kept (`torn-<time>.bin`), or null. */
  readonly discardedTo: string | null;
}

/** A durable, chaining sink; see {@link durableSink}. Use it instead of `chainSink`, not inside it. */
export interface DurableAuditSink extends AuditSink {
  readonly stream: string;
  readonly dir: string;
  /** Resolves when the event's batch is committed; rejects with AuditUnavailableError when it cannot be. */
  write(event: AuditEvent): Promise<void>;
  /** The committed head of the stream. */
  head(): ChainHead;
  /** Commits what is pending now. */
  flush(): Promise<void>;
  /** Resolves when everything committed before the call is acknowledged by the store (rejects after `timeoutMs`). */
  drain(options?: { readonly timeoutMs?: number }): Promise<void>;
  /** Refuses further writes, commits, drains to the store (default timeout 10 s), and releases the directory. */
  close(options?: { readonly timeoutMs?: number }): Promise<void>;
  stats(): DurableSinkStats;
  readonly recovery: DurableRecovery;
}

const LABEL = 'createDurableSink';
const OPTIONS = optionsSchema<DurableSinkOptions>(LABEL, {
  dir: option.required(option.string('a directory on local, persistent storage for the write-ahead files', (v) => v !== '')),
  key: option.required(chainKeyRule()),
  stream: streamIdRule(),
  ship: option.custom(
    'an audit sink (createPostgresAuditSink, or an object with write(event)), or a store description ({ postgres: { connectionString, table?, poolSize? } } or { module: absolute path, options? })',
    ['object'],
    (v) => typeof (v as Partial<AuditSink>).write === 'function' || validShipTarget(v),
  ),
  worker: option.boolean(),
  intervalMs: option.atLeast(0),
  maxBatch: option.atLeast(1),
  maxPending: option.atLeast(1),
  fsync: option.boolean(),
  segmentBytes: option.atLeast(1024),
  maxBacklogBytes: option.atLeast(1),
  shipBytes: option.atLeast(1024),
  shipIntervalMs: option.atLeast(0),
  keepShipped: option.boolean(),
  retryMinMs: option.atLeast(1),
  retryMaxMs: option.atLeast(1),
  onError: option.func(),
  timer: auditTimerRule(),
});
const PG_TABLE = tableRule();
const PG_TARGET = optionsSchema<{ connectionString: string; table?: string; poolSize?: number }>(`${LABEL} ship.postgres`, {
  connectionString: option.required(option.string('a PostgreSQL connection string (postgres://…)', (v) => /^postgres(ql)?:\/\//.test(v))),
  table: PG_TABLE,
  poolSize: option.integer(1, 64),
});

/** `v` describes a store (not a sink object): it names `postgres` or `module`. */
function isShipTarget(v: unknown): v is DurableShipTarget {
  return v !== null && typeof v === 'object' && typeof (v as Partial<AuditSink>).write !== 'function' && ('postgres' in v || 'module' in v);
}

function validShipTarget(v: unknown): boolean {
  if (!isShipTarget(v)) return false;
  if ('postgres' in v) return Object.keys(v).length === 1 && PG_TARGET.check(v.postgres).length === 0;
  const m = (v as { module: unknown }).module;
  return typeof m === 'string' && (isAbsolute(m) || m.startsWith('file:')) && Object.keys(v).every((k) => k === 'module' || k === 'options');
}

const SEGMENT = /^wal-(\d{16})\.ndjson$/;
const ACK_FILE = 'shipped.json';
const LOCK_FILE = 'lock';
const NL = 0x0a;

const segmentName = (firstSeq: number): string => `wal-${String(firstSeq).padStart(16, '0')}.ndjson`;

/** The position up to which the store has acknowledged: a file and a byte offset in it. */
interface Position {
  readonly segment: string;
  readonly offset: number;
}

/** Directories this process writes (a second sink on one of them would fork its stream). */
const held = new Set<string>();

/** Takes the directory, or says who holds it. A lock left by a killed process is taken over. */
function lock(dir: string): string {
  const path = join(dir, LOCK_FILE);
  if (held.has(path)) throw new OptionsError(`the audit directory ${dir} is in use by process ${process.pid} (this one): give each sink its own \`dir\``);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, String(process.pid), { flag: 'wx', mode: 0o600 });
      held.add(path);
      return path;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = Number(readFileSync(path, 'utf8').trim());
    let alive = false;
    if (Number.isSafeInteger(holder) && holder > 0 && holder !== process.pid) {
      try {
        process.kill(holder, 0);
        alive = true;
      } catch (err) {
        alive = (err as NodeJS.ErrnoException).code === 'EPERM';
      }
    }
    if (alive) throw new OptionsError(`the audit directory ${dir} is in use by process ${holder}: give each instance its own \`dir\``);
    unlinkSync(path);
  }
  throw new OptionsError(`cannot lock the audit directory ${dir}`);
}

function unlock(path: string): void {
  held.delete(path);
  try {
    unlinkSync(path);
  } catch {
    /* already gone */
  }
}

/** O_DSYNC is POSIX; where the platform lacks it (Windows), commits are write + fdatasync. */
const HAS_DSYNC = typeof fsConstants.O_DSYNC === 'number';

/** A segment opened for appending; with `dsync`, every write is durable when it returns (O_DSYNC). */
function openSegment(path: string, dsync: boolean): number {
  const { O_WRONLY, O_APPEND, O_CREAT, O_DSYNC } = fsConstants;
  return openSync(path, O_WRONLY | O_APPEND | O_CREAT | (dsync && HAS_DSYNC ? O_DSYNC : 0), 0o600);
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Finds the longest prefix of `buf` made of whole lines that parse, carry a link of `stream`
 * continuing from `from`, and verify under `key`. Returns its length and the head it ends at.
 */
function validPrefix(
  buf: Buffer,
  key: Buffer,
  from: { stream: string | null; seq: number; hash: string },
): { length: number; stream: string | null; seq: number; hash: string } {
  let { stream, seq, hash } = from;
  let at = 0;
  while (at < buf.length) {
    const nl = buf.indexOf(NL, at);
    if (nl === -1) break;
    let event: AuditEvent & { chain?: ChainLink };
    try {
      event = JSON.parse(buf.toString('utf8', at, nl)) as AuditEvent & { chain?: ChainLink };
    } catch {
      break;
    }
    const link = event?.chain;
    if (
      link === undefined ||
      link === null ||
      typeof link.stream !== 'string' ||
      (stream !== null && link.stream !== stream) ||
      link.seq !== seq + 1 ||
      link.prev !== hash
    ) {
      break;
    }
    let ok = false;
    try {
      ok = chainHash(event, link, key) === link.hash;
    } catch {
      ok = false;
    }
    if (!ok) break;
    stream = link.stream;
    seq = link.seq;
    hash = link.hash;
    at = nl + 1;
  }
  return { length: at, stream, seq, hash };
}

/** Settings of the batch writer and shipper (the parsed options, wherever they run). */
interface WriterConfig {
  readonly intervalMs: number;
  readonly maxBatch: number;
  readonly sync: boolean;
  readonly segmentBytes: number;
  readonly shipBytes: number;
  readonly shipIntervalMs: number;
  readonly keepShipped: boolean;
  readonly retryMinMs: number;
  readonly retryMaxMs: number;
}

/** What recovery handed over: the files, the acknowledged position and the stream's head. */
interface WriterStart {
  readonly dir: string;
  readonly key: Uint8Array;
  readonly stream: string;
  readonly segments: string[];
  readonly ack: Position;
  readonly ackHead: ChainHead | null;
  readonly seq: number;
  readonly prev: string;
}

/** Counters and head of a writer, as the front reports them. */
interface WriterState {
  readonly seq: number;
  readonly prev: string;
  readonly committed: number;
  readonly commits: number;
  readonly backlogBytes: number;
  readonly shipped: number;
  readonly failures: number;
  readonly broken: boolean;
}

/** How a writer tells its front what happened. */
interface WriterHooks {
  /** The next `count` appended events are committed (`ok`) or refused. Called in append order. */
  settled(count: number, ok: boolean): void;
  /** A shipment was acknowledged (the backlog shrank). */
  shipped(): void;
  report(err: unknown, phase: DurableErrorInfo['phase'], attempt: number): void;
  /** Called as a batch closes and after each commit: hand over events that arrived elsewhere (the worker's ring). */
  pull?(): void;
  /** Called when a commit leaves nothing pending. */
  idle?(): void;
}

/** @internal The batch writer and shipper over a recovered directory; see {@link durableSink}. */
export interface DurableWriter {
  /** Queues an event's canonical text around its link; `at`: when it arrived (default now). */
  append(head: string, tail: string, at?: number): void;
  /** Commits what is pending now instead of at the end of the interval. */
  commitNow(): void;
  /** Events may have been handed over (`hooks.pull`), since `at` at the earliest (default now): takes them and schedules their commit, or reports idle. */
  poke(at?: number): void;
  /** Resolves when everything committed before the call is acknowledged by the store. */
  drain(): Promise<void>;
  /** Stops the shipper and closes the files (after a flush and a drain, for a clean stop). */
  stop(): void;
  state(): WriterState;
}

/** @internal Delivers NDJSON `text` to `sink`: as text when it takes lines, else parsed, in order. */
export async function deliverLines(sink: AuditSink, text: string): Promise<void> {
  if (typeof (sink as Partial<AuditLineSink>).writeLines === 'function') return (sink as AuditSink & AuditLineSink).writeLines(text);
  const events = text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as AuditEvent);
  if (typeof (sink as Partial<AuditBatchSink>).writeBatch === 'function') return (sink as AuditBatchSink).writeBatch(events);
  for (const e of events) await sink.write(e);
}

/**
 * @internal The batch writer (group commit, chain) and the shipper of a durable sink, on the
 * thread that calls it: the sink's own thread with `worker: false`, its worker otherwise.
 */
export function openWriter(start: WriterStart, config: WriterConfig, ship: AuditSink | undefined, hooks: WriterHooks, timer: AuditTimer): DurableWriter {
  const { dir, stream } = start;
  const key = Buffer.from(start.key);
  const { intervalMs, maxBatch, sync, segmentBytes, shipBytes, shipIntervalMs, keepShipped, retryMinMs, retryMaxMs } = config;
  const segments = start.segments;
  let { ack, ackHead, seq, prev } = start;
  let fd = openSegment(join(dir, segments[segments.length - 1]!), sync);
  let size = fstatSync(fd).size;
  const streamJson = JSON.stringify(stream);
  let backlog = 0;
  for (let i = segments.indexOf(ack.segment); i < segments.length; i++) {
    const bytes = i === segments.length - 1 ? size : statSync(join(dir, segments[i]!)).size;
    backlog += bytes - (i === segments.indexOf(ack.segment) ? Math.min(ack.offset, bytes) : 0);
  }
  if (ship === undefined) backlog = 0; // no store: the files are the record

  // ── the batch writer ────────────────────────────────────────────────────────────────────────
  let heads: string[] = [];
  let tails: string[] = [];
  let firstAt = 0;
  let pullAt = -1;
  let pulling = false;
  /** Takes what the other thread handed over, as arrived at `at` (default now), without committing yet. */
  const pull = (at = -1): void => {
    if (hooks.pull === undefined) return;
    pulling = true;
    pullAt = at;
    try {
      hooks.pull();
    } finally {
      pulling = false;
      pullAt = -1;
    }
  };
  let batchTimer: unknown = null;
  let committing = false;
  let broken = false;
  let committed = 0;
  let commits = 0;
  let failures = 0;
  let commitFailures = 0;

  // With `fsync`, segments are opened O_DSYNC: each write returns once its bytes are on the disk,
  // one system call per commit where write + fdatasync took two (and two thread-pool hops).
  const writeAll = (buf: Buffer): Promise<void> => writeFully(fd, buf, sync && !HAS_DSYNC);

  /** After a failed commit: cut the file back to its committed size, on a fresh descriptor if need be. */
  const repair = (cause: unknown): void => {
    // A closed descriptor's number may already belong to another file: never touch it again.
    const badFd = (cause as NodeJS.ErrnoException | null)?.code === 'EBADF';
    if (!badFd) {
      try {
        ftruncateSync(fd, size);
        fsyncSync(fd);
        return;
      } catch {
        /* the descriptor itself may be bad: reopen the file */
      }
      try {
        closeSync(fd);
      } catch {
        /* already closed */
      }
    }
    try {
      const path = join(dir, segments[segments.length - 1]!);
      const rfd = openSync(path, 'r+');
      try {
        ftruncateSync(rfd, size);
        fsyncSync(rfd);
      } finally {
        closeSync(rfd);
      }
      fd = openSegment(path, sync);
    } catch (err) {
      broken = true;
      hooks.report(err, 'commit', commitFailures);
    }
  };

  const rotate = (): void => {
    const name = segmentName(seq + 1);
    const next = openSegment(join(dir, name), sync);
    try {
      fsyncDir(dir); // the new file's name must survive a power cut before any line in it counts
    } catch (err) {
      closeSync(next);
      throw err;
    }
    try {
      closeSync(fd);
    } catch {
      /* the old file is complete */
    }
    segments.push(name);
    fd = next;
    size = 0;
  };

  const commit = async (): Promise<void> => {
    committing = true;
    batchTimer = null;
    const startedAt = timer.now();
    pull();
    const n = Math.min(heads.length, maxBatch);
    const bh = n === heads.length ? heads : heads.slice(0, n);
    const bt = n === tails.length ? tails : tails.slice(0, n);
    heads = n === heads.length ? [] : heads.slice(n);
    tails = n === tails.length ? [] : tails.slice(n);
    let s = seq;
    let p = prev;
    let text = '';
    for (let i = 0; i < n; i++) {
      s++;
      // The MAC covers the canonical JSON of the event with chain = { prev, seq, stream }, as createChainSink's does.
      const mac = createHmac('sha256', key)
        .update(bh[i]!)
        .update(`"chain":{"prev":"${p}","seq":${s},"stream":${streamJson}}`)
        .update(bt[i]!)
        .digest('hex');
      text += `${bh[i]}"chain":{"hash":"${mac}","prev":"${p}","seq":${s},"stream":${streamJson}}${bt[i]}\n`;
      p = mac;
    }
    const buf = Buffer.from(text, 'utf8');
    let ok = false;
    try {
      if (broken) throw new AuditUnavailableError();
      if (size > 0 && size + buf.length > segmentBytes) rotate();
      await writeAll(buf);
      seq = s;
      prev = p;
      size += buf.length;
      if (ship !== undefined) backlog += buf.length;
      committed += n;
      commits++;
      commitFailures = 0;
      ok = true;
    } catch (err) {
      failures++;
      commitFailures++;
      hooks.report(err, 'commit', commitFailures);
      if (!broken) repair(err);
      // The links were not kept: the next batch takes the same seqs, so the stream has no gap.
    } finally {
      committing = false;
    }
    hooks.settled(n, ok);
    if (ok) kick();
    // What arrived during the commit has waited since it started, at most.
    if (hooks.pull !== undefined && heads.length === 0) pull(startedAt);
    if (heads.length > 0) schedule();
    else hooks.idle?.();
  };

  function schedule(): void {
    if (committing || pulling) return;
    const wait = heads.length >= maxBatch ? 0 : Math.max(0, intervalMs - (timer.now() - firstAt));
    if (wait === 0) {
      if (batchTimer !== null) timer.clear(batchTimer);
      void commit();
    } else if (batchTimer === null) {
      batchTimer = timer.set(() => void commit(), wait);
    }
  }

  // ── the shipper ─────────────────────────────────────────────────────────────────────────────
  let shipping = false;
  let shipTimer: unknown = null;
  let shipAttempt = 0;
  let shipped = 0;
  let shippedBytes = 0;
  let stopped = false;
  let reader: { segment: string; fd: number } | null = null;
  let drainWaiters: { target: number; resolve: () => void }[] = [];

  const readerFor = (segment: string): number => {
    if (reader === null || reader.segment !== segment) {
      if (reader !== null) closeSync(reader.fd);
      reader = { segment, fd: openSync(join(dir, segment), 'r') };
    }
    return reader.fd;
  };

  const readChunk = (segment: string, offset: number, length: number): Promise<Buffer> => {
    const rfd = readerFor(segment);
    const buf = Buffer.allocUnsafe(length);
    return new Promise((resolve, reject) => fsRead(rfd, buf, 0, length, offset, (err, n) => (err ? reject(err) : resolve(buf.subarray(0, n)))));
  };

  /** Records that the store holds everything before `position`, and the chain head there. */
  const acknowledge = (position: Position, head: ChainHead | null): void => {
    // Not fsync'd: an acknowledgement lost in a power cut only makes the store see lines again.
    const tmp = join(dir, `${ACK_FILE}.tmp`);
    writeFileSync(tmp, JSON.stringify({ segment: position.segment, offset: position.offset, head: head ?? ackHead }), { mode: 0o600 });
    renameSync(tmp, join(dir, ACK_FILE));
    ack = position;
    if (head !== null) ackHead = head;
  };

  const shipLoop = async (): Promise<void> => {
    if (ship === undefined || shipping || stopped) return;
    shipping = true;
    let more = false;
    try {
      for (;;) {
        const index = segments.indexOf(ack.segment);
        const active = index === segments.length - 1;
        const end = active ? size : fstatSync(readerFor(ack.segment)).size;
        if (ack.offset >= end) {
          if (active) break;
          // This file is shipped whole and the writer has moved on.
          const done = ack.segment;
          acknowledge({ segment: segments[index + 1]!, offset: 0 }, null);
          if (reader !== null && reader.segment === done) {
            closeSync(reader.fd);
            reader = null;
          }
          if (!keepShipped) unlinkSync(join(dir, done));
          segments.splice(index, 1);
          continue;
        }
        let chunk = await readChunk(ack.segment, ack.offset, Math.min(shipBytes, end - ack.offset));
        let cut = chunk.lastIndexOf(NL);
        if (cut === -1) {
          // A line longer than shipBytes: take it whole.
          chunk = await readChunk(ack.segment, ack.offset, end - ack.offset);
          cut = chunk.indexOf(NL);
          if (cut === -1) break;
        }
        const text = chunk.toString('utf8', 0, cut + 1);
        await deliverLines(ship, text);
        const lastStart = text.lastIndexOf('\n', text.length - 2) + 1;
        const last = JSON.parse(text.slice(lastStart)) as AuditEvent;
        let lines = 0;
        for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lines++;
        shipped += lines;
        shippedBytes += cut + 1;
        backlog -= cut + 1;
        acknowledge({ segment: ack.segment, offset: ack.offset + cut + 1 }, last.chain ? { stream, seq: last.chain.seq, hash: last.chain.hash } : null);
        if (drainWaiters.length > 0) drainWaiters = drainWaiters.filter((w) => (shippedBytes >= w.target ? (w.resolve(), false) : true));
        hooks.shipped();
        // What was committed meanwhile waits for the next interval (unless someone waits for it),
        // so that shipments stay large instead of following every commit.
        if (drainWaiters.length === 0 && active && size - ack.offset < shipBytes) {
          more = size > ack.offset;
          break;
        }
      }
      shipAttempt = 0;
    } catch (err) {
      failures++;
      shipAttempt++;
      hooks.report(err, 'ship', shipAttempt);
      const base = Math.min(retryMaxMs, retryMinMs * 2 ** Math.min(shipAttempt - 1, 30));
      if (!stopped) {
        shipTimer = timer.set(() => {
          shipTimer = null;
          void shipLoop();
        }, Math.round(base / 2 + (Math.random() * base) / 2));
        // A retry alone must not keep the process alive (a pending write's batch timer does; close() drains).
        (shipTimer as { unref?: () => void }).unref?.();
      }
    } finally {
      shipping = false;
    }
    if (more) kick();
  };

  /** Ships now (a full shipment is waiting, or `now`), or within `shipIntervalMs`. */
  function kick(now = false): void {
    if (ship === undefined || shipping || stopped) return;
    if (now || backlog >= shipBytes || shipIntervalMs === 0) {
      if (shipTimer !== null) {
        if (shipAttempt > 0 && !now) return; // backing off
        timer.clear(shipTimer);
        shipTimer = null;
      }
      void shipLoop();
    } else if (shipTimer === null) {
      shipTimer = timer.set(() => {
        shipTimer = null;
        void shipLoop();
      }, shipIntervalMs);
      (shipTimer as { unref?: () => void }).unref?.();
    }
  }
  if (backlog > 0) kick(true);

  return {
    append(head, tail, at) {
      if (heads.length === 0) firstAt = at ?? (pullAt >= 0 ? pullAt : timer.now());
      heads.push(head);
      tails.push(tail);
      schedule();
    },
    poke(at) {
      if (committing) return; // the commit pulls as it ends
      pull(at);
      if (heads.length > 0) schedule();
      else hooks.idle?.();
    },
    commitNow() {
      if (!committing) pull();
      if (!committing && heads.length > 0) {
        if (batchTimer !== null) timer.clear(batchTimer);
        void commit();
      }
    },
    drain() {
      const target = shippedBytes + backlog;
      if (ship === undefined || shippedBytes >= target) return Promise.resolve();
      const done = new Promise<void>((resolve) => drainWaiters.push({ target, resolve }));
      // A drain is a request to ship now, also during back-off.
      kick(true);
      return done;
    },
    stop() {
      stopped = true;
      if (shipTimer !== null) timer.clear(shipTimer);
      shipTimer = null;
      try {
        closeSync(fd);
      } catch {
        /* already closed */
      }
      if (reader !== null) closeSync(reader.fd);
      reader = null;
    },
    state: () => ({ seq, prev, committed, commits, backlogBytes: backlog, shipped, failures, broken }),
  };
}

/** The half of a durable sink that commits and ships: a writer here, or one on a worker thread. */
interface Back {
  /** False when the event cannot be taken (the worker's ring is full): the write is refused. */
  append(head: string, tail: string): boolean;
  commitNow(): void;
  /** Resolves when the store acknowledged what is committed now; AuditUnavailableError after `timeoutMs`. */
  drain(timeoutMs: number | undefined): Promise<void>;
  /** Stops the writer and releases what it holds (the worker, the store's connections). */
  stop(): Promise<void>;
  state(): WriterState;
}

/** Messages of the worker protocol (see durable-worker.ts). */
type ToWorker = { readonly t: 'flush' } | { readonly t: 'drain'; readonly id: number } | { readonly t: 'stop' };
type FromWorker =
  | { readonly t: 's'; readonly n: number; readonly ok: boolean; readonly state: WriterState }
  | { readonly t: 'p'; readonly state: WriterState }
  | { readonly t: 'e'; readonly error: unknown; readonly phase: DurableErrorInfo['phase']; readonly attempt: number }
  | { readonly t: 'd'; readonly id: number }
  | { readonly t: 'x' };

/** @internal What the worker is started with. */
export interface DurableWorkerData {
  readonly start: WriterStart;
  readonly config: WriterConfig;
  readonly ship: DurableShipTarget | null;
  /** The event ring: control words ({@link RING}), then the bytes. */
  readonly ring: SharedArrayBuffer;
}

/**
 * The worker's script: `audit-worker.js` (or `.cjs`) beside the bundle. Run from the TypeScript
 * sources (the test suites), the built one in `dist/`.
 */
function workerScript(): URL {
  const here = typeof __filename === 'string' ? pathToFileURL(__filename).href : import.meta.url;
  const ext = typeof __filename === 'string' ? 'cjs' : 'js';
  return here.endsWith('.ts') ? new URL('../../dist/audit-worker.js', here) : new URL(`./audit-worker.${ext}`, here);
}

/** @internal The ring's control words (Int32 indexes) and its size. */
export const RING = { WRITE: 0, READ: 1, SLEEP: 2, WORDS: 4, BYTES: 8 * 1024 * 1024 } as const;
/** A byte UTF-8 never holds: "the rest of the ring is empty, continue at its start". */
export const RING_WRAP = 0xff;

/** Encodes `head NUL tail LF` into `data[from, to)`; the position after it, or -1 when it does not fit. */
function encodeRecord(data: Uint8Array, encoder: TextEncoder, head: string, tail: string, from: number, to: number): number {
  const h = encoder.encodeInto(head, data.subarray(from, to));
  let at = from + h.written;
  if (h.read < head.length || at >= to) return -1;
  data[at++] = 0;
  const t = encoder.encodeInto(tail, data.subarray(at, to));
  at += t.written;
  if (t.read < tail.length || at >= to) return -1;
  data[at++] = 0x0a;
  return at;
}

/**
 * @internal Writes an event's text into the ring at its write position, or returns false when it does not
 * fit. One writer (the sink's thread), one reader (the worker): positions are published with Atomics.
 */
export function ringWrite(ctrl: Int32Array, data: Uint8Array, encoder: TextEncoder, head: string, tail: string): boolean {
  const cap = data.length;
  const w = Atomics.load(ctrl, RING.WRITE);
  const r = Atomics.load(ctrl, RING.READ);
  // Free space ends one byte before the read position (full and empty must differ).
  let next = encodeRecord(data, encoder, head, tail, w, r > w ? r - 1 : r === 0 ? cap - 1 : cap);
  if (next === -1) {
    if (r > w || r <= 1) return false;
    // Not enough room before the end: mark the rest as unused and start again at 0.
    next = encodeRecord(data, encoder, head, tail, 0, r - 1);
    if (next === -1) return false;
    data[w] = RING_WRAP;
  }
  Atomics.store(ctrl, RING.WRITE, next === cap ? 0 : next);
  return true;
}

/**
 * @internal Takes every event written to the ring since the last call, in order, and frees
 * their bytes. `data` is a Buffer over the ring's bytes.
 */
export function ringRead(ctrl: Int32Array, data: Buffer, take: (head: string, tail: string) => void): void {
  let r = Atomics.load(ctrl, RING.READ);
  const w = Atomics.load(ctrl, RING.WRITE);
  while (r !== w) {
    // Written after r: up to w, or (wrapped) up to a wrap mark or the end, then from 0.
    let stop = w > r ? w : data.indexOf(RING_WRAP, r);
    if (stop === -1) stop = data.length;
    const text = data.toString('utf8', r, stop);
    // Events as `head NUL tail LF`: canonical JSON holds neither byte raw.
    for (let at = 0; at < text.length; ) {
      const z = text.indexOf('\u0000', at);
      const nl = text.indexOf('\n', z);
      take(text.slice(at, z), text.slice(z + 1, nl));
      at = nl + 1;
    }
    r = w > r ? w : 0;
    Atomics.store(ctrl, RING.READ, r);
  }
}

/**
 * A writer on a worker thread. Events cross through a shared ring as canonical text,
 * `head NUL tail LF` (neither byte occurs raw in JSON): the worker takes them as its batch
 * closes and after each commit, and is woken only when it sleeps (nothing pending). It answers
 * once per commit. Should the worker die, every pending and later write is refused.
 */
function workerBack(data: Omit<DurableWorkerData, 'ring'>, hooks: WriterHooks): Back {
  const ring = new SharedArrayBuffer(RING.WORDS * 4 + RING.BYTES);
  const ctrl = new Int32Array(ring, 0, RING.WORDS);
  const bytes = new Uint8Array(ring, RING.WORDS * 4);
  const encoder = new TextEncoder();
  const worker = new Worker(workerScript(), { workerData: { ...data, ring } satisfies DurableWorkerData, stdout: false, stderr: false });
  let state: WriterState = { seq: data.start.seq, prev: data.start.prev, committed: 0, commits: 0, backlogBytes: 0, shipped: 0, failures: 0, broken: false };
  let ended = false;
  let stopping: (() => void) | null = null;
  let nextId = 0;
  const drains = new Map<number, { resolve: () => void; reject: (err: unknown) => void }>();
  // The worker keeps the process alive only while something waits for it.
  let holds = 0;
  worker.unref();
  const hold = (): void => {
    if (holds++ === 0) worker.ref();
  };
  const release = (): void => {
    if (holds > 0 && --holds === 0) worker.unref();
  };
  const post = (m: ToWorker): void => {
    if (!ended) worker.postMessage(m);
  };
  let waiting = 0; // appended, not yet settled
  worker.on('message', (m: FromWorker) => {
    switch (m.t) {
      case 's':
        state = m.state;
        waiting -= m.n;
        hooks.settled(m.n, m.ok);
        if (waiting === 0) release();
        break;
      case 'p':
        state = m.state;
        hooks.shipped();
        break;
      case 'e': {
        const { name, message, code } = m.error as { name: string; message: string; code?: string };
        hooks.report(Object.assign(new Error(message), { name, ...(code === undefined ? {} : { code }) }), m.phase, m.attempt);
        break;
      }
      case 'd': {
        const d = drains.get(m.id);
        drains.delete(m.id);
        d?.resolve();
        break;
      }
      case 'x':
        stopping?.();
        break;
    }
  });
  const died = (cause: unknown): void => {
    if (ended) return;
    ended = true;
    state = { ...state, broken: true };
    if (stopping === null) hooks.report(cause, 'worker', 1);
    // 45 CFR 164.312(b): what the worker did not confirm is not committed; its PHI stays unreleased.
    if (waiting > 0) {
      const n = waiting;
      waiting = 0;
      hooks.settled(n, false);
    }
    for (const d of drains.values()) d.reject(new AuditUnavailableError());
    drains.clear();
    stopping?.();
    holds = 0;
  };
  worker.on('error', died);
  worker.on('exit', (code) => died(new Error(`the audit worker exited (code ${code})`)));
  return {
    append(head, tail) {
      if (ended || !ringWrite(ctrl, bytes, encoder, head, tail)) return false;
      if (waiting++ === 0) hold();
      // A sleeping worker is woken; a busy one takes the event as its batch closes.
      if (Atomics.load(ctrl, RING.SLEEP) === 1) {
        Atomics.store(ctrl, RING.SLEEP, 0);
        Atomics.notify(ctrl, RING.WRITE);
      }
      return true;
    },
    commitNow() {
      post({ t: 'flush' });
    },
    drain(timeoutMs) {
      if (ended) return Promise.reject(new AuditUnavailableError());
      const id = ++nextId;
      // Held while it waits, and no longer: a drain given up on (a store down) must not keep the process alive.
      hold();
      let held = true;
      const letGo = (): void => {
        if (held) release();
        held = false;
      };
      const done = new Promise<void>((resolve, reject) => {
        drains.set(id, { resolve, reject });
        post({ t: 'drain', id });
      });
      const waited = withinTimeout(done, timeoutMs);
      waited.then(letGo, letGo);
      return waited;
    },
    async stop() {
      if (ended) return;
      worker.ref();
      await new Promise<void>((resolve) => {
        stopping = resolve;
        post({ t: 'stop' });
      });
      await worker.terminate();
    },
    state: () => state,
  };
}

/**
 * A durable, hash-chaining audit sink with group commit (see the module comment and AUDIT.md,
 * "Delivery modes"). Events are chained and appended as canonical JSON lines to write-ahead
 * files in `dir`; `write` resolves when its batch is committed (fdatasync), so the engine
 * releases PHI only after its event is on disk. With `ship`, committed lines are delivered to
 * the store in order (as NDJSON text when it has `writeLines`), retried with back-off, and
 * acknowledged in `dir/shipped.json`; after a restart shipping resumes there, and what is sent
 * twice is ignored by the store (event ids). On start-up a torn tail (a crash during a commit,
 * whose events were never acknowledged) is cut off and kept aside, and the stream continues from
 * the last good line.
 *
 * With `worker` (the default when `ship` is described rather than given as an object), the
 * batch writer, the chain and the shipper run on a worker thread: the request's thread only
 * serializes the event and hands its text over, and learns of commits once per batch.
 *
 * Fails closed: a write throws AuditUnavailableError when `maxPending` events wait, when the
 * unshipped backlog exceeds `maxBacklogBytes` (a long store outage), or when the file cannot be
 * repaired after a failed write (or the worker died); a failed commit rejects every write of its batch.
 */
export function durableSink(options: DurableSinkOptions): DurableAuditSink {
  const {
    dir,
    ship,
    onError,
    intervalMs = 1,
    maxBatch = 1024,
    maxPending = 20_000,
    segmentBytes = 64 * 1024 * 1024,
    maxBacklogBytes = 1024 * 1024 * 1024,
    shipBytes = 1024 * 1024,
    shipIntervalMs = 50,
    retryMinMs = 100,
    fsync: sync = true,
    keepShipped = false,
  } = OPTIONS.parse(options ?? null);
  const retryMaxMs = options.retryMaxMs ?? 5_000;
  if (retryMaxMs < retryMinMs) throw optionIssue(LABEL, 'retryMaxMs', `an integer ≥ retryMinMs (${retryMinMs})`, retryMaxMs);
  const described = ship !== undefined && isShipTarget(ship);
  const inWorker = options.worker ?? (options.timer === undefined && (ship === undefined || described));
  if (inWorker && options.timer !== undefined) throw optionIssue(LABEL, 'timer', 'no timer with `worker: true` (a timer cannot cross to the worker thread)', options.timer);
  if (inWorker && ship !== undefined && !described) {
    throw optionIssue(LABEL, 'ship', 'a description of the store with `worker: true` ({ postgres: { connectionString, table? } } or { module, options? }): a sink object cannot cross to the worker thread', ship);
  }
  if (!inWorker && described) throw optionIssue(LABEL, 'ship', 'a sink object with `worker: false` (a described store is built on the worker thread)', ship);
  const key = Buffer.from(options.key);

  // ── start-up: take the directory, read back the stream, cut a torn tail ────────────────────
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const lockPath = lock(resolve(dir));
  const report = (err: unknown, phase: DurableErrorInfo['phase'], attempt: number): void => {
    try {
      onError?.(err, { phase, attempt });
    } catch {
      /* a failing observer must not stop the writer */
    }
  };

  // ── the front: admission, the responses waiting for their commit, flush ─────────────────────
  // Waiting writes in append order; settled from the head, a batch at a time.
  let resolvers: (() => void)[] = [];
  let rejecters: ((err: unknown) => void)[] = [];
  let first = 0;
  let accepted = 0;
  let settled = 0;
  let refused = 0;
  let closed = false;
  let flushWaiters: { target: number; resolve: () => void }[] = [];
  const hooks: WriterHooks = {
    settled(count, ok) {
      const end = first + count;
      for (let i = first; i < end; i++) {
        if (ok) resolvers[i]!();
        else rejecters[i]!(new AuditUnavailableError());
      }
      first = end;
      if (first === resolvers.length) {
        resolvers = [];
        rejecters = [];
        first = 0;
      } else if (first > 4096) {
        resolvers = resolvers.slice(first);
        rejecters = rejecters.slice(first);
        first = 0;
      }
      if (!ok) refused += count;
      settled += count;
      if (flushWaiters.length > 0) flushWaiters = flushWaiters.filter((w) => (settled >= w.target ? (w.resolve(), false) : true));
    },
    shipped() {},
    report,
  };

  let back: Back;
  let recovery: DurableRecovery;
  let stream: string;
  try {
    const found = recover(dir, key, options.stream, report);
    ({ recovery, stream } = found);
    const start: WriterStart = { dir, key, stream, segments: found.segments, ack: found.ack, ackHead: found.ackHead, seq: found.seq, prev: found.prev };
    const config: WriterConfig = { intervalMs, maxBatch, sync, segmentBytes, shipBytes, shipIntervalMs, keepShipped, retryMinMs, retryMaxMs };
    if (inWorker) {
      back = workerBack({ start, config, ship: (ship as DurableShipTarget | undefined) ?? null }, hooks);
    } else {
      const writer = openWriter(start, config, ship as AuditSink | undefined, hooks, options.timer ?? systemTimer);
      back = {
        ...writer,
        append: (head, tail) => (writer.append(head, tail), true),
        drain: (timeoutMs) => withinTimeout(writer.drain(), timeoutMs),
        stop: async () => writer.stop(),
      };
    }
  } catch (err) {
    unlock(lockPath);
    throw err;
  }

  const flush = (): Promise<void> => {
    const target = accepted;
    if (settled >= target) return Promise.resolve();
    const done = new Promise<void>((resolve) => flushWaiters.push({ target, resolve }));
    back.commitNow();
    return done;
  };
  const drain = (drainOptions: { readonly timeoutMs?: number } = {}): Promise<void> =>
    ship === undefined ? Promise.resolve() : back.drain(drainOptions.timeoutMs);

  return {
    stream,
    dir,
    recovery,
    head: () => {
      const s = back.state();
      return { stream, seq: s.seq, hash: s.prev };
    },
    write(event: AuditEvent): Promise<void> {
      // 45 CFR 164.312(b): an event that cannot be committed is refused, so its PHI is not released.
      const s = back.state();
      if (closed || s.broken || accepted - settled >= maxPending || s.backlogBytes > maxBacklogBytes) {
        refused++;
        throw new AuditUnavailableError();
      }
      const { head, tail } = canonicalSplit(event as unknown as Record<string, unknown>, 'chain');
      accepted++;
      let taken = true;
      const done = new Promise<void>((resolve, reject) => {
        resolvers.push(resolve);
        rejecters.push(reject);
        taken = back.append(head, tail);
      });
      if (!taken) {
        resolvers.pop();
        rejecters.pop();
        accepted--;
        refused++;
        throw new AuditUnavailableError();
      }
      return done;
    },
    flush,
    drain,
    async close(closeOptions: { readonly timeoutMs?: number } = {}) {
      if (closed) return;
      closed = true;
      await flush();
      try {
        await drain({ timeoutMs: closeOptions.timeoutMs ?? 10_000 });
      } finally {
        await back.stop();
        unlock(lockPath);
      }
      const inner = inWorker ? undefined : (ship as Partial<{ close(): Promise<void> }> | undefined);
      if (inner !== undefined && typeof inner.close === 'function') await inner.close();
    },
    stats: () => {
      const s = back.state();
      return { pending: accepted - settled, committed: s.committed, commits: s.commits, backlogBytes: s.backlogBytes, shipped: s.shipped, refused, failures: s.failures, broken: s.broken };
    },
  };
}

/** `prev` of the first line of `buf` (its files before may have been shipped and deleted). */
function firstLinePrev(buf: Buffer): string {
  const nl = buf.indexOf(NL);
  if (nl === -1) return CHAIN_GENESIS;
  try {
    const e = JSON.parse(buf.toString('utf8', 0, nl)) as AuditEvent;
    return typeof e.chain?.prev === 'string' ? e.chain.prev : CHAIN_GENESIS;
  } catch {
    return CHAIN_GENESIS;
  }
}

/**
 * Reads the directory back after a start or a crash: the files, the acknowledged position, and
 * the stream's head. Bytes at the end of the last file that are not whole lines verifying and
 * linking under `key` were a commit cut short (never acknowledged to any request): they are
 * moved to `torn-*.bin` and the file is cut before them.
 */
function recover(
  dir: string,
  key: Buffer,
  wanted: string | undefined,
  report: (err: unknown, phase: 'recover', attempt: number) => void,
): { segments: string[]; ack: Position; ackHead: ChainHead | null; stream: string; seq: number; prev: string; recovery: DurableRecovery } {
  const segments = readdirSync(dir).filter((n) => SEGMENT.test(n)).sort();
  let ack: Position | null = null;
  let ackHead: ChainHead | null = null;
  try {
    const saved = JSON.parse(readFileSync(join(dir, ACK_FILE), 'utf8')) as { segment?: unknown; offset?: unknown; head?: Partial<ChainHead> | null };
    if (typeof saved.segment === 'string' && SEGMENT.test(saved.segment) && Number.isSafeInteger(saved.offset) && (saved.offset as number) >= 0) {
      ack = { segment: saved.segment, offset: saved.offset as number };
    }
    const h = saved.head;
    if (h && typeof h.stream === 'string' && Number.isSafeInteger(h.seq) && typeof h.hash === 'string') ackHead = h as ChainHead;
  } catch {
    ack = null; // missing or unreadable: ship everything again (the store ignores repeats)
  }
  let head: ChainHead | null = null;
  let discardedBytes = 0;
  let discardedTo: string | null = null;
  if (segments.length > 0) {
    const name = segments[segments.length - 1]!;
    const path = join(dir, name);
    const buf = readFileSync(path);
    const first = Number(SEGMENT.exec(name)![1]);
    const good = validPrefix(buf, key, { stream: null, seq: first - 1, hash: firstLinePrev(buf) });
    if (good.length < buf.length) {
      // 45 CFR 164.312(c)(1): nothing is destroyed; the torn tail is kept beside the trail.
      discardedBytes = buf.length - good.length;
      discardedTo = join(dir, `torn-${Date.now()}-${name}.bin`);
      writeFileSync(discardedTo, buf.subarray(good.length), { mode: 0o600 });
      const tfd = openSync(path, 'r+');
      try {
        ftruncateSync(tfd, good.length);
        fsyncSync(tfd);
      } finally {
        closeSync(tfd);
      }
      report(
        new Error(`audit write-ahead file ${name}: the last ${discardedBytes} bytes were not whole, verifying lines (a commit cut short by a crash); kept in ${discardedTo}`),
        'recover',
        1,
      );
    }
    if (good.length > 0 && good.stream !== null) {
      head = { stream: good.stream, seq: good.seq, hash: good.hash };
    } else if (segments.length >= 2) {
      // An empty last file: the stream ends with the (complete) file before it.
      const before = readFileSync(join(dir, segments[segments.length - 2]!));
      const end = before.lastIndexOf(NL, before.length - 1);
      const start = before.lastIndexOf(NL, end - 1) + 1;
      const last = JSON.parse(before.toString('utf8', start, end)) as AuditEvent;
      if (last.chain === undefined) throw new OptionsError(`the audit directory ${dir} holds a file whose last line has no chain: run \`phiguard audit verify\` on it`);
      head = { stream: last.chain.stream, seq: last.chain.seq, hash: last.chain.hash };
    } else if (ackHead !== null && ackHead.seq === first - 1) {
      head = ackHead; // the files before were shipped and deleted
    } else if (first !== 1) {
      // Nothing to continue from: start a new stream in a new file.
      unlinkSync(path);
      segments.pop();
      report(new Error(`audit write-ahead file ${name} is empty and its stream's head is unknown: a new stream starts`), 'recover', 1);
    }
  }
  if (wanted !== undefined && head !== null && head.stream !== wanted) {
    throw new OptionsError(`the audit directory ${dir} holds stream "${head.stream}", not "${wanted}": give each stream its own \`dir\``);
  }
  const stream = head?.stream ?? wanted ?? `s-${randomUUID()}`;
  const seq = head?.seq ?? 0;
  const prev = head?.hash ?? CHAIN_GENESIS;
  if (segments.length === 0) {
    segments.push(segmentName(seq + 1));
    closeSync(openSync(join(dir, segments[0]!), 'a', 0o600));
    fsyncDir(dir);
  }
  if (ack === null || !segments.includes(ack.segment)) ack = { segment: segments[0]!, offset: 0 };
  ack = { segment: ack.segment, offset: Math.min(ack.offset, statSync(join(dir, ack.segment)).size) };
  return { segments, ack, ackHead, stream, seq, prev, recovery: { head: { stream, seq, hash: prev }, discardedBytes, discardedTo } };
}
