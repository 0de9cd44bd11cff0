import { describe, expect, it, vi } from 'vitest';
import { bufferedSink } from '../../src/audit/buffered.js';
import type { AuditEvent, AuditBatchSink } from '../../src/audit/event.js';
import { AuditUnavailableError, OptionsError } from '../../src/errors.js';
import { sampleEvent } from './fixtures.js';

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
    expect(() => bufferedSink(null as never)).toThrow(/inner audit sink/);
  });
});
