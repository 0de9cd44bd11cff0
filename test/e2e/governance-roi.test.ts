/**
 * End-to-end: disclosure governance on the NestJS example's release desk, over real HTTP, with
 * two instances sharing nothing but a real Redis (recipients, authorizations, requests, holds)
 * and a real PostgreSQL (the durable audit store the accounting reads, and the encrypted copies
 * of what was released). One injected clock moves time; nothing sleeps.
 */
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { Redis } from 'ioredis';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compilePolicy, type AuditEvent } from '@phiguard/core';
import { createPostgresAuditSink, type DisclosureRecord } from '@phiguard/core/audit';
import { createPostgresDisclosureCopyStore } from '@phiguard/core/governance';
import { createRedisStateStore } from '@phiguard/core/state';
import { createApp, policy } from '../../examples/nestjs-lab-results/src/app.js';
import { signToken } from '../../examples/express-lab-results/src/auth.js';
import { memoryLog, type MemoryLog } from '../../examples/express-lab-results/src/memory-log.js';
import { operators } from '../../examples/express-lab-results/src/policy.js';
import { testPool, uniqueTable } from '../../packages/core/test/audit/pg.js';

const REDIS = process.env.PHIGUARD_TEST_REDIS_URL ?? 'redis://127.0.0.1:56379';
const JWT_SECRET = 'e2e-jwt-secret-for-the-governance-suite-0123';
const PHIGUARD_SECRET = 'e2e-phiguard-secret-with-at-least-32-bytes';
const prefix = `gov-e2e-${process.pid}-${Date.now()}:`;
const auditTable = uniqueTable('gov_audit');
const copiesTable = uniqueTable('gov_copies');
const DAY = 86_400_000;

// The clock every instance reads: authorizations, agreements, holds and purges.
let now = Date.parse('2025-04-01T12:00:00Z');
const clock = () => now;

interface Instance {
  readonly app: INestApplication;
  readonly base: string;
  readonly log: MemoryLog;
}
let pool: pg.Pool;
const clients: Redis[] = [];
let east: Instance;
let west: Instance;

async function redisClient(): Promise<Redis> {
  const c = new Redis(REDIS, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  c.on('error', () => undefined);
  clients.push(c);
  for (let i = 0; i < 100 && c.status !== 'ready'; i++) await new Promise((r) => setTimeout(r, 20));
  if (c.status !== 'ready') throw new Error(`Redis is not reachable at ${REDIS}: run scripts/services redis (or set PHIGUARD_TEST_REDIS_URL)`);
  return c;
}

async function start(): Promise<Instance> {
  const log = memoryLog();
  const state = createRedisStateStore({ client: await redisClient(), prefix, timeoutMs: 500 });
  const auditStore = createPostgresAuditSink({ pool, table: auditTable });
  const copies = createPostgresDisclosureCopyStore({ pool, table: copiesTable });
  const app = await createApp({ jwtSecret: JWT_SECRET, phiguardSecret: PHIGUARD_SECRET, logger: log.logger, state, auditStore, governance: { clock: { now: clock }, copies, copyRetentionDays: 30 } });
  await app.listen(0, '127.0.0.1');
  return { app, base: `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`, log };
}

beforeAll(async () => {
  pool = await testPool();
  await createPostgresAuditSink({ pool, table: auditTable }).migrate();
  await createPostgresDisclosureCopyStore({ pool, table: copiesTable }).migrate();
  east = await start();
  west = await start();
  for (const [id, type, name] of [
    ['acme-life', 'insurer', 'Acme Life Insurance'],
    ['patient-self', 'individual', 'The patient'],
    ['dr-rivera', 'provider', 'Riverside Clinic'],
    ['suffolk-court', 'court', 'Suffolk Superior Court'],
    ['copy-service', 'business-associate', 'Records Copy Service LLC'],
  ]) {
    expect((await http(west, 'POST', '/governance/recipients', OFFICER, { id, type, name })).status).toBe(201);
  }
});
afterAll(async () => {
  for (const i of [east, west]) await i?.app.close();
  for (const c of clients) c.disconnect();
  if (pool !== undefined) {
    await pool.query(`DROP TABLE IF EXISTS "${auditTable}"; DROP FUNCTION IF EXISTS "${auditTable}_append_only"(); DROP TABLE IF EXISTS "${copiesTable}"`);
    await pool.end();
  }
});

type Who = { sub: string; roles: string[] };
const DESK: Who = { sub: 'roi.kim', roles: ['release-of-information'] };
const OFFICER: Who = { sub: 'po.ade', roles: ['privacy-officer'] };
async function http(at: Instance, method: string, path: string, who: Who, body?: unknown, purpose?: string) {
  const headers: Record<string, string> = { authorization: `Bearer ${await signToken({ ...who, amr: ['pwd', 'otp'] }, JWT_SECRET)}`, 'user-agent': 'e2e' };
  if (purpose) headers['x-purpose-of-use'] = purpose;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${at.base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, text, body: text === '' ? undefined : (JSON.parse(text) as Record<string, any>) };
}
const refs = compilePolicy(policy, { secret: PHIGUARD_SECRET, operators, mode: 'production' });
const sha256 = (text: string) => `sha256:${createHash('sha256').update(Buffer.from(text, 'utf8')).digest('hex')}`;
const auth = (patientId: string, scope: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  id: `auth-${Math.random().toString(36).slice(2, 12)}`,
  patientId,
  information: 'Laboratory results',
  discloser: 'Example Hospital laboratory',
  recipient: 'Acme Life Insurance, underwriting',
  purpose: 'Life insurance application',
  expiresAt: '2026-04-01T00:00:00Z',
  signedBy: 'the patient',
  signedAt: '2025-03-30T00:00:00Z',
  statements: { revocation: true, conditioning: true, redisclosure: true },
  scope,
  ...extra,
});
const thirdParty = (patientId: string, authorization: unknown, asked?: unknown) => ({
  patientId, requesterType: 'third-party', recipient: 'Acme Life Insurance', recipientId: 'acme-life', purpose: 'Life insurance application', authorization, ...(asked === undefined ? {} : { asked }),
});
async function pgEvents(where: string, values: unknown[]): Promise<AuditEvent[]> {
  const { rows } = await pool.query(`SELECT event FROM "${auditTable}" WHERE ${where} ORDER BY time, id`, values);
  return (rows as { event: AuditEvent }[]).map((r) => r.event);
}

