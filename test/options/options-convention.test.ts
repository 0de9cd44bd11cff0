import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import express from 'express';
import { OptionsError, compilePolicy, createFieldCipher, createPhiGuard, createScanner, definePolicy } from '../../packages/core/src/index.js';
import {
  createAnomalySink,
  createAuditPurgeTarget,
  createBufferedSink,
  createChainSink,
  createDurableSink,
  createNdjsonFileSink,
  createOtelAuditSink,
  createPostgresAuditSink,
  createStreamSink,
  verifyChain,
} from '../../packages/core/src/entries/audit.js';
import { createFF1, createPseudonymizer, createSafeHarbor, createVault, safeHarborDetectors } from '../../packages/core/src/entries/deid.js';
import { createPickupLinks } from '../../packages/core/src/entries/delivery.js';
import {
  createAccountingSuspensions,
  createAuthorizations,
  createChannelExceptions,
  createDenyList,
  createDisclosures,
  createGovernedKeyring,
  createLegalHolds,
  createPostgresDisclosureCopyStore,
  createPurgeJob,
  createRecipientRegistry,
} from '../../packages/core/src/entries/governance.js';
import { createMemoryStateStore } from '../../packages/core/src/entries/state.js';
import { phiguard } from '../../packages/express/src/index.js';
import { createAwsKmsKeyring, createLocalKeyring, createMultiKeyring, createPkcs11Key, createPkcs11Keyring } from '../../packages/kms/src/index.js';

// A secret-looking value that must never appear in an error: each factory gets it where a
// wrong-type or unknown option is, and the message and issues are searched for it.
const SECRET = 'sk-live-4f9c2e7d1b0a5e6f';

const policy = definePolicy({
  roles: ['clerk'],
  resources: { Note: { fields: { id: { class: 'identifier' } }, rules: [{ roles: ['clerk'], purposes: ['TREAT'], allow: ['id'] }] } },
} as never);
const keyring = { wrap: async () => ({}), unwrap: async () => new Uint8Array(32) } as never;

// Stand-ins that each factory accepts at construction. Every case below fails while the options
// are parsed, before any of them is called, so none of them needs behaviour.
const sink = { write() {} };
const pool = { query: async () => ({ rows: [] }) };
const fullKeyring = { generateDataKey: async () => ({}), encryptDataKey: async () => [], decryptDataKey: async () => new Uint8Array(32) };
const key32 = new Uint8Array(32).fill(3);
const store = createMemoryStateStore();
const patientRef = (id: string | number) => `p_${String(id)}`;
const compiled = compilePolicy(
  definePolicy({ roles: ['r'], resources: { Note: { id: 'id', fields: { id: 'non-phi', text: 'clinical' }, disclose: { r: { TREAT: { '*': 'send' } } } } } }),
);
const guard = { authorize() {}, policy: compiled };
const recipients = { admit() {} };
const ARN = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';

/**
 * The factories converted to the convention, each with: its minimal valid options (`base`), how
 * it is called, a key it knows (misspelt in one case), a key given a value of the wrong kind,
 * and a required key (removed in one case). A wrong-kind value is the secret itself, or the
 * secret inside an array where a string is expected.
 */
