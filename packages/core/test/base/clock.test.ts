import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  OptionsError,
  PolicyError,
  StepUpRequiredError,
  compilePolicy,
  createPhiGuard,
  systemClock,
} from '@phiguard/core';
import { createMemoryStateStore } from '@phiguard/core/state';
import { createManualClock } from '@phiguard/core/testing';
import { RECORD, SECRET, policy, who } from '../access/fixture.js';

/** One clock through the engine: decisions, break-glass grants and the default state store read it. */
const T0 = Date.UTC(2030, 0, 1);
const audit = { write: () => undefined };
const request = { patientId: '1001', reason: 'life-threatening-emergency', justification: 'Unresponsive in ED, no care team reachable' };

describe('Clock', () => {
  it('the system clock is the wall clock', () => {
    const before = Date.now();
    const t = systemClock.now();
    expect(t).toBeGreaterThanOrEqual(before);
    expect(t).toBeLessThanOrEqual(Date.now());
  });

  it('a manual clock moves only forward, and only when told', () => {
    const clock = createManualClock(T0);
    expect(clock.now()).toBe(T0);
    clock.advance(5);
    expect(clock.now()).toBe(T0 + 5);
    expect(() => clock.advance(-1)).toThrow(TypeError);
    expect(() => clock.advance(Number.NaN)).toThrow(TypeError);
    expect(clock.now()).toBe(T0 + 5);
  });

  it('createMemoryStateStore: every TTL ends exactly ttlMs later on its clock (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 10_000_000 }), fc.integer({ min: 0, max: 2 }), async (ttl, op) => {
        const clock = createManualClock(T0);
        const store = createMemoryStateStore({ clock });
        if (op === 0) await store.set('k', 'v', ttl);
        else if (op === 1) await store.setIfAbsent('k', 'v', ttl);
        else await store.increment('k', ttl);
        clock.advance(ttl - 1);
        expect(await store.get('k')).not.toBeNull();
        clock.advance(1);
        expect(await store.get('k')).toBeNull();
      }),
      { numRuns: 60 },
    );
  });

  it('createPhiGuard({ clock }): one clock for the grant, its expiry in decisions and in the default state store', async () => {
    const clock = createManualClock(T0);
    const guard = createPhiGuard({ policy, secret: SECRET, mode: 'production', audit, relationship: () => ({ careTeam: false }), clock });
    expect(guard.policy.clock).toBe(clock);
    const nurse = who('rn-1', ['nurse'], 'TREAT');
    const { grantId, expiresAt } = await guard.breakGlass!.grant(nurse, { ...request, minutes: 10 });
    expect(expiresAt).toBe(T0 + 10 * 60_000);
    clock.advance(10 * 60_000 - 1);
    const live = await guard.resolve({ ...nurse, breakGlass: { grantId } }, 'Results', '1001');
    expect(guard.authorize(live, 'Results', 'read', '1001').effect).toBe('allow');
    clock.advance(1);
    // Both the resolved grant and a fresh lookup are expired at the same instant.
    expect(guard.authorize(live, 'Results', 'read', '1001')).toEqual({ effect: 'deny', reason: 'break_glass_invalid' });
    const again = await guard.resolve({ ...nurse, breakGlass: { grantId } }, 'Results', '1001');
    expect(guard.authorize(again, 'Results', 'read', '1001')).toEqual({ effect: 'deny', reason: 'break_glass_invalid' });
  });

  it('audit events written by the engine (a break-glass grant, a denial) carry its clock', async () => {
    const clock = createManualClock(T0);
    const events: { action: string; time: string }[] = [];
    const guard = createPhiGuard({ policy, secret: SECRET, mode: 'production', audit: { write: (e) => void events.push(e) }, relationship: () => ({ careTeam: false }), clock });
    const nurse = who('rn-2', ['nurse'], 'TREAT');
    await guard.breakGlass!.grant(nurse, request);
    clock.advance(1234);
    const denied = guard.authorize(who('x', ['unknown-role'], 'TREAT'), 'Results', 'read');
    expect(denied.effect).toBe('deny');
    expect(events.map((e) => e.time)).toEqual([new Date(T0).toISOString(), new Date(T0 + 1234).toISOString()]);
  });

  it('step-up age is measured on the policy clock', () => {
    const clock = createManualClock(T0);
    const compiled = compilePolicy(policy, { secret: SECRET, mode: 'production', clock });
    const d = compiled.decide(who('dr', ['doctor'], 'TREAT'), 'Results');
    if (d.effect !== 'allow') throw new Error('expected allow');
    const doctor = who('dr', ['doctor'], 'TREAT', { authentication: { methods: ['pwd', 'otp'], time: T0 / 1000 } });
    expect(() => d.plan.apply(RECORD, doctor)).not.toThrow();
    clock.advance(600_000); // maxAgeSeconds: 600
    expect(() => d.plan.apply(RECORD, doctor)).not.toThrow();
    clock.advance(1000);
    expect(() => d.plan.apply(RECORD, doctor)).toThrow(StepUpRequiredError);
  });

  it('a bad clock is refused at start-up, and a clock goes with the policy definition, not beside a compiled policy', () => {
    for (const bad of [5, 'now', {}, { now: 1 }, null]) {
      expect(() => compilePolicy(policy, { secret: SECRET, clock: bad as never })).toThrow(PolicyError);
      expect(() => createMemoryStateStore({ clock: bad as never })).toThrow(OptionsError);
    }
    expect(() => createMemoryStateStore({ clok: createManualClock() } as never)).toThrow(/did you mean "clock"/);
    const compiled = compilePolicy(policy, { secret: SECRET, mode: 'production' });
    expect(() => createPhiGuard({ policy: compiled, audit, relationship: () => ({}), clock: createManualClock() })).toThrow(/pass them to compilePolicy/);
    expect(() => createPhiGuard({ policy, secret: SECRET, audit, relationship: () => ({}), clok: createManualClock() } as never)).toThrow(/did you mean "clock"/);
  });
});
