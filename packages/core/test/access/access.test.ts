import { describe, expect, it } from 'vitest';
import {
  AccessDeniedError,
  StepUpRequiredError,
  compilePolicy,
  createPhiGuard,
  type AuditEvent,
  type RelationshipFacts,
} from '@phiguard/core';
import { fromTemplate } from '@phiguard/core/policy';
import { createMemoryStateStore } from '@phiguard/core/state';
import { createManualClock, type ManualClock } from '@phiguard/core/testing';
import { compileUnchecked, problemsOf } from '../helpers.js';
import { RECORD, SECRET, nowSeconds, policy, who } from './fixture.js';

const compiled = compilePolicy(policy, { secret: SECRET, mode: 'production' });
const allow = (d: ReturnType<typeof compiled.decide>) => {
  if (d.effect !== 'allow') throw new Error(`expected allow, got ${d.reason}`);
  return d;
};

function guardWith(facts: RelationshipFacts = { careTeam: true }, clock?: ManualClock) {
  const events: AuditEvent[] = [];
  const store = createMemoryStateStore({ clock });
  const guard = createPhiGuard({
    policy: clock === undefined ? compiled : compilePolicy(policy, { secret: SECRET, mode: 'production', clock }),
    audit: { write: (e) => void events.push(e) },
    relationship: () => facts,
    state: store,
  });
  return { guard, events, store };
}

describe('separation of duties', () => {
  it('denies a caller holding incompatible roles', () => {
    expect(compiled.decide(who('u', ['designer', 'approver'], 'HOPERAT'), 'Results')).toEqual({ effect: 'deny', reason: 'separation_of_duties' });
    expect(compiled.decide(who('u', ['designer'], 'HOPERAT'), 'Results').effect).toBe('allow');
  });
  it('is validated at compile time', () => {
    const base = { roles: ['a'], resources: { R: { fields: { x: 'clinical' }, disclose: { a: { TREAT: { x: 'send' } } } } } };
    expect(problemsOf(() => compileUnchecked({ ...base, separationOfDuties: [['a', 'zz']] })).join('\n')).toMatch(/unknown role "zz"/);
    expect(problemsOf(() => compileUnchecked({ ...base, separationOfDuties: [['a']] })).join('\n')).toMatch(/at least two roles/);
  });
});

describe('relationships', () => {
  it('a nurse on the care team is allowed; one who is not is denied with relationship_required', async () => {
    const on = guardWith({ careTeam: true });
    const ctx = await on.guard.resolve(who('rn-1', ['nurse'], 'TREAT'), 'Results', '1001');
    expect(on.guard.authorize(ctx, 'Results', 'read', '1001').effect).toBe('allow');
    const off = guardWith({ careTeam: false });
    const ctx2 = await off.guard.resolve(who('rn-2', ['nurse'], 'TREAT'), 'Results', '1001');
    expect(off.guard.authorize(ctx2, 'Results', 'read', '1001')).toEqual({ effect: 'deny', reason: 'relationship_required' });
    expect(off.events.at(-1)).toMatchObject({ action: 'deny', reason: 'relationship_required' });
  });

  it('an encounter counts from admission to discharge plus the follow-up period', async () => {
    const day = 86_400_000;
    const kinds = async (admitted: number, discharged: number | null) => {
      const { guard } = guardWith({ encounters: [{ admittedAt: Date.now() - admitted * day, dischargedAt: discharged === null ? null : Date.now() - discharged * day }] });
      return (await guard.resolve(who('rn', ['nurse'], 'TREAT'), 'Results', '1001')).patientRelationship;
    };
    expect(await kinds(10, null)).toEqual(['encounter']);
    expect(await kinds(40, 20)).toEqual(['encounter']);
    expect(await kinds(60, 40)).toEqual([]);
  });

  it('roles without a relationship rule need none, and a policy requiring one needs a resolver and a subjectParam', () => {
    expect(compiled.decide(who('dr', ['doctor'], 'TREAT'), 'Results', '1001').effect).toBe('allow');
    expect(() => createPhiGuard({ policy: compiled, audit: { write() {} } })).toThrow(/pass `relationship`/);
    const problems = problemsOf(() =>
      compileUnchecked({ roles: ['a'], resources: { R: { fields: { x: 'clinical' }, relationship: { a: { TREAT: 'care-team' } }, disclose: { a: { TREAT: { x: 'send' } } } } } }),
    );
    expect(problems.join('\n')).toMatch(/must declare "subjectParam"/);
  });
});