interface Case {
  readonly base: Record<string, unknown>;
  readonly call: (options: Record<string, unknown>) => unknown;
  readonly known: string;
  readonly wrong: readonly [path: string, value: unknown];
  readonly required?: string;
}
const S = SECRET;
const CONVERTED: Record<string, Case> = {
  createStreamSink: { base: {}, call: (o) => createStreamSink(new PassThrough(), o as never), known: 'format', wrong: ['format', [S]] },
  createBufferedSink: { base: {}, call: (o) => createBufferedSink(sink, o as never), known: 'maxBuffer', wrong: ['maxBatch', S] },
  createChainSink: { base: { key: key32 }, call: (o) => createChainSink(sink, o as never), known: 'stream', wrong: ['resume', S], required: 'key' },
  verifyChain: { base: { key: key32 }, call: (o) => verifyChain([], o as never), known: 'checkpoints', wrong: ['heads', S], required: 'key' },
  createDurableSink: { base: { dir: '/nonexistent/phiguard-options', key: key32 }, call: (o) => createDurableSink(o as never), known: 'maxPending', wrong: ['fsync', S], required: 'dir' },
  createNdjsonFileSink: { base: { path: '/nonexistent/phiguard-options.ndjson' }, call: (o) => createNdjsonFileSink(o as never), known: 'path', wrong: ['sync', S], required: 'path' },
  createPostgresAuditSink: { base: { pool }, call: (o) => createPostgresAuditSink(o as never), known: 'batchRows', wrong: ['table', [S]], required: 'pool' },
  createAuditPurgeTarget: { base: { pool, key: key32 }, call: (o) => createAuditPurgeTarget(o as never), known: 'pageSize', wrong: ['key', S], required: 'key' },
  createOtelAuditSink: { base: { trace: { getActiveSpan: () => undefined } }, call: (o) => createOtelAuditSink(o as never), known: 'trace', wrong: ['trace', S], required: 'trace' },
  createAnomalySink: { base: { rules: [], onAlert() {} }, call: (o) => createAnomalySink(o as never), known: 'onAlert', wrong: ['breakGlassAlerts', S], required: 'onAlert' },
  createFF1: { base: { key: new Uint8Array(16), radix: 10 }, call: (o) => createFF1(o as never), known: 'maxLength', wrong: ['tweak', 7], required: 'radix' },
  createSafeHarbor: { base: { resource: 'Note', policy: compiled }, call: (o) => createSafeHarbor(o as never), known: 'freeText', wrong: ['remove', S], required: 'policy' },
  createPseudonymizer: { base: { key: key32, tenant: 'clinic-1' }, call: (o) => createPseudonymizer(o as never), known: 'prefix', wrong: ['bytes', S], required: 'tenant' },
  createVault: { base: { pool, key: key32, audit: sink }, call: (o) => createVault(o as never), known: 'reidentifyRole', wrong: ['purposes', S], required: 'audit' },
  safeHarborDetectors: { base: {}, call: (o) => safeHarborDetectors(o as never), known: 'counties', wrong: ['now', S] },
  createLegalHolds: { base: { store, audit: sink, patientRef, roles: ['privacy'] }, call: (o) => createLegalHolds(o as never), known: 'patientRef', wrong: ['roles', S], required: 'patientRef' },
  createAccountingSuspensions: { base: { store, audit: sink, patientRef, roles: ['privacy'] }, call: (o) => createAccountingSuspensions(o as never), known: 'roles', wrong: ['clock', S], required: 'store' },
  createDenyList: { base: { store, audit: sink, roles: ['security'] }, call: (o) => createDenyList(o as never), known: 'roles', wrong: ['store', S], required: 'audit' },
  createChannelExceptions: { base: { store, audit: sink, patientRef }, call: (o) => createChannelExceptions(o as never), known: 'patientRef', wrong: ['patientRef', S], required: 'store' },
  createAuthorizations: { base: { store, audit: sink, patientRef, intakeRoles: ['hi'], revokerRoles: ['hi'] }, call: (o) => createAuthorizations(o as never), known: 'intakeRoles', wrong: ['revokerRoles', S], required: 'revokerRoles' },
  createRecipientRegistry: { base: { store, audit: sink, secret: 'r'.repeat(32), managerRoles: ['privacy'] }, call: (o) => createRecipientRegistry(o as never), known: 'managerRoles', wrong: ['agreementRequiredFor', S], required: 'secret' },
  createGovernedKeyring: { base: { keyring: fullKeyring, audit: sink, store, roles: ['security'] }, call: (o) => createGovernedKeyring(o as never), known: 'service', wrong: ['keyring', S], required: 'keyring' },
  createDisclosures: { base: { guard, recipients }, call: (o) => createDisclosures(o as never), known: 'recipients', wrong: ['denyList', S], required: 'guard' },
  createPurgeJob: { base: { rules: [{}], audit: sink }, call: (o) => createPurgeJob(o as never), known: 'batch', wrong: ['holds', S], required: 'rules' },
  createPostgresDisclosureCopyStore: { base: { pool }, call: (o) => createPostgresDisclosureCopyStore(o as never), known: 'table', wrong: ['table', [S]], required: 'pool' },
  createLocalKeyring: { base: { key: key32 }, call: (o) => createLocalKeyring(o as never), known: 'allowInProduction', wrong: ['allowInProduction', S] },
  createAwsKmsKeyring: { base: { keyIds: [ARN] }, call: (o) => createAwsKmsKeyring(o as never), known: 'timeoutMs', wrong: ['grantTokens', S], required: 'keyIds' },
  createPkcs11Keyring: { base: { tokenLabel: 't', pin: '0000', keyLabel: 'k' }, call: (o) => createPkcs11Keyring(o as never), known: 'keyLabel', wrong: ['slot', S], required: 'pin' },
  createPkcs11Key: { base: { tokenLabel: 't', pin: '0000', keyLabel: 'k' }, call: (o) => createPkcs11Key(o as never), known: 'ifExists', wrong: ['ifExists', [S]], required: 'keyLabel' },
  createMultiKeyring: { base: { generator: fullKeyring }, call: (o) => createMultiKeyring(o as never), known: 'children', wrong: ['children', S], required: 'generator' },
};

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

/** The OptionsError of `f`, thrown or (for an async factory) rejected. */
async function refused(f: () => unknown): Promise<OptionsError> {
  try {
    await f();
  } catch (err) {
    if (err instanceof OptionsError) return err;
    throw err;
  }
  throw new Error('no OptionsError');
}

