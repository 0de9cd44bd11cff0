/**
 * createDurableSink with its writer, chain and shipper on a worker thread, shipping to a real
 * PostgreSQL (scripts/services postgres) described as data. The worker runs the built
 * `packages/core/dist/audit-worker.js` (as the integration suites run the built example): build
 * first (`npx turbo run build`). Also the shared ring between the threads, as a property.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { verifyChain } from '../../src/audit/chain.js';
import { durableSink, RING, ringRead, ringWrite, type DurableAuditSink, type DurableErrorInfo, type DurableSinkOptions } from '../../src/audit/durable.js';
import type { AuditEvent } from '../../src/audit/event.js';
import { dropAuditTableSql, postgresAuditSink } from '../../src/audit/postgres.js';
import { AuditUnavailableError, OptionsError } from '../../src/errors.js';
import { KEY, memorySink, sampleEvent, walLines } from './fixtures.js';
import { PG_URL, testPool, uniqueTable } from './pg.js';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const built = here('../../dist/audit-worker.js');

let pool: pg.Pool;
const tables: string[] = [];
const dirs: string[] = [];
const open: DurableAuditSink[] = [];

beforeAll(async () => {
  if (statSync(built, { throwIfNoEntry: false }) === undefined) throw new Error(`${built} is missing: run \`npx turbo run build\` first`);
  pool = await testPool(4);
});
afterEach(async () => {
  for (const s of open.splice(0)) await s.close({ timeoutMs: 2000 }).catch(() => undefined);
});
afterAll(async () => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  if (pool === undefined) return;
  for (const t of tables) await pool.query(dropAuditTableSql(t)).catch(() => undefined);
  await pool.end();
});

async function table(): Promise<string> {
  const name = uniqueTable('audit_worker');
  tables.push(name);
  await postgresAuditSink({ pool, table: name }).migrate();
  return name;
}
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'phiguard-durable-worker-'));
  dirs.push(d);
  return d;
};
function sink(options: Partial<DurableSinkOptions> & { dir: string }): DurableAuditSink {
  const s = durableSink({ key: KEY, ...options });
  open.push(s);
  return s;
}
const rows = async (name: string) => (await pool.query<{ id: string; event: AuditEvent }>(`SELECT id, event FROM "${name}" ORDER BY stream, seq, pos`)).rows;
/** Nothing listens on port 1 of the loopback: every connection is refused at once. */
const DOWN = 'postgres://postgres@127.0.0.1:1/postgres';
/** Resolves at the first error of `phase`. */
function firstError(phase: DurableErrorInfo['phase']) {
  let seen: (info: DurableErrorInfo) => void = () => undefined;
  const next = new Promise<DurableErrorInfo>((resolve) => (seen = resolve));
  const infos: DurableErrorInfo[] = [];
  const onError = (_e: unknown, info: DurableErrorInfo) => {
    infos.push(info);
    if (info.phase === phase) seen(info);
  };
  return { next, infos, onError };
}

