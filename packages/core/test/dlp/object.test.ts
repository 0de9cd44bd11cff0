import { describe, expect, it } from 'vitest';
import { LimitExceededError, OptionsError } from '../../src/errors.js';
import { countByType, createScanner, formatPath, redact, redactObject, scanObject } from '../../src/dlp/index.js';

const scanner = createScanner();

describe('scanObject', () => {
  it('reports findings with the path of their string', () => {
    const value = { patient: { notes: ['ok', { text: 'SSN 123-45-6789' }] }, 'odd key': 'mail a@example.com' };
    const f = scanner.scanObject(value);
    expect(f.map((x) => [x.type, formatPath(x.path), x.start, x.end])).toEqual([
      ['SSN', 'patient.notes[1].text', 4, 15],
      ['EMAIL', '["odd key"]', 5, 18],
    ]);
  });
  it('optionally scans property names', () => {
    const f = scanObject({ 'a@example.com': 1 }, { keys: true });
    expect(f).toEqual([expect.objectContaining({ type: 'EMAIL', path: ['a@example.com'], inKey: true })]);
    expect(scanObject({ 'a@example.com': 1 })).toEqual([]);
  });
  it('treats __proto__, constructor and toString as ordinary keys', () => {
    const value = JSON.parse('{"__proto__":{"x":"SSN 123-45-6789"},"constructor":"a@example.com","toString":"ok"}');
    const f = scanner.scanObject(value);
    expect(f.map((x) => formatPath(x.path))).toEqual(['__proto__.x', 'constructor']);
  });
  it('throws LimitExceededError past maxDepth (circular values) and maxNodes', () => {
    const a: Record<string, unknown> = { s: 'x' };
    a['self'] = a;
    expect(() => scanner.scanObject(a)).toThrow(LimitExceededError);
    expect(() => scanner.scanObject({ a: { b: { c: 'x' } } }, { maxDepth: 2 })).toThrow(LimitExceededError);
    expect(() => scanner.scanObject(new Array(50).fill('x'), { maxNodes: 10 })).toThrow(/maxNodes/);
  });
  it('never puts values in the limit error', () => {
    try {
      scanner.scanObject({ a: { b: 'SSN 123-45-6789' } }, { maxDepth: 1 });
      expect.fail('expected a LimitExceededError');
    } catch (err) {
      expect(String((err as Error).message)).not.toContain('123-45-6789');
    }
  });
});

describe('redact', () => {
  const text = 'SSN 123-45-6789, mail a@example.com';
  it("style 'type' writes typed markers (default)", () => {
    expect(scanner.redact(text)).toBe('SSN [SSN], mail [EMAIL]');
    expect(redact(text)).toBe('SSN [SSN], mail [EMAIL]');
  });
  it("style 'mask' keeps the length", () => {
    const masked = redact(text, undefined, { style: 'mask' });
    expect(masked).toBe('SSN ***********, mail *************');
    expect(masked).toHaveLength(text.length);
  });
  it('takes given findings, unsorted and overlapping', () => {
    const out = redact('abcdefghij', [
      { type: 'MRN', start: 5, end: 8, confidence: 1 },
      { type: 'SSN', start: 1, end: 4, confidence: 1 },
      { type: 'URL', start: 2, end: 6, confidence: 1 },
    ]);
    // 1-4 SSN, 2-6 URL and 5-8 MRN chain into one redacted run under the first marker.
    expect(out).toBe('a[SSN]ij');
    expect(redact('abcdefghij', [{ type: 'MRN', start: 6, end: 8, confidence: 1 }, { type: 'SSN', start: 1, end: 4, confidence: 1 }])).toBe('a[SSN]ef[MRN]ij');
  });
  it('rejects an unknown style', () => {
    expect(() => redact(text, undefined, { style: 'blur' as 'mask' })).toThrow(OptionsError);
  });
});

