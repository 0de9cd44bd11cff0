/**
 * Linear time: no input makes a scan super-linear. Each hostile 1 MB input must scan within 3×
 * the time of 1 MB of ordinary clinical text (the target is 2×; the test allows 3× so a
 * noisy CI machine does not flake; `node test/eval/dlp.mjs` reports the measured worst ratio).
 * Times are medians of interleaved runs, so both sides see the same machine load.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createScanner } from '../../src/dlp/index.js';
import { loadCorpus, ordinaryText } from './eval/corpus.mjs';
import { hostileInputs } from './eval/hostile.mjs';

const SIZE = 1 << 20;
const scanner = createScanner();
let ordinary = '';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/** Median times of `a` and `b`, measured alternately after a warm-up. */
function paired(a: string, b: string, runs = 3): [number, number] {
  scanner.scan(a);
  scanner.scan(b);
  const ta: number[] = [];
  const tb: number[] = [];
  for (let i = 0; i < runs; i++) {
    let t = performance.now();
    scanner.scan(a);
    ta.push(performance.now() - t);
    t = performance.now();
    scanner.scan(b);
    tb.push(performance.now() - t);
  }
  return [median(ta), median(tb)];
}

beforeAll(() => {
  const { docs } = loadCorpus();
  ordinary = ordinaryText(docs, SIZE).slice(0, SIZE);
  for (let i = 0; i < 5; i++) scanner.scan(ordinary);
});

describe('linear time on hostile input (1 MB each)', () => {
  it.each(Object.entries(hostileInputs(SIZE)))('%s scans within 3× of ordinary text', (_name, hostile) => {
    expect(hostile.length).toBe(SIZE);
    let [base, time] = paired(ordinary, hostile);
    // One retry with more runs absorbs a burst of machine noise; a real super-linear path fails both.
    if (time > 3 * base) [base, time] = paired(ordinary, hostile, 9);
    expect(time / base).toBeLessThanOrEqual(3);
  });

  it('doubling the input roughly doubles the time (no hidden quadratic term)', () => {
    const unit = 'SSN 123-45-6789 Dr. Smith a@b.co 10.0.0.1 MRN 0048291 http://x.io/a ';
    const small = unit.repeat(Math.ceil(SIZE / 2 / unit.length));
    const big = small + small;
    const [ts, tb] = paired(small, big);
    expect(tb / ts).toBeLessThan(3);
  });
});
