/**
 * Statistical disclosure control for aggregates and extracts: small-cell suppression with
 * complementary suppression, top/bottom coding, Laplace noise, k-anonymity and
 * re-identification risk.
 */
import { randomBytes } from 'node:crypto';
import { OptionsError, needs } from '../errors.js';
import { didYouMean } from '../suggest.js';
import { ANY_KEY, ELEMENT, parsePath, readPath } from '../policy/path.js';

// ── Small-cell suppression ─────────────────────────────────────────────────────────────────

/** Options of {@link suppressSmallCells}. */
export interface SuppressOptions {
  /** Cells from 1 to threshold − 1 are suppressed. Default 11 (the CMS rule: no cell of 1 to 10). */
  readonly threshold?: number;
  /** Also suppress cells so that no suppressed cell can be computed from the totals. Default true. */
  readonly complementary?: boolean;
  /** Also suppress zero cells as primary. Default false: a zero is published (see DEID.md). */
  readonly suppressZero?: boolean;
}

/**
 * A table ready to publish: suppressed cells are `null`; totals are those of the original table,
 * except that a total from 1 to threshold − 1 is itself a small count and is `null` too.
 */
export interface SuppressedTable {
  readonly cells: readonly (readonly (number | null)[])[];
  readonly rowTotals: readonly (number | null)[];
  readonly columnTotals: readonly (number | null)[];
  readonly total: number | null;
  /** Cells suppressed for being small, as [row, column]. */
  readonly primary: readonly (readonly [number, number])[];
  /** Cells suppressed to protect the primary ones, as [row, column], in the order chosen. */
  readonly complementary: readonly (readonly [number, number])[];
}

const SUPPRESS_KEYS = ['threshold', 'complementary', 'suppressZero'];

function checkKeys(options: object, allowed: readonly string[], where: string): void {
  for (const k of Object.keys(options)) {
    needs(allowed.includes(k), () => new OptionsError(`${where}: unknown option \`${k}\`${didYouMean(k, allowed)}`));
  }
}

/**
 * Suppresses small cells of a two-dimensional table of counts published with its row, column
 * and grand totals.
 *
 * Primary suppression hides every cell from 1 to `threshold − 1`. Complementary suppression then
 * hides further cells, smallest positive ones first, until no suppressed cell can be computed
 * exactly from the published cells and totals: every row and column holds zero or at least two
 * suppressed cells, and every suppressed cell lies on a cycle of suppressed cells (rows and
 * columns alternating), which is the exact condition for a cell of a two-way table to stay
 * undetermined by its margins. Iterates to a fixpoint.
 *
 * Not covered: bounds narrower than the true value's neighbourhood (a suppressed cell whose
 * companion is small is known to lie in a small interval), and differencing between several
 * tables published from the same data.
 */
