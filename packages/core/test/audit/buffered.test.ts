import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { bufferedSink } from '../../src/audit/buffered.js';
import { canonicalJson } from '../../src/audit/canonical.js';
import { chainSink, verifyChain } from '../../src/audit/chain.js';
import type { AuditEvent, AuditBatchSink, AuditLineSink, AuditSink } from '../../src/audit/event.js';
import { AuditUnavailableError, OptionsError } from '../../src/errors.js';
import { KEY, sampleEvent, stored } from './fixtures.js';

/** A batch store that can be switched down, keeping what it acknowledged. */
function fakeStore() {
  const stored: AuditEvent[] = [];
  const batches: number[] = [];
  const state = { down: false, calls: 0 };
  const sink: AuditBatchSink = {
    write: (e) => sink.writeBatch([e]),
    async writeBatch(events) {
      state.calls++;
      await new Promise((r) => setTimeout(r, 1));
      if (state.down) throw new Error('store down');
      batches.push(events.length);
      stored.push(...events);
    },
  };
  return { sink, stored, batches, state };
}

const ids = (events: readonly AuditEvent[]) => events.map((e) => e.id);

describe('bufferedSink', () => {
  it('returns synchronously and delivers in order, in batches of at most maxBatch', async () => {
    const store = fakeStore();
    const sink = bufferedSink(store.sink, { maxBatch: 10, flushIntervalMs: 5 });
    const events = Array.from({ length: 35 }, (_, i) => sampleEvent(i));
    for (const e of events) expect(sink.write(e)).toBeUndefined();
    expect(store.stored).toHaveLength(0);
    await sink.flush();
    expect(ids(store.stored)).toEqual(ids(events));
    expect(Math.max(...store.batches)).toBeLessThanOrEqual(10);
    expect(sink.stats()).toMatchObject({ buffered: 0, delivered: 35, failures: 0 });
  });

  it('sends a partial batch after flushIntervalMs without a flush call', async () => {
    const store = fakeStore();
    const sink = bufferedSink(store.sink, { maxBatch: 100, flushIntervalMs: 10 });
    sink.write(sampleEvent(0));
    sink.write(sampleEvent(1));
    await vi.waitFor(() => expect(store.batches).toEqual([2]), { timeout: 2000 });
  });

  it('throws AuditUnavailableError once maxBuffer events are held, then recovers without loss or duplicates', async () => {
    const store = fakeStore();
    const errors: number[] = [];
    const sink = bufferedSink(store.sink, {
      maxBuffer: 20,
      maxBatch: 5,
      flushIntervalMs: 1,
      retryMinMs: 5,
      retryMaxMs: 20,
      onError: (_e, s) => errors.push(s.attempt),
    });
    store.state.down = true;
    const events = Array.from({ length: 20 }, (_, i) => sampleEvent(i));
    for (const e of events) sink.write(e);
    expect(() => sink.write(sampleEvent(99))).toThrow(AuditUnavailableError);
    await vi.waitFor(() => expect(errors.length).toBeGreaterThan(2), { timeout: 2000 });
    expect(errors.slice(0, 3)).toEqual([1, 2, 3]);
    expect(sink.stats()).toMatchObject({ buffered: 20, delivered: 0, refused: 1 });
    store.state.down = false;
    await sink.flush();
    expect(ids(store.stored)).toEqual(ids(events));
    expect(sink.stats()).toMatchObject({ buffered: 0, delivered: 20, attempt: 0 });
  });

  it('backs off exponentially between retries (bounded by retryMaxMs)', async () => {
    const store = fakeStore();
    store.state.down = true;
    const sink = bufferedSink(store.sink, { flushIntervalMs: 0, retryMinMs: 40, retryMaxMs: 80 });
    sink.write(sampleEvent(0));
    await new Promise((r) => setTimeout(r, 150));
    // t≈0 first try, then ≥ 20 ms, ≥ 40 ms, ≥ 40 ms …: a handful, not a busy loop.
    expect(store.state.calls).toBeGreaterThanOrEqual(2);
    expect(store.state.calls).toBeLessThanOrEqual(6);
  });

  it('with a sink without writeBatch, keeps what was acknowledged and retries from the first failure', async () => {
    const stored: AuditEvent[] = [];
    let failAt = 3;
    const sink = bufferedSink(
      {
        async write(e) {
          if (stored.length === failAt) {
            failAt = -1;
            throw new Error('transient');
          }
          stored.push(e);
        },
      },
      { maxBatch: 10, flushIntervalMs: 0, retryMinMs: 1 },
    );
    const events = Array.from({ length: 8 }, (_, i) => sampleEvent(i));
    for (const e of events) sink.write(e);
    await sink.flush();
    expect(ids(stored)).toEqual(ids(events));
    expect(sink.stats()).toMatchObject({ delivered: 8, failures: 1 });
  });

  it('flush with a timeout rejects while the store is down; close drains and then refuses writes', async () => {
    const store = fakeStore();
    const sink = bufferedSink(store.sink, { retryMinMs: 5 });
    store.state.down = true;
    sink.write(sampleEvent(0));
    await expect(sink.flush({ timeoutMs: 30 })).rejects.toBeInstanceOf(AuditUnavailableError);
    store.state.down = false;
    sink.write(sampleEvent(1));
    await sink.close();
    expect(store.stored).toHaveLength(2);
    expect(() => sink.write(sampleEvent(2))).toThrow(AuditUnavailableError);
  });

  it('close rejects when events cannot be delivered in time', async () => {
    const store = fakeStore();
    store.state.down = true;
    const sink = bufferedSink(store.sink, { retryMinMs: 5 });
    sink.write(sampleEvent(0));
    await expect(sink.close({ timeoutMs: 30 })).rejects.toBeInstanceOf(AuditUnavailableError);
    expect(sink.stats().buffered).toBe(1);
  });

  it('validates its options', () => {
    const store = fakeStore();
    expect(() => bufferedSink(store.sink, { maxBufer: 1 } as never)).toThrow(/did you mean "maxBuffer"/);
    expect(() => bufferedSink(store.sink, { maxBatch: 0 })).toThrow(OptionsError);
    expect(() => bufferedSink(null as never)).toThrow(/`inner` must be an audit sink/);
  });
});

