/**
 * End-to-end: the Express example's audit trail (hash-chained pino lines), the accounting of
 * disclosures for the auditor, and the aggregate report with small-cell suppression.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve, type Served } from './serve.js';
import { verifyChain } from '@phiguard/core/audit';
import { DEV_AUDIT_KEY, createApp, signToken } from '../../examples/express-lab-results/src/app.js';
import { PATIENTS } from '../../examples/express-lab-results/src/data.js';
import { memoryLog } from '../../examples/express-lab-results/src/memory-log.js';

const JWT_SECRET = 'e2e-jwt-secret-for-the-audit-suite';
const log = memoryLog();
let served: Served;
let base: string;

beforeAll(async () => {
  const app = createApp({ jwtSecret: JWT_SECRET, phiguardSecret: 'e2e-phiguard-secret-with-at-least-32-bytes', logger: log.logger });
  served = await serve(app);
  base = served.base;
});
afterAll(async () => {
  await served.close();
});

async function get(path: string, sub: string, roles: string[], purpose: string) {
  const token = await signToken({ sub, roles, amr: ['pwd', 'otp'] }, JWT_SECRET);
  const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}`, 'x-purpose-of-use': purpose } });
  return { status: res.status, body: (await res.json()) as unknown };
}

describe('audit trail, accounting and aggregates in the Express example', () => {
  it('the accounting lists who received which fields of a patient, when and why, for the auditor only', async () => {
    const since = new Date().toISOString();
    expect((await get('/patients/1002/results', 'dr.chen', ['ordering-provider'], 'TREAT')).status).toBe(200);
    expect((await get('/patients/1002/results', 'bill-7', ['billing'], 'HPAYMT')).status).toBe(200);
    expect((await get('/patients/1001/results', 'bill-7', ['billing'], 'HPAYMT')).status).toBe(200);
    const res = await get(`/patients/1002/disclosures?from=${encodeURIComponent(since)}`, 'aud-1', ['auditor'], 'HOPERAT');
    expect(res.status).toBe(200);
    const lines = res.body as { who: { id: string }; purposeOfUse: string; what: { fields: string[] } }[];
    expect(lines.map((l) => [l.who.id, l.purposeOfUse])).toEqual([
      ['dr.chen', 'TREAT'],
      ['bill-7', 'HPAYMT'],
    ]);
    expect(lines[1]!.what.fields).toContain('patient.mrn');
    expect(lines[1]!.what.fields).not.toContain('patient.ssn');
    expect((await get('/patients/1002/disclosures', 'dr.chen', ['ordering-provider'], 'TREAT')).status).toBe(403);
  });

  it('the aggregate report suppresses small cells so none can be recovered from the totals', async () => {
    const res = await get('/reports/abnormal-results', 'res-1', ['researcher'], 'HRESCH');
    expect(res.status).toBe(200);
    const report = res.body as { rows: { test: string; cells?: (number | null)[] }[]; zip3: string[]; zip3Totals: (number | null)[]; threshold: number };
    const visible = report.rows.filter((r) => r.cells !== undefined).map((r) => r.cells!);
    expect(visible.length).toBeGreaterThan(1);
    const shown = visible.flat().filter((c): c is number => c !== null);
    expect(shown.every((c) => c === 0 || c >= report.threshold)).toBe(true);
    expect(report.zip3Totals.every((c) => c === null || c === 0 || c >= report.threshold)).toBe(true);
    // Every row and column holding a suppressed cell holds at least two.
    visible.forEach((row) => {
      const n = row.filter((c) => c === null).length;
      expect(n === 0 || n >= 2).toBe(true);
    });
    report.zip3.forEach((_, j) => {
      const n = visible.filter((row) => row[j] === null).length;
      expect(n === 0 || n >= 2).toBe(true);
    });
    expect((await get('/reports/abnormal-results', 'bill-7', ['billing'], 'HPAYMT')).status).toBe(403);
  });

  it('every audit line is hash-chained, and the chain verifies; editing one line breaks it there', () => {
    const events = log.auditEvents();
    expect(events.length).toBeGreaterThan(5);
    expect(verifyChain(events, { key: DEV_AUDIT_KEY })).toMatchObject({ ok: true, breaks: [] });
    const tampered = events.map((e, i) => (i === 3 ? { ...e, purposeOfUse: 'HLEGAL' } : e));
    const verdict = verifyChain(tampered, { key: DEV_AUDIT_KEY });
    expect(verdict.ok).toBe(false);
    expect(verdict.breaks[0]).toMatchObject({ kind: 'modified', seq: events[3]!.chain!.seq });
  });
});

describe('watermarked export', () => {
  it('serves a CSV to release-of-information with a watermark line, a file name without identifiers, and an export audit event', async () => {
    const token = await signToken({ sub: 'roi-2', roles: ['release-of-information'], amr: ['pwd', 'otp'] }, JWT_SECRET);
    // An outside recipient must be in the registry first (the privacy office registers it).
    const officer = await signToken({ sub: 'po.ade', roles: ['privacy-officer'] }, JWT_SECRET);
    const registered = await fetch(`${base}/governance/recipients`, {
      method: 'POST',
      headers: { authorization: `Bearer ${officer}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'court-clerk', type: 'court', name: 'Clerk of the Superior Court' }),
    });
    expect(registered.status).toBe(201);
    const res = await fetch(`${base}/patients/1001/results.csv?recipient=court-clerk&basis=judicial&statement=Court%20order`, {
      headers: { authorization: `Bearer ${token}`, 'x-purpose-of-use': 'HLEGAL' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/csv/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const disposition = res.headers.get('content-disposition')!;
    expect(disposition).toBe('attachment; filename="results_MRN_MRN_DOB_DATE.csv"');
    expect(disposition).not.toMatch(/MRN00|19\d\d-\d\d/);
    const csv = await res.text();
    const [watermark, header, first] = csv.split(/\r?\n/);
    expect(watermark).toMatch(/^# phiguard-export .*purpose=HLEGAL.*recipient=court-clerk.*user=roi-2/);
    expect(header).toBe('test,name,value,unit,date');
    expect(first).toMatch(/^\d+-\d,/);
    expect(log.auditEvents().some((e) => e.action === 'export' && e.actor.id === 'roi-2')).toBe(true);
    const billing = await signToken({ sub: 'bill-3', roles: ['billing'] }, JWT_SECRET);
    const refused = await fetch(`${base}/patients/1001/results.csv`, { headers: { authorization: `Bearer ${billing}`, 'x-purpose-of-use': 'HPAYMT' } });
    expect(refused.status).toBe(403);
  });
});

describe('Safe Harbor research extract', () => {
  it('gives researchers one de-identified line per patient: no identifier, no date finer than a year, no age over 89', async () => {
    const token = await signToken({ sub: 'res-3', roles: ['researcher'] }, JWT_SECRET);
    const res = await fetch(`${base}/research/extract`, { headers: { authorization: `Bearer ${token}`, 'x-purpose-of-use': 'HRESCH' } });
    expect(res.status).toBe(200);
    const lines = (await res.text()).trim().split('\n').map((l) => JSON.parse(l) as { patient: Record<string, unknown> });
    expect(lines).toHaveLength(PATIENTS.size);
    const text = JSON.stringify(lines);
    for (const r of PATIENTS.values()) {
      const p = r.patient;
      for (const value of [p.name[0]!.family, ...p.identifier.map((i) => i.value), ...p.telecom.map((t) => t.value), p.birthDate, p.address[0]!.line[0]!]) {
        expect(text).not.toContain(value);
      }
    }
    expect(text).not.toMatch(/\d{4}-\d{2}-\d{2}/);
    expect(text).toContain('"code":"2345-7"'); // clinical content stays
    expect(text).not.toMatch(/pg1\./); // encrypted free text is removed, not passed along sealed
    for (const l of lines) expect(typeof l.patient.age === 'number' ? (l.patient.age as number) <= 89 : true).toBe(true);
    const billing = await signToken({ sub: 'bill-4', roles: ['billing'] }, JWT_SECRET);
    expect((await fetch(`${base}/research/extract`, { headers: { authorization: `Bearer ${billing}`, 'x-purpose-of-use': 'HPAYMT' } })).status).toBe(403);
  });
});
