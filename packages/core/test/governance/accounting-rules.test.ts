/**
 * The accounting rules beyond the exemptions: exports carrying the disclosure record and judged
 * like disclosures, temporary suspensions at an agency's request (164.528(a)(2)), and the summary
 * of a series of disclosures to one recipient for one purpose (164.528(b)(3)).
 */
import { describe, expect, it } from 'vitest';
import { type AccessContext, type AuditEvent } from '@phiguard/core';
import { accountingOfDisclosures } from '@phiguard/core/audit';
import { ExportError, exportCsv, exportEvent, type ExportDisclosure } from '@phiguard/core/delivery';
import { ACCOUNTING_EXEMPT, DISCLOSURE_BASES, createAccountingSuspensions, disclosureDigest, type AccountingSuspension, type DisclosureBasis } from '@phiguard/core/governance';
import { REPORTS, chart, desk, setup } from './fixture.js';

const officer = desk('po.ade', ['privacy-officer']);
const PUBLIC_HEALTH: AccessContext = { principal: { id: 'po.ade' }, roles: ['requester:public-health'], purposeOfUse: 'PUBHLTH' };
const DAY = 86_400_000;
const T0 = Date.parse('2025-05-01T09:00:00Z');

async function world() {
  const s = setup();
  await s.recipients.register(officer, { id: 'state-dph', type: 'public-health-authority', name: 'State Department of Public Health', address: '100 Capitol Way' });
  await s.recipients.register(officer, { id: 'oig', type: 'health-oversight-agency', name: 'Office of Inspector General', address: '330 Independence Ave' });
  await s.recipients.register(officer, { id: 'sheriff', type: 'law-enforcement', name: 'County Sheriff', address: '1 Court St' });
  const send = (recipientId: string, basis: DisclosureBasis, at: number, purpose = 'Disclosure under test', patientId = '1002') => {
    s.now.set(at);
    return s.disclosures.disclose(PUBLIC_HEALTH, { resource: 'Chart', value: chart(patientId, REPORTS), patientId, recipientId, purpose, basis, deliveryMethod: 'sftp' });
  };
  const patientRef = s.guard.policy.patientRef('1002');
  return { s, send, patientRef };
}

const suspension = (over: Partial<AccountingSuspension> = {}): AccountingSuspension => ({
  id: 'susp-1',
  agency: 'oig',
  agencyType: 'health-oversight-agency',
  statement: 'An accounting would impede an open audit until the stated date.',
  form: 'written',
  start: new Date(T0).toISOString(),
  end: new Date(T0 + 90 * DAY).toISOString(),
  recordedBy: 'po.ade',
  recordedAt: new Date(T0).toISOString(),
  ...over,
});

