/**
 * Sensitive categories are a property of the data: every route that carries HIV or genetic
 * results (the JSON view, the CSV export, the research extract, the aggregate report) must
 * withhold them from, or ask the second factor of, exactly the callers the JSON view does. Run
 * over both examples, for every role × purpose of use × with and without a second factor.
 */
import { expect } from 'vitest';
import { PURPOSES_OF_USE } from '@phiguard/core/policy';
import { policy, signToken } from '../../examples/express-lab-results/src/app.js';
import { PATIENTS } from '../../examples/express-lab-results/src/data.js';

/** What a caller got of the sensitive results on one route. */
export type Outcome = 'refused' | 'step-up' | 'masked' | 'revealed';

/** LOINC codes of the results the fixture labels HIV or GDIS (read from the data's security labels, not from the policy). */
export const SENSITIVE_TESTS: ReadonlySet<string> = new Set(
  [...PATIENTS.values()].flatMap((r) =>
    [...r.observations.values()].filter((o) => o.meta?.security?.some((s) => s.code === 'HIV' || s.code === 'GDIS')).flatMap((o) => o.code.coding.map((c) => c.code)),
  ),
);
/** Patients with such results. */
export const SENSITIVE_PATIENTS: readonly string[] = [...PATIENTS.values()]
  .filter((r) => [...r.observations.values()].some((o) => o.code.coding.some((c) => SENSITIVE_TESTS.has(c.code))))
  .map((r) => r.patient.id);

const codesOf = (o: Record<string, unknown>): string[] => {
  const coding = (o.code as { coding?: { code?: unknown }[] } | undefined)?.coding;
  return Array.isArray(coding) ? coding.map((c) => String(c?.code)) : [];
};

/** Whether a JSON document shows the value or interpretation of a sensitive result anywhere. */
function revealsInJson(doc: unknown): boolean {
  if (Array.isArray(doc)) return doc.some(revealsInJson);
  if (doc === null || typeof doc !== 'object') return false;
  const o = doc as Record<string, unknown>;
  if (codesOf(o).some((c) => SENSITIVE_TESTS.has(c)) && ('valueQuantity' in o || 'valueCodeableConcept' in o || 'interpretation' in o)) return true;
  return Object.values(o).some(revealsInJson);
}

/** CSV rows (after the watermark line and the header): `test` is the first column, `value` the third. */
function revealsInCsv(text: string): boolean {
  const lines = text.split('\r\n').filter((l) => l.length > 0 && !l.startsWith('#'));
  return lines.slice(1).some((line) => {
    const [test, , value] = line.split(',');
    return SENSITIVE_TESTS.has(test ?? '') && (value ?? '') !== '';
  });
}

function revealsInReport(doc: unknown): boolean {
  const rows = (doc as { rows?: { test?: string; cells?: unknown; total?: unknown }[] }).rows ?? [];
  return rows.some((r) => SENSITIVE_TESTS.has(r.test ?? '') && (r.cells !== undefined || r.total !== undefined));
}

/** The routes compared with the JSON view, and how each shows a sensitive result. */
export const SENSITIVE_ROUTES = {
  json: (id: string) => ({ path: `/patients/${id}/results`, reveals: (t: string) => revealsInJson(JSON.parse(t)) }),
  csv: (id: string) => ({ path: `/patients/${id}/results.csv`, reveals: revealsInCsv }),
  extract: () => ({ path: '/research/extract', reveals: (t: string) => t.split('\n').filter(Boolean).some((l) => revealsInJson(JSON.parse(l))) }),
  report: () => ({ path: '/reports/abnormal-results', reveals: (t: string) => revealsInReport(JSON.parse(t)) }),
} as const;

export interface Case {
  readonly role: string;
  readonly purpose: string;
  readonly mfa: boolean;
}

/** Every role × purpose × second factor. */
export const CASES: readonly Case[] = policy.roles.flatMap((role) => PURPOSES_OF_USE.flatMap((purpose) => [false, true].map((mfa) => ({ role, purpose, mfa }))));

