import { inspect } from 'node:util';
import { KMSClient } from '@aws-sdk/client-kms';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DecryptError, KeyUnavailableError, OptionsError } from '@phiguard/core';
import { createAwsKmsKeyring, createLocalKeyring, createMultiKeyring } from '../src/index.js';
import type { AwsKmsKeyring, AwsKmsKeyringOptions } from '../src/index.js';
import { KmsServer } from './kms-server.js';

const EAST = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const WEST = 'arn:aws:kms:us-west-2:111122223333:key/0987dcba-09fe-87dc-65ba-ab0987654321';
const EAST_2 = 'arn:aws:kms:us-east-1:111122223333:key/aaaabbbb-0000-1111-2222-333344445555';
const CONTEXT = { tenant: 'clinic-7', resource: 'Observation', field: 'value', record: 'rec-991' };
const credentials = { accessKeyId: 'AKIDLOOPBACK', secretAccessKey: 'loopback-secret' };

let kms: KmsServer;
const keyrings: AwsKmsKeyring[] = [];

beforeAll(async () => {
  kms = await KmsServer.start([EAST, WEST, EAST_2]);
});
afterAll(async () => {
  await kms.close();
});
afterEach(async () => {
  for (const keyring of keyrings.splice(0)) keyring.close();
  kms.reset();
  if (!(await reachable())) await kms.up();
});

async function reachable(): Promise<boolean> {
  return fetch(kms.endpoint, { method: 'HEAD' }).then(
    () => true,
    () => false,
  );
}

function keyring(options: Partial<AwsKmsKeyringOptions> = {}): AwsKmsKeyring {
  const k = createAwsKmsKeyring({
    keyIds: [EAST],
    clientConfig: { endpoint: kms.endpoint, credentials },
    backoffBaseMs: 5,
    backoffMaxMs: 20,
    ...options,
  } as AwsKmsKeyringOptions);
  keyrings.push(k);
  return k;
}

