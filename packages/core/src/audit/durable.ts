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
import { join, resolve } from 'node:path';
import { AuditUnavailableError, OptionsError } from '../errors.js';
import { option, optionIssue, optionsSchema } from '../options.js';
import { canonicalSplit } from './canonical.js';
import { auditTimerRule, systemTimer, type AuditTimer } from './timer.js';
import { withinTimeout, writeFully } from './io.js';
import { CHAIN_GENESIS, chainHash, chainKeyRule, streamIdRule, type ChainHead } from './chain.js';
import type { AuditBatchSink, AuditEvent, AuditLineSink, AuditSink, ChainLink } from './event.js';


/** Options of {@link durableSink}. */
export interface DurableSinkOptions {
  /** Directory of the write-ahead files (created 0700 when missing). One writer per directory. */
  readonly dir: string;
  /** The chain key, at least 32 random bytes, kept apart from the policy secret. */
  readonly key: Uint8Array;
  /** Stream id for a new directory (default `s-<uuid>`); an existing directory continues its own stream. */
  readonly stream?: string;
  /** Where the shipper delivers committed events: a PostgreSQL store or any sink idempotent on event id. */
  readonly ship?: AuditSink;
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
  /** Clock and timers (tests). Default: real time. */
  readonly timer?: AuditTimer;
}

/** What failed, for {@link DurableSinkOptions.onError}. */
export interface DurableErrorInfo {
  readonly phase: 'commit' | 'ship' | 'recover';
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
  ship: option.implementing('an audit sink (createPostgresAuditSink, or an object with write(event))', 'write'),
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
const SEGMENT = /^wal-(\d{16})\.ndjson$/;
const ACK_FILE = 'shipped.json';
const LOCK_FILE = 'lock';
const NL = 0x0a;

const segmentName = (firstSeq: number): string => `wal-${String(firstSeq).padStart(16, '0')}.ndjson`;

interface Entry {
  readonly head: string;
  readonly tail: string;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

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
 * Fails closed: a write throws AuditUnavailableError when `maxPending` events wait, when the
 * unshipped backlog exceeds `maxBacklogBytes` (a long store outage), or when the file cannot be
 * repaired after a failed write; a failed commit rejects every write of its batch.
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
    timer = systemTimer,
  } = OPTIONS.parse(options ?? null);
  const retryMaxMs = options.retryMaxMs ?? 5_000;
  if (retryMaxMs < retryMinMs) throw optionIssue(LABEL, 'retryMaxMs', `an integer ≥ retryMinMs (${retryMinMs})`, retryMaxMs);
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
  let segments: string[];
  let ack: Position;
  let stream: string;
  let seq: number;
  let prev: string;
  let fd: number;
  let size: number;
  let recovery: DurableRecovery;
  let ackHead: ChainHead | null;
  try {
    ({ segments, ack, ackHead, stream, seq, prev, recovery } = recover(dir, key, options.stream, report));
    fd = openSegment(join(dir, segments[segments.length - 1]!), sync);
    size = fstatSync(fd).size;
  } catch (err) {
    unlock(lockPath);
    throw err;
  }
  const streamJson = JSON.stringify(stream);
  let backlog = 0;
  for (let i = segments.indexOf(ack.segment); i < segments.length; i++) {
    const bytes = i === segments.length - 1 ? size : statSync(join(dir, segments[i]!)).size;
    backlog += bytes - (i === segments.indexOf(ack.segment) ? Math.min(ack.offset, bytes) : 0);
  }
  if (ship === undefined) backlog = 0; // no store: the files are the record

