import { createHash } from 'node:crypto';
import type { Keyring } from '@phiguard/core';
import { createAwsKmsKeyring, createLocalKeyring } from '@phiguard/kms';

/**
 * The development master key: public (it is derived from this string), so that `npm run demo`
 * needs nothing. createLocalKeyring itself refuses to start under NODE_ENV=production.
 */
const DEV_KEY = createHash('sha256').update('phiguard-example-DEVELOPMENT-ONLY-master-key').digest();

/**
 * Chooses the keyring that wraps the data keys of encrypted fields, from the environment:
 *   PHIGUARD_KEYRING=local (default)  PHIGUARD_LOCAL_KEY: 32 bytes, base64 or hex (default: a development key)
 *   PHIGUARD_KEYRING=aws              PHIGUARD_KMS_KEY_IDS: comma-separated key ARNs, the first encrypts;
 *                                     PHIGUARD_KMS_ENDPOINT: optional endpoint override; credentials as the AWS SDK finds them
 */
export function keyringFrom(env: NodeJS.ProcessEnv, warn: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Keyring {
  const kind = env.PHIGUARD_KEYRING ?? 'local';
  switch (kind) {
    case 'local':
      if (env.PHIGUARD_LOCAL_KEY) return createLocalKeyring({ env: 'PHIGUARD_LOCAL_KEY' });
      warn('warning: PHIGUARD_LOCAL_KEY is not set; encrypting with the embedded development key. Use PHIGUARD_KEYRING=aws outside development.');
      return createLocalKeyring({ key: DEV_KEY });
    case 'aws': {
      const keyIds = (env.PHIGUARD_KMS_KEY_IDS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
      if (keyIds.length === 0) throw new Error('PHIGUARD_KEYRING=aws needs PHIGUARD_KMS_KEY_IDS (comma-separated key ARNs)');
      const [primary, ...more] = keyIds as [string, ...string[]];
      return createAwsKmsKeyring({
        keyIds: [primary, ...more],
        ...(env.PHIGUARD_KMS_ENDPOINT ? { clientConfig: { endpoint: env.PHIGUARD_KMS_ENDPOINT } } : {}),
      });
    }
    default:
      throw new Error(`PHIGUARD_KEYRING must be "local" or "aws" (got "${kind}")`);
  }
}
