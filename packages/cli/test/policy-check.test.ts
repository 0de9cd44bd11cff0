import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compilePolicy, type PolicyDefinition } from '@phiguard/core';
import { main } from '../src/main.js';
import { ctx, SECRET } from '../../core/test/helpers.js';

async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (s) => void out.push(s), err: (s) => void err.push(s), env: {} });
  return { code, out: out.join(''), err: err.join('') };
}

/** Writes a policy module and a sample; returns the arguments of `policy check`. */
function setup(policy: object, resource: string, sample: unknown): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'phiguard-check-'));
  writeFileSync(join(dir, 'policy.mjs'), `export const policy = ${JSON.stringify(policy)};`);
  writeFileSync(join(dir, 'sample.json'), JSON.stringify(sample));
  return ['policy', 'check', join(dir, 'policy.mjs'), '--sample', `${resource}=${join(dir, 'sample.json')}`];
}

/** What a Sequelize model instance holds as own properties (what a dump of `findAll()` shows). */
const sequelizeInstance = (row: Record<string, unknown>) => ({
  dataValues: row,
  _previousDataValues: row,
  uniqno: 1,
  _changed: {},
  _options: { isNewRecord: false, raw: true },
  isNewRecord: false,
});

const row = { id: 'p1', mrn: 'MRN00094821', ssn: '219-09-9999', family: 'Lopez', status: 'active' };

/** The leak from the field report: the wrapper classified as non-phi sends every column to every role. */
const wrapperPolicy = {
  roles: ['billing'],
  resources: { Rows: { fields: { '[].dataValues': 'non-phi' }, disclose: { billing: { HPAYMT: {} } } } },
};

describe('phiguard policy check --sample', () => {
  it('fails a non-phi ORM wrapper holding an SSN: names the wrapper field and the SSN path, never the value', async () => {
    const r = await run(...setup(wrapperPolicy, 'Rows', [sequelizeInstance(row)]));
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/Rows: fields that are an ORM instance's wrapper, not columns[^\n]*\[\]\.dataValues/);
    expect(r.out).toMatch(/identifiers found under non-phi fields[\s\S]*\[0\]\.dataValues\.ssn {2}SSN/);
    expect(r.out).toMatch(/\[0\]\.dataValues\.mrn {2}MRN/);
    for (const value of ['219-09-9999', 'MRN00094821', 'Lopez']) expect(r.out).not.toContain(value);
    // And the engine does send it all: what the check warns about is real.
    const sent = compilePolicy(wrapperPolicy as unknown as PolicyDefinition, { mode: 'production' }).protect([sequelizeInstance(row)], ctx(['billing'], 'HPAYMT'), 'Rows').value;
    expect(JSON.stringify(sent)).toContain('219-09-9999');
  });

  it('tells ORM instances apart from unclassified columns, and never advises classifying the wrapper', async () => {
    const policy = {
      roles: ['billing'],
      resources: { Rows: { fields: { '[].id': 'non-phi', '[].mrn': 'direct-identifier' }, disclose: { billing: { HPAYMT: { '[].mrn': { op: 'partial', keep: 4 } } } } } },
    };
    const r = await run(...setup(policy, 'Rows', [sequelizeInstance(row), { id: 'p2', mrn: 'MRN00011111', nickname: 'Bo' }]));
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/unclassified fields \(not sent until classified\):\n {2}\[\]\.nickname\n/);
    expect(r.out).toMatch(/holds ORM instances, not plain rows \(do not classify these paths[^\n]*\n {2}\[\]\.dataValues\n/);
    expect(r.out).toContain('raw: true');
    expect(r.out).not.toContain('MRN00011111');
  });

  it('passes plain rows whose identifiers are classified, withheld or masked', async () => {
    const policy = {
      roles: ['billing'],
      resources: {
        Rows: {
          fields: { '[].id': 'non-phi', '[].mrn': 'direct-identifier', '[].ssn': 'direct-identifier', '[].family': 'direct-identifier', '[].status': 'non-phi' },
          disclose: { billing: { HPAYMT: { '[].mrn': { op: 'partial', keep: 4 } } } },
        },
      },
    };
    const r = await run(...setup(policy, 'Rows', [row, { ...row, id: 'p2', ssn: '219-09-9998' }]));
    expect(r.out).toContain('Rows: every field of the sample is classified');
    expect(r.out).not.toContain('identifiers found');
    expect(r.code).toBe(0);
  });

  it('finds any SSN, phone or email planted anywhere under a non-phi subtree, in values and in keys (property)', async () => {
    const policy = {
      roles: ['r'],
      resources: { Doc: { fields: { id: 'non-phi', 'meta.*': 'non-phi', 'items[].code': 'non-phi', note: 'free-text' }, disclose: { r: { TREAT: { '*': 'send' } } } } },
    };
    const identifier = fc.oneof(
      fc.record({ a: fc.integer({ min: 100, max: 665 }), g: fc.integer({ min: 10, max: 99 }), s: fc.integer({ min: 1000, max: 9999 }) }).map(({ a, g, s }) => ({ type: 'SSN', text: `${a}-${g}-${s}` })),
      fc.integer({ min: 1000, max: 9999 }).map((n) => ({ type: 'PHONE', text: `(617) 555-${n}` })),
      fc.stringMatching(/^[a-z]{3,8}$/).map((u) => ({ type: 'EMAIL', text: `${u}@example.org` })),
    );
    const where = fc.constantFrom('meta.source', 'meta.tag', 'items.1.code', 'meta.key');
    await fc.assert(
      fc.asyncProperty(identifier, where, fc.boolean(), async (planted, at, wrapInText) => {
        const text = wrapInText ? `see ${planted.text} today` : planted.text;
        const sample: Record<string, any> = { id: 'd1', meta: { source: 'lab', tag: 'final' }, items: [{ code: '2345-7' }, { code: '718-7' }], note: `call ${planted.text}` };
        let expectedPath = at.replace('items.1', 'items[1]');
        if (at === 'meta.key') {
          sample.meta = { ...sample.meta, [text]: 'x' };
          expectedPath = 'meta[?]'; // a key that may be the identifier is never printed
        } else if (at === 'items.1.code') sample.items[1].code = text;
        else sample.meta[at.slice(5)] = text;
        const r = await run(...setup(policy, 'Doc', sample));
        expect(r.code).toBe(1);
        expect(r.out).toContain('identifiers found under non-phi fields');
        expect(r.out).toContain(`  ${expectedPath}  ${planted.type}`);
        expect(r.out).not.toContain(planted.text);
        // The free-text note holds it too, but free text is scrubbed or withheld by rules: not reported.
        expect(r.out).not.toMatch(/^ {2}note /m);
      }),
      { seed: 2104, numRuns: 25 },
    );
  });

  it('a clean sample of the same shape passes', async () => {
    const policy = { roles: ['r'], resources: { Doc: { fields: { id: 'non-phi', 'meta.*': 'non-phi', 'items[].code': 'non-phi' }, disclose: { r: { TREAT: { '*': 'send' } } } } } };
    const r = await run(...setup(policy, 'Doc', { id: 'd1', meta: { source: 'lab', tag: 'final' }, items: [{ code: '2345-7' }, { code: '718-7' }] }));
    expect(r.code).toBe(0);
  });
});

