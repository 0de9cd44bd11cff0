import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { OptionsError } from '@phiguard/core';
import {
  kAnonymity,
  laplaceNoise,
  reidentificationRisk,
  suppressSmallCells,
  topBottomCode,
  type SuppressedTable,
} from '@phiguard/core/deid';

/**
 * Every non-negative integer completion of the suppressed cells consistent with the published
 * cells and totals (brute force): the distinct values each suppressed cell can take.
 */
function feasibleValues(t: SuppressedTable): Map<string, Set<number>> {
  const hidden: [number, number][] = [];
  t.cells.forEach((row, r) => row.forEach((v, c) => v === null && hidden.push([r, c])));
  // The tables these helpers check publish every total (none is small).
  const rowRem = t.rowTotals.map((total, r) => total! - t.cells[r]!.reduce<number>((a, v) => a + (v ?? 0), 0));
  const colRem = t.columnTotals.map((total, c) => total! - t.cells.reduce<number>((a, row) => a + (row[c] ?? 0), 0));
  const left = (i: number, pick: (cell: [number, number]) => number, key: number) => hidden.slice(i + 1).filter((h) => pick(h) === key).length;
  const seen = new Map(hidden.map(([r, c]) => [`${r},${c}`, new Set<number>()]));
  const assigned: number[] = [];
  const go = (i: number): void => {
    if (i === hidden.length) {
      if (rowRem.every((x) => x === 0) && colRem.every((x) => x === 0)) hidden.forEach(([r, c], j) => seen.get(`${r},${c}`)!.add(assigned[j]!));
      return;
    }
    const [r, c] = hidden[i]!;
    const lastInRow = left(i, (h) => h[0], r) === 0;
    const lastInCol = left(i, (h) => h[1], c) === 0;
    const max = Math.min(rowRem[r]!, colRem[c]!);
    for (let v = lastInRow ? rowRem[r]! : 0; v <= (lastInRow ? rowRem[r]! : max); v++) {
      if (v > colRem[c]! || (lastInCol && v !== colRem[c]!)) continue;
      rowRem[r]! -= v;
      colRem[c]! -= v;
      assigned[i] = v;
      go(i + 1);
      rowRem[r]! += v;
      colRem[c]! += v;
    }
  };
  go(0);
  return seen;
}

/** Rank of a matrix (Gaussian elimination; entries are small integers). */
function rank(m: number[][]): number {
  const a = m.map((row) => [...row]);
  let rk = 0;
  const cols = a[0]?.length ?? 0;
  for (let c = 0; c < cols && rk < a.length; c++) {
    const p = a.findIndex((row, i) => i >= rk && Math.abs(row[c]!) > 1e-9);
    if (p < 0) continue;
    [a[rk], a[p]] = [a[p]!, a[rk]!];
    for (let i = 0; i < a.length; i++) {
      if (i === rk) continue;
      const f = a[i]![c]! / a[rk]![c]!;
      for (let j = 0; j < cols; j++) a[i]![j]! -= f * a[rk]![j]!;
    }
    rk++;
  }
  return rk;
}

/** Suppressed cells that the row and column equations determine exactly (linear algebra, no graph theory). */
function determinedCells(t: SuppressedTable): string[] {
  const hidden: [number, number][] = [];
  t.cells.forEach((row, r) => row.forEach((v, c) => v === null && hidden.push([r, c])));
  const equations = [
    ...t.rowTotals.map((_, r) => hidden.map(([hr]) => (hr === r ? 1 : 0))),
    ...t.columnTotals.map((_, c) => hidden.map(([, hc]) => (hc === c ? 1 : 0))),
  ];
  const base = rank(equations);
  return hidden
    .filter((_, i) => rank([...equations, hidden.map((__, j) => (j === i ? 1 : 0))]) === base)
    .map(([r, c]) => `${r},${c}`);
}

const TABLE = [
  [50, 3, 40],
  [30, 60, 25],
  [45, 35, 70],
];

