import { appendFileSync, closeSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { canonicalJson, canonicalSplit } from '../../src/audit/canonical.js';
import { chainSink, verifyChain } from '../../src/audit/chain.js';
import { durableSink, type DurableSinkOptions } from '../../src/audit/durable.js';
import type { AuditEvent, AuditLineSink, AuditSink } from '../../src/audit/event.js';
import { AuditUnavailableError, OptionsError } from '../../src/errors.js';
import { createPhiGuard } from '../../src/guard.js';
import { definePolicy } from '../../src/index.js';
import { ctx, SECRET } from '../helpers.js';
import { KEY, manualTimer, memorySink, sampleEvent, walLines } from './fixtures.js';

const dirs: string[] = [];
const open: { close(): Promise<void> }[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'phiguard-durable-'));
  dirs.push(d);
  return d;
}
function sink(options: Partial<DurableSinkOptions> & { dir: string }) {
  const s = durableSink({ key: KEY, ...options });
  open.push(s);
  return s;
}
afterEach(async () => {
  for (const s of open.splice(0)) await s.close().catch(() => undefined);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const events = (dir: string) => walLines(dir).map((l) => JSON.parse(l) as AuditEvent);

/** A store keeping one copy per event id, counting deliveries; `down` makes it fail. */
function idempotentStore(kind: 'lines' | 'events' = 'lines') {
  const byId = new Map<string, AuditEvent>();
  const order: string[] = [];
  const state = { down: false, deliveries: 0, calls: 0 };
  const take = (e: AuditEvent) => {
    state.deliveries++;
    if (!byId.has(e.id)) {
      byId.set(e.id, e);
      order.push(e.id);
    }
  };
  const store: AuditSink & Partial<AuditLineSink> = {
    write: (e) => {
      if (state.down) throw new Error('store down');
      take(e);
    },
  };
  if (kind === 'lines') {
    store.writeLines = async (text: string) => {
      state.calls++;
      await Promise.resolve();
      if (state.down) throw new Error('store down');
      for (const l of text.split('\n')) if (l !== '') take(JSON.parse(l) as AuditEvent);
    };
  }
  return { store, byId, order, state };
}

/** The descriptor this process holds open on `path` (to break it from outside, as a failing disk would). */
function fdOf(path: string): number {
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === path) return Number(fd);
    } catch {
      /* closed meanwhile */
    }
  }
  throw new Error(`no descriptor on ${path}`);
}

