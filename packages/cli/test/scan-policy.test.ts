import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { main } from '../src/main.js';
import { globToRegExp } from '../src/scan.js';

async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (s) => void out.push(s), err: (s) => void err.push(s), env: {} });
  return { code, out: out.join(''), err: err.join('') };
}

function fixtures() {
  const dir = mkdtempSync(join(tmpdir(), 'phiguard-scan-'));
  writeFileSync(join(dir, 'note.txt'), 'Glucose 105 mg/dL (70-99).\nCall back at (617) 555-0143.\nSSN 123-45-6789 on file\n');
  writeFileSync(join(dir, 'rows.ndjson'), '{"id":1,"comment":"fine"}\n{"id":2,"comment":"mail jane.doe@example.org"}\n');
  writeFileSync(join(dir, 'labs.csv'), 'code,value\n2345-7,105\n718-7,13.2\n');
  mkdirSync(join(dir, 'fixtures'));
  writeFileSync(join(dir, 'fixtures', 'seed.json'), '{"ssn":"123-45-6789"}');
  writeFileSync(join(dir, 'image.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0]));
  writeFileSync(join(dir, 'blob.txt'), Buffer.from('SSN 123-45-6789\0binary'));
  return relative(process.cwd(), dir);
}

describe('phiguard scan', () => {
  it('reports findings by file, line and type with the value masked, and fails past the threshold', async () => {
    const dir = fixtures();
    const r = await run('scan', dir);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`${dir}/note.txt:2:14  PHONE  ************43`);
    expect(r.out).toContain(`${dir}/note.txt:3:5  SSN  *********89`);
    expect(r.out).toContain(`${dir}/rows.ndjson:2:25  EMAIL`);
    expect(r.out).toContain(`${dir}/fixtures/seed.json:1:`);
    expect(r.out).not.toMatch(/123-45-6789|555-0143|jane\.doe/);
    expect(r.out).not.toContain('labs.csv');
    expect(r.out).not.toContain('blob.txt'); // binary: skipped
    expect(r.out).toMatch(/4 findings in 4 files/); // the PNG and the text with a NUL byte are skipped
    expect((await run('scan', dir, '--max-findings', '10')).code).toBe(0);
  });

  it('exits 0 on the same tree once the planted identifiers are gone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'phiguard-scan-clean-'));
    writeFileSync(join(dir, 'note.txt'), 'Glucose 105 mg/dL (70-99).\nCall back at the clinic desk.\nSSN on file\n');
    writeFileSync(join(dir, 'rows.ndjson'), '{"id":1,"comment":"fine"}\n{"id":2,"comment":"mail the clinic"}\n');
    writeFileSync(join(dir, 'labs.csv'), 'code,value\n2345-7,105\n718-7,13.2\n');
    const r = await run('scan', relative(process.cwd(), dir));
    expect(r.out).toMatch(/^0 findings in 3 files/);
    expect(r.code).toBe(0);
  });

  it('honours ignore globs and types', async () => {
    const dir = fixtures();
    const r = await run('scan', dir, '--ignore', 'fixtures/**', '--ignore', '*.ndjson', '--types', 'SSN');
    expect(r.out.trim().split('\n')).toEqual([`${dir}/note.txt:3:5  SSN  *********89  (0.98)`, '1 finding in 2 files']);
    expect((await run('scan', dir, '--types', 'SNN')).err).toMatch(/unknown type "SNN".*did you mean "SSN"/);
  });

  it('writes JSON and SARIF 2.1.0 that code-scanning UIs read', async () => {
    const dir = fixtures();
    const json = JSON.parse((await run('scan', dir, '--format', 'json')).out) as { files: number; findings: { type: string; line: number }[] };
    expect(json.files).toBe(4);
    expect(json.findings.map((f) => f.type).sort()).toEqual(['EMAIL', 'PHONE', 'SSN', 'SSN']);
    const sarif = JSON.parse((await run('scan', dir, '--format', 'sarif')).out) as {
      version: string;
      runs: { tool: { driver: { rules: { id: string }[] } }; results: { ruleId: string; locations: { physicalLocation: { region: { startLine: number } } }[] }[] }[];
    };
    expect(sarif.version).toBe('2.1.0');
    expect(sarif.runs[0]!.tool.driver.rules.map((r) => r.id)).toEqual(['phi/EMAIL', 'phi/PHONE', 'phi/SSN']);
    const ssn = sarif.runs[0]!.results.find((r) => r.ruleId === 'phi/SSN' && r.locations[0]!.physicalLocation.region.startLine === 3);
    expect(ssn).toBeDefined();
    expect(JSON.stringify(sarif)).not.toContain('123-45-6789');
  });

  it('answers usage errors with exit 2', async () => {
    expect((await run('scan')).code).toBe(2);
    expect((await run('scan', 'no/such/dir')).code).toBe(2);
    expect((await run('scan', '.', '--format', 'xml')).code).toBe(2);
  });

  it('matches globs as documented', () => {
    expect(globToRegExp('fixtures/**').test('fixtures/a/b.json')).toBe(true);
    expect(globToRegExp('**/*.csv').test('a/b/c.csv')).toBe(true);
    expect(globToRegExp('**/*.csv').test('c.csv')).toBe(true);
    expect(globToRegExp('*.json').test('a/b.json')).toBe(false);
    expect(globToRegExp('a?.txt').test('ab.txt')).toBe(true);
  });
});