describe('authorizations: scope enforced, revocation shared', () => {
  it('an authorization for March 2025 does not release January reports: the request is refused (403 out_of_scope) and audited', async () => {
    const a = auth('1002', { from: '2025-03-01T00:00:00Z', to: '2025-04-01T00:00:00Z' });
    const intake = await http(east, 'POST', '/roi/requests', DESK, thirdParty('1002', a, { from: '2025-01-01T00:00:00Z', to: '2025-02-01T00:00:00Z' }));
    expect(intake.status).toBe(201);
    expect((await pgEvents(`event->'resource'->>'id' = $1`, [a.id]))[0]).toMatchObject({ action: 'create', reason: 'authorization:intake', actor: { id: 'roi.kim' } });
    const res = await http(west, 'GET', `/roi/requests/${intake.body!.id}/export`, DESK);
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ error: { code: 'access_denied', reason: 'out_of_scope' } });
    expect(res.text).not.toContain('Lipid');
    // Asked for nothing in particular, the March scope still holds nothing of this patient's January record.
    const again = await http(east, 'POST', '/roi/requests', DESK, thirdParty('1002', auth('1002', { from: '2025-03-01T00:00:00Z', to: '2025-04-01T00:00:00Z' })));
    expect((await http(east, 'GET', `/roi/requests/${again.body!.id}/export`, DESK)).body).toMatchObject({ error: { reason: 'out_of_scope' } });
    const denials = await pgEvents(`outcome = 'denied' AND patient_ref = $1 AND event->>'reason' = 'out_of_scope'`, [refs.patientRef('1002')]);
    expect(denials).toHaveLength(2);
    expect(denials[0]).toMatchObject({ action: 'deny', attemptedAction: 'disclose', resource: { type: 'PatientResults' } });
  });

  it('a scope by record type releases only the reports of that type', async () => {
    const a = auth('1002', { recordTypes: ['24331-1'] }); // the lipid panel, not the blood count
    const intake = await http(east, 'POST', '/roi/requests', DESK, thirdParty('1002', a));
    const res = await http(west, 'GET', `/roi/requests/${intake.body!.id}/export`, DESK);
    expect(res.status).toBe(200);
    const codes = (res.body!.record.reports as { code: { coding: { code: string }[] } }[]).map((r) => r.code.coding[0]!.code);
    expect(codes).toEqual(['24331-1']);
    expect(res.text).not.toContain('58410-2');
  });

  it('revoked on one instance (by the privacy office only), refused on the other at once', async () => {
    const a = auth('1001', {});
    const intake = await http(east, 'POST', '/roi/requests', DESK, thirdParty('1001', a));
    expect(intake.status).toBe(201);
    expect((await http(west, 'POST', `/governance/authorizations/${a.id}/revoke`, DESK)).status).toBe(403);
    expect((await http(west, 'POST', `/governance/authorizations/${a.id}/revoke`, OFFICER)).status).toBe(204);
    const revocation = await pgEvents(`event->>'reason' = 'authorization:revoke' AND event->'resource'->>'id' = $1`, [a.id]);
    expect(revocation).toHaveLength(1);
    expect(revocation[0]).toMatchObject({ actor: { id: 'po.ade' }, patient: { ref: refs.patientRef('1001') } });
    for (const at of [east, west]) {
      const res = await http(at, 'GET', `/roi/requests/${intake.body!.id}/export`, DESK);
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ error: { reason: 'authorization_revoked' } });
    }
    const reuse = await http(west, 'POST', '/roi/requests', DESK, thirdParty('1001', a));
    expect(reuse.status).toBe(422);
    expect(reuse.body!.error.problems).toEqual(['authorization has been revoked']);
  });
});