export function suppressSmallCells(table: readonly (readonly number[])[], options: SuppressOptions = {}): SuppressedTable {
  /* Precondition: a rectangular table of non-negative integer counts. */
  needs(options !== null && typeof options === 'object', () => new OptionsError('suppressSmallCells: options must be an object.'));
  checkKeys(options, SUPPRESS_KEYS, 'suppressSmallCells');
  needs(Array.isArray(table) && table.length > 0, () => new OptionsError('suppressSmallCells: the table must be a non-empty array of rows.'));
  const rows = table.length;
  const cols = Array.isArray(table[0]) ? table[0].length : 0;
  needs(cols > 0, () => new OptionsError('suppressSmallCells: rows must be non-empty arrays of counts.'));
  for (const row of table) {
    needs(Array.isArray(row) && row.length === cols, () => new OptionsError('suppressSmallCells: every row must have the same number of cells.'));
    for (const v of row) {
      needs(Number.isSafeInteger(v) && v >= 0, () => new OptionsError('suppressSmallCells: cells must be non-negative integer counts.'));
    }
  }
  const threshold = options.threshold ?? 11;
  needs(Number.isInteger(threshold) && threshold >= 1, () => new OptionsError('suppressSmallCells: `threshold` must be a positive integer.'));
  const complementary = options.complementary ?? true;
  const suppressZero = options.suppressZero ?? false;

  const value = (r: number, c: number): number => table[r]![c]!;
  const rowTotals = table.map((row: readonly number[]) => row.reduce((a: number, b: number) => a + b, 0));
  const columnTotals = Array.from({ length: cols }, (_, c) => table.reduce((a, row) => a + row[c]!, 0));
  const total = rowTotals.reduce((a, b) => a + b, 0);

  const hidden: boolean[][] = table.map((row) => row.map(() => false));
  const primary: [number, number][] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const v = value(r, c);
      if ((v >= 1 && v < threshold) || (suppressZero && v === 0)) {
        hidden[r]![c] = true;
        primary.push([r, c]);
      }
    }
  }

  const chosen: [number, number][] = [];
  if (complementary && primary.length > 0) {
    needs(
      rows >= 2 && cols >= 2,
      () => new OptionsError('suppressSmallCells: complementary suppression needs at least 2 rows and 2 columns (a single row or column equals its totals).'),
    );
    // Candidates: smallest positive value first (a zero companion bounds the suppressed cell
    // tightly), then a line that also needs a companion, then position.
    const better = (a: [number, number], b: [number, number] | null, needy: (r: number, c: number) => boolean): boolean => {
      if (b === null) return true;
      const va = value(a[0], a[1]);
      const vb = value(b[0], b[1]);
      const ka = va === 0 ? Number.MAX_SAFE_INTEGER : va;
      const kb = vb === 0 ? Number.MAX_SAFE_INTEGER : vb;
      if (ka !== kb) return ka < kb;
      return needy(a[0], a[1]) && !needy(b[0], b[1]);
    };
    const rowCount = (r: number) => hidden[r]!.filter(Boolean).length;
    const colCount = (c: number) => hidden.reduce((n, row) => n + (row[c] ? 1 : 0), 0);
    const hide = (cell: [number, number]) => {
      hidden[cell[0]]![cell[1]] = true;
      chosen.push(cell);
    };

    for (let changed = true; changed; ) {
      changed = false;
      // 1. A row or column with a single suppressed cell gives it away by subtraction.
      for (let r = 0; r < rows; r++) {
        if (rowCount(r) !== 1) continue;
        let best: [number, number] | null = null;
        for (let c = 0; c < cols; c++) if (!hidden[r]![c] && better([r, c], best, (_, cc) => colCount(cc) === 1)) best = [r, c];
        hide(best!);
        changed = true;
      }
      for (let c = 0; c < cols; c++) {
        if (colCount(c) !== 1) continue;
        let best: [number, number] | null = null;
        for (let r = 0; r < rows; r++) if (!hidden[r]![c] && better([r, c], best, (rr) => rowCount(rr) === 1)) best = [r, c];
        hide(best!);
        changed = true;
      }
      if (changed) continue;
      // 2. A suppressed cell on no cycle (a bridge of the row–column graph) is determined by the margins.
      const bridge = findBridge(hidden, rows, cols);
      if (bridge !== null) {
        const { sideA, sideB } = bridge;
        let best: [number, number] | null = null;
        for (let r = 0; r < rows; r++) {
          for (let c = 0; c < cols; c++) {
            if (hidden[r]![c]) continue;
            const rowIn = sideA.has(r) ? 'A' : sideB.has(r) ? 'B' : null;
            const colIn = sideA.has(rows + c) ? 'A' : sideB.has(rows + c) ? 'B' : null;
            // An edge joining the two sides closes a cycle through the bridge.
            if (rowIn !== null && colIn !== null && rowIn !== colIn && better([r, c], best, () => false)) best = [r, c];
          }
        }
        hide(best!);
        changed = true;
      }
    }
  }

  // A margin is a count like any other: a small one is not published either.
  const margin = (v: number): number | null => (v >= 1 && v < threshold ? null : v);
  return {
    cells: table.map((row: readonly number[], r: number) => row.map((v: number, c: number) => (hidden[r]![c] ? null : v))),
    rowTotals: rowTotals.map(margin),
    columnTotals: columnTotals.map(margin),
    total: margin(total),
    primary,
    complementary: chosen,
  };
}

/**
 * A suppressed cell that is a bridge of the bipartite graph (rows 0..R−1, columns R..R+C−1,
 * one edge per suppressed cell), with the vertices on each side of it; or null.
 */
function findBridge(hidden: boolean[][], rows: number, cols: number): { sideA: Set<number>; sideB: Set<number> } | null {
  const adjacent = (v: number): number[] => {
    const out: number[] = [];
    if (v < rows) {
      for (let c = 0; c < cols; c++) if (hidden[v]![c]) out.push(rows + c);
    } else {
      for (let r = 0; r < rows; r++) if (hidden[r]![v - rows]) out.push(r);
    }
    return out;
  };
  const reach = (from: number, skipR: number, skipC: number): Set<number> => {
    const seen = new Set<number>([from]);
    const stack = [from];
    while (stack.length > 0) {
      const v = stack.pop()!;
      for (const w of adjacent(v)) {
        const isSkipped = (v === skipR && w === rows + skipC) || (w === skipR && v === rows + skipC);
        if (isSkipped || seen.has(w)) continue;
        seen.add(w);
        stack.push(w);
      }
    }
    return seen;
  };
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      if (!hidden[r]![c]) continue;
      const sideA = reach(r, r, c);
      if (!sideA.has(rows + c)) return { sideA, sideB: reach(rows + c, r, c) };
    }
  }
  return null;
}