describe('redactObject', () => {
  it('returns a redacted deep copy and counts by type; the input is unchanged', () => {
    const input = {
      id: 7,
      ok: true,
      when: new Date(0),
      notes: ['SSN 123-45-6789', 'SSN 219-09-9999 and a@example.com'],
      nested: { n: null, big: 10n },
    };
    const before = JSON.stringify({ ...input, nested: { n: null } });
    const { value, counts } = redactObject(input);
    expect(value.notes).toEqual(['SSN [SSN]', 'SSN [SSN] and [EMAIL]']);
    expect(value.id).toBe(7);
    expect(value.nested.big).toBe(10n);
    expect(value.when).toEqual(new Date(0));
    expect(value.when).not.toBe(input.when);
    expect(counts).toEqual({ SSN: 2, EMAIL: 1 });
    expect(JSON.stringify({ ...input, nested: { n: null } })).toBe(before);
  });
  it('keeps __proto__ as an own key and never changes the prototype', () => {
    const input = JSON.parse('{"__proto__":{"polluted":"SSN 123-45-6789"}}');
    const { value } = scanner.redactObject(input) as { value: Record<string, unknown> };
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(value, '__proto__')?.value).toEqual({ polluted: 'SSN [SSN]' });
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
  it('throws on circular values', () => {
    const a: Record<string, unknown> = {};
    a['a'] = a;
    expect(() => redactObject(a)).toThrow(LimitExceededError);
  });
});

describe('countByType', () => {
  it('counts findings by type', () => {
    expect(countByType(scanner.scan('SSN 123-45-6789, 219-09-9999; a@example.com'))).toEqual({ SSN: 2, EMAIL: 1 });
    expect(countByType([])).toEqual({});
  });
});

describe('formatPath', () => {
  it('renders identifiers, indices and quoted keys', () => {
    expect(formatPath(['notes', 2, 'text'])).toBe('notes[2].text');
    expect(formatPath([0, 'a b', '$x'])).toBe('[0]["a b"].$x');
    expect(formatPath([])).toBe('');
  });
});

describe('the key a string stands under is its context', () => {
  // Values that carry no identifier shape of their own: only their key says what they are.
  const KEYED: ReadonlyArray<readonly [string, string, string]> = [
    ['memberId', 'W28810392', 'HEALTH_PLAN_ID'],
    ['insurance_member_no', 'XJK882910344', 'HEALTH_PLAN_ID'],
    ['ssn', '4 4 5 5 4 0 8 9 7', 'SSN'],
    ['dl', 'A1234567', 'LICENSE_NUMBER'],
    ['chart', '00412345', 'MRN'],
    ['birthDate', '19620314', 'DATE'],
    ['mobilePhone', '6175550143', 'PHONE'],
    ['family', 'Okonkwo', 'PERSON_NAME'],
    // A key with a number of its own: the number belongs to the key, not to the value.
    ['mrn_2', '00412345', 'MRN'],
    ['member_id_1', 'W28810392', 'HEALTH_PLAN_ID'],
  ];

  it('scan(text, { label }) reads the label as context and reports only spans of the text', () => {
    for (const [label, value, type] of KEYED) {
      expect(scanner.scan(value).some((f) => f.type === type), `${value} alone`).toBe(false);
      const found = scanner.scan(value, { label });
      expect(found.map((f) => [f.type, f.start, f.end]), `${label}: ${value}`).toEqual([[type, 0, value.length]]);
    }
    // A label with no context word changes nothing; a label is never reported.
    expect(scanner.scan('W28810392', { label: 'colour' })).toEqual([]);
    expect(scanner.scan('fine', { label: 'ssn' })).toEqual([]);
    expect(scanner.scan('call 617-555-0143', { label: 'Jane Doe' }).map((f) => [f.type, f.start, f.end])).toEqual([['PHONE', 5, 17]]);
  });

  it('keys that name things other than people do not make their values names', () => {
    for (const [label, value] of [['name', 'Hemoglobin A1c'], ['name', 'Springfield General Hospital'], ['display', 'Glucose [Mass/volume] in Blood'], ['text', 'Blood pressure'], ['status', 'final']]) {
      expect(scanner.scan(value!, { label }), `${label}: ${value}`).toEqual([]);
    }
  });

  it('scanObject and redactObject pass each string its key (array items their array\'s key)', () => {
    const body = { patient: { memberId: 'W28810392', charts: { chart: ['00412345'] }, family: 'Okonkwo', note: 'fine' } };
    expect(scanner.scanObject(body).map((f) => [f.type, f.path.join('.')])).toEqual([
      ['HEALTH_PLAN_ID', 'patient.memberId'],
      ['MRN', 'patient.charts.chart.0'],
      ['PERSON_NAME', 'patient.family'],
    ]);
    const { value, counts } = scanner.redactObject(body);
    expect(value).toEqual({ patient: { memberId: '[HEALTH_PLAN_ID]', charts: { chart: ['[MRN]'] }, family: '[PERSON_NAME]', note: 'fine' } });
    expect(counts).toEqual({ HEALTH_PLAN_ID: 1, MRN: 1, PERSON_NAME: 1 });
  });

  it('a flood of distinct keys is bounded work per key', () => {
    // 5,000 distinct keys ("aaMemberId", "abMemberId", …): more than the scanner keeps of them.
    const letters = (i: number) => Array.from({ length: 3 }, (_, k) => String.fromCharCode(97 + (Math.floor(i / 26 ** k) % 26))).join('');
    const big = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`${letters(i)}MemberId`, `W${String(28810392 + i)}`]));
    expect(scanner.scanObject(big).length).toBe(5000);
  });
});