/** Calls `path` as `c` (a patient caller is patient `patient`) and classifies the answer. */
export async function outcomeOf(base: string, jwtSecret: string, c: Case, path: string, reveals: (text: string) => boolean, patient: string): Promise<Outcome> {
  const token = await signToken(
    { sub: c.role === 'care-team-nurse' ? 'rn.alvarez' : `sweep-${c.role}`, roles: [c.role], amr: c.mfa ? ['pwd', 'otp'] : ['pwd'], ...(c.role === 'patient' ? { patient } : {}) },
    jwtSecret,
  );
  const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}`, 'x-purpose-of-use': c.purpose } });
  const text = await res.text();
  if (res.status === 401 && text.includes('step_up_required')) return 'step-up';
  if (res.status !== 200) return 'refused';
  return reveals(text) ? 'revealed' : 'masked';
}

/** Runs `fn` over `items`, `width` at a time. */
export async function inBatches<T, R>(items: readonly T[], width: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += width) out.push(...(await Promise.all(items.slice(i, i + width).map(fn))));
  return out;
}

/**
 * The rule every other route must keep relative to the JSON view of the same patient: it may
 * refuse where the view answers, but never show more, and never skip the second factor.
 */
export function consistent(json: Outcome, other: Outcome): boolean {
  switch (other) {
    case 'refused':
      return true;
    case 'revealed':
      return json === 'revealed';
    case 'masked':
      return json !== 'step-up';
    case 'step-up':
      return json === 'step-up';
  }
}

/**
 * The sweep both examples run: every role × purpose × second factor against the JSON view, the
 * CSV export, the research extract and the report; none shows more than the JSON view, and each
 * asks the second factor where it does.
 */
export async function expectSensitiveRoutesConsistent(base: string, jwtSecret: string): Promise<void> {
  expect(SENSITIVE_PATIENTS.length).toBeGreaterThanOrEqual(2);
  const rows = await inBatches(CASES, 8, async (c) => {
    const out: Record<string, Outcome> = {};
    for (const id of SENSITIVE_PATIENTS) {
      for (const kind of ['json', 'csv'] as const) {
        const r = SENSITIVE_ROUTES[kind](id);
        out[`${kind} ${id}`] = await outcomeOf(base, jwtSecret, c, r.path, r.reveals, id);
      }
    }
    for (const kind of ['extract', 'report'] as const) {
      const r = SENSITIVE_ROUTES[kind]();
      out[kind] = await outcomeOf(base, jwtSecret, c, r.path, r.reveals, SENSITIVE_PATIENTS[0]!);
    }
    return { ...c, out };
  });
  const wrong: string[] = [];
  for (const { role, purpose, mfa, out } of rows) {
    for (const id of SENSITIVE_PATIENTS) {
      const json = out[`json ${id}`]!;
      for (const other of [`csv ${id}`, 'extract', 'report']) {
        if (!consistent(json, out[other]!)) wrong.push(`${role} ${purpose} mfa=${mfa}: json ${id} ${json}, ${other} ${out[other]}`);
      }
    }
  }
  expect(wrong).toEqual([]);
  // Not vacuous: each route was answered, masked and (where the view does) gated by the second factor.
  const seen = (key: string, outcome: Outcome) => rows.some((r) => r.out[key] === outcome);
  const id = SENSITIVE_PATIENTS[0]!;
  expect([seen(`csv ${id}`, 'masked'), seen(`csv ${id}`, 'step-up'), seen(`csv ${id}`, 'revealed')]).toEqual([true, true, true]);
  expect([seen('extract', 'masked'), seen('report', 'masked')]).toEqual([true, true]);
  expect([seen(`json ${id}`, 'step-up'), seen(`json ${id}`, 'revealed'), seen(`json ${id}`, 'masked')]).toEqual([true, true, true]);
}