describe('suppressSmallCells', () => {
  it('marginal totals from 1 to threshold − 1 are not published: they are small counts too', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.nat(30), { minLength: 2, maxLength: 4 }), { minLength: 2, maxLength: 4 }).filter((t) => t.every((r) => r.length === t[0]!.length)),
        fc.integer({ min: 2, max: 20 }),
        (table, threshold) => {
          const t = suppressSmallCells(table, { threshold });
          const sums = [...table.map((r) => r.reduce((a, b) => a + b, 0)), ...table[0]!.map((_, c) => table.reduce((a, r) => a + r[c]!, 0))];
          const published = [...t.rowTotals, ...t.columnTotals];
          published.forEach((v, i) => {
            expect(v === null || v === 0 || v >= threshold).toBe(true);
            if (v !== null) expect(v).toBe(sums[i]);
            else expect(sums[i]! >= 1 && sums[i]! < threshold).toBe(true);
          });
          expect(t.total === null || t.total === 0 || t.total >= threshold).toBe(true);
        },
      ),
    );
    const small = suppressSmallCells([[2, 1], [40, 50]]);
    expect(small.rowTotals).toEqual([null, 90]);
    expect(small.columnTotals).toEqual([42, 51]);
  });

  it('primary suppression alone leaves the small cell recoverable from its row total', () => {
    const t = suppressSmallCells(TABLE, { complementary: false });
    expect(t.cells[0]).toEqual([50, null, 40]);
    expect(t.primary).toEqual([[0, 1]]);
    expect(feasibleValues(t).get('0,1')).toEqual(new Set([3]));
    expect(determinedCells(t)).toEqual(['0,1']);
  });

  it('complementary suppression makes every suppressed cell unrecoverable', () => {
    const t = suppressSmallCells(TABLE);
    expect(t.primary).toEqual([[0, 1]]);
    expect(t.complementary.length).toBeGreaterThanOrEqual(3);
    const values = feasibleValues(t);
    for (const [cell, set] of values) expect(set.size, `cell ${cell}`).toBeGreaterThan(1);
    expect(values.get('0,1')!.has(3)).toBe(true); // the truth is one of many
    expect(determinedCells(t)).toEqual([]);
    // Totals are the original ones; published cells are unchanged.
    expect(t.rowTotals).toEqual([93, 115, 150]);
    expect(t.columnTotals).toEqual([125, 98, 135]);
    expect(t.total).toBe(358);
    t.cells.forEach((row, r) => row.forEach((v, c) => v !== null && expect(v).toBe(TABLE[r]![c])));
  });

  it('picks the smallest companion in the row first', () => {
    const t = suppressSmallCells(TABLE);
    expect(t.complementary[0]).toEqual([0, 2]); // 40 < 50
  });

  it('leaves at least two suppressed cells in every row and column that has any', () => {
    const t = suppressSmallCells([
      [5, 20, 30, 40],
      [25, 2, 35, 45],
      [60, 70, 80, 90],
    ]);
    for (const row of t.cells) expect([0, 2, 3, 4]).toContain(row.filter((v) => v === null).length);
    for (let c = 0; c < 4; c++) expect([0, 2, 3]).toContain(t.cells.filter((row) => row[c] === null).length);
    expect(determinedCells(t)).toEqual([]);
  });

  it('closes a bridge between two suppressed blocks (every row and column has two, yet one cell is determined)', () => {
    // Two 2×2 blocks of small cells joined only through one shared row/column pattern.
    const table = [
      [1, 1, 50, 50, 50],
      [1, 1, 1, 50, 50],
      [50, 50, 1, 1, 50],
      [50, 50, 50, 1, 1],
      [50, 50, 50, 1, 1],
    ];
    const primaryOnly = suppressSmallCells(table, { complementary: false });
    for (const row of primaryOnly.cells) expect(row.filter((v) => v === null).length).toBeGreaterThanOrEqual(2);
    expect(determinedCells(primaryOnly)).toEqual(['1,2', '2,2', '2,3']); // the chain between the blocks
    const t = suppressSmallCells(table);
    expect(t.complementary.length).toBeGreaterThan(0);
    expect(determinedCells(t)).toEqual([]);
  });

  it('publishes zeros by default and suppresses them on request', () => {
    const table = [
      [0, 20, 30],
      [15, 25, 35],
    ];
    expect(suppressSmallCells(table).cells).toEqual(table);
    const t = suppressSmallCells(table, { suppressZero: true });
    expect(t.cells[0]![0]).toBeNull();
    expect(determinedCells(t)).toEqual([]);
  });

  it('honours the threshold', () => {
    expect(suppressSmallCells([[12, 30], [40, 50]], { threshold: 11 }).primary).toEqual([]);
    expect(suppressSmallCells([[12, 30], [40, 50]], { threshold: 13 }).primary).toEqual([[0, 0]]);
  });

  it('property: after suppression no suppressed cell is determined by the totals', () => {
    const table = fc
      .record({ rows: fc.integer({ min: 2, max: 5 }), cols: fc.integer({ min: 2, max: 5 }) })
      .chain(({ rows, cols }) => fc.array(fc.array(fc.integer({ min: 0, max: 40 }), { minLength: cols, maxLength: cols }), { minLength: rows, maxLength: rows }));
    fc.assert(
      fc.property(table, (tbl) => {
        const t = suppressSmallCells(tbl);
        expect(determinedCells(t)).toEqual([]);
        for (const [r, c] of t.primary) expect(t.cells[r]![c]).toBeNull();
        for (const row of t.cells) expect(row.filter((v) => v === null).length).not.toBe(1);
      }),
      { numRuns: 300 },
    );
  });

  it('rejects ragged tables, negative or fractional counts, bad options', () => {
    expect(() => suppressSmallCells([[1, 2], [3]])).toThrow(/same number/);
    expect(() => suppressSmallCells([[1, -2], [3, 4]])).toThrow(/non-negative integer/);
    expect(() => suppressSmallCells([[1.5, 2], [3, 4]])).toThrow(OptionsError);
    expect(() => suppressSmallCells([[1, 20, 30]])).toThrow(/at least 2 rows and 2 columns/);
    expect(() => suppressSmallCells([[1, 2], [3, 4]], { treshold: 5 } as never)).toThrow(/did you mean "threshold"/);
    expect(() => suppressSmallCells([[1, 2], [3, 4]], { threshold: 0 })).toThrow(/threshold/);
  });
});