describe('bufferedSink with `chain`: links computed in the background flush', () => {
  it('delivers the same links and MACs as chainSink in front of the buffer (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.string({ unit: 'binary', maxLength: 30 }), { minLength: 1, maxLength: 30 }), fc.integer({ min: 1, max: 7 }), async (actors, maxBatch) => {
        const events = actors.map((a, i) => sampleEvent(i, { actor: { id: a, roles: ['r'] } }));
        const viaChainSink = fakeStore();
        const front = chainSink(bufferedSink(viaChainSink.sink, { maxBatch, flushIntervalMs: 0 }), { key: KEY, stream: 'p-1' });
        for (const e of events) front.write(e);
        await front.flush();
        const background = fakeStore();
        const sink = bufferedSink(background.sink, { maxBatch, flushIntervalMs: 0, chain: { key: KEY, stream: 'p-1' } });
        for (const e of events) sink.write(e);
        await sink.flush();
        expect(background.stored.map((e) => e.chain)).toEqual(viaChainSink.stored.map((e) => e.chain));
        expect(sink.chainHead()).toEqual(front.head());
      }),
      { numRuns: 25 },
    );
  });

  it('a retried batch is resent with the same links: no gap, no event linked twice, the trail verifies', async () => {
    const store = fakeStore();
    const sink = bufferedSink(store.sink, { maxBatch: 4, flushIntervalMs: 1, retryMinMs: 2, retryMaxMs: 5, chain: { key: KEY, stream: 'retry-1' } });
    store.state.down = true;
    for (let i = 0; i < 10; i++) sink.write(sampleEvent(i));
    await vi.waitFor(() => expect(store.state.calls).toBeGreaterThanOrEqual(2), { timeout: 2000 });
    store.state.down = false;
    await sink.flush();
    expect(store.stored.map((e) => e.chain!.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(verifyChain(store.stored.map(stored), { key: KEY })).toMatchObject({ ok: true, duplicates: 0 });
  });

  it('a full buffer refuses synchronously and uses no link', async () => {
    const store = fakeStore();
    const sink = bufferedSink(store.sink, { maxBuffer: 3, flushIntervalMs: 1, chain: { key: KEY } });
    for (let i = 0; i < 3; i++) sink.write(sampleEvent(i));
    expect(() => sink.write(sampleEvent(3))).toThrow(AuditUnavailableError);
    await sink.flush();
    sink.write(sampleEvent(4));
    await sink.flush();
    expect(store.stored.map((e) => e.request?.requestId)).toEqual(['req-0', 'req-1', 'req-2', 'req-4']);
    expect(verifyChain(store.stored.map(stored), { key: KEY }).ok).toBe(true);
  });

  it('hands a line store the serialized lines as they are: canonical JSON that verifies', async () => {
    const texts: string[] = [];
    const lineStore: AuditSink & AuditLineSink = {
      write: () => expect.fail('writeLines is preferred'),
      writeLines: async (t) => void texts.push(t),
    };
    const sink = bufferedSink(lineStore, { maxBatch: 5, flushIntervalMs: 0, chain: { key: KEY, resume: { seq: 0, hash: '0'.repeat(64) } } });
    for (let i = 0; i < 12; i++) sink.write(sampleEvent(i));
    await sink.flush();
    const lines = texts.join('').split('\n').filter((l) => l !== '');
    expect(texts.length).toBe(3);
    for (const l of lines) expect(l).toBe(canonicalJson(JSON.parse(l)));
    expect(verifyChain(lines.map((l) => JSON.parse(l)), { key: KEY })).toMatchObject({ ok: true, events: 12 });
  });

  it('validates the chain option eagerly', () => {
    const store = fakeStore();
    expect(() => bufferedSink(store.sink, { chain: { key: new Uint8Array(8) } })).toThrow(OptionsError);
    expect(() => bufferedSink(store.sink, { chain: { key: KEY, stream: 'no spaces' } })).toThrow(OptionsError);
    expect(() => bufferedSink(store.sink, { chain: { key: KEY, resume: { seq: 3, hash: 'xyz' } } })).toThrow(OptionsError);
  });
});
