/**
 * Standards: `phiguard scan --format sarif` against the OASIS SARIF 2.1.0 schema, on trees whose
 * file and directory names hold spaces, `#`, `%`, non-ASCII and PHI. Zero schema errors, URIs
 * that resolve back to the files, and no identifier from a name copied into the report.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { main } from '../../packages/cli/src/main.js';
import { VERSION } from '../../packages/cli/src/version.js';
import { sarifSchemaErrors } from './validators.js';

async function scan(...argv: string[]) {
  const out: string[] = [];
  const code = await main(['scan', ...argv], { out: (s) => void out.push(s), err: () => undefined, env: {} });
  return { code, out: out.join('') };
}

interface Log {
  runs: {
    columnKind?: string;
    tool: { driver: { name: string; version?: string; informationUri?: string } };
    results: { ruleId: string; message: { text: string }; locations: { physicalLocation: { artifactLocation: { uri: string; uriBaseId?: string }; region?: { startLine: number; startColumn: number } } }[] }[];
  }[];
}

const SSN = '219-09-9999';
const PHONE = '(617) 555-0143';
const EMAIL = 'jane.doe@example.org';

function tree(): string {
  const dir = mkdtempSync(join(tmpdir(), 'phiguard-sarif-'));
  mkdirSync(join(dir, 'sub dir', 'ünïcødé #2'), { recursive: true });
  writeFileSync(join(dir, 'sub dir', 'patient notes #1 é.txt'), `Seen today.\nSSN ${SSN} on file\n`);
  writeFileSync(join(dir, 'sub dir', 'ünïcødé #2', '100% 😀 [a] {b}.md'), `😀 call ${PHONE}\n`);
  writeFileSync(join(dir, `Doe_Jane_DOB_1931-03-14_SSN_${SSN}.txt`), `mail ${EMAIL}\n`);
  mkdirSync(join(dir, `MRN 00482913`));
  writeFileSync(join(dir, 'MRN 00482913', 'scan.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0]));
  mkdirSync(join(dir, 'Jane Doe records'));
  writeFileSync(join(dir, 'Jane Doe records', 'Lab Results 2.txt'), `SSN ${SSN}\n`);
  return dir;
}

describe('phiguard scan --format sarif', () => {
  it('is valid SARIF 2.1.0 (OASIS schema, zero errors) with columnKind, tool version, information URI and uriBaseId', async () => {
    const dir = tree();
    const { out } = await scan(relative(process.cwd(), dir), '--format', 'sarif');
    const log = JSON.parse(out) as Log;
    expect(sarifSchemaErrors(log)).toEqual([]);
    const run = log.runs[0]!;
    expect(run.columnKind).toBe('utf16CodeUnits');
    expect(run.tool.driver).toMatchObject({ name: 'phiguard', version: VERSION, informationUri: expect.stringMatching(/^https:\/\//) });
    expect(run.results.length).toBeGreaterThanOrEqual(5);
    for (const r of run.results) {
      const loc = r.locations[0]!.physicalLocation.artifactLocation;
      expect(loc.uriBaseId).toBe('%SRCROOT%');
      // A relative reference: no scheme, nothing a URI parser would read as a fragment or query.
      expect(loc.uri).not.toMatch(/[ #?%](?![0-9A-F]{2})|[^\x21-\x7e]/);
    }
  });

  it('percent-encodes URIs so they resolve back to the file (content findings), columns in UTF-16 code units', async () => {
    const dir = tree();
    const log = JSON.parse((await scan(relative(process.cwd(), dir), '--format', 'sarif')).out) as Log;
    const base = pathToFileURL(`${process.cwd()}/`);
    // Content findings in files whose path holds no identifier (the others' paths are masked).
    const content = log.runs[0]!.results.filter((r) => r.locations[0]!.physicalLocation.region !== undefined && !r.locations[0]!.physicalLocation.artifactLocation.uri.includes('*'));
    expect(content.map((r) => r.ruleId).sort()).toEqual(['phi/PHONE', 'phi/SSN']);
    for (const r of content) {
      const file = new URL(r.locations[0]!.physicalLocation.artifactLocation.uri, base);
      const text = readFileSync(file, 'utf8');
      const { startLine, startColumn } = r.locations[0]!.physicalLocation.region!;
      const line = text.split('\n')[startLine - 1]!;
      // The column points at the identifier in the line, counted as JavaScript (UTF-16) offsets.
      expect([SSN, PHONE, EMAIL].some((v) => line.slice(startColumn - 1).startsWith(v))).toBe(true);
    }
    const phone = content.find((r) => r.ruleId === 'phi/PHONE')!;
    expect(phone.locations[0]!.physicalLocation.artifactLocation.uri).toContain('%C3%BCn%C3%AFc%C3%B8d%C3%A9%20%232/100%25%20%F0%9F%98%80');
    expect(phone.locations[0]!.physicalLocation.region!.startColumn).toBe(9); // '😀' is two UTF-16 code units
  });

  it('scans file and directory names as text and reports identifiers in them masked, never verbatim', async () => {
    const dir = tree();
    for (const format of ['sarif', 'json', 'text']) {
      const { out, code } = await scan(relative(process.cwd(), dir), '--format', format);
      expect(code).toBe(1);
      expect(out).not.toContain(SSN);
      expect(out).not.toContain('1931-03-14');
      expect(out).not.toContain('00482913');
      expect(out).not.toContain(EMAIL);
      // Names in record-style file names: `Doe_Jane_DOB_…`, `Jane Doe records/`.
      expect(out).not.toMatch(/Doe_Jane|Jane Doe/);
    }
    const log = JSON.parse((await scan(relative(process.cwd(), dir), '--format', 'sarif')).out) as Log;
    const inNames = log.runs[0]!.results.filter((r) => r.message.text.includes('in the file name'));
    expect(inNames.map((r) => r.ruleId).sort()).toEqual(['phi/DATE', 'phi/MRN', 'phi/PERSON_NAME', 'phi/PERSON_NAME', 'phi/SSN']);
    // `Lab Results 2.txt` is two capitalised words before a number, not a name.
    expect(JSON.stringify(log)).toContain('%20records/Lab%20Results%202.txt');
    // The directory's identifier is reported once, not once per file under it.
    expect(inNames.filter((r) => r.ruleId === 'phi/MRN')).toHaveLength(1);
  });

  it('stays valid SARIF for generated names (any printable Unicode, spaces, #, %, ?)', async () => {
    const segment = fc
      .string({ unit: fc.oneof(fc.constantFrom(' ', '#', '%', '?', '&', "'", '[', ']', 'é', '😀', '中', 'ﬁ'), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 })), minLength: 1, maxLength: 12 })
      .filter((s) => !/[/\\\0]/.test(s) && s.trim() !== '' && s !== '.' && s !== '..');
    await fc.assert(
      fc.asyncProperty(segment, segment, async (d, f) => {
        const dir = mkdtempSync(join(tmpdir(), 'phiguard-sarif-gen-'));
        mkdirSync(join(dir, d), { recursive: true });
        writeFileSync(join(dir, d, `${f}.txt`), `SSN ${SSN}\n`);
        const log = JSON.parse((await scan(relative(process.cwd(), dir), '--format', 'sarif')).out) as Log;
        expect(sarifSchemaErrors(log)).toEqual([]);
        const hit = log.runs[0]!.results.find((r) => r.locations[0]!.physicalLocation.region !== undefined)!;
        expect(hit.ruleId).toBe('phi/SSN');
        // A generated name the scanner reads as an identifier is masked and cannot resolve.
        if (hit.locations[0]!.physicalLocation.artifactLocation.uri.includes('*')) return;
        const url = new URL(hit.locations[0]!.physicalLocation.artifactLocation.uri, pathToFileURL(`${process.cwd()}/`));
        expect(readFileSync(url, 'utf8')).toContain(SSN);
      }),
      { numRuns: 40 },
    );
  });

  it('does not report the registry URLs and integrity hashes of lockfiles, and still reports PHI planted in one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'phiguard-lock-'));
    writeFileSync(join(dir, 'package-lock.json'), readFileSync(join(process.cwd(), 'package-lock.json')));
    const clean = JSON.parse((await scan(relative(process.cwd(), dir), '--format', 'json')).out) as { findings: unknown[] };
    expect(clean.findings).toEqual([]);
    writeFileSync(join(dir, 'pnpm-lock.yaml'), `lockfileVersion: '9.0'\n# contact ${EMAIL}\npackages:\n  a@1.0.0:\n    resolution: {integrity: sha512-g7nH6P6dyDioJogAAGprGpCtVImJhpPk/roCzdb3fIh61/s/nPsfR6onyMwkCAR/OlC3yBC0lESvUoQEAssIrw==, tarball: https://registry.npmjs.org/a/-/a-1.0.0.tgz}\n`);
    const planted = JSON.parse((await scan(relative(process.cwd(), dir), '--format', 'json')).out) as { findings: { type: string }[] };
    expect(planted.findings.map((f) => f.type)).toEqual(['EMAIL']);
    // The same URL outside a lockfile is still reported.
    writeFileSync(join(dir, 'notes.txt'), 'see https://portal.example.org/patients/1001\n');
    const notes = JSON.parse((await scan(relative(process.cwd(), dir), '--format', 'json')).out) as { findings: { type: string }[] };
    expect(notes.findings.map((f) => f.type)).toContain('URL');
  });

  it('reports the version of the package it ships in', () => {
    expect(VERSION).toBe((JSON.parse(readFileSync(join(process.cwd(), 'packages/core/package.json'), 'utf8')) as { version: string }).version);
  });
});
