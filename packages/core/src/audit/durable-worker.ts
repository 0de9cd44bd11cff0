/**
 * The worker thread of a durable sink (`createDurableSink` with `worker`): the batch writer, the
 * hash chain and the shipper of durable.ts, fed by the sink's thread with canonical event text
 * and answering once per commit. The store is built here from its description.
 */
import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';
import { deliverLines, openWriter, RING, ringRead, type DurableShipTarget, type DurableWorkerData } from './durable.js';
import type { AuditEvent, AuditLineSink, AuditSink } from './event.js';
import { postgresAuditSink, type PgQueryable } from './postgres.js';
import { systemTimer } from './timer.js';

type Target = AuditSink & Partial<AuditLineSink> & { close?(): Promise<void> | void };

interface PgPool extends PgQueryable {
  on(event: 'error', listener: (err: Error) => void): unknown;
  end(): Promise<void>;
}

/** Builds the described store (loading `pg` or the user's module only here: core does not depend on them). */
async function build(target: DurableShipTarget): Promise<Target> {
  if ('postgres' in target) {
    const { connectionString, table, poolSize = 1 } = target.postgres;
    let mod: { default?: { Pool?: unknown }; Pool?: unknown };
    try {
      const name = 'pg';
      mod = (await import(name)) as typeof mod;
    } catch {
      throw new Error('shipping to a described PostgreSQL store needs the `pg` package: run `npm install pg`');
    }
    const Pool = (mod.Pool ?? mod.default?.Pool) as new (config: { connectionString: string; max: number }) => PgPool;
    const pool = new Pool({ connectionString, max: poolSize });
    pool.on('error', () => undefined); // a connection lost while idle: the next shipment reconnects
    const sink = postgresAuditSink({ pool, table });
    return { write: sink.write, writeLines: sink.writeLines, close: () => pool.end() };
  }
  const url = target.module.startsWith('file:') ? target.module : pathToFileURL(target.module).href;
  const mod = (await import(url)) as { default?: unknown };
  if (typeof mod.default !== 'function') throw new TypeError(`the ship module ${url} has no default export to call`);
  const sink = (await (mod.default as (options: unknown) => unknown)(target.options)) as Target;
  if (sink === null || typeof sink !== 'object' || typeof sink.write !== 'function') throw new TypeError(`the ship module ${url} did not return an audit sink`);
  return sink;
}

const data = workerData as DurableWorkerData;
const port = parentPort!;
let target: Promise<Target> | null = null;
const store = (): Promise<Target> =>
  (target ??= build(data.ship!).catch((err: unknown) => {
    target = null; // built again at the next attempt
    throw err;
  }));
// The store is built at the first shipment; a failure to build it is a failed shipment (retried).
const ship: (AuditSink & AuditLineSink) | undefined =
  data.ship === null
    ? undefined
    : {
        write: async (e: AuditEvent) => deliverLines(await store(), `${JSON.stringify(e)}\n`),
        writeLines: async (text: string) => deliverLines(await store(), text),
      };

const ctrl = new Int32Array(data.ring, 0, RING.WORDS);
const bytes = Buffer.from(data.ring, RING.WORDS * 4);

/** Hands what the sink's thread put in the ring to the writer. */
const pull = (): void => ringRead(ctrl, bytes, (head, tail) => writer.append(head, tail));

/** Node ≥ 16 has it; TypeScript's lib only from ES2024. */
type WaitAsync = { waitAsync(a: Int32Array, index: number, value: number): { async: false; value: string } | { async: true; value: Promise<string> } };

let stopped = false;
let lingering: ReturnType<typeof setTimeout> | null = null;
/**
 * A commit left nothing pending: look at the ring again one interval later, as if a batch had
 * opened then (under load the next events are there by that time, and the sink's thread did
 * not have to wake us); sleep only if it is still empty.
 */
function idle(): void {
  if (stopped || lingering !== null) return;
  const since = systemTimer.now();
  lingering = setTimeout(() => {
    lingering = null;
    if (stopped) return;
    if (Atomics.load(ctrl, RING.WRITE) !== Atomics.load(ctrl, RING.READ)) writer.poke(since);
    else sleep();
  }, data.config.intervalMs);
}
/** Nothing pending for an interval: wait for the sink's thread to put an event in the ring (it wakes us then). */
function sleep(): void {
  if (stopped) return;
  Atomics.store(ctrl, RING.SLEEP, 1);
  const w = Atomics.load(ctrl, RING.WRITE);
  if (w !== Atomics.load(ctrl, RING.READ)) {
    Atomics.store(ctrl, RING.SLEEP, 0);
    writer.poke();
    return;
  }
  const waited = (Atomics as unknown as WaitAsync).waitAsync(ctrl, RING.WRITE, w);
  if (waited.async) void waited.value.then(wake);
  else wake();
}
function wake(): void {
  Atomics.store(ctrl, RING.SLEEP, 0);
  if (!stopped) writer.poke();
}

const writer = openWriter(
  data.start,
  data.config,
  ship,
  {
    settled: (n, ok) => port.postMessage({ t: 's', n, ok, state: writer.state() }),
    shipped: () => port.postMessage({ t: 'p', state: writer.state() }),
    report: (err, phase, attempt) => {
      const e = err as Partial<NodeJS.ErrnoException> | null;
      // Errors cross as their name, message and code (a clone would drop the code).
      port.postMessage({ t: 'e', error: { name: e?.name ?? 'Error', message: e?.message ?? String(err), code: e?.code }, phase, attempt });
    },
    pull,
    idle,
  },
  systemTimer,
);
sleep();

port.on('message', (m: unknown) => {
  const msg = m as { t: string; id?: number };
  if (msg.t === 'flush') writer.commitNow();
  else if (msg.t === 'drain') {
    writer.poke();
    void writer.drain().then(() => port.postMessage({ t: 'd', id: msg.id }));
  } else if (msg.t === 'stop') {
    stopped = true;
    if (lingering !== null) clearTimeout(lingering);
    writer.stop();
    Atomics.notify(ctrl, RING.WRITE); // ends a pending wait
    void (async () => {
      try {
        if (target !== null) await (await target.catch(() => null))?.close?.();
      } finally {
        port.postMessage({ t: 'x' });
      }
    })();
  }
});