describe('durableSink: group commit', () => {
  it('holds writes until the interval closes the batch, then commits them with one fsync', async () => {
    const dir = tempDir();
    const timer = manualTimer();
    const s = sink({ dir, timer, intervalMs: 2 });
    let done = 0;
    const writes = [0, 1, 2].map((i) => s.write(sampleEvent(i)).then(() => void done++));
    timer.advance(1);
    await new Promise((r) => setImmediate(r));
    expect(done).toBe(0);
    expect(walLines(dir)).toEqual([]);
    timer.advance(1);
    await Promise.all(writes);
    expect(done).toBe(3);
    expect(s.stats()).toMatchObject({ committed: 3, commits: 1, pending: 0 });
    expect(walLines(dir)).toHaveLength(3);
  });

  // A commit is one write on a descriptor opened O_DSYNC: it returns once the bytes are on the
  // disk. Read from the kernel's view of the process's descriptors (Linux /proc).
  it.runIf(process.platform === 'linux')('commits on a descriptor opened O_DSYNC with fsync (default), without it when fsync is false', async () => {
    const O_DSYNC = 0o10000; // Linux's value; /proc prints the open flags in octal
    const walFlags = (dir: string): number[] =>
      readdirSync('/proc/self/fd').flatMap((fd) => {
        let target = '';
        try {
          target = readlinkSync(`/proc/self/fd/${fd}`);
        } catch {
          return [];
        }
        if (!target.startsWith(dir) || !/wal-\d+\.ndjson$/.test(target)) return [];
        return [parseInt(/^flags:\s+([0-7]+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))![1]!, 8)];
      });
    const durable = tempDir();
    await sink({ dir: durable }).write(sampleEvent(1));
    const relaxed = tempDir();
    await sink({ dir: relaxed, fsync: false }).write(sampleEvent(1));
    expect(walFlags(durable)).toHaveLength(1);
    expect(walFlags(durable)[0]! & O_DSYNC).toBe(O_DSYNC);
    expect(walFlags(relaxed)).toHaveLength(1);
    expect(walFlags(relaxed)[0]! & O_DSYNC).toBe(0);
  });

  it('closes a batch as soon as it holds maxBatch events, without waiting for the interval', async () => {
    const dir = tempDir();
    const timer = manualTimer();
    const s = sink({ dir, timer, intervalMs: 50, maxBatch: 4 });
    await Promise.all([0, 1, 2, 3].map((i) => s.write(sampleEvent(i))));
    expect(s.stats()).toMatchObject({ committed: 4, commits: 1 });
    const fifth = s.write(sampleEvent(4));
    await new Promise((r) => setImmediate(r));
    expect(s.stats().committed).toBe(4);
    timer.advance(50);
    await fifth;
    expect(s.stats()).toMatchObject({ committed: 5, commits: 2 });
  });

  it('events arriving during a commit go into the next batch, in order, and the chain links across batches', async () => {
    const dir = tempDir();
    const s = sink({ dir, intervalMs: 0, maxBatch: 7 });
    const all = Array.from({ length: 100 }, (_, i) => sampleEvent(i));
    await Promise.all(all.map((e) => s.write(e)));
    expect(s.stats().commits).toBeGreaterThan(1);
    expect(events(dir).map((e) => e.id)).toEqual(all.map((e) => e.id));
    expect(verifyChain(events(dir), { key: KEY })).toMatchObject({ ok: true, events: 100, heads: [{ seq: 100 }] });
  });

  it('writes each event as its canonical JSON with the link, hashed exactly as chainSink hashes it (property)', async () => {
    const dir = tempDir();
    const s = sink({ dir, intervalMs: 0, stream: 'prop-1' });
    const chained = memorySink();
    const reference = chainSink(chained, { key: KEY, stream: 'prop-1' });
    const text = fc.string({ unit: 'binary', maxLength: 40 });
    const extra = fc.dictionary(fc.string({ maxLength: 12 }).filter((k) => k !== 'chain' && k !== '__proto__'), fc.oneof(text, fc.integer(), fc.boolean(), fc.constant(null)), { maxKeys: 4 });
    await fc.assert(
      fc.asyncProperty(text, text, fc.array(text, { maxLength: 5 }), extra, async (actor, route, disclosed, more) => {
        const e = { ...more, ...sampleEvent(1, { actor: { id: actor, roles: ['r'] }, request: { route }, disclosed }) } as AuditEvent;
        await s.write(e);
        reference.write(e);
        const line = walLines(dir).at(-1)!;
        const want = chained.events.at(-1)!;
        expect(line).toBe(canonicalJson(JSON.parse(line)));
        expect(JSON.parse(line)).toEqual(JSON.parse(JSON.stringify(want)));
      }),
      { numRuns: 60 },
    );
    expect(verifyChain(events(dir), { key: KEY }).ok).toBe(true);
  });

  it('refuses a write at once when maxPending events wait (the engine answers 503)', async () => {
    const dir = tempDir();
    const timer = manualTimer();
    const s = sink({ dir, timer, maxPending: 3, intervalMs: 5 });
    const held = [0, 1, 2].map((i) => s.write(sampleEvent(i)));
    expect(() => s.write(sampleEvent(3))).toThrow(AuditUnavailableError);
    expect(s.stats().refused).toBe(1);
    timer.advance(5);
    await Promise.all(held);
    const again = s.write(sampleEvent(4)); // room again
    timer.advance(5);
    await expect(again).resolves.toBeUndefined();
  });

  it('flush commits what is pending without waiting for the interval', async () => {
    const dir = tempDir();
    const timer = manualTimer();
    const s = sink({ dir, timer, intervalMs: 1000 });
    const w = s.write(sampleEvent(0));
    await s.flush();
    await w;
    expect(walLines(dir)).toHaveLength(1);
  });
});