describe('durableSink on a worker thread → PostgreSQL', () => {
  it('every write resolves after its commit; the store holds each event once, in a chain that verifies', async () => {
    const name = await table();
    const dir = tempDir();
    const s = sink({ dir, ship: { postgres: { connectionString: PG_URL, table: name } }, maxBatch: 7, shipIntervalMs: 5 });
    const events = Array.from({ length: 300 }, (_, i) => sampleEvent(i));
    // Bursts of concurrent writes, as concurrent requests make them.
    for (let i = 0; i < events.length; i += 50) {
      const batch = events.slice(i, i + 50);
      await Promise.all(
        batch.map(async (e) => {
          await s.write(e);
          // Released only once its line is in the write-ahead file.
          expect(walLines(dir).some((l) => l.includes(e.id))).toBe(true);
        }),
      );
    }
    await s.drain({ timeoutMs: 10_000 });
    const stored = await rows(name);
    expect(stored.map((r) => r.id)).toEqual(events.map((e) => e.id));
    expect(new Set(stored.map((r) => r.id)).size).toBe(events.length);
    const verdict = verifyChain(stored.map((r) => r.event), { key: KEY });
    expect(verdict.ok).toBe(true);
    expect(s.head()).toEqual({ stream: s.stream, seq: 300, hash: stored.at(-1)!.event.chain!.hash });
    expect(s.stats()).toMatchObject({ pending: 0, committed: 300, shipped: 300, backlogBytes: 0, refused: 0, broken: false });
    expect(s.stats().commits).toBeGreaterThanOrEqual(Math.ceil(300 / 7));
  });

  it('the store down: responses keep being committed, the backlog fails closed past maxBacklogBytes, and a restart ships it once', async () => {
    const name = await table();
    const dir = tempDir();
    const errors = firstError('ship');
    const down = sink({ dir, ship: { postgres: { connectionString: DOWN, table: name } }, maxBacklogBytes: 4000, retryMinMs: 5, retryMaxMs: 20, shipIntervalMs: 0, onError: errors.onError });
    const committed: AuditEvent[] = [];
    let refusedAt = -1;
    for (let i = 0; i < 40 && refusedAt === -1; i++) {
      const e = sampleEvent(i);
      try {
        await down.write(e);
        committed.push(e);
      } catch (err) {
        expect(err).toBeInstanceOf(AuditUnavailableError);
        refusedAt = i;
      }
    }
    await errors.next;
    // Each event is ~600 bytes: past 4000 unshipped bytes the sink refuses (the engine answers 503).
    expect(refusedAt).toBeGreaterThan(4);
    expect(down.stats().backlogBytes).toBeGreaterThan(4000);
    expect(down.stats().refused).toBe(1);
    expect(() => down.write(sampleEvent(99))).toThrow(AuditUnavailableError);
    await expect(down.close({ timeoutMs: 200 })).rejects.toBeInstanceOf(AuditUnavailableError);
    expect(await rows(name)).toEqual([]);

    const again = sink({ dir, ship: { postgres: { connectionString: PG_URL, table: name } } });
    expect(again.stream).toBe(down.stream);
    await again.drain({ timeoutMs: 10_000 });
    const stored = await rows(name);
    expect(stored.map((r) => r.id)).toEqual(committed.map((e) => e.id));
    expect(verifyChain(stored.map((r) => r.event), { key: KEY }).ok).toBe(true);
  });

  it('close() commits, ships and releases the directory; a restart continues the stream without storing anything twice', async () => {
    const name = await table();
    const dir = tempDir();
    const ship = { postgres: { connectionString: PG_URL, table: name, poolSize: 2 } };
    const first = durableSink({ key: KEY, dir, ship, shipIntervalMs: 10_000 });
    const writes = Array.from({ length: 25 }, (_, i) => first.write(sampleEvent(i)));
    await first.close();
    await Promise.all(writes);
    expect(first.stats()).toMatchObject({ committed: 25, shipped: 25, backlogBytes: 0 });
    expect(() => first.write(sampleEvent(0))).toThrow(AuditUnavailableError);
    const second = sink({ dir, ship });
    expect(second.recovery).toMatchObject({ discardedBytes: 0, head: { stream: first.stream, seq: 25 } });
    await Promise.all(Array.from({ length: 5 }, (_, i) => second.write(sampleEvent(100 + i))));
    await second.drain({ timeoutMs: 10_000 });
    const stored = await rows(name);
    expect(stored).toHaveLength(30);
    expect(verifyChain(stored.map((r) => r.event), { key: KEY }).ok).toBe(true);
  });

  it('the worker dying fails closed: writes waiting for it are refused, and so is every later one', async () => {
    // A ship target that blocks its thread and then ends it, as a crash in the worker would.
    const dir = tempDir();
    const moduleDir = tempDir();
    const module = join(moduleDir, 'crash.mjs');
    writeFileSync(
      module,
      `export default (o) => ({ write() {}, writeLines() { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, o.blockMs); process.exit(3); } });\n`,
    );
    const died = firstError('worker');
    const s = sink({ dir, ship: { module, options: { blockMs: 300 } }, intervalMs: 50, shipIntervalMs: 0, onError: died.onError });
    await s.write(sampleEvent(0)); // committed; its shipment now blocks the worker
    const waiting = Array.from({ length: 5 }, (_, i) => s.write(sampleEvent(1 + i)));
    const outcomes = await Promise.allSettled(waiting);
    expect(outcomes.map((o) => o.status)).toEqual(Array(5).fill('rejected'));
    for (const o of outcomes) expect((o as PromiseRejectedResult).reason).toBeInstanceOf(AuditUnavailableError);
    await died.next;
    expect(s.stats()).toMatchObject({ broken: true, pending: 0, committed: 1 });
    expect(() => s.write(sampleEvent(9))).toThrow(AuditUnavailableError);
    // The committed event is in the file; the waiting ones never were.
    expect(walLines(dir)).toHaveLength(1);
  });

  it('a ship module that cannot be loaded is a failed shipment, retried, never a lost event', async () => {
    const dir = tempDir();
    const errors = firstError('ship');
    const s = durableSink({ key: KEY, dir, ship: { module: join(tempDir(), 'missing.mjs') }, retryMinMs: 5, retryMaxMs: 10, shipIntervalMs: 0, onError: errors.onError });
    await s.write(sampleEvent(0));
    await errors.next;
    expect(s.stats()).toMatchObject({ committed: 1, shipped: 0, broken: false });
    await s.write(sampleEvent(1)); // still committing locally
    expect(walLines(dir)).toHaveLength(2);
    await expect(s.close({ timeoutMs: 50 })).rejects.toBeInstanceOf(AuditUnavailableError);
  });

  it('with no store the files are the record (worker by default)', async () => {
    const dir = tempDir();
    const s = sink({ dir });
    await Promise.all(Array.from({ length: 40 }, (_, i) => s.write(sampleEvent(i))));
    const lines = walLines(dir).map((l) => JSON.parse(l) as AuditEvent);
    expect(lines).toHaveLength(40);
    expect(verifyChain(lines, { key: KEY }).ok).toBe(true);
    expect(s.stats()).toMatchObject({ backlogBytes: 0, committed: 40 });
  });
});

