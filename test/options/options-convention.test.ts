import { describe, expect, it } from 'vitest';
import express from 'express';
import { OptionsError, createFieldCipher, createPhiGuard, createScanner, definePolicy } from '../../packages/core/src/index.js';
import { createPickupLinks } from '../../packages/core/src/entries/delivery.js';
import { createMemoryStateStore } from '../../packages/core/src/entries/state.js';
import { phiguard } from '../../packages/express/src/index.js';

// A secret-looking value that must never appear in an error: each factory gets it where a
// wrong-type or unknown option is, and the message and issues are searched for it.
const SECRET = 'sk-live-4f9c2e7d1b0a5e6f';

const policy = definePolicy({
  roles: ['clerk'],
  resources: { Note: { fields: { id: { class: 'identifier' } }, rules: [{ roles: ['clerk'], purposes: ['TREAT'], allow: ['id'] }] } },
} as never);
const keyring = { wrap: async () => ({}), unwrap: async () => new Uint8Array(32) } as never;

/** Factory name → (extra options) → call. Each takes its minimal valid options plus `extra`. */
const FACTORIES: Record<string, { known: string; call: (extra: Record<string, unknown>) => unknown }> = {
  createPhiGuard: { known: 'secret', call: (x) => createPhiGuard({ policy, audit: { write() {} }, ...x } as never) },
  createScanner: { known: 'types', call: (x) => createScanner(x as never) },
  createFieldCipher: { known: 'keyring', call: (x) => createFieldCipher({ keyring, ...x } as never) },
  createPickupLinks: { known: 'secret', call: (x) => createPickupLinks({ secret: 'a'.repeat(32), store: createMemoryStateStore(), ...x } as never) },
  'express phiguard': { known: 'context', call: (x) => express().use(phiguard({ policy, audit: { write() {} }, context: () => null, ...x } as never)) },
};

function thrown(f: () => unknown): OptionsError {
  try {
    f();
  } catch (err) {
    if (err instanceof OptionsError) return err;
    throw err;
  }
  throw new Error('no OptionsError');
}

/** A near miss of a known key: one letter swapped. */
const nearMiss = (key: string) => `${key.slice(0, -2)}${key.at(-1)}${key.at(-2)}`;

describe.each(Object.entries(FACTORIES))('%s follows the options convention', (_name, { known, call }) => {
  it('names an unknown key, suggests the near miss, and never echoes its value', () => {
    const err = thrown(() => call({ [nearMiss(known)]: SECRET }));
    const issue = err.issues.find((i) => i.problem === 'unknown');
    expect(issue?.path).toBe(nearMiss(known));
    expect(`${err.message} ${JSON.stringify(err.issues)}`).toContain(known);
    expect(`${err.message} ${JSON.stringify(err.issues)}`).not.toContain(SECRET);
  });

  it('reports every unknown key at once', () => {
    const err = thrown(() => call({ zzUnknownOne: 1, zzUnknownTwo: 2 }));
    expect(err.issues.filter((i) => i.problem === 'unknown').map((i) => i.path).sort()).toEqual(['zzUnknownOne', 'zzUnknownTwo']);
  });
});

describe('wrong-typed options are structured issues without the value', () => {
  const cases: [string, () => unknown, string][] = [
    ['createPhiGuard relationship', () => FACTORIES.createPhiGuard!.call({ relationship: SECRET }), 'relationship'],
    ['createPickupLinks ttlSeconds', () => FACTORIES.createPickupLinks!.call({ ttlSeconds: SECRET }), 'ttlSeconds'],
    ['express onUnmappedRoute', () => FACTORIES['express phiguard']!.call({ onUnmappedRoute: SECRET }), 'onUnmappedRoute'],
  ];
  it.each(cases)('%s', (_n, f, path) => {
    const err = thrown(f);
    const issue = err.issues.find((i) => i.path === path);
    expect(issue).toBeDefined();
    expect(issue!.received).toBe('string');
    expect(`${err.message} ${JSON.stringify(err.issues)}`).not.toContain(SECRET);
  });
});