describe('business associates', () => {
  it('a release to a business associate without a current agreement is refused (403 agreement_missing, audited); with one it goes; once it expires, refused again', async () => {
    const body = { patientId: '1005', requesterType: 'provider', recipient: 'Records Copy Service LLC', recipientId: 'copy-service', purpose: 'continuity of care', npi: '1234567893' };
    const intake = await http(east, 'POST', '/roi/requests', DESK, body);
    expect(intake.status).toBe(201);
    const refused = await http(west, 'GET', `/roi/requests/${intake.body!.id}/export`, DESK);
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ error: { code: 'access_denied', status: 403, reason: 'agreement_missing' } });
    const missing = await pgEvents(`event->>'reason' = 'agreement_missing' AND patient_ref = $1`, [refs.patientRef('1005')]);
    expect(missing).toHaveLength(1);
    expect(missing[0]).toMatchObject({ action: 'deny', attemptedAction: 'disclose', resource: { type: 'PatientResults' }, actor: { id: 'roi.kim' } });
    const signed = { id: 'copy-service', type: 'business-associate', name: 'Records Copy Service LLC', agreement: { status: 'active', signedAt: '2025-03-01T00:00:00Z', expiresAt: '2025-05-01T00:00:00Z' } };
    expect((await http(east, 'POST', '/governance/recipients', DESK, signed)).status).toBe(403);
    expect((await http(east, 'POST', '/governance/recipients', OFFICER, signed)).status).toBe(201);
    expect((await http(west, 'GET', `/roi/requests/${intake.body!.id}/export`, DESK)).status).toBe(200);
    const saved = now;
    now = Date.parse('2025-05-01T00:00:00Z');
    try {
      expect((await http(east, 'GET', `/roi/requests/${intake.body!.id}/export`, DESK)).body).toMatchObject({ error: { reason: 'agreement_expired' } });
    } finally {
      now = saved;
    }
  });
});

