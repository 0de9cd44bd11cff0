import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chainSink, verifyChain, type ChainedAuditEvent } from '../../src/audit/chain.js';
import { KEY, memorySink, sampleEvent, stored } from './fixtures.js';

function chained(n: number, stream: string): ChainedAuditEvent[] {
  const mem = memorySink();
  const sink = chainSink(mem, { key: KEY, stream });
  for (let i = 0; i < n; i++) sink.write(sampleEvent(i));
  return stored(mem.events) as ChainedAuditEvent[];
}

/** Interleaves streams in an arbitrary order that keeps each stream's own order. */
function interleave(streams: ChainedAuditEvent[][], picks: number[]): ChainedAuditEvent[] {
  const queues = streams.map((s) => [...s]);
  const out: ChainedAuditEvent[] = [];
  let k = 0;
  while (queues.some((q) => q.length > 0)) {
    const live = queues.filter((q) => q.length > 0);
    out.push(live[(picks[k++ % Math.max(picks.length, 1)] ?? 0) % live.length]!.shift()!);
  }
  return out;
}

const FIELDS = ['action', 'outcome', 'purposeOfUse', 'time', 'id'] as const;

describe('verifyChain properties', () => {
  it('without a checkpoint, every change but the removal of the newest events is detected', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 12 }), fc.nat(), (n, a) => {
        const events = chained(n, 'x');
        const i = a % (n - 1); // not the last
        expect(verifyChain([...events.slice(0, i), ...events.slice(i + 1)], { key: KEY }).ok).toBe(false);
        expect(verifyChain(events.slice(0, n - 1), { key: KEY }).ok).toBe(true); // why checkpoints exist
      }),
      { numRuns: 60 },
    );
  });

  it('any interleaving of intact streams verifies', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 4 }), fc.array(fc.nat(), { maxLength: 50 }), (sizes, picks) => {
        const streams = sizes.map((n, i) => chained(n, `s${i}`));
        const verdict = verifyChain(interleave(streams, picks), { key: KEY });
        expect(verdict.ok).toBe(true);
        expect(verdict.events).toBe(sizes.reduce((a, b) => a + b, 0));
      }),
      { numRuns: 60 },
    );
  });

  it('any single edit, deletion, swap of distinct events or forged insertion is detected in its stream (tail deletions against a checkpoint)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 3, max: 15 }),
        fc.nat(),
        fc.nat(),
        fc.constantFrom('edit', 'delete', 'swap', 'insert'),
        fc.constantFrom(...FIELDS),
        (n, a, b, op, field) => {
          const events: unknown[] = chained(n, 'x');
          const heads = verifyChain(events, { key: KEY }).heads;
          const i = a % n;
          const j = b % n;
          switch (op) {
            case 'edit':
              events[i] = { ...(events[i] as object), [field]: 'tampered' };
              break;
            case 'delete':
              events.splice(i, 1);
              break;
            case 'swap':
              if (i === j) return;
              [events[i], events[j]] = [events[j], events[i]];
              break;
            case 'insert':
              events.splice(i, 0, { ...sampleEvent(99), chain: { stream: 'x', seq: i + 1, prev: '0'.repeat(64), hash: 'f'.repeat(64) } });
              break;
          }
          const verdict = verifyChain(events, { key: KEY, heads });
          expect(verdict.ok).toBe(false);
          expect(verdict.breaks).toHaveLength(1);
          expect(verdict.breaks[0]!.stream).toBe('x');
        },
      ),
      { numRuns: 300 },
    );
  });
});