// ── Top and bottom coding ──────────────────────────────────────────────────────────────────

/** Options of {@link topBottomCode}. */
export interface TopBottomOptions {
  /** Values ≥ top are replaced by `topLabel`. */
  readonly top?: number;
  /** Values ≤ bottom are replaced by `bottomLabel`. */
  readonly bottom?: number;
  /** Default `"<top>+"`, e.g. `"90+"`. */
  readonly topLabel?: string;
  /** Default `"<=<bottom>"`. */
  readonly bottomLabel?: string;
}

/**
 * Top- and bottom-codes numeric values: the rare extremes, which single people out, become one
 * category each (`topBottomCode(ages, { top: 90 })` turns 90 and above into `"90+"`). Values that
 * are not finite numbers become `null`. Returns a new array.
 */
export function topBottomCode(values: readonly number[], options: TopBottomOptions): (number | string | null)[] {
  needs(options !== null && typeof options === 'object', () => new OptionsError('topBottomCode: pass { top } and/or { bottom }.'));
  checkKeys(options, ['top', 'bottom', 'topLabel', 'bottomLabel'], 'topBottomCode');
  const { top, bottom } = options;
  needs(top !== undefined || bottom !== undefined, () => new OptionsError('topBottomCode: pass `top`, `bottom` or both.'));
  needs(top === undefined || Number.isFinite(top), () => new OptionsError('topBottomCode: `top` must be a finite number.'));
  needs(bottom === undefined || Number.isFinite(bottom), () => new OptionsError('topBottomCode: `bottom` must be a finite number.'));
  needs(top === undefined || bottom === undefined || bottom < top, () => new OptionsError('topBottomCode: `bottom` must be less than `top`.'));
  needs(Array.isArray(values), () => new OptionsError('topBottomCode: `values` must be an array of numbers.'));
  const topLabel = options.topLabel ?? `${top}+`;
  const bottomLabel = options.bottomLabel ?? `<=${bottom}`;
  return values.map((v) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) return null;
    if (top !== undefined && v >= top) return topLabel;
    if (bottom !== undefined && v <= bottom) return bottomLabel;
    return v;
  });
}

// ── Laplace noise ──────────────────────────────────────────────────────────────────────────

/** Options of {@link laplaceNoise}. */
export interface LaplaceOptions {
  /** Privacy loss parameter ε > 0; smaller is more private and noisier. */
  readonly epsilon: number;
  /** How much one person can change the count. Default 1. */
  readonly sensitivity?: number;
  /** Round to an integer and clamp at 0 (post-processing; keeps the ε guarantee). Default false. */
  readonly round?: boolean;
}

/** A uniform double in (0, 1) with 53 random bits from the CSPRNG. */
function uniform(): number {
  for (;;) {
    const b = randomBytes(8);
    const u = ((b.readUInt32BE(0) >>> 5) * 67108864 + (b.readUInt32BE(4) >>> 6)) / 9007199254740992;
    if (u > 0) return u;
  }
}

/**
 * `count` plus Laplace noise of scale sensitivity/ε (the Laplace mechanism of differential
 * privacy), from `node:crypto` randomness. Each call spends ε of privacy budget on this count;
 * queries on the same people add up.
 */
export function laplaceNoise(count: number, options: LaplaceOptions): number {
  needs(options !== null && typeof options === 'object', () => new OptionsError('laplaceNoise: pass { epsilon }.'));
  checkKeys(options, ['epsilon', 'sensitivity', 'round'], 'laplaceNoise');
  needs(Number.isFinite(count), () => new OptionsError('laplaceNoise: the count must be a finite number.'));
  const { epsilon } = options;
  const sensitivity = options.sensitivity ?? 1;
  needs(Number.isFinite(epsilon) && epsilon > 0, () => new OptionsError('laplaceNoise: `epsilon` must be a finite number > 0.'));
  needs(Number.isFinite(sensitivity) && sensitivity > 0, () => new OptionsError('laplaceNoise: `sensitivity` must be a finite number > 0.'));
  const scale = sensitivity / epsilon;
  // The difference of two exponentials of mean `scale` is Laplace(0, scale).
  const noisy = count + scale * (Math.log(uniform()) - Math.log(uniform()));
  return options.round === true ? Math.max(0, Math.round(noisy)) : noisy;
}