describe('exports carry the disclosure record', () => {
  const rows = [
    { id: 'r1', code: 'GLU', value: '101' },
    { id: 'r2', code: 'A1C', value: '6.1' },
  ];
  const meta = { purpose: 'PUBHLTH', recipient: 'state-dph', user: 'po.ade', requestId: 'req-1', time: '2025-05-02T10:00:00Z' };
  const block = (over: Partial<ExportDisclosure> = {}): ExportDisclosure => ({
    recipient: { type: 'public-health-authority', id: 'state-dph', nameRef: 'rn_0123' },
    purpose: 'Cancer registry report',
    basis: 'public-health',
    deliveryMethod: 'sftp',
    description: { recordTypes: ['lab'], from: '2025-01-01', to: '2025-03-31' },
    ...over,
  });

  it('records recipient, purpose, basis, delivery, the digest and size of the exact bytes, and the row count', () => {
    const result = exportCsv(rows, ['id', 'code', 'value'], meta);
    const event = exportEvent(result, { format: 'csv', resource: 'ResultsExport', patientRef: 'pt_x', disclosure: block({ authorizationRef: 'auth-7', copyRef: 'copy-1' }) });
    expect(event.action).toBe('export');
    expect(event.disclosure).toEqual({
      recipient: { type: 'public-health-authority', id: 'state-dph', nameRef: 'rn_0123' },
      purpose: 'Cancer registry report',
      basis: 'public-health',
      authorizationRef: 'auth-7',
      deliveryMethod: 'sftp',
      digest: disclosureDigest(result.body),
      bytes: Buffer.byteLength(result.body),
      copyRef: 'copy-1',
      description: { recordTypes: ['lab'], from: '2025-01-01T00:00:00.000Z', to: '2025-03-31T00:00:00.000Z', records: 2 },
    });
    // One byte changed in what was sent changes the digest recorded.
    expect(disclosureDigest(`${result.body} `)).not.toBe(event.disclosure!.digest);
  });

  it('defaults the delivery method to download and leaves the block out when no disclosure is given', () => {
    const result = exportCsv(rows, ['id'], meta);
    expect(exportEvent(result, { format: 'csv', disclosure: block({ deliveryMethod: undefined }) }).disclosure!.deliveryMethod).toBe('download');
    expect(exportEvent(result, { format: 'csv' }).disclosure).toBeUndefined();
  });

  it.each<[string, Partial<ExportDisclosure>]>([
    ['recipient', { recipient: { type: 'alien' as never, id: 'x', nameRef: 'rn_1' } }],
    ['recipient', { recipient: { type: 'provider', id: '', nameRef: 'rn_1' } }],
    ['purpose', { purpose: '' }],
    ['purpose', { purpose: 'x'.repeat(201) }],
    ['identifier', { purpose: 'Records of MRN 7654321 for court' }],
    ['basis', { basis: 'curiosity' as never }],
    ['deliveryMethod', { deliveryMethod: 'carrier-pigeon' as never }],
    ['authorizationRef', { basis: 'authorization' }],
    ['authorizationRef', { authorizationRef: 'a\nb' }],
    ['recordTypes', { description: { recordTypes: ['lab', 42 as never] } }],
    ['description.from', { description: { from: 'yesterday' } }],
  ])('refuses a disclosure block with a bad %s', (what, over) => {
    const result = exportCsv(rows, ['id'], meta);
    expect(() => exportEvent(result, { format: 'csv', disclosure: block(over) })).toThrow(ExportError);
    expect(() => exportEvent(result, { format: 'csv', disclosure: block(over) })).toThrow(new RegExp(what === 'identifier' ? 'identifier' : what.split('.')[0]!));
  });

  const exempt = Object.keys(ACCOUNTING_EXEMPT) as DisclosureBasis[];
  it.each(DISCLOSURE_BASES.map((b) => [b, exempt.includes(b)] as const))('an export on the basis %s is left out of the accounting: %s', async (basis, left) => {
    const result = exportCsv(rows, ['id'], meta);
    const event = exportEvent(result, { format: 'csv', patientRef: 'pt_x', disclosure: block({ basis, ...(basis === 'authorization' ? { authorizationRef: 'auth-1' } : {}) }) });
    const list = await accountingOfDisclosures([event], { patientRef: 'pt_x', rule: '164.528' });
    expect(list.map((r) => [r.action, r.basis, r.digest])).toEqual(left ? [] : [['export', basis, disclosureDigest(result.body)]]);
  });
});

