// Types only: the SDK itself is an optional peer, loaded when a keyring first talks to KMS.
import type * as AwsKms from '@aws-sdk/client-kms';
import { DecryptError, KeyUnavailableError } from '@phiguard/core';
import type { Keyring } from '@phiguard/core';
import type { DataKey, EncryptionContext, WrappedKey } from '@phiguard/core/crypto';
import { importPeer, requirePeer } from './peer.js';
import { option, optionIssue, optionsSchema } from '@phiguard/core/adapter';
import { checkContext, checkDataKey, checkWrapped, DATA_KEY_BYTES } from './util.js';

type Sdk = typeof AwsKms;

/**
 * The part of a `KMSClient` of `@aws-sdk/client-kms` the keyring uses. Declared here so that
 * these declarations compile without the AWS SDK installed; a `KMSClient` satisfies it.
 */
export interface KmsClient {
  send(command: object, options?: { abortSignal?: AbortSignal }): Promise<unknown>;
  destroy(): void;
}

/** Options of {@link createAwsKmsKeyring}. */
export interface AwsKmsKeyringOptions {
  /**
   * Key ARNs (`arn:aws:kms:<region>:<account>:key/<id>`). The first is the primary: it wraps
   * every new data key. All of them may unwrap. Aliases are refused: KMS reports the key ARN on
   * Decrypt, and the keyring matches entries by it.
   */
  keyIds: readonly [string, ...string[]];
  /**
   * One client for every key (all keys must then be in one region). Build it with
   * `maxAttempts: 1`: the keyring retries itself, and SDK retries would multiply its attempts.
   */
  client?: KmsClient;
  /**
   * A client per region (several regions, custom endpoints or credentials). Called once per
   * region; build the clients with `maxAttempts: 1` (see `client`).
   */
  clientForRegion?: (region: string) => KmsClient;
  /**
   * Configuration for the clients the keyring builds itself, one per region, when neither
   * `client` nor `clientForRegion` is given. `region` comes from the ARN and `maxAttempts` is
   * forced to 1. Passed to `new KMSClient(…)` (a `KMSClientConfig` of `@aws-sdk/client-kms`:
   * `credentials`, `endpoint`, `requestHandler`…).
   */
  clientConfig?: Readonly<Record<string, unknown>>;
  /** Time limit of one KMS operation, its retries and back-off included. Default 2000 ms. */
  timeoutMs?: number;
  /** Attempts per KMS operation (first try included). Default 4. */
  maxAttempts?: number;
  /** Back-off before retry n is a random delay in [0, min(backoffMaxMs, backoffBaseMs · 2^(n-1))]. Default 50 ms. */
  backoffBaseMs?: number;
  /** Upper bound of one back-off delay. Default 1000 ms. */
  backoffMaxMs?: number;
  /** KMS grant tokens sent with every request. */
  grantTokens?: readonly string[];
}

const KEY_ARN = /^arn:aws(?:-[a-z]+)*:kms:([a-z]{2}(?:-[a-z]+)+-\d+):(\d{12}):key\/[A-Za-z0-9-]+$/;

const LABEL = 'createAwsKmsKeyring';
const positiveNumber = () => option.number('a positive number of milliseconds', (v) => Number.isFinite(v) && v > 0);
const OPTIONS = optionsSchema<AwsKmsKeyringOptions>(LABEL, {
  keyIds: option.required(
    option.array<string>(
      'a list of at least one key ARN (arn:aws:kms:<region>:<account>:key/<key-id>; aliases cannot be matched on decrypt), the first the primary',
      (v) => v.length > 0 && v.every((k) => typeof k === 'string' && KEY_ARN.test(k)),
    ) as never,
  ),
  client: option.implementing<KmsClient>('a KMSClient', 'send'),
  clientForRegion: option.func('a function (region) => KMSClient'),
  clientConfig: option.custom('a KMSClientConfig object', ['object']),
  timeoutMs: positiveNumber(),
  maxAttempts: option.atLeast(1, 'an integer ≥ 1'),
  backoffBaseMs: positiveNumber(),
  backoffMaxMs: positiveNumber(),
  grantTokens: option.array<string>('an array of strings', (v) => v.every((t) => typeof t === 'string')),
});