// ── k-anonymity and re-identification risk ─────────────────────────────────────────────────

/** One equivalence class: records sharing the same quasi-identifier values. */
export interface EquivalenceClass {
  /** The quasi-identifier values, in the order of `quasiIdentifiers` (missing → `null`). */
  readonly values: readonly unknown[];
  readonly size: number;
}

/** Result of {@link kAnonymity}. */
export interface KAnonymity {
  /** Size of the smallest equivalence class (0 when there are no records). */
  readonly k: number;
  /** Number of equivalence classes. */
  readonly classes: number;
  /** Classes smaller than `kTarget`: the records to generalize further or suppress. */
  classesBelow(kTarget: number): EquivalenceClass[];
}

/** Result of {@link reidentificationRisk}. */
export interface ReidentificationRisk {
  /** Share of records unique on the quasi-identifiers (prosecutor risk of the unique records). */
  readonly uniqueShare: number;
  /** Highest prosecutor risk of any record: 1 / (smallest class size). */
  readonly maxRisk: number;
  /** Average prosecutor risk over records: classes / records. */
  readonly averageRisk: number;
}

function quasiPaths(quasiIdentifiers: readonly string[], where: string): string[][] {
  needs(
    Array.isArray(quasiIdentifiers) && quasiIdentifiers.length > 0,
    () => new OptionsError(`${where}: pass the quasi-identifier paths (for example ['zip3', 'birthYear', 'sex']).`),
  );
  return quasiIdentifiers.map((p) => {
    const segments = parsePath(p);
    needs(
      typeof segments !== 'string' && !segments.includes(ELEMENT) && !segments.includes(ANY_KEY),
      () => new OptionsError(`${where}: "${String(p)}" must be a plain dotted path (no [] or *).`),
    );
    return segments as string[];
  });
}

function classesOf(records: Iterable<unknown>, paths: string[][]): { counts: Map<string, { values: unknown[]; size: number }>; n: number } {
  const counts = new Map<string, { values: unknown[]; size: number }>();
  let n = 0;
  for (const record of records) {
    n++;
    const values = paths.map((p) => {
      const v = readPath(record, p);
      return v === undefined ? null : v;
    });
    const key = JSON.stringify(values);
    const c = counts.get(key);
    if (c === undefined) counts.set(key, { values, size: 1 });
    else c.size++;
  }
  return { counts, n };
}

/**
 * k-anonymity of `records` on `quasiIdentifiers` (dotted paths): every record shares its
 * quasi-identifier values with at least k − 1 others. Values are compared by their JSON form.
 */
export function kAnonymity(records: Iterable<unknown>, quasiIdentifiers: readonly string[]): KAnonymity {
  const { counts } = classesOf(records, quasiPaths(quasiIdentifiers, 'kAnonymity'));
  let k = 0;
  for (const c of counts.values()) k = k === 0 ? c.size : Math.min(k, c.size);
  return {
    k,
    classes: counts.size,
    classesBelow(kTarget) {
      needs(Number.isInteger(kTarget) && kTarget >= 1, () => new OptionsError('classesBelow: `kTarget` must be a positive integer.'));
      return [...counts.values()].filter((c) => c.size < kTarget).map((c) => ({ values: c.values, size: c.size }));
    },
  };
}

/**
 * Prosecutor re-identification risk of `records` on `quasiIdentifiers`: an attacker who knows
 * a person is in the data and knows their quasi-identifiers picks them out with probability
 * 1 / (size of their class). `uniqueShare` is the share of records with that probability 1.
 */
export function reidentificationRisk(records: Iterable<unknown>, quasiIdentifiers: readonly string[]): ReidentificationRisk {
  const { counts, n } = classesOf(records, quasiPaths(quasiIdentifiers, 'reidentificationRisk'));
  if (n === 0) return { uniqueShare: 0, maxRisk: 0, averageRisk: 0 };
  let unique = 0;
  let smallest = Infinity;
  for (const c of counts.values()) {
    if (c.size === 1) unique++;
    smallest = Math.min(smallest, c.size);
  }
  return { uniqueShare: unique / n, maxRisk: 1 / smallest, averageRisk: counts.size / n };
}
