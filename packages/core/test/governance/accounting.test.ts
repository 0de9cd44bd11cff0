/**
 * The accounting of disclosures under rule 164.528: what it lists and, one test per exclusion of
 * 164.528(a)(1), what it leaves out. Events are written through the governed disclosure service
 * and the engine, as an application would produce them.
 */
import { describe, expect, it } from 'vitest';
import { type AccessContext } from '@phiguard/core';
import { accountingOfDisclosures } from '@phiguard/core/audit';
import { ACCOUNTING_EXEMPT, DISCLOSURE_BASES, type DisclosureBasis } from '@phiguard/core/governance';
import { REPORTS, chart, desk, setup } from './fixture.js';

const officer = desk('po.ade', ['privacy-officer']);
const PUBLIC_HEALTH: AccessContext = { principal: { id: 'po.ade' }, roles: ['requester:public-health'], purposeOfUse: 'PUBHLTH' };

async function world() {
  const s = setup();
  await s.recipients.register(officer, { id: 'state-dph', type: 'public-health-authority', name: 'State Department of Public Health', address: '100 Capitol Way' });
  const send = async (basis: DisclosureBasis, patientId = '1002') => {
    let authorizationId: string | undefined;
    if (basis === 'authorization') {
      authorizationId = `auth-${patientId}`;
      await s.authorizations.record(desk(), { id: authorizationId, patientId, recipientId: 'state-dph', purpose: 'Registry enrolment', scope: {}, expiresAt: '2027-01-01T00:00:00Z', signedAt: '2025-01-01T00:00:00Z' });
    }
    return s.disclosures.disclose(PUBLIC_HEALTH, { resource: 'Chart', value: chart(patientId, REPORTS), patientId, recipientId: 'state-dph', purpose: 'Disclosure under test', basis, deliveryMethod: 'sftp', ...(authorizationId === undefined ? {} : { authorizationId }) });
  };
  const accounting = () => accountingOfDisclosures(s.events, { patientRef: s.guard.policy.patientRef('1002'), rule: '164.528', recipientName: s.recipients.nameOf });
  return { s, send, accounting };
}

const EXEMPT = Object.keys(ACCOUNTING_EXEMPT) as DisclosureBasis[];
const ACCOUNTED = DISCLOSURE_BASES.filter((b) => !EXEMPT.includes(b));

describe('accountingOfDisclosures, rule 164.528', () => {
  it('lists a public-health disclosure with the four elements of 164.528(b)(2): date, recipient (name and address), description, purpose', async () => {
    const { s, send, accounting } = await world();
    s.now.set(Date.parse('2025-05-02T09:00:00Z'));
    const out = await send('public-health');
    const list = await accounting();
    expect(list).toHaveLength(1);
    expect(list[0]).toEqual({
      eventId: out.event.id,
      time: '2025-05-02T09:00:00.000Z',
      action: 'disclose',
      who: { id: 'po.ade', roles: ['requester:public-health'] },
      what: { resourceType: 'Chart', resourceId: 'chart-1002', fields: out.event.disclosed },
      purposeOfUse: 'PUBHLTH',
      recipient: { type: 'public-health-authority', id: 'state-dph', nameRef: out.event.disclosure!.recipient.nameRef, name: 'State Department of Public Health', address: '100 Capitol Way' },
      purpose: 'Disclosure under test',
      basis: 'public-health',
      description: { recordTypes: ['imaging', 'lab'], records: 4, from: '2024-11-18T11:00:00.000Z', to: '2025-03-10T08:15:00.000Z' },
      deliveryMethod: 'sftp',
      digest: out.event.disclosure!.digest,
    });
  });

  it.each(ACCOUNTED)('lists a disclosure on the basis %s', async (basis) => {
    const { send, accounting } = await world();
    await send(basis);
    expect((await accounting()).map((r) => r.basis)).toEqual([basis]);
  });

  it.each(EXEMPT.map((b) => [b, ACCOUNTING_EXEMPT[b]!]))('leaves out a disclosure on the basis %s (%s)', async (basis) => {
    const { send, accounting } = await world();
    const exempt = await send(basis);
    expect(exempt.event.disclosure!.basis).toBe(basis);
    await send('public-health');
    expect((await accounting()).map((r) => r.basis)).toEqual(['public-health']);
  });

  it('leaves out uses inside the organization (reads for treatment and payment) and the patient’s own access (164.528(a)(1)(i), (ii))', async () => {
    const { s, accounting } = await world();
    const value = chart('1002', REPORTS);
    for (const [roles, purpose] of [[['requester:provider'], 'TREAT'], [['billing'], 'HPAYMT']] as const) {
      const context: AccessContext = { principal: { id: 'u' }, roles, purposeOfUse: purpose };
      const d = s.guard.authorize(context, 'Chart', 'read', '1002');
      if (d.effect !== 'allow') throw new Error('expected allow');
      s.guard.release(d.plan, value, context, 'read');
    }
    // Engine-level disclose events without a recorded basis are judged by purpose of use.
    const provider: AccessContext = { principal: { id: 'dr' }, roles: ['requester:provider'], purposeOfUse: 'TREAT' };
    const d = s.guard.authorize(provider, 'Chart', 'disclose', '1002');
    if (d.effect !== 'allow') throw new Error('expected allow');
    s.guard.release(d.plan, value, provider, 'disclose');
    const patient: AccessContext = { principal: { id: 'p', patientId: '1002' }, roles: ['requester:third-party'], purposeOfUse: 'PATRQT' };
    const p = s.guard.authorize(patient, 'Chart', 'disclose', '1002');
    if (p.effect !== 'allow') throw new Error('expected allow');
    s.guard.release(p.plan, value, patient, 'disclose');
    expect(s.events.filter((e) => e.outcome === 'success' && e.patient !== undefined)).toHaveLength(4);
    expect(await accounting()).toEqual([]);
    // Without the rule, the access report still shows every one of them.
    expect(await accountingOfDisclosures(s.events, { patientRef: s.guard.policy.patientRef('1002') })).toHaveLength(4);
  });

  it('lists only this patient’s disclosures, and refused attempts never', async () => {
    const { s, send, accounting } = await world();
    await send('public-health', '1003');
    await send('required-by-law');
    await expect(s.disclosures.disclose(PUBLIC_HEALTH, { resource: 'Chart', value: chart('1002', REPORTS), patientId: '1002', recipientId: 'nobody', purpose: 'x', basis: 'judicial', deliveryMethod: 'mail' })).rejects.toMatchObject({ reason: 'recipient_unknown' });
    expect((await accounting()).map((r) => r.basis)).toEqual(['required-by-law']);
  });

  it('rejects an unknown rule', async () => {
    await expect(accountingOfDisclosures([], { patientRef: 'pt_x', rule: '164.524' as never })).rejects.toThrow(/rule/);
  });
});
