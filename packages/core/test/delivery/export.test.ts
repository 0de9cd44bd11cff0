import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createScanner } from '@phiguard/core';
import { ExportError, exportCsv, exportEvent, exportJson, safeFileName, type ExportMeta } from '../../src/delivery/index.js';

const META: ExportMeta = { purpose: 'HPAYMT', recipient: 'Acme Billing', user: 'u-clerk-3', requestId: 'req-77', time: '2026-11-30T14:00:00.000Z', exportId: 'exp-1' };
const ROWS = [
  { id: 'r1', code: '2345-7', value: 182, note: 'fasting, "repeat"' },
  { id: 'r2', code: '=HYPERLINK("http://evil")', value: -4, note: '+1 line\nbreak' },
  { id: 'r3', code: '@SUM(A1)', value: null, note: '-2' },
];
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

/** A small RFC 4180 reader, to check that what is written reads back. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (cell += '"'), i++;
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(cell), (cell = '');
    else if (c === '\r' && text[i + 1] === '\n') row.push(cell), rows.push(row), (row = []), (cell = ''), i++;
    else cell += c;
  }
  return rows;
}

describe('exportCsv', () => {
  it('starts with the watermark comment line, then RFC 4180 rows with CRLF', () => {
    const { body, watermark, contentType } = exportCsv(ROWS, ['id', 'code', { key: 'value', header: 'Value' }, 'note'], META);
    const [first, ...rest] = body.split('\r\n');
    expect(first).toBe(`# phiguard-export purpose=HPAYMT recipient="Acme Billing" user=u-clerk-3 time=2026-11-30T14:00:00.000Z requestId=req-77 exportId=exp-1 records=3 sha256=${watermark.digest}`);
    expect(watermark.digest).toBe(sha(rest.join('\r\n')));
    expect(contentType).toMatch(/^text\/csv/);
    expect(body.endsWith('\r\n')).toBe(true);
    expect(parseCsv(rest.join('\r\n'))).toEqual([
      ['id', 'code', 'Value', 'note'],
      ['r1', '2345-7', '182', 'fasting, "repeat"'],
      ['r2', `'=HYPERLINK("http://evil")`, '-4', "'+1 line\nbreak"],
      ['r3', "'@SUM(A1)", '', "'-2"],
    ]);
  });

  it('guards every formula prefix and quotes cells that could read as a comment', () => {
    const rows = [{ a: '=1+2' }, { a: '+1' }, { a: '-1' }, { a: '@x' }, { a: '\t=1' }, { a: '\r=1' }, { a: '  =1' }, { a: '#not a comment' }, { a: 'plain' }];
    const cells = parseCsv(exportCsv(rows, ['a'], META).body.split('\r\n').slice(1).join('\r\n')).slice(1).map((r) => r[0]);
    expect(cells).toEqual(["'=1+2", "'+1", "'-1", "'@x", "'\t=1", "'\r=1", "'  =1", '#not a comment', 'plain']);
    expect(exportCsv([{ a: '#x' }], ['a'], META).body).toContain('\r\n"#x"\r\n');
  });

  it('property: any string cell reads back as itself (after the guard) and never starts a formula', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'binary', maxLength: 20 }), { minLength: 1, maxLength: 5 }), (values) => {
        const { body } = exportCsv(values.map((a) => ({ a })), ['a'], META);
        const lines = body.split('\r\n');
        expect(lines[0]!.startsWith('# phiguard-export ')).toBe(true);
        const cells = parseCsv(lines.slice(1).join('\r\n')).slice(1).map((r) => r[0]);
        expect(cells).toHaveLength(values.length);
        cells.forEach((c, i) => {
          expect(c === values[i] || c === `'${values[i]}`).toBe(true);
          expect(c).not.toMatch(/^\s*[=+\-@]/);
        });
      }),
    );
  });

  it('reads own properties only and leaves rows unchanged', () => {
    const row = JSON.parse('{"__proto__":"p","constructor":"c","id":"x"}') as object;
    const copy = structuredClone(row);
    const { body } = exportCsv([row, { id: 'y' }], ['__proto__', 'constructor', 'toString', 'id'], META);
    expect(body.split('\r\n').slice(1, 4)).toEqual(['__proto__,constructor,toString,id', 'p,c,,x', ',,,y']);
    expect(row).toEqual(copy);
  });

  it('refuses a watermark that could forge lines, and missing fields', () => {
    expect(() => exportCsv(ROWS, ['id'], { ...META, recipient: 'x\r\n=cmd' })).toThrow(ExportError);
    expect(() => exportCsv(ROWS, ['id'], { ...META, user: '' })).toThrow(/user/);
    expect(() => exportCsv(ROWS, ['id'], { ...META, purpose: 'treat ment' })).toThrow(/purpose/);
    expect(() => exportCsv(ROWS, ['id'], { ...META, time: 'yesterday' })).toThrow(/time/);
    expect(() => exportCsv(ROWS, [], META)).toThrow(/columns/);
    expect(() => exportCsv([1] as never, ['id'], META)).toThrow(/object/);
    try {
      exportCsv(ROWS, ['id'], { ...META, recipient: 'x\n' });
    } catch (err) {
      expect((err as ExportError).code).toBe('export_invalid');
    }
  });
});

describe('exportJson', () => {
  it('wraps the data with the watermark', () => {
    const { body, watermark } = exportJson(ROWS, META);
    const doc = JSON.parse(body) as { meta: { watermark: Record<string, unknown> }; data: unknown };
    expect(doc.data).toEqual(ROWS);
    expect(doc.meta.watermark).toEqual({ purpose: 'HPAYMT', recipient: 'Acme Billing', user: 'u-clerk-3', time: '2026-11-30T14:00:00.000Z', requestId: 'req-77', exportId: 'exp-1', records: 3, digest: sha(JSON.stringify(ROWS)) });
    expect(watermark.exportId).toBe('exp-1');
  });

  it('defaults the time to now and the export id to a UUID', () => {
    const { watermark } = exportJson([], { purpose: 'TREAT', recipient: 'r', user: 'u', requestId: 'q' });
    expect(Math.abs(Date.parse(watermark.time) - Date.now())).toBeLessThan(5000);
    expect(watermark.exportId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('refuses cycles', () => {
    const a: Record<string, unknown> = {};
    a.self = a;
    expect(() => exportJson([a], META)).toThrow(/serializable/);
  });
});

describe('exportEvent', () => {
  it('is an `export` event with references only', () => {
    const result = exportCsv(ROWS, ['id', 'note'], META);
    const event = exportEvent(result, { format: 'csv', resource: 'lab-result', patientRef: 'pt_x' });
    expect(event).toMatchObject({
      action: 'export',
      outcome: 'success',
      purposeOfUse: 'HPAYMT',
      actor: { id: 'u-clerk-3' },
      patient: { ref: 'pt_x' },
      resource: { type: 'lab-result', id: 'exp-1' },
      request: { requestId: 'req-77' },
      delivery: { kind: 'export', exportId: 'exp-1', format: 'csv', records: 3, recipient: 'Acme Billing', digest: result.watermark.digest },
    });
    expect(JSON.stringify(event)).not.toMatch(/fasting|HYPERLINK|2345-7/);
  });
});

describe('safeFileName', () => {
  it('drops dates of birth, MRNs, labelled names and long digit runs, keeps the extension, ASCII only', () => {
    const out = safeFileName('Patient Jane Doe DOB 1951-04-12 MRN 7654321 résultats.csv');
    expect(out).toMatch(/^[A-Za-z0-9._-]+\.csv$/);
    for (const leak of ['Jane', 'Doe', '1951', '7654321']) expect(out).not.toContain(leak);
    expect(out).toContain('resultats');
    expect(safeFileName('labs_04 12 1951_19510412.pdf')).toBe('labs_N.pdf');
    expect(safeFileName('results-2024.csv')).toBe('results-2024.csv');
  });

  it('uses the given scanner (a names list)', () => {
    expect(safeFileName('Okonkwo labs.csv', createScanner({ names: ['Okonkwo'] }))).not.toMatch(/okonkwo/i);
  });

  it('limits the length, strips leading dots and path characters, and never returns an empty name', () => {
    expect(safeFileName(`${'a'.repeat(300)}.json`)).toBe(`${'a'.repeat(80)}.json`);
    expect(safeFileName('../../etc/passwd')).toBe('etc_passwd');
    expect(safeFileName('.csv')).toBe('export.csv');
    expect(safeFileName('日本語.csv')).toBe('export.csv');
    expect(safeFileName(42 as never)).toBe('export');
  });

  it('property: output is ASCII, short, without separators or quotes', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (name) => {
        const out = safeFileName(name);
        expect(out).toMatch(/^[A-Za-z0-9._-]{1,89}$/);
        expect(out.startsWith('.')).toBe(false);
      }),
    );
  });
});
