/**
 * The policy report page in a real browser: Debian's Chromium (scripts/services chromium) driven
 * by playwright-core, which never downloads a browser. The page is the example's policy rendered
 * by `phiguard policy report`; the screenshot lands in test/browser/results/.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main as cli } from '../../packages/cli/src/main.js';

const CHROMIUM = '/usr/bin/chromium';
const EXAMPLE = fileURLToPath(new URL('../../examples/express-lab-results/dist/app.js', import.meta.url));
const RESULTS = fileURLToPath(new URL('./results/', import.meta.url));
let browser: Browser;
let page: Page;
let report: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/services chromium (Debian's chromium package)`);
  report = join(mkdtempSync(join(tmpdir(), 'phiguard-report-')), 'report.html');
  const out: string[] = [];
  const code = await cli(['policy', 'report', EXAMPLE, '--out', report, '--title', 'Lab results: who sees what'], { out: (s) => void out.push(s), err: (s) => void out.push(s), env: {} });
  if (code !== 0) throw new Error(out.join(''));
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  // Any request leaving the page would be a network fetch the report must not make.
  page.on('request', (r) => {
    if (!r.url().startsWith('file:')) throw new Error(`the report fetched ${r.url()}`);
  });
  await page.goto(pathToFileURL(report).href);
}, 60_000);

afterAll(async () => {
  await browser?.close();
});

/** The text of one matrix cell: resource section, field row, (role, purpose) column. */
async function cell(resource: string, field: string, role: string, purpose: string): Promise<string | null> {
  const section = page.locator('section').filter({ has: page.getByRole('heading', { name: resource, exact: true }) });
  const columns = await section.locator('thead th').evaluateAll((ths) => ths.map((th) => `${th.getAttribute('data-role')} ${th.getAttribute('data-purpose')}`));
  const col = columns.indexOf(`${role} ${purpose}`);
  if (col < 0) return null;
  const row = section.locator('tbody tr').filter({ has: page.locator('th code', { hasText: new RegExp(`^${field.replace(/[.[\]]/g, '\\$&')}$`) }) });
  return row.locator(':scope > *').nth(col).textContent();
}

describe('the policy report page', () => {
  it('shows the disclosure matrix the engine enforces, operator by operator', async () => {
    expect(await page.title()).toBe('Lab results: who sees what');
    expect(await cell('PatientResults', 'patient.mrn', 'billing', 'HPAYMT')).toBe('last characters only');
    expect(await cell('PatientResults', 'patient.ssn', 'billing', 'HPAYMT')).toBe('not sent');
    expect(await cell('PatientResults', 'patient.ssn', 'ordering-provider', 'TREAT')).toBe('sent');
    expect(await cell('PatientResults', 'patient.id', 'researcher', 'HRESCH')).toBe('keyed token');
    expect(await cell('PatientResults', 'patient.address.postalCode', 'researcher', 'HRESCH')).toBe('ZIP3');
    expect(await page.locator('text=encrypted at rest').count()).toBeGreaterThanOrEqual(3);
    // Every role and every purpose it has rules for has a column.
    const columns = await page.locator('section').first().locator('thead th[data-role]').evaluateAll((ths) => ths.map((t) => t.getAttribute('data-role')));
    expect(new Set(columns)).toEqual(new Set(['ordering-provider', 'care-team-nurse', 'lab-technologist', 'billing', 'release-of-information', 'researcher', 'patient', 'auditor']));
  });

  it('lists sensitive categories, who may unmask them, break-glass and relationship rules', async () => {
    const text = await page.locator('main').innerText();
    expect(text).toMatch(/HIV[\s\S]*code 20447-9[\s\S]*ordering-provider \(TREAT, ETREAT\)/);
    expect(text).toMatch(/Who may invoke it: care-team-nurse, ordering-provider/);
    expect(text).toMatch(/care-team-nurse for TREAT needs a care-team relationship/);
    expect(await page.locator('table caption').count()).toBeGreaterThanOrEqual(6);
    expect(await page.locator('thead th[scope="col"]').count()).toBeGreaterThan(20);
  });

  it('filters by role and purpose', async () => {
    const visible = () => page.locator('section').first().locator('thead th[data-role]:visible').count();
    const all = await visible();
    await page.selectOption('#role', 'billing');
    expect(await visible()).toBe(1);
    expect(await page.locator('section').first().locator('tbody td:visible').first().getAttribute('data-role')).toBe('billing');
    await page.selectOption('#role', '');
    await page.selectOption('#purpose', 'TREAT');
    const treat = await page.locator('section').first().locator('thead th[data-role]:visible').evaluateAll((ths) => ths.map((t) => t.getAttribute('data-purpose')));
    expect(treat.length).toBeGreaterThan(1);
    expect(new Set(treat)).toEqual(new Set(['TREAT']));
    await page.selectOption('#purpose', '');
    expect(await visible()).toBe(all);
  });

  it('renders to a screenshot', async () => {
    mkdirSync(RESULTS, { recursive: true });
    const file = join(RESULTS, 'policy-report.png');
    await page.selectOption('#role', 'billing');
    await page.screenshot({ path: file, fullPage: false });
    expect(statSync(file).size).toBeGreaterThan(10_000);
    expect(readFileSync(file).subarray(1, 4).toString()).toBe('PNG');
  });
});
