import { describe, expect, it } from 'vitest';
import { compilePolicy, createPhiGuard, type AuditEvent } from '@phiguard/core';
import { createAnomalySink, type AnomalyAlert } from '@phiguard/core/audit';
import { createMemoryStateStore } from '@phiguard/core/state';
import { RECORD, SECRET, policy, who } from '../access/fixture.js';
import { problemsOf, compileUnchecked } from '../helpers.js';

const request = { patientId: '1001', reason: 'life-threatening-emergency', justification: 'Unresponsive in ED, no care team reachable' };
const nurse = who('rn-9', ['nurse'], 'TREAT');
const officer = who('po-1', ['privacy-officer'], 'HOPERAT');

function guardWith(approval: 'none' | 'before' | 'after') {
  const events: AuditEvent[] = [];
  const alerts: AnomalyAlert[] = [];
  const anomalies = createAnomalySink({ rules: [], onAlert: (a) => void alerts.push(a) });
  const compiled = compilePolicy({ ...policy, breakGlass: { ...policy.breakGlass!, approval } }, { secret: SECRET, mode: 'production' });
  const guard = createPhiGuard({
    policy: compiled,
    audit: { write: (e) => void (events.push(e), anomalies.write(e)) },
    relationship: () => ({ careTeam: false }),
    state: createMemoryStateStore(),
  });
  const use = async (grantId: string) => guard.authorize(await guard.resolve({ ...nurse, breakGlass: { grantId } }, 'Results', '1001'), 'Results', 'read', '1001');
  return { guard, events, alerts, anomalies, use };
}

describe('break-glass approval', () => {
  it("'before': the grant is unusable until a reviewer other than the requester approves it; its lifetime starts then", async () => {
    const { guard, events, use } = guardWith('before');
    const g = await guard.breakGlass!.grant(nurse, request);
    expect(g.status).toBe('pending-approval');
    expect(events.at(-1)).toMatchObject({ action: 'break-glass', reason: 'requested', breakGlass: { grantId: g.grantId } });
    expect(await use(g.grantId)).toEqual({ effect: 'deny', reason: 'break_glass_invalid' });
    expect((await guard.breakGlass!.pendingApprovals(officer)).map((x) => x.id)).toEqual([g.grantId]);
    // Not by the requester, not by a non-reviewer.
    await expect(guard.breakGlass!.approve(nurse, g.grantId)).rejects.toMatchObject({ reason: 'break_glass_not_permitted' });
    const dualRole = who('rn-9', ['nurse', 'privacy-officer'], 'TREAT');
    await expect(guard.breakGlass!.approve(dualRole, g.grantId)).rejects.toMatchObject({ reason: 'separation_of_duties' });
    expect(events.at(-1)).toMatchObject({ action: 'deny', reason: 'separation_of_duties' });
    expect(await use(g.grantId)).toMatchObject({ effect: 'deny' });
    const before = Date.now();
    const { expiresAt } = await guard.breakGlass!.approve(officer, g.grantId);
    expect(expiresAt).toBeGreaterThanOrEqual(before + 60 * 60_000);
    expect(events.at(-1)).toMatchObject({ action: 'break-glass', reason: 'approved', actor: { id: 'po-1' } });
    const d = await use(g.grantId);
    expect(d.effect).toBe('allow');
    if (d.effect === 'allow') expect(guard.release(d.plan, RECORD, await guard.resolve({ ...nurse, breakGlass: { grantId: g.grantId } }, 'Results', '1001'), 'read').event.breakGlass).toMatchObject({ grantId: g.grantId });
    expect(await guard.breakGlass!.pendingApprovals(officer)).toEqual([]);
    await expect(guard.breakGlass!.approve(officer, g.grantId)).rejects.toThrow(/awaits approval/);
  });

  it("'after' (default): usable at once and queued for review; 'none': usable, not queued", async () => {
    for (const [approval, queued] of [['after', 1], ['none', 0]] as const) {
      const { guard, use } = guardWith(approval);
      const g = await guard.breakGlass!.grant(nurse, request);
      expect(g.status).toBe('active');
      expect((await use(g.grantId)).effect).toBe('allow');
      expect(await guard.breakGlass!.pendingReviews(officer)).toHaveLength(queued);
      await expect(guard.breakGlass!.approve(officer, g.grantId)).rejects.toThrow(/awaits approval/);
    }
  });

  it('every grant or request raises the default break-glass alert', async () => {
    for (const approval of ['before', 'after', 'none'] as const) {
      const { guard, alerts, anomalies } = guardWith(approval);
      await guard.breakGlass!.grant(nurse, request);
      await anomalies.idle();
      expect(alerts.map((a) => [a.rule, a.actorId])).toEqual([['break-glass', 'rn-9']]);
    }
  });

  it('approval and retention are validated at compile time; retention defaults to 90 days', () => {
    const base = { ...policy, breakGlass: { ...policy.breakGlass! } };
    expect(problemsOf(() => compileUnchecked({ ...base, breakGlass: { ...base.breakGlass, approval: 'later' } }, { secret: SECRET })).join('\n')).toMatch(/approval must be "none", "before" or "after"/);
    expect(problemsOf(() => compileUnchecked({ ...base, breakGlass: { ...base.breakGlass, retentionDays: 0 } }, { secret: SECRET })).join('\n')).toMatch(/retentionDays/);
    expect(problemsOf(() => compileUnchecked({ ...base, breakGlass: { ...base.breakGlass, aproval: 'before' } }, { secret: SECRET })).join('\n')).toMatch(/did you mean "approval"/);
    expect(compilePolicy(base, { secret: SECRET }).access.breakGlass).toMatchObject({ approval: 'after', retentionDays: 90 });
    expect(compilePolicy({ ...base, breakGlass: { ...base.breakGlass, retentionDays: 2190 } }, { secret: SECRET }).access.breakGlass!.retentionDays).toBe(2190);
  });

  it('grant records are kept for the configured retention', async () => {
    const store = createMemoryStateStore();
    const ttls: number[] = [];
    const set = store.set.bind(store);
    store.set = async (k, v, ttl) => {
      if (k.startsWith('bg:grant:') && ttl !== undefined) ttls.push(ttl);
      return set(k, v, ttl);
    };
    const compiled = compilePolicy({ ...policy, breakGlass: { ...policy.breakGlass!, retentionDays: 400 } }, { secret: SECRET, mode: 'production' });
    const guard = createPhiGuard({ policy: compiled, audit: { write: () => undefined }, relationship: () => ({}), state: store });
    await guard.breakGlass!.grant(nurse, request);
    expect(ttls).toEqual([400 * 86_400_000]);
  });
});