describe('development warnings', () => {
  const compileWith = (fields: Record<string, string>) => {
    const warnings: string[] = [];
    const policy = compilePolicy(
      { roles: ['r'], resources: { Rows: { fields, disclose: { r: { TREAT: { '*': 'send' } } } } } } as unknown as PolicyDefinition,
      { mode: 'development', secret: SECRET, warn: (m) => void warnings.push(m) },
    );
    return { policy, warnings };
  };

  it('on ORM instances, advise plain rows and warn against classifying the wrapper; never name a value', () => {
    const { policy, warnings } = compileWith({ '[].id': 'non-phi' });
    const out = policy.protect([sequelizeInstance(row), sequelizeInstance(row)], ctx(['r'], 'TREAT'), 'Rows');
    expect(out.value).toEqual([{}, {}]); // the wrapper is unclassified, so nothing of it is sent
    expect(warnings).toHaveLength(1);
    const [message] = warnings as [string];
    expect(message).toMatch(/ORM wrapper fields, not sent \(deny by default\): \[\]\.dataValues, \[\]\._previousDataValues/);
    expect(message).toMatch(/do not classify them/);
    expect(message).toMatch(/get\(\{ plain: true \}\)/);
    // The ordinary advice ("declare each with its class") is never given for a wrapper path.
    for (const line of message.split('\n')) if (line.includes('dataValues')) expect(line).not.toMatch(/Declare each/);
    for (const value of ['219-09-9999', 'MRN00094821', 'Lopez']) expect(message).not.toContain(value);
  });

  it('on plain unclassified columns, advise classifying each with its class, non-phi only for values that identify nobody', () => {
    const { policy, warnings } = compileWith({ '[].id': 'non-phi' });
    policy.protect([{ id: 'p1', ssn: '219-09-9999' }], ctx(['r'], 'TREAT'), 'Rows');
    expect(warnings).toEqual([expect.stringMatching(/^phiguard: Rows has unclassified fields, not sent \(deny by default\): \[\]\.ssn\. Declare each in the policy with its class; `non-phi` only for values that never identify a patient/)]);
  });
});
