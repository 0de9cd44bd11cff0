import { DecryptError, KeyUnavailableError } from '@phiguard/core';
import { option, optionsSchema } from '@phiguard/core/adapter';
import type { Keyring } from '@phiguard/core';
import type { DataKey, EncryptionContext, WrappedKey } from '@phiguard/core/crypto';
import { checkContext, checkDataKey, checkWrapped } from './util.js';

/** Options of {@link createMultiKeyring}. */
export interface MultiKeyringOptions {
  /** Makes each data key and wraps it first (e.g. a `createAwsKmsKeyring` keyring). */
  generator: Keyring;
  /** Each wraps a further copy of every data key (e.g. a `createPkcs11Keyring` keyring for disaster recovery). */
  children?: readonly Keyring[];
}

/** A keyring that wraps every data key under several keyrings. */
export interface MultiKeyring extends Keyring {
  /** The generator followed by the children. */
  readonly keyrings: readonly Keyring[];
}

const KEYRING = 'a Keyring (generateDataKey, encryptDataKey, decryptDataKey)';
const OPTIONS = optionsSchema<MultiKeyringOptions>('createMultiKeyring', {
  generator: option.required(option.implementing<Keyring>(KEYRING, 'generateDataKey', 'encryptDataKey', 'decryptDataKey')),
  children: option.array<Keyring>('an array of Keyrings', (v) => v.every(isKeyring)),
});

/**
 * Wraps every data key under several keyrings, so data stays readable when one master key is
 * lost or its service is down: e.g. AWS KMS as the generator and an offline HSM key as a child.
 *
 * - `generateDataKey`: the generator makes the key; every child wraps a copy. If any keyring
 *   fails, the call fails (a copy silently missing would defeat the recovery plan).
 * - `encryptDataKey`: the entries of the generator and of every child, in that order.
 * - `decryptDataKey`: tries the generator, then each child in order; the first success wins.
 *   When all fail: `KeyUnavailableError` if any attempt failed for a reason other than
 *   `DecryptError` (a service down, throttled, too slow), else `DecryptError('unwrap')`.
 */
export function createMultiKeyring(options: MultiKeyringOptions): MultiKeyring {
  const { generator, children = [] } = OPTIONS.parse(options ?? null);
  return new Several(generator, [...children]);
}

class Several implements MultiKeyring {
  readonly keyrings: readonly Keyring[];
  readonly #generator: Keyring;
  readonly #children: readonly Keyring[];

  constructor(generator: Keyring, children: readonly Keyring[]) {
    this.#generator = generator;
    this.#children = children;
    this.keyrings = Object.freeze([generator, ...children]);
  }

  async generateDataKey(context: EncryptionContext): Promise<DataKey> {
    checkContext('MultiKeyring', context);
    const dataKey = await this.#generator.generateDataKey(context);
    try {
      const copies = await Promise.all(this.#children.map((child) => child.encryptDataKey(dataKey.plaintext, context)));
      return { plaintext: dataKey.plaintext, wrapped: [...dataKey.wrapped, ...copies.flat()] };
    } catch (error) {
      dataKey.plaintext.fill(0);
      throw error;
    }
  }

  async encryptDataKey(plaintext: Uint8Array, context: EncryptionContext): Promise<readonly WrappedKey[]> {
    checkDataKey('MultiKeyring', plaintext);
    checkContext('MultiKeyring', context);
    const all = await Promise.all(this.keyrings.map((keyring) => keyring.encryptDataKey(plaintext, context)));
    return all.flat();
  }

  async decryptDataKey(wrapped: readonly WrappedKey[], context: EncryptionContext): Promise<Uint8Array> {
    checkWrapped('MultiKeyring', wrapped);
    checkContext('MultiKeyring', context);
    let unavailable = false;
    for (const keyring of this.keyrings) {
      try {
        return await keyring.decryptDataKey(wrapped, context);
      } catch (error) {
        if (!(error instanceof DecryptError)) unavailable = true;
      }
    }
    if (unavailable) {
      throw new KeyUnavailableError(
        'No keyring could unwrap the data key and at least one key service was unavailable; the operation failed closed.',
      );
    }
    throw new DecryptError('unwrap');
  }

  toString(): string {
    return `MultiKeyring(${this.keyrings.map(String).join(', ')})`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

function isKeyring(value: unknown): value is Keyring {
  const k = value as Partial<Keyring> | null;
  return (
    typeof k === 'object' &&
    k !== null &&
    typeof k.generateDataKey === 'function' &&
    typeof k.encryptDataKey === 'function' &&
    typeof k.decryptDataKey === 'function'
  );
}