describe('sensitive categories', () => {
  it('masks the HIV and genetic results for the nurse and records it', () => {
    const { plan } = allow(compiled.decide(who('rn', ['nurse'], 'TREAT', { patientRelationship: ['care-team'] }), 'Results'));
    const { value, disclosure } = plan.apply<typeof RECORD>(RECORD, who('rn', ['nurse'], 'TREAT', { patientRelationship: ['care-team'] }));
    expect(value.observations).toEqual([
      { code: '2345-7', tags: [], value: 105, note: 'fasting' },
      { code: '20447-9', tags: ['HIV'] },
      { code: '21636-6', tags: ['GDIS'] },
    ]);
    expect(disclosure.transforms).toMatchObject({ 'observations[].value': 'masked', 'observations[].note': 'masked' });
  });

  it('shows the HIV result to the ordering doctor only with a recent second factor; 401 step_up_required otherwise', () => {
    const { plan } = allow(compiled.decide(who('dr', ['doctor'], 'TREAT'), 'Results'));
    const fresh = who('dr', ['doctor'], 'TREAT', { authentication: { methods: ['pwd', 'otp'], time: nowSeconds() - 60 } });
    expect(plan.apply<typeof RECORD>(RECORD, fresh).value.observations[1]).toEqual(RECORD.observations[1]);
    const stale = who('dr', ['doctor'], 'TREAT', { authentication: { methods: ['pwd', 'otp'], time: nowSeconds() - 3600 } });
    const pwdOnly = who('dr', ['doctor'], 'TREAT', { authentication: { methods: ['pwd'], time: nowSeconds() } });
    for (const c of [stale, pwdOnly, who('dr', ['doctor'], 'TREAT')]) {
      let err: unknown;
      try {
        plan.apply(RECORD, c);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(StepUpRequiredError);
      expect(err).toMatchObject({ status: 401, code: 'step_up_required', reason: 'step_up_required', maxAgeSeconds: 600 });
    }
    // A record without HIV results needs no second factor.
    const plain = { ...RECORD, observations: [RECORD.observations[0]!] };
    expect(plan.apply(plain, who('dr', ['doctor'], 'TREAT')).value).toEqual(plain);
  });

  it('audits a step-up refusal as a denial', () => {
    const { guard, events } = guardWith();
    const d = allow(guard.authorize(who('dr', ['doctor'], 'TREAT'), 'Results', 'read'));
    expect(() => guard.release(d.plan, RECORD, who('dr', ['doctor'], 'TREAT'), 'read')).toThrow(StepUpRequiredError);
    expect(events.at(-1)).toMatchObject({ action: 'deny', outcome: 'denied', reason: 'step_up_required' });
  });

  it('is validated at compile time', () => {
    const def = (sensitive: unknown) =>
      problemsOf(() =>
        compileUnchecked({ roles: ['a'], resources: { R: { fields: { 'xs[].v': 'clinical', 'xs[].c': 'clinical' }, sensitive, disclose: { a: { TREAT: { '*': 'send' } } } } } }),
      ).join('\n');
    expect(def([{ elements: 'xs', codes: 'c', mask: ['v'], categories: { HIV: { codes: ['1'] } } }])).toMatch(/ending in \[\]/);
    expect(def([{ elements: 'xs[]', codes: 'c', mask: ['w'], categories: { HIV: { codes: ['1'] } } }])).toMatch(/"w" is not a declared field/);
    expect(def([{ elements: 'xs[]', codes: 'c', mask: ['v'], categories: { HIV: {} } }])).toMatch(/give codes or tags/);
    expect(def([{ elements: 'xs[]', codes: 'c', mask: ['v'], categories: { HIV: { codes: ['1'], reveal: { b: ['TREAT'] } } } }])).toMatch(/unknown role "b"/);
  });
});

describe('break-glass', () => {
  const request = { patientId: '1001', reason: 'life-threatening-emergency', justification: 'Unresponsive in ED, no care team reachable' };

  it('grants a nurse outside the care team emergency access to one patient, flagged in every audit event', async () => {
    const { guard, events } = guardWith({ careTeam: false });
    const nurse = who('rn-9', ['nurse'], 'TREAT');
    const { grantId, expiresAt } = await guard.breakGlass!.grant(nurse, request);
    expect(expiresAt - Date.now()).toBeGreaterThan(59 * 60_000);
    expect(events.at(-1)).toMatchObject({ action: 'break-glass', reason: 'granted', purposeOfUse: 'ETREAT', breakGlass: { grantId, reason: 'life-threatening-emergency' } });
    expect(JSON.stringify(events)).not.toContain('Unresponsive');

    const ctx = await guard.resolve({ ...nurse, breakGlass: { grantId } }, 'Results', '1001');
    const d = allow(guard.authorize(ctx, 'Results', 'read', '1001'));
    expect(d.plan.purposeOfUse).toBe('ETREAT');
    expect(d.breakGlass).toMatchObject({ grantId, reason: 'life-threatening-emergency' });
    const r = guard.release(d.plan, RECORD, ctx, 'read');
    expect(r.event.breakGlass).toMatchObject({ grantId, reason: 'life-threatening-emergency' });
    // Sensitive categories stay masked: ETREAT does not reveal HIV to nurses.
    expect((r.value as typeof RECORD).observations[1]).toEqual({ code: '20447-9', tags: ['HIV'] });
  });

  it('refuses reuse for another patient or by another user, a forged validation, and unknown grants', async () => {
    const { guard } = guardWith({ careTeam: false });
    const nurse = who('rn-9', ['nurse'], 'TREAT');
    const { grantId } = await guard.breakGlass!.grant(nurse, request);
    const other = await guard.resolve({ ...nurse, breakGlass: { grantId } }, 'Results', '1002');
    expect(guard.authorize(other, 'Results', 'read', '1002')).toEqual({ effect: 'deny', reason: 'break_glass_invalid' });
    const thief = await guard.resolve({ ...who('rn-x', ['nurse'], 'TREAT'), breakGlass: { grantId } }, 'Results', '1001');
    expect(guard.authorize(thief, 'Results', 'read', '1001')).toEqual({ effect: 'deny', reason: 'break_glass_invalid' });
    const forged = await guard.resolve(
      { ...nurse, breakGlass: { grantId: crypto.randomUUID(), validated: { patientId: '1001', principalId: 'rn-9', reason: 'x', expiresAt: Date.now() + 1e6 } } },
      'Results',
      '1001',
    );
    expect(guard.authorize(forged, 'Results', 'read', '1001')).toEqual({ effect: 'deny', reason: 'break_glass_invalid' });
  });

  it('the framework-free decision ignores a grant the caller wrote into the context itself', () => {
    const { guard } = guardWith({ careTeam: false });
    const forged = {
      ...who('rn-9', ['nurse'], 'TREAT'),
      breakGlass: { grantId: crypto.randomUUID(), validated: { patientId: '1001', principalId: 'rn-9', reason: 'x', expiresAt: Date.now() + 1e6 } },
    };
    // compilePolicy().decide is what applications without an adapter call: it must not trust the block.
    expect(guard.policy.decide(forged, 'Results', '1001')).toEqual({ effect: 'deny', reason: 'break_glass_invalid' });
  });

  it("a grant releases only its patient's record, whatever the route parameter said", async () => {
    const { guard } = guardWith({ careTeam: false });
    const nurse = who('rn-9', ['nurse'], 'TREAT');
    const { grantId } = await guard.breakGlass!.grant(nurse, request);
    const context = await guard.resolve({ ...nurse, breakGlass: { grantId } }, 'Results', '1001');
    const decision = guard.authorize(context, 'Results', 'read', '1001');
    expect(decision.effect).toBe('allow');
    if (decision.effect !== 'allow') return;
    expect(() => guard.release(decision.plan, { ...RECORD, patientId: '1002' }, context, 'read')).toThrow(AccessDeniedError);
  });

  it('a grant requested for a percent-encoded id opens that patient, and its audit names the same patient as the read', async () => {
    const events: AuditEvent[] = [];
    const guard = createPhiGuard({ policy, secret: SECRET, audit: { write: (e) => void events.push(e) }, relationship: () => ({ careTeam: false }) });
    const nurse = who('rn-9', ['nurse'], 'TREAT');
    const { grantId } = await guard.breakGlass!.grant(nurse, { ...request, patientId: '1%30%30%31' });
    const context = await guard.resolve({ ...nurse, breakGlass: { grantId } }, 'Results', '1001');
    const decision = guard.authorize(context, 'Results', 'read', '1001');
    expect(decision.effect).toBe('allow');
    if (decision.effect !== 'allow') return;
    guard.release(decision.plan, RECORD, context, 'read');
    const granted = events.find((e) => e.action === 'break-glass')!;
    const read = events.find((e) => e.action === 'read')!;
    expect(granted.patient?.ref).toBeDefined();
    expect(granted.patient?.ref).toBe(read.patient?.ref);
  });

  it('stops on revocation and on expiry, including expiry while the handler runs', async () => {
    const clock = createManualClock();
    const { guard } = guardWith({ careTeam: false }, clock);
    const nurse = who('rn-9', ['nurse'], 'TREAT');
    const g1 = await guard.breakGlass!.grant(nurse, request);
    await guard.breakGlass!.revoke(nurse, g1.grantId);
    const revoked = await guard.resolve({ ...nurse, breakGlass: { grantId: g1.grantId } }, 'Results', '1001');
    expect(guard.authorize(revoked, 'Results', 'read', '1001')).toEqual({ effect: 'deny', reason: 'break_glass_invalid' });

    const g2 = await guard.breakGlass!.grant(nurse, { ...request, minutes: 0.005 }); // 300 ms
    const live = await guard.resolve({ ...nurse, breakGlass: { grantId: g2.grantId } }, 'Results', '1001');
    const d = allow(guard.authorize(live, 'Results', 'read', '1001'));
    clock.advance(299);
    expect(() => guard.release(d.plan, RECORD, live, 'read')).not.toThrow();
    clock.advance(1);
    expect(() => guard.release(d.plan, RECORD, live, 'read')).toThrow(AccessDeniedError);
    const later = await guard.resolve({ ...nurse, breakGlass: { grantId: g2.grantId } }, 'Results', '1001');
    expect(guard.authorize(later, 'Results', 'read', '1001')).toEqual({ effect: 'deny', reason: 'break_glass_invalid' });
  });

  it('checks the request: role, reason code, justification and duration', async () => {
    const { guard, events } = guardWith();
    await expect(guard.breakGlass!.grant(who('p', ['designer'], 'HOPERAT'), request)).rejects.toMatchObject({ reason: 'break_glass_not_permitted' });
    expect(events.at(-1)).toMatchObject({ action: 'deny', reason: 'break_glass_not_permitted' });
    const nurse = who('rn', ['nurse'], 'TREAT');
    await expect(guard.breakGlass!.grant(nurse, { ...request, reason: 'curious' })).rejects.toThrow(/reason must be one of/);
    await expect(guard.breakGlass!.grant(nurse, { ...request, justification: 'needed' })).rejects.toThrow(/at least 20 characters/);
    await expect(guard.breakGlass!.grant(nurse, { ...request, minutes: 240 })).rejects.toThrow(/at most 60 minutes/);
  });

  it('queues grants for after-action review and records the decision', async () => {
    const { guard, events } = guardWith();
    const nurse = who('rn', ['nurse'], 'TREAT');
    const a = await guard.breakGlass!.grant(nurse, request);
    const b = await guard.breakGlass!.grant(nurse, { ...request, patientId: '1002' });
    const officer = who('po', ['privacy-officer'], 'HOPERAT');
    await expect(guard.breakGlass!.pendingReviews(nurse)).rejects.toBeInstanceOf(AccessDeniedError);
    expect((await guard.breakGlass!.pendingReviews(officer)).map((g) => g.id)).toEqual([a.grantId, b.grantId]);
    await guard.breakGlass!.review(officer, a.grantId, 'appropriate');
    expect((await guard.breakGlass!.pendingReviews(officer)).map((g) => g.id)).toEqual([b.grantId]);
    expect(events.at(-1)).toMatchObject({ action: 'break-glass', reason: 'reviewed:appropriate', actor: { id: 'po' } });
  });

  it('many concurrent requests under one grant are each allowed and audited', async () => {
    const { guard, events } = guardWith({ careTeam: false });
    const nurse = who('rn', ['nurse'], 'TREAT');
    const { grantId } = await guard.breakGlass!.grant(nurse, request);
    const before = events.length;
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        const ctx = await guard.resolve({ ...nurse, breakGlass: { grantId } }, 'Results', '1001');
        const d = allow(guard.authorize(ctx, 'Results', 'read', '1001'));
        guard.release(d.plan, RECORD, ctx, 'read');
      }),
    );
    expect(events.slice(before).filter((e) => e.breakGlass?.grantId === grantId)).toHaveLength(50);
  });

  it('requires ETREAT rules for break-glass roles and a secret', () => {
    const p = problemsOf(() =>
      compileUnchecked({
        roles: ['a', 'r'],
        breakGlass: { roles: ['a'], reviewers: ['r'] },
        resources: { R: { fields: { x: 'clinical' }, disclose: { a: { TREAT: { x: 'send' } }, r: { HOPERAT: { x: 'send' } } } } },
      }),
    ).join('\n');
    expect(p).toMatch(/"a" has no ETREAT rules/);
    expect(p).toMatch(/pass options.secret/);
  });
});

describe('role templates', () => {
  it('start a role from a baseline and merge overrides per purpose', () => {
    expect(fromTemplate('care-team-clinician', { TREAT: { 'patient.ssn': 'redact' }, HOPERAT: { '@clinical': 'send' } })).toEqual({
      TREAT: { '*': 'send', '@sensitive': 'redact', 'patient.ssn': 'redact' },
      ETREAT: { '*': 'send' },
      HOPERAT: { '@clinical': 'send' },
    });
    expect(() => fromTemplate('wizard' as never)).toThrow(/unknown role template/);
  });
});