const EXAMPLE = fileURLToPath(new URL('../../../examples/express-lab-results/dist/app.js', import.meta.url));

describe('phiguard policy', () => {
  it('check validates a policy and lists the unclassified fields of a sample payload', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'phiguard-policy-'));
    const sample = join(dir, 'sample.json');
    writeFileSync(sample, JSON.stringify({ resourceType: 'LabResultsView', id: 'x', patient: { id: '1', mrn: 'M', nickname: 'Bo' }, billingCode: 'Z' }));
    const r = await run('policy', 'check', EXAMPLE, '--sample', `PatientResults=${sample}`);
    const { policy } = (await import(EXAMPLE)) as { policy: { roles: string[]; resources: object } };
    expect(r.out).toContain(`policy valid: ${Object.keys(policy.resources).length} resources, ${policy.roles.length} roles`);
    expect(r.out).toMatch(/PatientResults: unclassified fields[\s\S]*patient\.nickname[\s\S]*billingCode/);
    expect(r.code).toBe(1);
    writeFileSync(sample, JSON.stringify({ resourceType: 'LabResultsView', id: 'x', patient: { id: '1', mrn: 'M' } }));
    expect((await run('policy', 'check', EXAMPLE, '--sample', `PatientResults=${sample}`)).code).toBe(0);
  });

  it('check reports an invalid policy with exit 1, and a module without one as a usage error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'phiguard-policy-'));
    writeFileSync(join(dir, 'bad.mjs'), "export const policy = { roles: ['r'], resources: { R: { fields: { a: 'clinicl' }, disclose: { r: { TREAT: { a: 'send' } } } } } };");
    const bad = await run('policy', 'check', join(dir, 'bad.mjs'));
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/unknown class "clinicl".*did you mean "clinical"/);
    writeFileSync(join(dir, 'none.mjs'), 'export const x = 1;');
    expect((await run('policy', 'check', join(dir, 'none.mjs'))).code).toBe(2);
  });

  it('report writes a self-contained page (no external references)', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'phiguard-report-')), 'r.html');
    expect((await run('policy', 'report', EXAMPLE, '--out', out)).code).toBe(0);
    const html = readFileSync(out, 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<caption>What each role receives of PatientResults');
    expect(html).not.toMatch(/(src|href)="https?:/);
    expect(html).toContain("default-src 'none'");
  });
});
