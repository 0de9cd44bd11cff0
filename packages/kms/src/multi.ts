import { DecryptError, KeyUnavailableError, OptionsError } from '@phiguard/core';
import type { Keyring } from '@phiguard/core';
import type { DataKey, EncryptionContext, WrappedKey } from '@phiguard/core/crypto';
import { checkContext, checkDataKey, checkOptions, checkWrapped } from './util.js';

/** Options of {@link MultiKeyring}. */
export interface MultiKeyringOptions {
  /** Makes each data key and wraps it first (e.g. an `AwsKmsKeyring`). */
  generator: Keyring;
  /** Each wraps a further copy of every data key (e.g. a `Pkcs11Keyring` for disaster recovery). */
  children?: readonly Keyring[];
}

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
export class MultiKeyring implements Keyring {
  /** The generator followed by the children. */
  readonly keyrings: readonly Keyring[];
  readonly #generator: Keyring;
  readonly #children: readonly Keyring[];

  constructor(options: MultiKeyringOptions) {
    checkOptions('MultiKeyring', options, ['generator', 'children']);
    /* Precondition: the generator and every child implement Keyring. */
    if (!isKeyring(options.generator)) {
      throw new OptionsError('MultiKeyring: `generator` must be a Keyring (e.g. new AwsKmsKeyring({ … })).');
    }
    const children = options.children ?? [];
    if (!Array.isArray(children) || !children.every(isKeyring)) {
      throw new OptionsError('MultiKeyring: `children` must be an array of Keyrings.');
    }
    this.#generator = options.generator;
    this.#children = [...children];
    this.keyrings = Object.freeze([this.#generator, ...this.#children]);
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