/** Neither the message nor the issues carry the secret. */
function expectNoSecret(err: OptionsError): void {
  expect(`${err.message} ${JSON.stringify(err.issues)}`).not.toContain(SECRET);
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
    ['createDurableSink worker', () => createDurableSink({ ...CONVERTED.createDurableSink!.base, worker: SECRET } as never), 'worker'],
  ];
  it.each(cases)('%s', (_n, f, path) => {
    const err = thrown(f);
    const issue = err.issues.find((i) => i.path === path);
    expect(issue).toBeDefined();
    expect(issue!.received).toBe('string');
    expect(`${err.message} ${JSON.stringify(err.issues)}`).not.toContain(SECRET);
  });
});

describe('a store described to createDurableSink is checked without echoing it', () => {
  // A connection string may carry a password: the issue names the option, never its content.
  const base = CONVERTED.createDurableSink!.base;
  const url = `postgres://app:${SECRET}@db.internal/audit`;
  const cases: [string, unknown][] = [
    ['a table that is no SQL identifier', { postgres: { connectionString: url, table: `t ${SECRET}` } }],
    ['a pool size out of range', { postgres: { connectionString: url, poolSize: 0 } }],
    ['an unknown key beside postgres', { postgres: { connectionString: url }, password: SECRET }],
    ['a relative module path', { module: `./${SECRET}.mjs` }],
    ['a described store on this thread', { postgres: { connectionString: url } }],
  ];
  it.each(cases)('%s', (name, ship) => {
    const err = thrown(() => createDurableSink({ ...base, ship, ...(name.includes('this thread') ? { worker: false } : {}) } as never));
    expect(err.issues.map((i) => i.path)).toContain('ship');
    expect(`${err.message} ${JSON.stringify(err.issues)}`).not.toContain(SECRET);
  });
});

describe.each(Object.entries(CONVERTED))('%s follows the options convention', (name, c) => {
  it('names a misspelt key with the key it resembles, as an `unknown` issue without the value', async () => {
    const err = await refused(() => c.call({ ...c.base, [nearMiss(c.known)]: SECRET }));
    expect(err.issues).toContainEqual({ problem: 'unknown', path: nearMiss(c.known), expected: 'a known option', received: 'string', suggestion: c.known });
    expect(err.message).toContain(`unknown ${name} option "${nearMiss(c.known)}"; did you mean "${c.known}"?`);
    expectNoSecret(err);
  });

  it('reports a value of the wrong kind as a `type` or `invalid` issue at its path, without the value', async () => {
    const [path, value] = c.wrong;
    const err = await refused(() => c.call({ ...c.base, [path]: value }));
    const issue = err.issues.find((i) => i.path === path);
    expect(issue).toBeDefined();
    expect(['type', 'invalid']).toContain(issue!.problem);
    expect(issue!.received).toBe(Array.isArray(value) ? 'array' : typeof value);
    expect(issue!.expected.length).toBeGreaterThan(0);
    expect(err.message).toContain(`\`${path}\``);
    expectNoSecret(err);
  });

  it('refuses options that are not an object', async () => {
    const err = await refused(() => c.call(SECRET as never));
    expect(err.issues).toEqual([{ problem: 'type', path: '', expected: 'an object', received: 'string' }]);
    expectNoSecret(err);
  });
});

const WITH_REQUIRED = Object.entries(CONVERTED).filter(([, c]) => c.required !== undefined);
describe.each(WITH_REQUIRED)('%s refuses a missing required key', (_name, c) => {
  it('as a `missing` issue naming the key', async () => {
    const { [c.required!]: _, ...rest } = c.base;
    const err = await refused(() => c.call({ ...rest, zzSecret: SECRET }));
    expect(err.issues).toContainEqual(expect.objectContaining({ problem: 'missing', path: c.required, received: 'undefined' }));
    expect(err.message).toContain(`needs \`${c.required}\``);
    expectNoSecret(err);
  });
});

describe('a nested option is checked at its dotted path', () => {
  it.each([
    ['createBufferedSink chain.key', () => createBufferedSink(sink, { chain: { key: SECRET } } as never), 'chain.key', 'type'],
    ['createBufferedSink chain.key (short)', () => createBufferedSink(sink, { chain: { key: new Uint8Array(8) } } as never), 'chain.key', 'invalid'],
    ['createBufferedSink chain.resume.hash', () => createBufferedSink(sink, { chain: { key: key32, resume: { seq: 1, hash: SECRET } } } as never), 'chain.resume.hash', 'invalid'],
    ['createChainSink resume.seq', () => createChainSink(sink, { key: key32, resume: { hash: '0'.repeat(64) } } as never), 'resume.seq', 'missing'],
  ] as const)('%s', async (_n, f, path, problem) => {
    const err = await refused(f);
    expect(err.issues).toContainEqual(expect.objectContaining({ path, problem }));
    expectNoSecret(err);
  });
});
