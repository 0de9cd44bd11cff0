import { afterEach, describe, expect, it, vi } from 'vitest';
import { KeyUnavailableError, MissingDependencyError, PhiGuardError } from '@phiguard/core';
import { createAwsKmsKeyring, createLocalKeyring, createPkcs11Key, createPkcs11Keyring } from '../src/index.js';
import { peerLoader } from '../src/peer.js';
import type { Peer } from '../src/peer.js';

/**
 * The optional peers are simulated absent through the loader (Node's own "not found" errors);
 * test/packaging/kms-peers.test.ts checks the same against real installs without them.
 */
const EAST = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const CONTEXT = { tenant: 't', resource: 'Patient', field: 'ssn', record: '1' };

/** What Node throws for an absent package: `require.resolve` (CJS) and `import()` (ESM). */
const notFound = (specifier: string) =>
  Object.assign(new Error(`Cannot find module '${specifier}'\nRequire stack:\n- /app/node_modules/@phiguard/kms/dist/index.js`), {
    code: 'MODULE_NOT_FOUND',
  });
const esmNotFound = (specifier: string) =>
  Object.assign(new Error(`Cannot find package '${specifier}' imported from /app/node_modules/@phiguard/kms/dist/index.js`), {
    code: 'ERR_MODULE_NOT_FOUND',
  });

function absent(...missing: Peer[]) {
  const realResolve = peerLoader.resolve;
  const realImport = peerLoader.import;
  vi.spyOn(peerLoader, 'resolve').mockImplementation((s) => {
    if (missing.includes(s)) throw notFound(s);
    return realResolve(s);
  });
  vi.spyOn(peerLoader, 'import').mockImplementation((s) => (missing.includes(s) ? Promise.reject(esmNotFound(s)) : realImport(s)));
}

afterEach(() => {
  vi.restoreAllMocks();
});

const construct = {
  createAwsKmsKeyring: () => createAwsKmsKeyring({ keyIds: [EAST] }),
  createPkcs11Keyring: () => createPkcs11Keyring({ tokenLabel: 'any', pin: '1234', keyLabel: 'k' }),
  createPkcs11Key: () => createPkcs11Key({ tokenLabel: 'any', pin: '1234', keyLabel: 'k' }),
} as const;

describe('optional peer dependencies', () => {
  it.each([
    ['createAwsKmsKeyring', '@aws-sdk/client-kms'],
    ['createPkcs11Keyring', 'pkcs11js'],
    ['createPkcs11Key', 'pkcs11js'],
  ] as const)('%s without %s: MissingDependencyError at construction, naming the package', async (by, peer) => {
    absent(peer);
    let thrown: unknown;
    try {
      await construct[by]();
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(MissingDependencyError);
    expect(thrown).toBeInstanceOf(PhiGuardError);
    const e = thrown as MissingDependencyError;
    expect(e).toMatchObject({ code: 'dependency_missing', dependency: peer, requiredBy: by, name: 'MissingDependencyError' });
    expect(e.message).toContain(`npm install ${peer}`);
    expect(e.message.startsWith(`${by} needs the optional peer dependency ${peer}`)).toBe(true);
    if (peer === 'pkcs11js') expect(e.message).toContain('npm install-scripts approve pkcs11js');
  });

  it('each keyring needs only its own peer (AWS without pkcs11js, PKCS#11 without the AWS SDK, local without either)', () => {
    absent('pkcs11js');
    expect(construct.createAwsKmsKeyring().keyIds).toEqual([EAST]);
    vi.restoreAllMocks();
    absent('@aws-sdk/client-kms');
    expect(construct.createPkcs11Keyring().keyId).toBe('pkcs11:k');
    absent('@aws-sdk/client-kms', 'pkcs11js');
    expect(createLocalKeyring({ key: new Uint8Array(32).fill(7) }).keyId).toMatch(/^local:[0-9a-f]{16}$/);
  });

  it('a package that disappears after construction: MissingDependencyError on first use, and the next call loads again', async () => {
    const k = createAwsKmsKeyring({ keyIds: [EAST], timeoutMs: 200, maxAttempts: 1 });
    absent('@aws-sdk/client-kms');
    await expect(k.generateDataKey(CONTEXT)).rejects.toBeInstanceOf(MissingDependencyError);
    await expect(k.generateDataKey(CONTEXT)).rejects.toBeInstanceOf(MissingDependencyError);
    // Not cached as a failure: the loader is asked again each time.
    expect(peerLoader.import).toHaveBeenCalledTimes(2);
    k.close();
  });

  it('a missing module inside the peer (not the peer itself) is not reported as "install the peer"', () => {
    vi.spyOn(peerLoader, 'resolve').mockImplementation(() => {
      throw notFound('@smithy/some-internal');
    });
    expect(construct.createAwsKmsKeyring).toThrow(/Cannot find module '@smithy\/some-internal'/);
    expect(construct.createAwsKmsKeyring).not.toThrow(MissingDependencyError);
  });

  it('a native addon that fails to load: KeyUnavailableError with the remedy, without echoing the loader message', async () => {
    const k = construct.createPkcs11Keyring();
    vi.spyOn(peerLoader, 'import').mockRejectedValue(
      new Error('/app/node_modules/pkcs11js/build/Release/pkcs11.node: Module did not self-register (secret-path)'),
    );
    const error = await k.generateDataKey(CONTEXT).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(KeyUnavailableError);
    expect((error as Error).message).toContain('npm rebuild pkcs11js');
    expect((error as Error).message).not.toContain('secret-path');
    await k.close();
  });
});
