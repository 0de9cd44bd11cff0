import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { accountingOfDisclosures } from '../../src/audit/accounting.js';
import { ndjsonFileSink, readNdjsonEvents } from '../../src/audit/ndjson.js';
import { OptionsError } from '../../src/errors.js';
import { trail, TRAIL_PATIENT as P } from './fixtures.js';

describe('accountingOfDisclosures over events', () => {
  it('lists successful read/disclose/export of the patient in the range, oldest first, with who/what/when/why', async () => {
    const list = await accountingOfDisclosures(trail(), { patientRef: P, from: '2026-01-01T00:00:00Z', to: new Date('2026-12-31T00:00:00Z') });
    expect(list.map((r) => r.time)).toEqual(['2026-01-15T08:30:00.000Z', '2026-02-10T12:00:00.000Z', '2026-03-01T10:00:00.000Z']);
    expect(list[0]).toEqual({
      eventId: expect.any(String),
      time: '2026-01-15T08:30:00.000Z',
      action: 'disclose',
      who: { id: 'insurer-7', roles: ['payer'] },
      what: { resourceType: 'claim', resourceId: 'C9', fields: ['patient.id', 'claim.total'] },
      purposeOfUse: 'HPAYMT',
    });
    expect(list[1]!.what).toEqual({ resourceType: 'cohort', fields: ['results[].value'] });
  });

  it('bounds are [from, to), and TPO purposes can be left out (164.528(a)(1))', async () => {
    const events = trail();
    expect(await accountingOfDisclosures(events, { patientRef: P, from: '2026-03-01T10:00:00.000Z' })).toHaveLength(1);
    expect(await accountingOfDisclosures(events, { patientRef: P, to: '2026-03-01T10:00:00.000Z' })).toHaveLength(3);
    const nonTpo = await accountingOfDisclosures(events, { patientRef: P, excludePurposes: ['TREAT', 'HPAYMT', 'HOPERAT'] });
    expect(nonTpo.map((r) => r.purposeOfUse)).toEqual(['HRESCH']);
    expect((await accountingOfDisclosures(events, { patientRef: P, actions: ['disclose'] })).map((r) => r.action)).toEqual(['disclose']);
  });

  it('reads an NDJSON file', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'phiguard-acc-')), 'a.ndjson');
    const file = ndjsonFileSink({ path });
    await file.writeBatch(trail());
    await file.close();
    const list = await accountingOfDisclosures(readNdjsonEvents(path), { patientRef: P });
    expect(list).toHaveLength(4);
  });

  it('validates the query', async () => {
    await expect(accountingOfDisclosures([], { patientRef: '' })).rejects.toThrow(OptionsError);
    await expect(accountingOfDisclosures([], { patientRef: P, form: '2026' } as never)).rejects.toThrow(/did you mean "from"/);
    await expect(accountingOfDisclosures([], { patientRef: P, from: 'yesterday' })).rejects.toThrow(/ISO-8601/);
    await expect(accountingOfDisclosures(42 as never, { patientRef: P })).rejects.toThrow(OptionsError);
  });
});