/** A keyring that wraps data keys with AWS KMS. */
export interface AwsKmsKeyring extends Keyring {
  /** The configured key ARNs; the first is the primary. */
  readonly keyIds: readonly string[];
  /** The key that wraps new data keys. */
  readonly primaryKeyId: string;
  /** Time limit of one KMS operation, retries included (ms). */
  readonly timeoutMs: number;
  /** Requests per KMS operation, at most. */
  readonly maxAttempts: number;
  /** Destroys the clients the keyring built (not injected ones), closing their sockets. */
  close(): void;
}

/** KMS answers that mean "this wrapped key, key id or context is wrong for you". */
const REFUSED = new Set(['InvalidCiphertextException', 'IncorrectKeyException', 'AccessDeniedException']);
/** KMS answers worth another attempt. */
const TRANSIENT = new Set([
  'ThrottlingException',
  'KMSInternalException',
  'DependencyTimeoutException',
  'KeyUnavailableException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'UND_ERR_SOCKET',
]);

type Outcome = 'refused' | 'transient' | 'failed';

/**
 * Wraps data keys with AWS KMS. New data keys come from `GenerateDataKey` under the primary key
 * (`keyIds[0]`); `decryptDataKey` unwraps any entry made under one of `keyIds`, with the client
 * of that key's region, naming the key in `Decrypt` and checking that KMS answered with it. The
 * encryption context is sent as the KMS `EncryptionContext`, so KMS binds it and logs it in
 * CloudTrail: keep identifiers there, never PHI values.
 *
 * Throttling, 5xx answers and network errors are retried with exponential back-off and full
 * jitter, up to `maxAttempts` attempts within `timeoutMs`; then `KeyUnavailableError`. The SDK's
 * own retries are off in the clients the keyring builds (`maxAttempts: 1`), so the number of
 * requests per operation is at most `maxAttempts`.
 *
 * @example
 * ```ts
 * const keyring = createAwsKmsKeyring({ keyIds: [process.env.PHI_KEY_ARN!] });
 * ```
 */
export function createAwsKmsKeyring(options: AwsKmsKeyringOptions): AwsKmsKeyring {
  const parsed = OPTIONS.parse(options ?? null);
  /* Precondition: the AWS SDK is installed (an optional peer of @phiguard/kms). */
  requirePeer('@aws-sdk/client-kms', LABEL);
  return new Kms(parsed);
}

class Kms implements AwsKmsKeyring {
  /** The configured key ARNs; the first is the primary. */
  readonly keyIds: readonly string[];
  readonly timeoutMs: number;
  readonly maxAttempts: number;
  readonly #clients = new Map<string, KmsClient>();
  readonly #owned: KmsClient[] = [];
  readonly #clientFor: (sdk: Sdk, region: string) => KmsClient;
  #sdk: Promise<Sdk> | undefined;
  readonly #backoffBaseMs: number;
  readonly #backoffMaxMs: number;
  readonly #grantTokens: string[] | undefined;