describe('durableSink: disk faults fail closed', () => {
  it('a write failing on the disk rejects its whole batch; the file is repaired and the stream has no gap', async () => {
    const dir = tempDir();
    const errors: string[] = [];
    const timer = manualTimer();
    const s = sink({ dir, timer, intervalMs: 1, onError: (_e, info) => void errors.push(info.phase) });
    const w0 = s.write(sampleEvent(0));
    timer.advance(1);
    await w0;
    // The disk goes away under the open descriptor.
    closeSync(fdOf(join(dir, readdirSync(dir).find((n) => n.startsWith('wal-'))!)));
    const failed = [s.write(sampleEvent(1)), s.write(sampleEvent(2))];
    timer.advance(1);
    for (const f of failed) await expect(f).rejects.toBeInstanceOf(AuditUnavailableError);
    expect(errors).toContain('commit');
    // Repaired on a fresh descriptor: later writes commit and link to the last committed event.
    const w3 = s.write(sampleEvent(3));
    timer.advance(1);
    await w3;
    const stored = events(dir);
    expect(stored.map((e) => e.request?.requestId)).toEqual(['req-0', 'req-3']);
    expect(stored.map((e) => e.chain!.seq)).toEqual([1, 2]);
    expect(verifyChain(stored, { key: KEY }).ok).toBe(true);
    expect(s.stats()).toMatchObject({ committed: 2, refused: 2, broken: false });
  });

  it('a new file that cannot be created (rotation) rejects every batch until the fault is gone', async () => {
    const dir = tempDir();
    const s = sink({ dir, intervalMs: 0, segmentBytes: 1024 });
    await s.write(sampleEvent(0));
    await s.write(sampleEvent(1)); // the file is now past 1 KiB: the next commit starts a new one
    const blocker = join(dir, `wal-${String(3).padStart(16, '0')}.ndjson`);
    mkdirSync(blocker);
    await expect(s.write(sampleEvent(2))).rejects.toBeInstanceOf(AuditUnavailableError);
    await expect(s.write(sampleEvent(3))).rejects.toBeInstanceOf(AuditUnavailableError);
    rmSync(blocker, { recursive: true });
    await s.write(sampleEvent(4));
    expect(events(dir).map((e) => e.request?.requestId)).toEqual(['req-0', 'req-1', 'req-4']);
    expect(verifyChain(events(dir), { key: KEY }).ok).toBe(true);
  });
});

