import { suppressSmallCells } from '@phiguard/core/deid';
import { RESTRICTED_ZIP3 } from '@phiguard/core/policy';
import { PATIENTS } from './data.js';
import { SENSITIVE_CATEGORIES } from './policy.js';

/** One test's row: abnormal results per ZIP3 (null where suppressed) and the row total. */
export interface AbnormalResultsRow {
  readonly test: string;
  readonly cells: readonly (number | null)[];
  readonly total: number | null;
}

/** Abnormal results (H or L) by test (LOINC) and ZIP3, with small cells suppressed. */
export interface AbnormalResultsReport {
  readonly rows: readonly AbnormalResultsRow[];
  readonly zip3: readonly string[];
  /** Column totals over the tests outside sensitive categories (null where small); empty when too small to publish. */
  readonly zip3Totals: readonly (number | null)[];
  /** Total over the tests outside sensitive categories; null when it is itself a small count. */
  readonly total: number | null;
  readonly threshold: number;
}

/** Tests in a sensitive category (HIV, genetic): their rows are withheld by the policy. */
const SENSITIVE_TESTS: ReadonlySet<string> = new Set(Object.values(SENSITIVE_CATEGORIES).flatMap((c) => c.codes));

/**
 * Counts abnormal results per test and ZIP3 (restricted prefixes as 000) and suppresses small
 * cells, complementary cells included, so none can be worked back from the totals. Production
 * reports use the CMS threshold of 11; with five synthetic patients every count is tiny, so the
 * example uses 3 to leave some cells visible.
 *
 * Each test is one row, so the policy's sensitive categories withhold HIV and genetic rows from
 * whoever the JSON view withholds those results from. Those rows are left out of the column
 * totals and the total: a total that counted them could be differenced against the visible rows.
 */
export function abnormalResultsReport(threshold = 3): AbnormalResultsReport {
  const counts = new Map<string, Map<string, number>>();
  for (const record of PATIENTS.values()) {
    const zip = record.patient.address[0]?.postalCode.slice(0, 3) ?? '000';
    const zip3 = RESTRICTED_ZIP3.has(zip) ? '000' : zip;
    for (const o of record.observations.values()) {
      const abnormal = o.interpretation.some((i) => i.coding.some((c) => c.code === 'H' || c.code === 'L'));
      if (!abnormal) continue;
      const test = o.code.coding[0]!.code;
      const row = counts.get(test) ?? new Map<string, number>();
      row.set(zip3, (row.get(zip3) ?? 0) + 1);
      counts.set(test, row);
    }
  }
  const zip3 = [...new Set([...counts.values()].flatMap((r) => [...r.keys()]))].sort();
  const section = (tests: readonly string[]) => {
    const table = tests.map((t) => zip3.map((z) => counts.get(t)!.get(z) ?? 0));
    if (tests.length < 2 || zip3.length < 2) {
      // Too small to publish anything but the total, and a small total is a small count too.
      const sum = table.flat().reduce((a, b) => a + b, 0);
      return { cells: table.map((r) => r.map(() => null)), rowTotals: tests.map(() => null), columnTotals: [] as (number | null)[], total: sum >= 1 && sum < threshold ? null : sum };
    }
    // Margins below the threshold come back suppressed as well.
    const s = suppressSmallCells(table, { threshold });
    return { cells: s.cells, rowTotals: s.rowTotals, columnTotals: s.columnTotals, total: s.total };
  };
  const all = [...counts.keys()].sort();
  const open = all.filter((t) => !SENSITIVE_TESTS.has(t));
  const sensitive = all.filter((t) => SENSITIVE_TESTS.has(t));
  const a = section(open);
  const b = section(sensitive);
  const rows = [
    ...open.map((test, i) => ({ test, cells: a.cells[i]!, total: a.rowTotals[i] ?? null })),
    ...sensitive.map((test, i) => ({ test, cells: b.cells[i]!, total: b.rowTotals[i] ?? null })),
  ];
  return { rows, zip3, zip3Totals: a.columnTotals, total: a.total, threshold };
}