describe('topBottomCode', () => {
  it('codes the extremes and keeps the rest', () => {
    expect(topBottomCode([17, 45, 89, 90, 104], { top: 90 })).toEqual([17, 45, 89, '90+', '90+']);
    expect(topBottomCode([1, 5, 20, 300], { top: 250, bottom: 5, topLabel: '>=250', bottomLabel: 'low' })).toEqual(['low', 'low', 20, '>=250']);
    expect(topBottomCode([Number.NaN, 3], { bottom: 2 })).toEqual([null, 3]);
  });

  it('needs top or bottom, with bottom < top', () => {
    expect(() => topBottomCode([1], {})).toThrow(/top/);
    expect(() => topBottomCode([1], { top: 5, bottom: 5 })).toThrow(/less than/);
  });
});

describe('laplaceNoise', () => {
  it('is centred on the count with mean absolute deviation sensitivity/ε', () => {
    const n = 20_000;
    let sum = 0;
    let abs = 0;
    for (let i = 0; i < n; i++) {
      const x = laplaceNoise(100, { epsilon: 0.5 });
      sum += x;
      abs += Math.abs(x - 100);
    }
    // Laplace(0, b = 2): mean 0, E|X| = b = 2, sd of the mean = sqrt(2)·b/sqrt(n) ≈ 0.02.
    expect(Math.abs(sum / n - 100)).toBeLessThan(0.15);
    expect(Math.abs(abs / n - 2)).toBeLessThan(0.1);
  });

  it('scales with the sensitivity and varies between calls', () => {
    let abs = 0;
    for (let i = 0; i < 10_000; i++) abs += Math.abs(laplaceNoise(0, { epsilon: 1, sensitivity: 5 }));
    expect(abs / 10_000).toBeGreaterThan(4.5);
    expect(abs / 10_000).toBeLessThan(5.5);
    expect(new Set(Array.from({ length: 10 }, () => laplaceNoise(10, { epsilon: 1 }))).size).toBe(10);
  });

  it('rounds and clamps at zero on request', () => {
    for (let i = 0; i < 500; i++) {
      const x = laplaceNoise(1, { epsilon: 0.1, round: true });
      expect(Number.isInteger(x)).toBe(true);
      expect(x).toBeGreaterThanOrEqual(0);
    }
  });

  it('rejects ε ≤ 0, bad sensitivity and non-finite counts', () => {
    expect(() => laplaceNoise(1, { epsilon: 0 })).toThrow(/epsilon/);
    expect(() => laplaceNoise(1, { epsilon: 1, sensitivity: -1 })).toThrow(/sensitivity/);
    expect(() => laplaceNoise(Number.NaN, { epsilon: 1 })).toThrow(/count/);
    expect(() => laplaceNoise(1, { epsilon: 1, epsilom: 2 } as never)).toThrow(/did you mean "epsilon"/);
  });
});

