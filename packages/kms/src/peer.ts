import { createRequire } from 'node:module';
import { MissingDependencyError } from '@phiguard/core';

/**
 * The optional peer dependencies of @phiguard/kms. A team on AWS installs only the AWS SDK, a
 * team on an HSM only the native `pkcs11js`; each is loaded when a keyring that needs it is used.
 */
export type Peer = '@aws-sdk/client-kms' | 'pkcs11js';

const HINTS: Record<Peer, string> = {
  '@aws-sdk/client-kms': '',
  // npm 11 blocks dependency install scripts unless approved, and pkcs11js builds in one.
  pkcs11js:
    'It compiles a native addon when installed: with npm 11 approve its build first ' +
    '(`npm install-scripts approve pkcs11js`, then `npm rebuild pkcs11js`; see the @phiguard/kms README).',
};

const here = createRequire(import.meta.url);
/** Defined by the build: true in dist/index.cjs. Undefined when the sources run directly (ESM). */
declare const __PHIGUARD_KMS_CJS__: boolean | undefined;
const commonJs = typeof __PHIGUARD_KMS_CJS__ !== 'undefined' && __PHIGUARD_KMS_CJS__;

/**
 * How peers are found and loaded. Resolved from this package's location, as Node resolves its
 * own imports. An object (not bare functions) so that a test can stand in for a missing package.
 */
export const peerLoader = {
  /** Where `specifier` would load from; throws `MODULE_NOT_FOUND` when it is not installed. */
  resolve: (specifier: Peer): string => here.resolve(specifier),
  /**
   * Loads `specifier` in this build's module format, so that the keyring's SDK commands come
   * from the same copy of the SDK as a client the application built and passed in.
   */
  import: (specifier: Peer): Promise<unknown> => (commonJs ? Promise.resolve().then(() => here(specifier)) : import(specifier)),
};

/** Whether `error` says that `peer` itself (not something it imports) cannot be found. */
function isAbsent(error: unknown, peer: Peer): boolean {
  const e = error as { code?: unknown; message?: unknown } | null;
  if (e?.code !== 'MODULE_NOT_FOUND' && e?.code !== 'ERR_MODULE_NOT_FOUND') return false;
  const firstLine = typeof e.message === 'string' ? e.message.split('\n', 1)[0]! : '';
  return firstLine.includes(`'${peer}'`) || firstLine.includes(`"${peer}"`);
}

/**
 * Precondition: `peer` is installed. Called by the keyring factories so that a missing
 * package is reported at start-up, not on the first encryption.
 */
export function requirePeer(peer: Peer, requiredBy: string): void {
  try {
    peerLoader.resolve(peer);
  } catch (error) {
    if (isAbsent(error, peer)) throw new MissingDependencyError(peer, requiredBy, HINTS[peer]);
    throw error;
  }
}

/**
 * Loads `peer` (its ESM entry from the ESM build, its CommonJS one from the CommonJS build). A missing package is a
 * `MissingDependencyError`; any other failure (a native addon built for another Node version)
 * is passed to `failed`, which returns the error to throw.
 */
export async function importPeer<T>(peer: Peer, requiredBy: string, failed: (error: unknown) => Error): Promise<T> {
  let loaded: unknown;
  try {
    loaded = await peerLoader.import(peer);
  } catch (error) {
    if (isAbsent(error, peer)) throw new MissingDependencyError(peer, requiredBy, HINTS[peer]);
    throw failed(error);
  }
  // A CommonJS module imported from ESM arrives as its `default`.
  const m = loaded as { default?: unknown };
  return (peer === 'pkcs11js' && m.default !== undefined ? m.default : loaded) as T;
}