  // ── the batch writer ────────────────────────────────────────────────────────────────────────
  let pending: Entry[] = [];
  let firstAt = 0;
  let batchTimer: unknown = null;
  let committing = false;
  let broken = false;
  let closed = false;
  let accepted = 0;
  let settled = 0;
  let committed = 0;
  let commits = 0;
  let refused = 0;
  let failures = 0;
  let commitFailures = 0;
  let flushWaiters: { target: number; resolve: () => void }[] = [];

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
      report(err, 'commit', commitFailures);
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
    const batch = pending.length <= maxBatch ? pending : pending.slice(0, maxBatch);
    pending = pending.length <= maxBatch ? [] : pending.slice(maxBatch);
    let s = seq;
    let p = prev;
    let text = '';
    for (const e of batch) {
      s++;
      // The MAC covers the canonical JSON of the event with chain = { prev, seq, stream }, as createChainSink's does.
      const mac = createHmac('sha256', key)
        .update(e.head)
        .update(`"chain":{"prev":"${p}","seq":${s},"stream":${streamJson}}`)
        .update(e.tail)
        .digest('hex');
      text += `${e.head}"chain":{"hash":"${mac}","prev":"${p}","seq":${s},"stream":${streamJson}}${e.tail}\n`;
      p = mac;
    }
    const buf = Buffer.from(text, 'utf8');
    try {
      if (broken) throw new AuditUnavailableError();
      if (size > 0 && size + buf.length > segmentBytes) rotate();
      await writeAll(buf);
      seq = s;
      prev = p;
      size += buf.length;
      if (ship !== undefined) backlog += buf.length;
      committed += batch.length;
      commits++;
      commitFailures = 0;
      for (const e of batch) e.resolve();
      kick();
    } catch (err) {
      failures++;
      commitFailures++;
      refused += batch.length;
      report(err, 'commit', commitFailures);
      if (!broken) repair(err);
      // The links were not kept: the next batch takes the same seqs, so the stream has no gap.
      for (const e of batch) e.reject(new AuditUnavailableError());
    } finally {
      committing = false;
    }
    settled += batch.length;
    if (flushWaiters.length > 0) {
      flushWaiters = flushWaiters.filter((w) => (settled >= w.target ? (w.resolve(), false) : true));
    }
    if (pending.length > 0) schedule();
  };

  function schedule(): void {
    if (committing) return;
    const wait = pending.length >= maxBatch ? 0 : Math.max(0, intervalMs - (timer.now() - firstAt));
    if (wait === 0) {
      if (batchTimer !== null) timer.clear(batchTimer);
      void commit();
    } else if (batchTimer === null) {
      batchTimer = timer.set(() => void commit(), wait);
    }
  }

  const flush = (): Promise<void> => {
    const target = accepted;
    if (settled >= target) return Promise.resolve();
    const done = new Promise<void>((resolve) => flushWaiters.push({ target, resolve }));
    if (!committing && pending.length > 0) {
      if (batchTimer !== null) timer.clear(batchTimer);
      void commit();
    }
    return done;
  };

  // ── the shipper ─────────────────────────────────────────────────────────────────────────────
  const lineSink = ship !== undefined && typeof (ship as Partial<AuditLineSink>).writeLines === 'function' ? (ship as AuditSink & AuditLineSink) : null;
  const batchSink = ship !== undefined && typeof (ship as Partial<AuditBatchSink>).writeBatch === 'function' ? (ship as AuditBatchSink) : null;
  let shipping = false;
  let shipTimer: unknown = null;
  let shipAttempt = 0;
  let shipped = 0;
  let shippedBytes = 0;
  let stopped = false;
  let reader: { segment: string; fd: number } | null = null;
  let drainWaiters: { target: number; resolve: () => void }[] = [];

  const deliver = async (text: string): Promise<void> => {
    if (lineSink !== null) return lineSink.writeLines(text);
    const events = text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as AuditEvent);
    if (batchSink !== null) return batchSink.writeBatch(events);
    for (const e of events) await ship!.write(e);
  };

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
        await deliver(text);
        const lastStart = text.lastIndexOf('\n', text.length - 2) + 1;
        const last = JSON.parse(text.slice(lastStart)) as AuditEvent;
        let lines = 0;
        for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lines++;
        shipped += lines;
        shippedBytes += cut + 1;
        backlog -= cut + 1;
        acknowledge({ segment: ack.segment, offset: ack.offset + cut + 1 }, last.chain ? { stream, seq: last.chain.seq, hash: last.chain.hash } : null);
        if (drainWaiters.length > 0) drainWaiters = drainWaiters.filter((w) => (shippedBytes >= w.target ? (w.resolve(), false) : true));
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
      report(err, 'ship', shipAttempt);
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

  const drain = (drainOptions: { readonly timeoutMs?: number } = {}): Promise<void> => {
    const target = shippedBytes + backlog;
    if (ship === undefined || shippedBytes >= target) return Promise.resolve();
    const done = new Promise<void>((resolve) => drainWaiters.push({ target, resolve }));
    // A drain is a request to ship now, also during back-off.
    kick(true);
    return withinTimeout(done, drainOptions.timeoutMs);
  };

  return {
    stream,
    dir,
    recovery,
    head: () => ({ stream, seq, hash: prev }),
    write(event: AuditEvent): Promise<void> {
      // 45 CFR 164.312(b): an event that cannot be committed is refused, so its PHI is not released.
      if (closed || broken || pending.length >= maxPending || backlog > maxBacklogBytes) {
        refused++;
        throw new AuditUnavailableError();
      }
      const { head, tail } = canonicalSplit(event as unknown as Record<string, unknown>, 'chain');
      accepted++;
      return new Promise<void>((resolve, reject) => {
        if (pending.length === 0) firstAt = timer.now();
        pending.push({ head, tail, resolve, reject });
        schedule();
      });
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
        unlock(lockPath);
      }
      const inner = ship as Partial<{ close(): Promise<void> }> | undefined;
      if (inner !== undefined && typeof inner.close === 'function') await inner.close();
    },
    stats: () => ({ pending: pending.length, committed, commits, backlogBytes: backlog, shipped, refused, failures, broken }),
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