describe('164.528(a)(2): temporary suspension at the request of an agency', () => {
  it('leaves the agency’s disclosures made during the suspension out until its end, then lists them', async () => {
    const { send, s, patientRef } = await world();
    const before = await send('oig', 'health-oversight', T0 - DAY);
    const during = await send('oig', 'health-oversight', T0 + 10 * DAY);
    const other = await send('state-dph', 'public-health', T0 + 11 * DAY);
    const after = await send('oig', 'health-oversight', T0 + 95 * DAY);
    const ask = (asOf: number) => accountingOfDisclosures(s.events, { patientRef, rule: '164.528', suspensions: [suspension()], asOf: new Date(asOf), to: new Date(asOf) });
    const ids = (list: Awaited<ReturnType<typeof ask>>) => list.map((r) => r.eventId);
    expect(ids(await ask(T0 + 20 * DAY))).toEqual([before.event.id, other.event.id]);
    // One millisecond before the end: still suspended.
    expect(ids(await ask(T0 + 90 * DAY - 1))).toEqual([before.event.id, other.event.id]);
    // From the end on: listed, in order.
    expect(ids(await ask(T0 + 96 * DAY))).toEqual([before.event.id, during.event.id, other.event.id, after.event.id]);
  });

  it('a suspension for one patient leaves other patients’ accountings whole; a law-enforcement suspension only its official’s disclosures', async () => {
    const { send, s, patientRef } = await world();
    await send('sheriff', 'law-enforcement', T0 + DAY, 'Disclosure under test', '1003');
    const mine = await send('sheriff', 'law-enforcement', T0 + DAY);
    const oig = await send('oig', 'health-oversight', T0 + DAY + 1);
    const ref1003 = s.guard.policy.patientRef('1003');
    const held = suspension({ agency: 'sheriff', agencyType: 'law-enforcement', patientRef: ref1003 });
    const asOf = new Date(T0 + 2 * DAY);
    expect((await accountingOfDisclosures(s.events, { patientRef, rule: '164.528', suspensions: [held], asOf })).map((r) => r.eventId)).toEqual([mine.event.id, oig.event.id]);
    expect(await accountingOfDisclosures(s.events, { patientRef: ref1003, rule: '164.528', suspensions: [held], asOf })).toEqual([]);
  });

  it('records suspensions in the register, audited, for the privacy office only; an oral statement lasts at most 30 days', async () => {
    const { s, send, patientRef } = await world();
    const register = createAccountingSuspensions({ store: s.store, audit: s.guard, patientRef: (id) => s.guard.policy.patientRef(id), roles: ['privacy-officer'], clock: { now: s.now } });
    const input = { id: 'oig-2025-7', agency: 'oig', agencyType: 'health-oversight-agency' as const, statement: 'Accounting would impede the audit.', form: 'oral' as const, start: new Date(T0), end: new Date(T0 + 30 * DAY), patientId: '1002' };
    await expect(register.record(desk(), input)).rejects.toMatchObject({ reason: 'purpose_not_permitted' });
    expect(s.events.at(-1)).toMatchObject({ action: 'deny', attemptedAction: 'create', resource: { type: 'AccountingSuspension' } });
    await expect(register.record(officer, { ...input, end: new Date(T0 + 31 * DAY) })).rejects.toThrow(/30 days/);
    await expect(register.record(officer, { ...input, agencyType: 'court' as never })).rejects.toThrow(/agencyType/);
    await expect(register.record(officer, { ...input, end: new Date(T0 - DAY) })).rejects.toThrow(/end after start/);
    const recorded = await register.record(officer, input);
    expect(recorded).toMatchObject({ id: 'oig-2025-7', patientRef, form: 'oral', recordedBy: 'po.ade', end: new Date(T0 + 30 * DAY).toISOString() });
    const audit = s.events.at(-1)!;
    expect(audit).toMatchObject({ action: 'create', outcome: 'success', resource: { type: 'AccountingSuspension', id: 'oig-2025-7' }, patient: { ref: patientRef } });
    // The agency's statement stays in the register, not in the audit trail.
    expect(JSON.stringify(audit)).not.toContain('impede');
    await expect(register.record(officer, input)).rejects.toThrow(/already/);
    const during = await send('oig', 'health-oversight', T0 + DAY);
    const suspensions = await register.list();
    expect(await accountingOfDisclosures(s.events, { patientRef, rule: '164.528', suspensions, asOf: new Date(T0 + 2 * DAY) })).toEqual([]);
    expect((await accountingOfDisclosures(s.events, { patientRef, rule: '164.528', suspensions, asOf: new Date(T0 + 30 * DAY) })).map((r) => r.eventId)).toEqual([during.event.id]);
  });

  it('refuses a malformed suspension handed to the accounting', async () => {
    await expect(accountingOfDisclosures([], { patientRef: 'pt_x', suspensions: [suspension({ end: 'never' })] })).rejects.toThrow(/end/);
    await expect(accountingOfDisclosures([], { patientRef: 'pt_x', suspensions: {} as never })).rejects.toThrow(/array/);
    await expect(accountingOfDisclosures([], { patientRef: 'pt_x', asOf: 'soon' })).rejects.toThrow(/asOf/);
  });
});

describe('164.528(b)(3): multiple disclosures to one recipient for one purpose', () => {
  it('lists the first in full with the number, the periodicity and the date of the last', async () => {
    const { send, s, patientRef } = await world();
    const first = await send('state-dph', 'public-health', T0, 'Monthly registry report');
    await send('state-dph', 'public-health', T0 + 30 * DAY, 'Monthly registry report');
    const third = await send('state-dph', 'public-health', T0 + 61 * DAY, 'Monthly registry report');
    const lone = await send('state-dph', 'public-health', T0 + 40 * DAY, 'Outbreak investigation');
    const oig = await send('oig', 'health-oversight', T0 + 45 * DAY, 'Monthly registry report');
    const full = await accountingOfDisclosures(s.events, { patientRef, rule: '164.528' });
    expect(full).toHaveLength(5);
    const list = await accountingOfDisclosures(s.events, { patientRef, rule: '164.528', summarize: true });
    expect(list.map((r) => [r.eventId, r.summary])).toEqual([
      [first.event.id, { disclosures: 3, everyDays: 30.5, last: new Date(T0 + 61 * DAY).toISOString(), lastEventId: third.event.id }],
      [lone.event.id, undefined],
      [oig.event.id, undefined],
    ]);
    // The summarised line is the first disclosure in full.
    expect({ ...list[0], summary: undefined }).toEqual({ ...full[0], summary: undefined });
  });

  it('never merges events without a disclosure record, and rejects a non-boolean flag', async () => {
    const events: AuditEvent[] = [0, 1].map((i) => ({ id: `e${i}`, time: new Date(T0 + i * DAY).toISOString(), action: 'disclose', outcome: 'success', actor: { id: 'u', roles: [] }, purposeOfUse: 'PUBHLTH', patient: { ref: 'pt_x' }, resource: { type: 'Chart' } }));
    expect((await accountingOfDisclosures(events, { patientRef: 'pt_x', summarize: true })).map((r) => r.eventId)).toEqual(['e0', 'e1']);
    await expect(accountingOfDisclosures(events, { patientRef: 'pt_x', summarize: 'yes' as never })).rejects.toThrow(/summarize/);
  });
});
