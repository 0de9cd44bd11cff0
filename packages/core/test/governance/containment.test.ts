import { describe, expect, it } from 'vitest';
import { AccessDeniedError, createPhiGuard, type AccessContext, type AuditEvent } from '@phiguard/core';
import { createDenyList, createDisclosures } from '@phiguard/core/governance';
import { createMemoryStateStore } from '@phiguard/core/state';
import { REPORTS, SECRET, chart, policy, setup } from './fixture.js';

const security: AccessContext = { principal: { id: 'sec.ops' }, roles: ['security-officer'] };
function world() {
  const events: AuditEvent[] = [];
  const state = createMemoryStateStore();
  const audit = { write: (e: AuditEvent) => void events.push(e) };
  const denyList = createDenyList({ store: state, audit, roles: ['security-officer'] });
  const guard = createPhiGuard({ policy, secret: SECRET, audit, state, denyList });
  // A second instance over the same shared store.
  const other = createPhiGuard({ policy, secret: SECRET, audit, state, denyList: createDenyList({ store: state, audit, roles: ['security-officer'] }) });
  return { events, denyList, guard, other };
}
const dr = (clientId?: string): AccessContext => ({ principal: { id: 'dr.chen', ...(clientId === undefined ? {} : { clientId }) }, roles: ['requester:provider'], purposeOfUse: 'TREAT', request: { method: 'GET', route: '/charts/:id' } });

describe('deny list (45 CFR 164.308(a)(6)(ii))', () => {
  it('a disabled user is refused by every guard sharing the store, audited with the reason; re-enabled, served again', async () => {
    const { events, denyList, guard, other } = world();
    await expect(guard.resolve(dr(), 'Chart', '1001')).resolves.toMatchObject({ principal: { id: 'dr.chen' } });
    await denyList.disable(security, { principal: 'dr.chen' }, 'offboarding');
    expect(events.at(-1)).toMatchObject({ action: 'update', resource: { type: 'Principal', id: 'dr.chen' }, reason: 'containment:disable:offboarding', actor: { id: 'sec.ops' } });
    for (const g of [guard, other]) {
      await expect(g.resolve(dr(), 'Chart', '1001')).rejects.toMatchObject({ status: 403, reason: 'principal_disabled' });
      expect(events.at(-1)).toMatchObject({ action: 'deny', attemptedAction: 'read', reason: 'principal_disabled', actor: { id: 'dr.chen' }, patient: { ref: guard.policy.patientRef('1001') } });
    }
    await denyList.enable(security, { principal: 'dr.chen' });
    await expect(other.resolve(dr(), 'Chart', '1001')).resolves.toBeDefined();
  });

  it('a disabled user discloses nothing through the governed disclosure service either', async () => {
    const s = setup();
    const denyList = createDenyList({ store: s.store, audit: s.guard, roles: ['security-officer'] });
    await s.recipients.register({ principal: { id: 'po' }, roles: ['privacy-officer'] }, { id: 'state-dph', type: 'public-health-authority', name: 'DPH' });
    const disclosures = createDisclosures({ guard: s.guard, recipients: s.recipients, denyList, clock: { now: s.now } });
    const ctx: AccessContext = { principal: { id: 'po.ade' }, roles: ['requester:public-health'], purposeOfUse: 'PUBHLTH' };
    const req = { resource: 'Chart', value: chart('1002', REPORTS), patientId: '1002', recipientId: 'state-dph', purpose: 'Notifiable disease report', basis: 'public-health', deliveryMethod: 'sftp' } as const;
    await expect(disclosures.disclose(ctx, req)).resolves.toBeDefined();
    await denyList.disable(security, { principal: 'po.ade' }, 'incident:9');
    await expect(disclosures.disclose(ctx, req)).rejects.toMatchObject({ status: 403, reason: 'principal_disabled' });
    expect(s.events.at(-1)).toMatchObject({ action: 'deny', attemptedAction: 'disclose', reason: 'principal_disabled', patient: { ref: s.guard.policy.patientRef('1002') } });
  });

  it('a disabled client application is refused whoever uses it; other clients are not', async () => {
    const { denyList, guard } = world();
    await denyList.disable(security, { client: 'kiosk-app' }, 'incident:42');
    await expect(guard.resolve(dr('kiosk-app'), 'Chart', '1001')).rejects.toMatchObject({ reason: 'client_disabled' });
    await expect(guard.resolve(dr('ward-app'), 'Chart', '1001')).resolves.toBeDefined();
  });

  it('only containment roles may disable; bad targets and reasons are refused', async () => {
    const { events, denyList } = world();
    await expect(denyList.disable(dr(), { principal: 'sec.ops' }, 'revenge')).rejects.toBeInstanceOf(AccessDeniedError);
    expect(events.at(-1)).toMatchObject({ action: 'deny', resource: { type: 'DenyList' } });
    await expect(denyList.disable(security, { principal: '' }, 'x')).rejects.toThrow(/target/);
    await expect(denyList.disable(security, { principal: 'a', client: 'b' } as never, 'x')).rejects.toThrow(/target/);
    await expect(denyList.disable(security, { principal: 'a' }, 'Free text with spaces')).rejects.toThrow(/reason/);
  });

  it('fails closed when the store cannot answer', async () => {
    const failing = createMemoryStateStore();
    failing.getMany = async () => {
      throw new Error('down');
    };
    const audit = { write: () => undefined };
    const guard = createPhiGuard({ policy, secret: SECRET, audit, state: failing, denyList: createDenyList({ store: failing, audit, roles: ['x'] }) });
    await expect(guard.resolve(dr(), 'Chart', '1001')).rejects.toThrow();
    expect(() => createPhiGuard({ policy, secret: SECRET, audit, denyList: {} as never })).toThrow(/createDenyList/);
    expect(() => createPhiGuard({ policy, secret: SECRET, audit, denyLst: 1 } as never)).toThrow(/did you mean "denyList"/);
  });
});
