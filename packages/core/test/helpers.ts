/**
 * Shared fixtures for the @phiguard/core suites. Small on purpose: each suite builds the policy
 * it needs next to the assertions that depend on it.
 */
import { expect } from 'vitest';
import {
  compilePolicy,
  PolicyError,
  type AccessContext,
  type CompileOptions,
  type OperatorSpec,
  type PolicyDefinition,
} from '@phiguard/core';

/** 32 bytes: the shortest secret compilePolicy accepts. */
export const SECRET = 'phiguard-test-secret-0123456789abcdef';

/** Compiles a policy the type checker would reject, to exercise runtime validation. */
export function compileUnchecked(policy: unknown, options: unknown = {}) {
  return compilePolicy(policy as PolicyDefinition, options as CompileOptions);
}

/** The problems of the PolicyError that `fn` throws (fails the test when it does not throw one). */
export function problemsOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(PolicyError);
    const e = err as PolicyError;
    expect(e.code).toBe('policy_invalid');
    return e.problems;
  }
  expect.fail('expected a PolicyError');
}

/** A caller with `roles` and `purposeOfUse`. */
export function ctx(roles: readonly string[], purposeOfUse: string | null | undefined, patientId?: string | number): AccessContext {
  return { principal: { id: 'user-1', patientId }, roles, purposeOfUse };
}

/** Freezes `value` and everything reachable from it, so any write to the input throws. */
export function deepFreeze<T>(value: T, seen = new Set<unknown>()): T {
  if (value !== null && typeof value === 'object' && !seen.has(value)) {
    seen.add(value);
    for (const key of Reflect.ownKeys(value)) deepFreeze((value as Record<PropertyKey, unknown>)[key], seen);
    Object.freeze(value);
  }
  return value;
}

/**
 * Applies one operator rule to one value: a one-field policy (`v`, direct identifier) whose only
 * rule is `op`. Returns the projected document (the field is absent when the operator omits it).
 */
export function applyOperator(op: OperatorSpec, value: unknown, options: CompileOptions = {}): Record<string, unknown> {
  const policy = compilePolicy(
    {
      roles: ['r'],
      resources: { R: { fields: { v: 'direct-identifier' }, disclose: { r: { TREAT: { v: op } } } } },
    },
    { secret: SECRET, mode: 'production', ...options },
  );
  return policy.protect<Record<string, unknown>>({ v: value }, ctx(['r'], 'TREAT'), 'R').value;
}