describe('the worker and the life of the process', () => {
  // A script on the built package: the process must wait for a write's commit, and must not be
  // kept alive by the worker otherwise (no close, a drain given up on, a store down).
  const script = (body: string) => {
    const file = join(tempDir(), 'run.mjs');
    writeFileSync(file, `import { createDurableSink } from ${JSON.stringify(here('../../dist/audit.js'))};\n${body}\n`);
    return spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 15_000 });
  };
  const event = `{ id: 'e-' + Math.random(), time: new Date(0).toISOString(), action: 'read', outcome: 'success', actor: { id: 'u' }, purposeOfUse: 'TREAT' }`;

  it('a write not awaited is still committed before the process ends on its own', () => {
    const dir = tempDir();
    const run = script(`const s = createDurableSink({ dir: ${JSON.stringify(dir)}, key: new Uint8Array(32).fill(1), intervalMs: 20 });
s.write(${event}).then(() => console.log('committed'));`);
    expect(run.status).toBe(0);
    expect(run.stdout.trim()).toBe('committed');
    expect(walLines(dir)).toHaveLength(1);
  });

  it('an idle sink, or a drain given up on while the store is down, does not keep the process alive', () => {
    const dir = tempDir();
    const started = Date.now();
    const run = script(`const s = createDurableSink({ dir: ${JSON.stringify(dir)}, key: new Uint8Array(32).fill(1), ship: { postgres: { connectionString: ${JSON.stringify(DOWN)} } }, retryMinMs: 50 });
await s.write(${event});
await s.drain({ timeoutMs: 200 }).catch((e) => console.log(e.name));`);
    expect(run.status).toBe(0);
    expect(run.stdout.trim()).toBe('AuditUnavailableError');
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(walLines(dir)).toHaveLength(1);
  });
});