describe('durableSink: recovery after a crash', () => {
  const torn: [string, (good: string) => string][] = [
    ['half a line', (good) => good.slice(0, 37)],
    ['a whole line whose MAC does not verify', (good) => good.replace(/"action":"\w+"/, '"action":"delete"') + '\n'],
    ['zeros where a line should be (power loss)', () => '\0'.repeat(300)],
    ['a line that does not link (replayed last line)', (good) => good + '\n'],
    ['a line, then half of the next', (good) => good.replace(/"action":"\w+"/, '"action":"export"') + '\n' + good.slice(0, 10)],
  ];
  it.each(torn)('a torn tail (%s) is cut off, kept aside, and the stream continues and verifies', async (_name, tail) => {
    const dir = tempDir();
    const first = durableSink({ key: KEY, dir, intervalMs: 0 });
    for (let i = 0; i < 5; i++) await first.write(sampleEvent(i));
    const stream = first.stream;
    await first.close();
    const file = join(dir, readdirSync(dir).find((n) => n.startsWith('wal-'))!);
    const last = walLines(dir).at(-1)!;
    const garbage = tail(last);
    appendFileSync(file, garbage);
    writeFileSync(join(dir, 'lock'), '999999999'); // left by the killed process
    const errors: string[] = [];
    const again = sink({ dir, intervalMs: 0, onError: (_e, info) => void errors.push(info.phase) });
    expect(again.stream).toBe(stream);
    expect(again.recovery).toMatchObject({ head: { stream, seq: 5 }, discardedBytes: Buffer.byteLength(garbage) });
    expect(readFileSync(again.recovery.discardedTo!, 'utf8')).toBe(garbage);
    expect(errors).toEqual(['recover']);
    for (let i = 5; i < 8; i++) await again.write(sampleEvent(i));
    const stored = events(dir);
    expect(stored.map((e) => e.chain!.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(verifyChain(stored, { key: KEY })).toMatchObject({ ok: true, streams: 1, duplicates: 0 });
  });

  it('a clean restart keeps the stream and discards nothing', async () => {
    const dir = tempDir();
    const first = durableSink({ key: KEY, dir, intervalMs: 0, stream: 'api-7' });
    await first.write(sampleEvent(0));
    await first.close();
    const again = sink({ dir, intervalMs: 0, stream: 'api-7' });
    expect(again.recovery).toMatchObject({ head: { stream: 'api-7', seq: 1 }, discardedBytes: 0, discardedTo: null });
    await again.write(sampleEvent(1));
    expect(verifyChain(events(dir), { key: KEY }).heads).toMatchObject([{ stream: 'api-7', seq: 2 }]);
  });

  it('one writer per directory: a second sink on a live directory is refused; a dead holder\'s lock is taken over', async () => {
    const dir = tempDir();
    sink({ dir });
    expect(() => durableSink({ key: KEY, dir })).toThrow(/in use by process/);
    const other = tempDir();
    writeFileSync(join(other, 'lock'), '999999999');
    expect(() => sink({ dir: other })).not.toThrow();
  });

  it('refuses a directory holding another stream than the one asked for', async () => {
    const dir = tempDir();
    const first = durableSink({ key: KEY, dir, intervalMs: 0, stream: 'api-1' });
    await first.write(sampleEvent(0));
    await first.close();
    expect(() => durableSink({ key: KEY, dir, stream: 'api-2' })).toThrow(OptionsError);
  });
});

describe('durableSink: shipping', () => {
  it('ships committed lines to the store as NDJSON text, in order, and drain waits for the acknowledgement', async () => {
    const dir = tempDir();
    const db = idempotentStore('lines');
    const s = sink({ dir, intervalMs: 0, ship: db.store });
    const all = Array.from({ length: 50 }, (_, i) => sampleEvent(i));
    await Promise.all(all.map((e) => s.write(e)));
    await s.drain();
    expect(db.order).toEqual(all.map((e) => e.id));
    expect(s.stats()).toMatchObject({ shipped: 50, backlogBytes: 0 });
    expect(verifyChain([...db.byId.values()], { key: KEY }).ok).toBe(true);
  });

  it('gathers small commits into one shipment per shipIntervalMs (fewer, larger statements)', async () => {
    const dir = tempDir();
    const timer = manualTimer();
    const db = idempotentStore('lines');
    const s = sink({ dir, timer, intervalMs: 0, shipIntervalMs: 50, ship: db.store });
    for (let i = 0; i < 6; i++) await s.write(sampleEvent(i)); // six commits
    expect(s.stats().commits).toBe(6);
    timer.advance(49);
    await new Promise((r) => setImmediate(r));
    expect(db.state.calls).toBe(0);
    timer.advance(1);
    await s.drain();
    expect(db.state.calls).toBe(1);
    expect(db.order).toHaveLength(6);
  });

  it('ships to a plain sink (write per event) when the store takes no lines', async () => {
    const dir = tempDir();
    const db = idempotentStore('events');
    const s = sink({ dir, intervalMs: 0, ship: db.store });
    await Promise.all([0, 1, 2].map((i) => s.write(sampleEvent(i))));
    await s.drain();
    expect(db.order).toHaveLength(3);
  });

  it('a store outage does not hold responses back; the backlog ships when it is back, with back-off', async () => {
    const dir = tempDir();
    const timer = manualTimer();
    const db = idempotentStore('lines');
    db.state.down = true;
    const failures: number[] = [];
    const s = sink({ dir, timer, intervalMs: 0, shipIntervalMs: 0, ship: db.store, retryMinMs: 100, onError: (_e, i) => void (i.phase === 'ship' && failures.push(i.attempt)) });
    for (let i = 0; i < 20; i++) await s.write(sampleEvent(i)); // each resolves: committed locally
    await new Promise((r) => setImmediate(r));
    expect(s.stats().backlogBytes).toBeGreaterThan(0);
    expect(failures.length).toBeGreaterThanOrEqual(1);
    expect(db.order).toHaveLength(0);
    db.state.down = false;
    timer.advance(5_000);
    await s.drain();
    expect(db.order).toHaveLength(20);
    expect(s.stats().backlogBytes).toBe(0);
  });

  it('fails closed when the unshipped backlog exceeds maxBacklogBytes (a long outage)', async () => {
    const dir = tempDir();
    const db = idempotentStore('lines');
    db.state.down = true;
    const s = sink({ dir, intervalMs: 0, ship: db.store, maxBacklogBytes: 2000, retryMinMs: 60_000, retryMaxMs: 60_000 });
    let refusedAt = -1;
    for (let i = 0; i < 20 && refusedAt === -1; i++) {
      try {
        await s.write(sampleEvent(i));
      } catch (err) {
        expect(err).toBeInstanceOf(AuditUnavailableError);
        refusedAt = i;
      }
    }
    expect(refusedAt).toBeGreaterThan(0);
    expect(s.stats().backlogBytes).toBeGreaterThan(2000);
    db.state.down = false;
    await s.drain();
    await expect(s.write(sampleEvent(99))).resolves.toBeUndefined();
  });

  it('after a restart, resumes from the acknowledged position; lines sent twice are stored once', async () => {
    const dir = tempDir();
    const db = idempotentStore('lines');
    const first = durableSink({ key: KEY, dir, intervalMs: 0, ship: db.store });
    for (let i = 0; i < 10; i++) await first.write(sampleEvent(i));
    await first.close();
    const ack = readFileSync(join(dir, 'shipped.json'), 'utf8');
    expect(db.state.deliveries).toBe(10);
    // A crash after the store took a shipment but before the acknowledgement was saved.
    writeFileSync(join(dir, 'shipped.json'), JSON.stringify({ ...JSON.parse(ack), offset: 0 }));
    const again = sink({ dir, intervalMs: 0, ship: db.store });
    for (let i = 10; i < 15; i++) await again.write(sampleEvent(i));
    await again.drain();
    expect(db.state.deliveries).toBe(25);
    expect(db.order).toHaveLength(15);
    expect(verifyChain([...db.byId.values()], { key: KEY })).toMatchObject({ ok: true, events: 15, duplicates: 0 });
  });

  it('deletes files once shipped, and a restart with only an empty file continues the chain from the acknowledgement', async () => {
    const dir = tempDir();
    const db = idempotentStore('lines');
    const first = durableSink({ key: KEY, dir, intervalMs: 0, ship: db.store, segmentBytes: 2048 });
    for (let i = 0; i < 12; i++) await first.write(sampleEvent(i));
    await first.drain();
    const filesBefore = readdirSync(dir).filter((n) => n.startsWith('wal-'));
    expect(filesBefore.length).toBeLessThanOrEqual(2);
    await first.close();
    const again = sink({ dir, intervalMs: 0, ship: db.store, segmentBytes: 2048 });
    expect(again.recovery.head.seq).toBe(12);
    for (let i = 12; i < 20; i++) await again.write(sampleEvent(i));
    await again.drain();
    expect(db.order).toHaveLength(20);
    expect(verifyChain([...db.byId.values()], { key: KEY })).toMatchObject({ ok: true, heads: [{ seq: 20 }] });
  });
});

describe('durableSink under the engine', () => {
  const policy = definePolicy({
    roles: ['billing'],
    resources: {
      LabReport: {
        subject: 'patient.id',
        id: 'reportId',
        fields: { reportId: 'non-phi', 'patient.id': 'direct-identifier', 'patient.mrn': 'direct-identifier', 'results[].code': 'clinical' },
        disclose: { billing: { HPAYMT: { 'patient.mrn': { op: 'partial' }, 'results[].code': 'send' } } },
      },
    },
  });
  const record = { reportId: 'r-1', patient: { id: 'PT-77', mrn: 'MRN-0042' }, results: [{ code: 'A1C' }] };

  it('a PHI release waits for its batch: pending resolves after the commit, and the stored line names no PHI value', async () => {
    const dir = tempDir();
    const timer = manualTimer();
    const audit = sink({ dir, timer, intervalMs: 1 });
    const guard = createPhiGuard({ policy, secret: SECRET, audit });
    const c = ctx(['billing'], 'HPAYMT');
    const decision = guard.authorize(c, 'LabReport', 'read');
    if (decision.effect !== 'allow') return expect.fail('expected allow');
    const released = guard.release(decision.plan, record, c, 'read');
    let sent = false;
    void released.pending!.then(() => void (sent = true));
    await new Promise((r) => setImmediate(r));
    expect(sent).toBe(false);
    timer.advance(1);
    await released.pending;
    const [line] = walLines(dir);
    expect(JSON.parse(line!)).toMatchObject({ id: released.event.id, disclosed: ['reportId', 'patient.mrn', 'results[].code'], transforms: { 'patient.mrn': 'partial' }, chain: { seq: 1 } });
    for (const phi of ['PT-77', 'MRN-0042']) expect(line).not.toContain(phi);
  });

  it('a failed commit makes the release fail closed with AuditUnavailableError', async () => {
    const dir = tempDir();
    const audit = sink({ dir, intervalMs: 0, segmentBytes: 1024 });
    const guard = createPhiGuard({ policy, secret: SECRET, audit });
    const c = ctx(['billing'], 'HPAYMT');
    const decision = guard.authorize(c, 'LabReport', 'read');
    if (decision.effect !== 'allow') return expect.fail('expected allow');
    for (let i = 0; i < 3; i++) await guard.release(decision.plan, record, c, 'read').pending;
    mkdirSync(join(dir, `wal-${String(4).padStart(16, '0')}.ndjson`)); // the next file cannot be created
    await expect(guard.release(decision.plan, record, c, 'read').pending).rejects.toBeInstanceOf(AuditUnavailableError);
  });
});

describe('durableSink options', () => {
  it('validates eagerly, with suggestions', () => {
    const dir = tempDir();
    expect(() => durableSink({ key: KEY, dir, intervalMS: 1 } as never)).toThrow(/did you mean "intervalMs"/);
    expect(() => durableSink({ key: new Uint8Array(16), dir })).toThrow(/32 random bytes/);
    expect(() => durableSink({ key: KEY, dir: '' })).toThrow(OptionsError);
    expect(() => durableSink({ key: KEY, dir, maxBatch: 0 })).toThrow(OptionsError);
    expect(() => durableSink({ key: KEY, dir, stream: 'bad stream' })).toThrow(OptionsError);
    expect(() => durableSink({ key: KEY, dir, ship: {} as never })).toThrow(OptionsError);
  });
});

describe('canonicalSplit and the per-plan text cache', () => {
  it('head + "chain":link + tail is the canonical JSON of the object with that link (property)', () => {
    const value = fc.dictionary(fc.string({ maxLength: 8 }).filter((k) => k !== '__proto__'), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 8 });
    fc.assert(
      fc.property(value, fc.jsonValue({ maxDepth: 2 }), (obj, link) => {
        const { head, tail } = canonicalSplit(obj as Record<string, unknown>, 'chain');
        expect(head + '"chain":' + canonicalJson(link) + tail).toBe(canonicalJson({ ...obj, chain: link }));
      }),
      { numRuns: 300 },
    );
  });

  it('reuses the text of frozen parts, but never of one whose content can still change', () => {
    const disclosed = Object.freeze(['a', 'b']);
    expect(canonicalJson({ disclosed })).toBe('{"disclosed":["a","b"]}');
    expect(canonicalJson({ disclosed })).toBe('{"disclosed":["a","b"]}');
    const inner = { n: 1 };
    const shallow = Object.freeze({ inner });
    expect(canonicalJson(shallow)).toBe('{"inner":{"n":1}}');
    inner.n = 2; // frozen outside, mutable inside: not cached
    expect(canonicalJson(shallow)).toBe('{"inner":{"n":2}}');
    let calls = 0;
    const getter = Object.freeze(Object.defineProperty({}, 'v', { enumerable: true, get: () => ++calls }));
    expect(canonicalJson(getter)).toBe('{"v":1}');
    expect(canonicalJson(getter)).toBe('{"v":2}');
  });
});
