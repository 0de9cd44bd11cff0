/** Retention checkpoints in the verifier: a stream may start after a keyed checkpoint, and only there. */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chainSink, checkpointMac, verifyChain, type ChainCheckpoint, type ChainedAuditEvent } from '../../src/audit/chain.js';
import { KEY, memorySink, sampleEvent, stored } from './fixtures.js';

const CUTOFF = '2019-01-01T00:00:00.000Z';

function chained(n: number, stream: string): ChainedAuditEvent[] {
  const mem = memorySink();
  const sink = chainSink(mem, { key: KEY, stream });
  for (let i = 0; i < n; i++) sink.write(sampleEvent(i));
  return stored(mem.events) as ChainedAuditEvent[];
}

function checkpointAfter(events: readonly ChainedAuditEvent[], cut: number, key: Uint8Array = KEY): ChainCheckpoint {
  const last = events[cut - 1]!.chain;
  const body = { stream: last.stream, seq: last.seq, hash: last.hash, cutoff: CUTOFF };
  return { ...body, mac: checkpointMac(body, key) };
}

describe('verifyChain with retention checkpoints', () => {
  it('a stream cut at a checkpoint verifies; removing any other event, or an unkeyed or misplaced checkpoint, does not', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 14 }), fc.nat(), fc.nat(), (n, a, b) => {
        const events = chained(n, 'x');
        const cut = 1 + (a % (n - 1)); // 1..n-1 removed, at least one kept
        const cp = checkpointAfter(events, cut);
        const rest = events.slice(cut);
        const ok = verifyChain(rest, { key: KEY, checkpoints: [cp] });
        expect(ok.ok).toBe(true);
        expect(ok.heads).toEqual([{ stream: 'x', seq: n, hash: events[n - 1]!.chain.hash, events: n - cut }]);
        // Without the checkpoint the removed prefix is a deletion.
        expect(verifyChain(rest, { key: KEY }).breaks[0]).toMatchObject({ kind: 'deleted', seq: 1 });
        // Another event removed after the cut (not the last: that needs `heads`) is reported.
        if (rest.length >= 2) {
          const i = b % (rest.length - 1);
          expect(verifyChain([...rest.slice(0, i), ...rest.slice(i + 1)], { key: KEY, checkpoints: [cp] }).breaks[0]).toMatchObject({ kind: 'deleted', seq: cut + 1 + i });
        }
        // A checkpoint MAC'd with another key, or moved to a later seq, is forged.
        expect(verifyChain(rest, { key: KEY, checkpoints: [checkpointAfter(events, cut, randomBytes(32))] }).breaks[0]).toMatchObject({ kind: 'forged', seq: cut });
        expect(verifyChain(rest.slice(1), { key: KEY, checkpoints: [{ ...cp, seq: cut + 1 }] }).breaks[0]).toMatchObject({ kind: 'forged' });
        // A genuine earlier checkpoint does not excuse a later gap.
        if (cut >= 2) expect(verifyChain(rest, { key: KEY, checkpoints: [checkpointAfter(events, cut - 1)] }).breaks[0]).toMatchObject({ kind: 'deleted', seq: cut });
        // The latest genuine checkpoint counts; earlier ones are history.
        expect(verifyChain(rest, { key: KEY, checkpoints: [checkpointAfter(events, 1), cp] }).ok).toBe(true);
        // With the events still there, the checkpoint is an anchor they must match.
        expect(verifyChain(events, { key: KEY, checkpoints: [cp] }).ok).toBe(true);
        const other = chained(n, 'x'); // same stream id, other hashes
        expect(verifyChain(other, { key: KEY, checkpoints: [cp] }).breaks[0]).toMatchObject({ kind: 'modified', seq: cut });
      }),
      { numRuns: 80 },
    );
  });

  it('a fully purged stream has its head at the checkpoint; a heads anchor inside the purged prefix is not a deletion', () => {
    const events = chained(5, 'y');
    const cp = checkpointAfter(events, 5);
    const v = verifyChain([], { key: KEY, checkpoints: [cp], heads: [{ stream: 'y', seq: 3, hash: events[2]!.chain.hash }] });
    expect(v.ok).toBe(true);
    expect(v.heads).toEqual([{ stream: 'y', seq: 5, hash: cp.hash, events: 0 }]);
    expect(verifyChain([], { key: KEY, checkpoints: [cp], heads: [{ stream: 'y', seq: 5, hash: 'a'.repeat(64) }] }).breaks[0]).toMatchObject({ kind: 'modified', seq: 5 });
    expect(verifyChain([], { key: KEY, checkpoints: [cp], heads: [{ stream: 'y', seq: 6 }] }).breaks[0]).toMatchObject({ kind: 'deleted' });
    expect(() => verifyChain([], { key: KEY, checkpoint: [cp] } as never)).toThrow(/checkpoints/);
  });
});