describe('durableSink: where the writer runs', () => {
  const base = { key: KEY, dir: '/nonexistent/phiguard-worker-options' };
  const cases: [string, Record<string, unknown>, string][] = [
    ['a sink object cannot cross to the worker', { worker: true, ship: memorySink() }, 'ship'],
    ['a timer cannot cross to the worker', { worker: true, timer: { now: () => 0, set: () => 0, clear: () => undefined } }, 'timer'],
    ['a described store is built only on the worker', { worker: false, ship: { postgres: { connectionString: PG_URL } } }, 'ship'],
    ['a PostgreSQL description needs a connection string', { ship: { postgres: { table: 'audit' } } }, 'ship'],
    ['a PostgreSQL description needs a valid table', { ship: { postgres: { connectionString: PG_URL, table: 'Audit-Events' } } }, 'ship'],
    ['a module is named by an absolute path or file: URL', { ship: { module: './ship.mjs' } }, 'ship'],
    ['a description names one store', { ship: { postgres: { connectionString: PG_URL }, module: '/x.mjs' } }, 'ship'],
    ['worker is a boolean', { worker: 'yes' }, 'worker'],
  ];
  it.each(cases)('%s', (_n, extra, path) => {
    let err: unknown;
    try {
      durableSink({ ...base, ...extra } as never);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(OptionsError);
    expect((err as OptionsError).issues.map((i) => i.path)).toContain(path);
  });

  it('never echoes a connection string (it may hold a password)', () => {
    const secret = 'pw-9f8e7d6c5b4a';
    let message = '';
    try {
      durableSink({ ...base, worker: false, ship: { postgres: { connectionString: `postgres://app:${secret}@db/audit` } } } as never);
    } catch (e) {
      message = `${(e as OptionsError).message} ${JSON.stringify((e as OptionsError).issues)}`;
    }
    expect(message).toContain('ship');
    expect(message).not.toContain(secret);
  });

  it('an object sink keeps the writer on this thread (worker: false by default there)', async () => {
    const dir = tempDir();
    const store = memorySink();
    const s = sink({ dir, ship: store, shipIntervalMs: 0 });
    await s.write(sampleEvent(0));
    await s.drain({ timeoutMs: 2000 });
    expect(store.events).toHaveLength(1);
  });
});

describe('the ring between the threads', () => {
  // Random events (ASCII and multi-byte text, some near the ring's size), written and read in a
  // random interleaving through a small ring: everything written is read once, in order, and an
  // empty ring never refuses an event of up to half its size.
  it('delivers every accepted event once, in order, across wraps (property)', () => {
    const text = fc.string({ unit: fc.constantFrom('a', 'é', '€', '𝄞', '"', '\\', 'z'), maxLength: 60 });
    fc.assert(
      fc.property(fc.integer({ min: 16, max: 200 }), fc.array(fc.tuple(text, text, fc.boolean()), { maxLength: 80 }), (cap, steps) => {
        const sab = new SharedArrayBuffer(RING.WORDS * 4 + cap);
        const ctrl = new Int32Array(sab, 0, RING.WORDS);
        const data = Buffer.from(sab, RING.WORDS * 4);
        const encoder = new TextEncoder();
        const sent: string[] = [];
        const got: string[] = [];
        const read = () => ringRead(ctrl, data, (h, t) => void got.push(`${h}|${t}`));
        for (const [head, tail, thenRead] of steps) {
          const bytes = Buffer.byteLength(head) + Buffer.byteLength(tail) + 2;
          if (ringWrite(ctrl, data, encoder, head, tail)) sent.push(`${head}|${tail}`);
          else {
            // Refused: the free space is too small. Once read, an empty ring takes any event of
            // up to half its size, wherever its positions stand.
            read();
            const retried = ringWrite(ctrl, data, encoder, head, tail);
            if (bytes * 2 <= cap - 1) expect(retried).toBe(true);
            if (retried) sent.push(`${head}|${tail}`);
          }
          if (thenRead) read();
        }
        read();
        expect(got).toEqual(sent);
        expect(Atomics.load(ctrl, RING.READ)).toBe(Atomics.load(ctrl, RING.WRITE));
      }),
      { numRuns: 300 },
    );
  });
});
