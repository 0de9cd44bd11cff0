import { RESTRICTED_ZIP3, suppressSmallCells } from '@phiguard/core';
import { PATIENTS } from './data.js';

/** Abnormal results (H or L) by test (LOINC) and ZIP3, with small cells suppressed. */
export interface AbnormalResultsReport {
  readonly tests: readonly string[];
  readonly zip3: readonly string[];
  /** `cells[test][zip3]`; null where suppressed. */
  readonly cells: readonly (readonly (number | null)[])[];
  readonly testTotals: readonly (number | null)[];
  readonly zip3Totals: readonly (number | null)[];
  readonly total: number | null;
  readonly threshold: number;
}

/**
 * Counts abnormal results per test and ZIP3 (restricted prefixes as 000) and suppresses small
 * cells, complementary cells included, so none can be worked back from the totals. Production
 * reports use the CMS threshold of 11; with five synthetic patients every count is tiny, so the
 * example uses 3 to leave some cells visible.
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
  const tests = [...counts.keys()].sort();
  const zip3 = [...new Set([...counts.values()].flatMap((r) => [...r.keys()]))].sort();
  const table = tests.map((t) => zip3.map((z) => counts.get(t)!.get(z) ?? 0));
  if (tests.length < 2 || zip3.length < 2) {
    // Too small to publish anything but the total.
    const sum = table.flat().reduce((a, b) => a + b, 0);
    // A small total is a small count: not published either.
    return { tests, zip3, cells: table.map((r) => r.map(() => null)), testTotals: [], zip3Totals: [], total: sum >= 1 && sum < threshold ? null : sum, threshold };
  }
  const s = suppressSmallCells(table, { threshold });
  return { tests, zip3, cells: s.cells, testTotals: s.rowTotals, zip3Totals: s.columnTotals, total: s.total, threshold };
}