  constructor(options: AwsKmsKeyringOptions) {
    const { keyIds } = options;
    const given = (['client', 'clientForRegion', 'clientConfig'] as const).filter((k) => options[k] !== undefined);
    /* Precondition: one way of getting clients. */
    if (given.length > 1) {
      throw optionIssue(LABEL, given[1]!, `only one of ${given.map((k) => `\`${k}\``).join(', ')}`, options[given[1]!]);
    }
    const regions = new Set(keyIds.map(regionOf));
    if (options.client !== undefined) {
      /* Precondition: one injected client serves one region only. */
      if (regions.size > 1) {
        throw optionIssue(LABEL, 'client', 'absent when the keys span several regions (one client talks to one region); pass `clientForRegion`', options.client);
      }
      const client = options.client;
      this.#clientFor = () => client;
    } else if (options.clientForRegion !== undefined) {
      const clientForRegion = options.clientForRegion;
      this.#clientFor = (_sdk, region) => clientForRegion(region);
    } else {
      const config = options.clientConfig ?? {};
      this.#clientFor = (sdk, region) => {
        const client = new sdk.KMSClient({ ...config, region, maxAttempts: 1 });
        this.#owned.push(client);
        return client;
      };
    }
    this.timeoutMs = options.timeoutMs ?? 2000;
    this.maxAttempts = options.maxAttempts ?? 4;
    this.#backoffBaseMs = options.backoffBaseMs ?? 50;
    this.#backoffMaxMs = options.backoffMaxMs ?? 1000;
    this.#grantTokens = options.grantTokens ? [...options.grantTokens] : undefined;
    this.keyIds = Object.freeze([...keyIds]);
  }

  /** The key that wraps new data keys. */
  get primaryKeyId(): string {
    return this.keyIds[0]!;
  }

  async generateDataKey(context: EncryptionContext): Promise<DataKey> {
    checkContext('AwsKmsKeyring', context);
    const keyId = this.primaryKeyId;
    const answer = await this.#send<AwsKms.GenerateDataKeyCommandOutput>('GenerateDataKey', keyId, (abortSignal, client, sdk) =>
      client.send(
        new sdk.GenerateDataKeyCommand({
          KeyId: keyId,
          KeySpec: 'AES_256',
          EncryptionContext: kmsContext(context),
          GrantTokens: this.#grantTokens,
        }),
        { abortSignal },
      ),
    );
    const plaintext = copyAndZero(answer.Plaintext);
    if (answer.KeyId !== keyId || plaintext?.length !== DATA_KEY_BYTES || !answer.CiphertextBlob?.length) {
      plaintext?.fill(0);
      throw new KeyUnavailableError('AWS KMS GenerateDataKey answered with another key or a malformed data key; failed closed.');
    }
    return { plaintext, wrapped: [{ keyId, ciphertext: Uint8Array.from(answer.CiphertextBlob) }] };
  }

  async encryptDataKey(plaintext: Uint8Array, context: EncryptionContext): Promise<readonly WrappedKey[]> {
    checkDataKey('AwsKmsKeyring', plaintext);
    checkContext('AwsKmsKeyring', context);
    const keyId = this.primaryKeyId;
    const answer = await this.#send<AwsKms.EncryptCommandOutput>('Encrypt', keyId, (abortSignal, client, sdk) =>
      client.send(
        new sdk.EncryptCommand({
          KeyId: keyId,
          Plaintext: plaintext,
          EncryptionContext: kmsContext(context),
          GrantTokens: this.#grantTokens,
        }),
        { abortSignal },
      ),
    );
    if (answer.KeyId !== keyId || !answer.CiphertextBlob?.length) {
      throw new KeyUnavailableError('AWS KMS Encrypt answered with another key or no ciphertext; failed closed.');
    }
    return [{ keyId, ciphertext: Uint8Array.from(answer.CiphertextBlob) }];
  }

  async decryptDataKey(wrapped: readonly WrappedKey[], context: EncryptionContext): Promise<Uint8Array> {
    checkWrapped('AwsKmsKeyring', wrapped);
    checkContext('AwsKmsKeyring', context);
    // Own entries only, in the order of `keyIds` (list a same-region key first to prefer it).
    const mine = wrapped
      .filter((entry) => this.keyIds.includes(entry.keyId) && entry.ciphertext.length > 0)
      .sort((a, b) => this.keyIds.indexOf(a.keyId) - this.keyIds.indexOf(b.keyId));
    let unavailable: KeyUnavailableError | undefined;
    for (const entry of mine) {
      try {
        const answer = await this.#send<AwsKms.DecryptCommandOutput>('Decrypt', entry.keyId, (abortSignal, client, sdk) =>
          client.send(
            new sdk.DecryptCommand({
              KeyId: entry.keyId,
              CiphertextBlob: entry.ciphertext,
              EncryptionContext: kmsContext(context),
              GrantTokens: this.#grantTokens,
            }),
            { abortSignal },
          ),
        );
        const plaintext = copyAndZero(answer.Plaintext);
        // KMS must name the key we asked for; anything else is not our data key.
        if (answer.KeyId === entry.keyId && plaintext?.length === DATA_KEY_BYTES) return plaintext;
        plaintext?.fill(0);
      } catch (error) {
        if (error instanceof KeyUnavailableError) unavailable = error;
        else if (!(error instanceof DecryptError)) throw error;
      }
    }
    if (unavailable) throw unavailable;
    throw new DecryptError('unwrap');
  }

  /** Destroys the clients the keyring built (not injected ones), closing their sockets. */
  close(): void {
    for (const client of this.#owned.splice(0)) client.destroy();
    this.#clients.clear();
  }

  toString(): string {
    return `AwsKmsKeyring(${this.keyIds.join(', ')})`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }

  #client(sdk: Sdk, region: string): KmsClient {
    let client = this.#clients.get(region);
    if (client === undefined) {
      client = this.#clientFor(sdk, region);
      this.#clients.set(region, client);
    }
    return client;
  }

  /** One KMS operation with retries, back-off and a deadline, its errors mapped to the contract. */
  async #send<T>(
    operation: 'GenerateDataKey' | 'Encrypt' | 'Decrypt',
    keyId: string,
    call: (abortSignal: AbortSignal, client: KmsClient, sdk: Sdk) => Promise<unknown>,
  ): Promise<T> {
    this.#sdk ??= importPeer<Sdk>(
      '@aws-sdk/client-kms',
      LABEL,
      () => new KeyUnavailableError('The @aws-sdk/client-kms package could not be loaded; reinstall it.'),
    ).catch((error: unknown) => {
      this.#sdk = undefined; // a later call tries again
      throw error;
    });
    const sdk = await this.#sdk;
    const client = this.#client(sdk, regionOf(keyId));
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.timeoutMs);
    const timedOut = () =>
      new KeyUnavailableError(`AWS KMS ${operation} did not answer within ${this.timeoutMs} ms; the operation failed closed.`);
    try {
      for (let attempt = 1; ; attempt++) {
        let failure: unknown;
        try {
          return (await call(controller.signal, client, sdk)) as T;
        } catch (error) {
          failure = error;
        }
        if (controller.signal.aborted) throw timedOut();
        const name = errorName(failure);
        const outcome = classify(failure);
        if (outcome === 'refused' && operation === 'Decrypt') throw new DecryptError('unwrap');
        if (outcome !== 'transient') {
          throw new KeyUnavailableError(`AWS KMS ${operation} failed (${name}); the operation failed closed.`);
        }
        if (attempt >= this.maxAttempts) {
          throw new KeyUnavailableError(
            `AWS KMS ${operation} failed after ${attempt} attempts (${name}); the operation failed closed.`,
          );
        }
        const cap = Math.min(this.#backoffMaxMs, this.#backoffBaseMs * 2 ** (attempt - 1));
        if (!(await sleep(Math.random() * cap, controller.signal))) throw timedOut();
      }
    } finally {
      clearTimeout(timer);
    }
  }
}

/** KMS treats an absent and an empty context alike; send none rather than an empty map. */
function kmsContext(context: EncryptionContext): Record<string, string> | undefined {
  return Object.keys(context).length === 0 ? undefined : { ...context };
}

function regionOf(keyArn: string): string {
  return KEY_ARN.exec(keyArn)![1]!;
}

function errorName(error: unknown): string {
  const e = error as { name?: unknown; code?: unknown } | null;
  const name = typeof e?.name === 'string' && e.name !== 'Error' ? e.name : typeof e?.code === 'string' ? e.code : 'Error';
  // Only a bare identifier goes into our message (never a server-supplied sentence).
  return /^[A-Za-z0-9_.]{1,64}$/.test(name) ? name : 'Error';
}

function classify(error: unknown): Outcome {
  const e = error as { name?: unknown; code?: unknown; $metadata?: { httpStatusCode?: number }; $retryable?: unknown } | null;
  const name = typeof e?.name === 'string' ? e.name : '';
  if (REFUSED.has(name)) return 'refused';
  if (TRANSIENT.has(name) || e?.$retryable) return 'transient';
  const status = e?.$metadata?.httpStatusCode;
  if (typeof status === 'number' && status >= 500) return 'transient';
  if (typeof e?.code === 'string' && NETWORK_CODES.has(e.code)) return 'transient';
  // A socket error surfaces without an HTTP status; a KMS answer always has one.
  if (status === undefined && !(typeof e?.name === 'string' && name.endsWith('Exception'))) return 'transient';
  return 'failed';
}

function copyAndZero(bytes: Uint8Array | undefined): Uint8Array | undefined {
  if (bytes === undefined) return undefined;
  const copy = Uint8Array.from(bytes);
  bytes.fill(0);
  return copy;
}

/** Waits `ms`; false if `signal` aborted first. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve(ok);
    };
    const onAbort = () => done(false);
    const timer = setTimeout(() => done(true), ms);
    signal.addEventListener('abort', onAbort);
  });
}