describe('disclosure records and the accounting of disclosures', () => {
  it('every release event carries recipient, purpose, basis, authorization, delivery and the digest of exactly the bytes received; the accounting lists exactly the required ones', async () => {
    const since = new Date(now).toISOString();
    now += 1000;
    const bodies: Record<string, string> = {};
    const release = async (at: Instance, kind: string, body: Record<string, unknown>) => {
      const intake = await http(at, 'POST', '/roi/requests', DESK, { patientId: '1001', ...body });
      expect(intake.status, intake.text).toBe(201);
      const res = await http(at === east ? west : east, 'GET', `/roi/requests/${intake.body!.id}/export`, DESK);
      expect(res.status, res.text).toBe(200);
      bodies[kind] = res.text;
      now += 60_000;
    };
    const a = auth('1001', {});
    await release(east, 'third-party', thirdParty('1001', a));
    await release(west, 'patient', { requesterType: 'patient', recipient: 'the patient', recipientId: 'patient-self', purpose: 'personal records', identityVerification: { method: 'photo-id' } });
    await release(east, 'provider', { requesterType: 'provider', recipient: 'Dr. Rivera', recipientId: 'dr-rivera', purpose: 'continuity of care', npi: '1234567893' });
    await release(west, 'subpoena', {
      requesterType: 'subpoena', recipient: 'Suffolk Superior Court', recipientId: 'suffolk-court', purpose: 'civil proceeding',
      legalProcess: { court: 'Suffolk Superior Court', docket: '25-0042', issuedAt: '2025-04-01', courtOrder: true },
    });
    // Uses inside the organization are not disclosures.
    expect((await http(east, 'GET', '/patients/1001/results', { sub: 'dr.chen', roles: ['ordering-provider'] }, undefined, 'TREAT')).status).toBe(200);

    const events = await pgEvents(`action = 'disclose' AND patient_ref = $1 AND time >= $2`, [refs.patientRef('1001'), since]);
    expect(events.map((e) => e.disclosure!.basis)).toEqual(['authorization', 'individual', 'treatment', 'judicial']);
    const kinds = ['third-party', 'patient', 'provider', 'subpoena'];
    events.forEach((e, i) => {
      expect(e.disclosure).toMatchObject({
        recipient: { type: expect.any(String), id: expect.any(String), nameRef: expect.stringMatching(/^rn_/) },
        purpose: expect.any(String),
        deliveryMethod: 'download',
        digest: sha256(bodies[kinds[i]!]!),
        bytes: Buffer.byteLength(bodies[kinds[i]!]!),
        copyRef: expect.any(String),
        description: { recordTypes: ['24323-8', '4548-4'], records: 2 },
      });
      // Keyed references only: no name, SSN, MRN or raw patient id in the record of the release.
      const text = JSON.stringify(e);
      for (const v of ['912-48-3571', 'Acme Life', 'Suffolk Superior', '"1001"']) expect(text).not.toContain(v);
    });
    expect(events[0]!.disclosure!.authorizationRef).toBe(a.id);

    const res = await http(west, 'GET', `/governance/patients/1001/disclosures?from=${encodeURIComponent(since)}`, OFFICER);
    expect(res.status).toBe(200);
    const list = res.body as unknown as DisclosureRecord[];
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({
      time: events[3]!.time,
      recipient: { type: 'court', id: 'suffolk-court', name: 'Suffolk Superior Court' },
      purpose: 'Response to a court order or subpoena',
      basis: 'judicial',
      description: { recordTypes: ['24323-8', '4548-4'], records: 2 },
      digest: sha256(bodies.subpoena!),
    });
    expect((await http(west, 'GET', '/governance/patients/1001/disclosures', DESK)).status).toBe(403);
  });
});

describe('retention and legal holds', () => {
  it('a purge removes release copies past retention and keeps those of a patient on legal hold; both audited', async () => {
    const copiesOf = async (patientId: string) => Number((await pool.query(`SELECT count(*) FROM "${copiesTable}" WHERE patient_ref = $1`, [refs.patientRef(patientId)])).rows[0]!.count);
    // 1001 (earlier releases), 1002 and 1005 hold copies by now.
    expect(await copiesOf('1001')).toBeGreaterThan(0);
    expect(await copiesOf('1002')).toBeGreaterThan(0);
    expect((await http(east, 'POST', '/governance/legal-holds', DESK, { id: 'hold-1', patientId: '1002' })).status).toBe(403);
    expect((await http(east, 'POST', '/governance/legal-holds', OFFICER, { id: 'hold-1', patientId: '1002', caseRef: 'case-77' })).status).toBe(201);
    const held = await copiesOf('1002');
    // Not yet past the 30 days: nothing goes.
    const early = await http(west, 'POST', '/governance/retention/purge', OFFICER);
    expect(early.body).toEqual([{ target: 'disclosure-copies', cutoff: new Date(now - 30 * DAY).toISOString(), purged: 0, held: 0 }]);
    now += 31 * DAY;
    const res = await http(west, 'POST', '/governance/retention/purge', OFFICER);
    expect(res.status).toBe(200);
    expect(res.body![0]).toMatchObject({ target: 'disclosure-copies', held });
    expect(res.body![0].purged).toBeGreaterThan(0);
    expect(await copiesOf('1001')).toBe(0);
    expect(await copiesOf('1005')).toBe(0);
    expect(await copiesOf('1002')).toBe(held);
    const purges = await pgEvents(`event->>'reason' = 'retention:purge'`, []);
    expect(purges.at(-1)).toMatchObject({ action: 'delete', actor: { id: 'po.ade' }, retention: { target: 'disclosure-copies', held } });
    expect((await http(east, 'POST', '/governance/retention/purge', DESK)).status).toBe(403);
    // The hold released, the next purge takes the rest.
    expect((await http(east, 'DELETE', '/governance/legal-holds/hold-1', OFFICER)).status).toBe(204);
    expect((await http(east, 'POST', '/governance/retention/purge', OFFICER)).body![0]).toMatchObject({ purged: held, held: 0 });
    expect(await copiesOf('1002')).toBe(0);
  });
});