const PEOPLE = [
  { zip3: '021', birthYear: 1967, sex: 'F', dx: 'E11' },
  { zip3: '021', birthYear: 1967, sex: 'F', dx: 'I10' },
  { zip3: '021', birthYear: 1967, sex: 'F', dx: 'E78' },
  { zip3: '100', birthYear: 1979, sex: 'M', dx: 'B20' },
  { zip3: '100', birthYear: 1979, sex: 'M', dx: 'E11' },
  { zip3: '972', birthYear: 1972, sex: 'F', dx: 'Z15' },
];

describe('kAnonymity', () => {
  it('reports the smallest class size and the classes below a target', () => {
    const r = kAnonymity(PEOPLE, ['zip3', 'birthYear', 'sex']);
    expect(r.k).toBe(1);
    expect(r.classes).toBe(3);
    expect(r.classesBelow(2)).toEqual([{ values: ['972', 1972, 'F'], size: 1 }]);
    expect(r.classesBelow(3).map((c) => c.size).sort()).toEqual([1, 2]);
    expect(kAnonymity(PEOPLE, ['sex']).k).toBe(2);
  });

  it('reads nested paths and treats missing values as null', () => {
    const r = kAnonymity([{ p: { zip: '021' } }, { p: {} }, { p: { zip: '021' } }], ['p.zip']);
    expect(r.classesBelow(2)).toEqual([{ values: [null], size: 1 }]);
  });

  it('is 0 for no records, and refuses wildcard paths', () => {
    expect(kAnonymity([], ['zip3']).k).toBe(0);
    expect(() => kAnonymity(PEOPLE, ['a[].b'])).toThrow(/plain dotted path/);
    expect(() => kAnonymity(PEOPLE, [])).toThrow(OptionsError);
  });
});

describe('reidentificationRisk', () => {
  it('gives the share of unique records and the max and average prosecutor risk', () => {
    const r = reidentificationRisk(PEOPLE, ['zip3', 'birthYear', 'sex']);
    expect(r.uniqueShare).toBeCloseTo(1 / 6);
    expect(r.maxRisk).toBe(1);
    expect(r.averageRisk).toBeCloseTo(3 / 6);
    const coarse = reidentificationRisk(PEOPLE, ['sex']);
    expect(coarse).toEqual({ uniqueShare: 0, maxRisk: 0.5, averageRisk: 2 / 6 });
    expect(reidentificationRisk([], ['sex'])).toEqual({ uniqueShare: 0, maxRisk: 0, averageRisk: 0 });
  });
});
