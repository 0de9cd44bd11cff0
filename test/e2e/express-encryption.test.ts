/**
 * End-to-end: the Express example with its SSNs and clinical comments encrypted at rest under
 * data keys wrapped by AWS KMS. AWS itself cannot be reached from CI: the real
 * `@aws-sdk/client-kms` talks to a loopback server that speaks the KMS JSON 1.1 protocol
 * (packages/kms/test/kms-server.ts), which can be taken down.
 */
import { KMSClient } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve, type Served } from './serve.js';
import { createManualClock } from '@phiguard/core/testing';
import { createAwsKmsKeyring } from '@phiguard/kms';
import { createApp, signToken } from '../../examples/express-lab-results/src/app.js';
import { PATIENTS } from '../../examples/express-lab-results/src/data.js';
import { memoryLog } from '../../examples/express-lab-results/src/memory-log.js';
import { KmsServer } from '../../packages/kms/test/kms-server.js';

const KEY = 'arn:aws:kms:us-east-1:111122223333:key/7f2c5d3e-phiguard-e2e';
const JWT_SECRET = 'e2e-jwt-secret-for-the-encryption-suite';
const KEY_AGE_MS = 1200;
const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'e2e-not-a-real-secret' };

const log = memoryLog();
// The app's one clock: key ages are advanced, not waited for.
const clock = createManualClock();
let kms: KmsServer;
let served: Served;
let base: string;

beforeAll(async () => {
  kms = await KmsServer.start([KEY]);
  const keyring = createAwsKmsKeyring({
    keyIds: [KEY],
    clientForRegion: (region) => new KMSClient({ region, endpoint: kms.endpoint, credentials, maxAttempts: 1 }),
    timeoutMs: 400,
    maxAttempts: 2,
    backoffBaseMs: 10,
  });
  const app = createApp({
    jwtSecret: JWT_SECRET,
    phiguardSecret: 'e2e-phiguard-secret-with-at-least-32-bytes',
    logger: log.logger,
    keyring,
    keyCache: { maxAgeMs: KEY_AGE_MS },
    clock,
  });
  served = await serve(app);
  base = served.base;
});

afterAll(async () => {
  await served.close();
  await kms.close();
});

async function results(id: string, roles: string[], purpose: string) {
  const token = await signToken({ sub: 'e2e-encryption', roles, amr: ['pwd', 'otp'] }, JWT_SECRET);
  const res = await fetch(`${base}/patients/${id}/results`, { headers: { authorization: `Bearer ${token}`, 'x-purpose-of-use': purpose } });
  return { status: res.status, body: (await res.json()) as { patient?: { ssn?: string }; error?: { code: string } } };
}

const ssnOf = (id: string) => PATIENTS.get(id)!.patient.identifier.find((i) => i.system.endsWith('us-ssn'))!.value;

describe('encrypted fields under AWS KMS (loopback)', () => {
  it('decrypts the SSN for a caller whose rule sends it; one KMS call wraps the data key for every record', async () => {
    const { status, body } = await results('1001', ['ordering-provider'], 'TREAT');
    expect(status).toBe(200);
    expect(body.patient?.ssn).toBe(ssnOf('1001'));
    for (const id of ['1002', '1003', '1004', '1005']) expect((await results(id, ['ordering-provider'], 'TREAT')).body.patient?.ssn).toBe(ssnOf(id));
    expect(kms.calls).toEqual({ GenerateDataKey: 1, Encrypt: 0, Decrypt: 0 });
  });

  it('decrypts and then masks for a caller whose rule shows the last 4', async () => {
    const { status, body } = await results('1002', ['release-of-information'], 'HLEGAL');
    expect(status).toBe(200);
    expect(body.patient?.ssn).toBe(`***-**-${ssnOf('1002').slice(-4)}`);
  });

  it('with KMS down: cached keys keep serving until their age limit, then the response fails closed with 503 and an error audit event', async () => {
    await kms.down();
    expect((await results('1003', ['ordering-provider'], 'TREAT')).status).toBe(200);
    clock.advance(KEY_AGE_MS);
    const from = log.lines.length;
    const { status, body } = await results('1003', ['ordering-provider'], 'TREAT');
    expect(status).toBe(503);
    expect(body).toMatchObject({ error: { code: 'key_unavailable', status: 503 } });
    expect(JSON.stringify(body)).not.toContain(ssnOf('1003'));
    const events = log.auditEvents().slice(-(log.lines.length - from));
    expect(events.map((e) => [e.action, e.outcome, e.reason])).toContainEqual(['read', 'error', 'key_unavailable']);
    // Callers whose rule never reads the SSN or comments are still served: nothing to decrypt.
    expect((await results('1003', ['auditor'], 'HOPERAT')).status).toBe(200);
    await kms.up();
    expect((await results('1003', ['ordering-provider'], 'TREAT')).body.patient?.ssn).toBe(ssnOf('1003'));
  });

  it('never writes key material, credentials or the protected values to the log', () => {
    const text = log.lines.join('\n');
    for (const id of PATIENTS.keys()) expect(text).not.toContain(ssnOf(id));
    expect(text).not.toMatch(/Plaintext|CiphertextBlob|e2e-not-a-real-secret|AKIDEXAMPLE/);
  });
});