describe('AwsKmsKeyring against a loopback KMS (real @aws-sdk/client-kms)', () => {
  it('round trip: GenerateDataKey under the primary, Decrypt naming the key', async () => {
    const k = keyring();
    const dataKey = await k.generateDataKey(CONTEXT);
    expect(dataKey.plaintext).toHaveLength(32);
    expect(dataKey.wrapped).toEqual([{ keyId: EAST, ciphertext: expect.any(Uint8Array) }]);
    expect(await k.decryptDataKey(dataKey.wrapped, { ...CONTEXT })).toEqual(dataKey.plaintext);
    expect(kms.calls).toEqual({ GenerateDataKey: 1, Encrypt: 0, Decrypt: 1 });
    expect(kms.regions).toEqual(['us-east-1', 'us-east-1']);
  });

  it('encryptDataKey wraps an existing key with Encrypt', async () => {
    const k = keyring();
    const plaintext = new Uint8Array(32).fill(3);
    const wrapped = await k.encryptDataKey(plaintext, CONTEXT);
    expect(wrapped.map((w) => w.keyId)).toEqual([EAST]);
    expect(await k.decryptDataKey(wrapped, CONTEXT)).toEqual(plaintext);
    expect(kms.calls).toEqual({ GenerateDataKey: 0, Encrypt: 1, Decrypt: 1 });
  });

  it('wrong context → DecryptError(unwrap), not retried', async () => {
    const k = keyring();
    const { wrapped } = await k.generateDataKey(CONTEXT);
    await expect(k.decryptDataKey(wrapped, { ...CONTEXT, record: 'rec-992' })).rejects.toEqual(new DecryptError('unwrap'));
    await expect(k.decryptDataKey(wrapped, {})).rejects.toBeInstanceOf(DecryptError);
    expect(kms.calls.Decrypt).toBe(2);
  });

  it('tampered ciphertext → DecryptError(unwrap)', async () => {
    const k = keyring();
    const { wrapped } = await k.generateDataKey(CONTEXT);
    const bytes = Uint8Array.from(wrapped[0]!.ciphertext);
    bytes[bytes.length - 1]! ^= 1;
    await expect(k.decryptDataKey([{ keyId: EAST, ciphertext: bytes }], CONTEXT)).rejects.toEqual(new DecryptError('unwrap'));
  });

  it('an entry claiming one configured key but made under another → IncorrectKeyException → DecryptError', async () => {
    const k = keyring({ keyIds: [EAST, EAST_2] });
    const other = keyring({ keyIds: [EAST_2] });
    const { wrapped } = await other.generateDataKey(CONTEXT);
    kms.reset();
    await expect(k.decryptDataKey([{ keyId: EAST, ciphertext: wrapped[0]!.ciphertext }], CONTEXT)).rejects.toEqual(
      new DecryptError('unwrap'),
    );
    expect(kms.calls.Decrypt).toBe(1);
  });

  it('entries of keys it was not given are not sent to KMS: DecryptError without a call', async () => {
    const k = keyring();
    const other = keyring({ keyIds: [EAST_2] });
    const { wrapped } = await other.generateDataKey(CONTEXT);
    kms.reset();
    await expect(k.decryptDataKey(wrapped, CONTEXT)).rejects.toEqual(new DecryptError('unwrap'));
    const local = await createLocalKeyring({ key: new Uint8Array(32) }).generateDataKey(CONTEXT);
    await expect(k.decryptDataKey(local.wrapped, CONTEXT)).rejects.toEqual(new DecryptError('unwrap'));
    expect(kms.totalCalls).toBe(0);
  });

  it('a Decrypt answer naming another key is refused', async () => {
    const k = keyring();
    const { wrapped } = await k.generateDataKey(CONTEXT);
    kms.forgeKeyId = EAST_2;
    await expect(k.decryptDataKey(wrapped, CONTEXT)).rejects.toEqual(new DecryptError('unwrap'));
    await expect(k.generateDataKey(CONTEXT)).rejects.toBeInstanceOf(KeyUnavailableError);
  });

  it('throttling is retried with back-off, then succeeds', async () => {
    const k = keyring({ maxAttempts: 4 });
    kms.throttleNext(3);
    const dataKey = await k.generateDataKey(CONTEXT);
    expect(dataKey.plaintext).toHaveLength(32);
    expect(kms.calls.GenerateDataKey).toBe(4);
    kms.throttleNext(2);
    expect(await k.decryptDataKey(dataKey.wrapped, CONTEXT)).toEqual(dataKey.plaintext);
    expect(kms.calls.Decrypt).toBe(3);
  });

  it('throttling past the retries → KeyUnavailableError after exactly maxAttempts calls', async () => {
    const k = keyring({ maxAttempts: 3 });
    kms.throttleNext(10);
    const error = await k.generateDataKey(CONTEXT).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeyUnavailableError);
    expect((error as Error).message).toMatch(/GenerateDataKey failed after 3 attempts \(ThrottlingException\)/);
    expect((error as KeyUnavailableError).status).toBe(503);
    expect(kms.calls.GenerateDataKey).toBe(3);
  });

  it('5xx is retried; persistent 5xx → KeyUnavailableError', async () => {
    const k = keyring({ maxAttempts: 2 });
    kms.failNext(1);
    const plaintext = new Uint8Array(32).fill(1);
    const wrapped = await k.encryptDataKey(plaintext, CONTEXT);
    expect(kms.calls.Encrypt).toBe(2);
    kms.failNext(5, 'ServiceUnavailable', 503);
    await expect(k.decryptDataKey(wrapped, CONTEXT)).rejects.toBeInstanceOf(KeyUnavailableError);
    expect(kms.calls.Decrypt).toBe(2);
  });

  it('non-transient client errors are not retried', async () => {
    const k = keyring();
    kms.failNext(1, 'AccessDeniedException', 400);
    await expect(k.generateDataKey(CONTEXT)).rejects.toThrow(/GenerateDataKey failed \(AccessDeniedException\)/);
    expect(kms.calls.GenerateDataKey).toBe(1);
    const { wrapped } = await k.generateDataKey(CONTEXT);
    kms.failNext(1, 'AccessDeniedException', 400);
    await expect(k.decryptDataKey(wrapped, CONTEXT)).rejects.toEqual(new DecryptError('unwrap'));
    kms.failNext(1, 'DisabledException', 400);
    await expect(k.decryptDataKey(wrapped, CONTEXT)).rejects.toBeInstanceOf(KeyUnavailableError);
    expect(kms.calls.Decrypt).toBe(2);
  });

  it('a slow KMS → KeyUnavailableError within timeoutMs', async () => {
    const k = keyring({ timeoutMs: 300 });
    kms.delayMs = 5_000;
    const started = performance.now();
    const error = await k.generateDataKey(CONTEXT).catch((e: unknown) => e);
    const elapsed = performance.now() - started;
    expect(error).toBeInstanceOf(KeyUnavailableError);
    expect((error as Error).message).toMatch(/did not answer within 300 ms/);
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(1_500);
    expect(kms.calls.GenerateDataKey).toBe(1);
  });

  it('the deadline covers retries and back-off', async () => {
    const k = keyring({ timeoutMs: 250, maxAttempts: 10, backoffBaseMs: 200, backoffMaxMs: 200 });
    kms.throttleNext(100);
    const started = performance.now();
    await expect(k.generateDataKey(CONTEXT)).rejects.toBeInstanceOf(KeyUnavailableError);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(kms.calls.GenerateDataKey).toBeLessThan(10);
  });

  it('KMS down (connection refused) → KeyUnavailableError after maxAttempts; back up → works', async () => {
    const k = keyring({ maxAttempts: 2 });
    const { plaintext, wrapped } = await k.generateDataKey(CONTEXT);
    await kms.down();
    const error = await k.decryptDataKey(wrapped, CONTEXT).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeyUnavailableError);
    expect((error as Error).message).toMatch(/Decrypt failed after 2 attempts/);
    await kms.up();
    expect(await k.decryptDataKey(wrapped, CONTEXT)).toEqual(plaintext);
  });

  it('multi-region: decrypts with the non-primary key through the client of its region', async () => {
    const west = keyring({ keyIds: [WEST] });
    const { plaintext, wrapped } = await west.generateDataKey(CONTEXT);
    const created: string[] = [];
    const both = keyring({
      keyIds: [EAST, WEST],
      clientConfig: undefined,
      clientForRegion: (region) => {
        created.push(region);
        return new KMSClient({ region, endpoint: kms.endpoint, credentials, maxAttempts: 1 });
      },
    });
    kms.reset();
    expect(await both.decryptDataKey(wrapped, CONTEXT)).toEqual(plaintext);
    expect(await both.decryptDataKey(wrapped, CONTEXT)).toEqual(plaintext);
    expect(created).toEqual(['us-west-2']);
    expect(kms.regions).toEqual(['us-west-2', 'us-west-2']);
    // New keys go under the primary, in its region.
    const fresh = await both.generateDataKey(CONTEXT);
    expect(fresh.wrapped[0]!.keyId).toBe(EAST);
    expect(created).toEqual(['us-west-2', 'us-east-1']);
  });

  it('tries the next configured key when the first one cannot unwrap (disaster recovery across regions)', async () => {
    const east = keyring({ keyIds: [EAST] });
    const west = keyring({ keyIds: [WEST] });
    const multi = createMultiKeyring({ generator: east, children: [west] });
    const { plaintext, wrapped } = await multi.generateDataKey(CONTEXT);
    expect(wrapped.map((w) => w.keyId)).toEqual([EAST, WEST]);
    const both = keyring({ keyIds: [EAST, WEST], maxAttempts: 1 });
    kms.reset();
    kms.failNext(1);
    expect(await both.decryptDataKey(wrapped, CONTEXT)).toEqual(plaintext);
    expect(kms.regions).toEqual(['us-east-1', 'us-west-2']);
  });

  it('an injected client is used for every call', async () => {
    const client = new KMSClient({ region: 'us-east-1', endpoint: kms.endpoint, credentials, maxAttempts: 1 });
    const k = keyring({ clientConfig: undefined, client });
    const { plaintext, wrapped } = await k.generateDataKey(CONTEXT);
    expect(await k.decryptDataKey(wrapped, CONTEXT)).toEqual(plaintext);
    expect(kms.totalCalls).toBe(2);
    k.close();
    // close() leaves injected clients to their owner.
    expect(await k.decryptDataKey(wrapped, CONTEXT)).toEqual(plaintext);
    client.destroy();
  });

  it('validates its options', () => {
    const base = { clientConfig: { endpoint: kms.endpoint, credentials } };
    expect(() => createAwsKmsKeyring({ ...base, keyIds: [] as never })).toThrow(OptionsError);
    for (const alias of ['alias/phi-notes', 'arn:aws:kms:us-east-1:111122223333:alias/phi-notes']) {
      const error = (() => {
        try {
          createAwsKmsKeyring({ ...base, keyIds: [alias] });
        } catch (e) {
          return e as OptionsError;
        }
      })();
      expect(error).toBeInstanceOf(OptionsError);
      expect(error!.issues).toMatchObject([{ problem: 'invalid', path: 'keyIds', received: 'array' }]);
      expect(error!.message).toMatch(/key ARN.*aliases cannot be matched/);
      expect(`${error!.message} ${JSON.stringify(error!.issues)}`).not.toContain('phi-notes');
    }
    expect(() => createAwsKmsKeyring({ ...base, keyIds: [EAST], timeoutMs: 0 })).toThrow(/timeoutMs/);
    expect(() => createAwsKmsKeyring({ ...base, keyIds: [EAST], maxAttempts: 1.5 })).toThrow(/maxAttempts/);
    expect(() => createAwsKmsKeyring({ ...base, keyIds: [EAST], timeout: 5 } as never)).toThrow(/did you mean "timeoutMs"/);
    const client = new KMSClient({ region: 'us-east-1' });
    expect(() => createAwsKmsKeyring({ keyIds: [EAST, WEST], client })).toThrow(/clientForRegion/);
    expect(() => createAwsKmsKeyring({ ...base, keyIds: [EAST], client })).toThrow(/only one of/);
    client.destroy();
    expect(createAwsKmsKeyring({ keyIds: ['arn:aws-us-gov:kms:us-gov-west-1:111122223333:key/abc-1'] }).primaryKeyId).toMatch(
      /us-gov-west-1/,
    );
  });

  it('keeps secrets and context values out of errors, inspect and toString', async () => {
    const k = keyring({ maxAttempts: 1 });
    const secret = { ...CONTEXT, patientName: 'Jane Roe 1931-07-04' };
    const { plaintext, wrapped } = await k.generateDataKey(secret);
    const hex = Buffer.from(plaintext).toString('hex');
    const b64 = Buffer.from(plaintext).toString('base64');
    const errors: unknown[] = [];
    errors.push(await k.decryptDataKey(wrapped, { ...secret, patientName: 'John Doe' }).catch((e: unknown) => e));
    kms.throttleNext(1);
    errors.push(await k.generateDataKey(secret).catch((e: unknown) => e));
    kms.delayMs = 2_000;
    errors.push(await keyring({ timeoutMs: 100 }).decryptDataKey(wrapped, secret).catch((e: unknown) => e));
    kms.delayMs = 0;
    expect(errors.map((e) => (e as Error).constructor.name)).toEqual(['DecryptError', 'KeyUnavailableError', 'KeyUnavailableError']);
    const shown = [...errors.map((e) => `${String(e)} ${inspect(e, { depth: 10 })} ${JSON.stringify(e)}`), inspect(k), String(k)].join('\n');
    for (const secretText of ['Jane Roe', 'John Doe', 'rec-991', 'clinic-7', hex, b64, credentials.secretAccessKey]) {
      expect(shown).not.toContain(secretText);
    }
    expect(String(k)).toBe(`AwsKmsKeyring(${EAST})`);
  });
});
