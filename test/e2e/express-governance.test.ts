/**
 * End-to-end over HTTP on the Express example: a CSV export to an outside recipient carries the
 * disclosure record (recipient, purpose statement, basis, delivery method, digest of the exact
 * bytes received), is refused and audited without a registered recipient or a business associate
 * agreement, the accounting of disclosures lists exactly what 164.528 requires, and a user
 * disabled by the security office is refused on every PHI route and on the governance routes;
 * then on two instances sharing a real Redis, with the accounting read from a real PostgreSQL
 * audit table.
 */
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { Redis } from 'ioredis';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresAuditSink } from '@phiguard/core/audit';
import { createRedisStateStore } from '@phiguard/core/state';
import { testPool, uniqueTable } from '../../packages/core/test/audit/pg.js';
import { createApp } from '../../examples/express-lab-results/src/app.js';
import { signToken } from '../../examples/express-lab-results/src/auth.js';
import { memoryLog } from '../../examples/express-lab-results/src/memory-log.js';
import { expectCourtExportDisclosure } from './export-disclosure.js';

const JWT_SECRET = 'e2e-jwt-secret-for-the-express-governance-1';
const log = memoryLog();
let server: Server;
let base: string;

type Who = { sub: string; roles: string[] };
const PRIVACY: Who = { sub: 'po.ade', roles: ['privacy-officer'] };
const SECURITY: Who = { sub: 'sec.ops', roles: ['security-officer'] };
const DESK: Who = { sub: 'roi-2', roles: ['release-of-information'] };

async function call(method: string, path: string, who: Who, purpose?: string, body?: unknown) {
  const token = await signToken({ ...who, amr: ['pwd', 'otp'] }, JWT_SECRET);
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (purpose !== undefined) headers['x-purpose-of-use'] = purpose;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const bytes = Buffer.from(await res.arrayBuffer());
  const json = /json/.test(res.headers.get('content-type') ?? '') && bytes.length > 0 ? (JSON.parse(bytes.toString('utf8')) as Record<string, any>) : undefined;
  return { status: res.status, bytes, json };
}
const exportTo = (q: string) => call('GET', `/patients/1003/results.csv?${q}`, DESK, 'HLEGAL');

beforeAll(async () => {
  server = createApp({ jwtSecret: JWT_SECRET, phiguardSecret: 'e2e-phiguard-secret-with-at-least-32-bytes', logger: log.logger }).listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  for (const r of [
    { id: 'state-dph', type: 'public-health-authority', name: 'State Department of Public Health' },
    { id: 'suffolk-court', type: 'court', name: 'Suffolk Superior Court' },
    { id: 'copy-vendor', type: 'business-associate', name: 'Records Copy Service LLC' },
  ]) {
    const res = await call('POST', '/governance/recipients', PRIVACY, 'HOPERAT', r);
    if (res.status !== 201) throw new Error(`registration failed: ${res.status}`);
  }
});
afterAll(async () => {
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
});

describe('business-associate registry (Express example)', () => {
  it('only the privacy office registers recipients, and a bad registration answers 422 with the rule, not the value', async () => {
    expect((await call('POST', '/governance/recipients', DESK, 'HOPERAT', { id: 'x-lab', type: 'court', name: 'X' })).status).toBe(403);
    const bad = await call('POST', '/governance/recipients', PRIVACY, 'HOPERAT', { id: 'y-lab', type: 'not-a-type', name: 'Zebulon Quartermaine' });
    expect(bad.status).toBe(422);
    expect(bad.json).toMatchObject({ error: { code: 'governance_invalid' } });
    expect(bad.bytes.toString('utf8')).not.toContain('Zebulon');
    const anonymous = await fetch(`${base}/governance/recipients`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(anonymous.status).toBe(401);
  });
});

describe('CSV export to an outside recipient (Express example)', () => {
  it('records the disclosure block with the digest of the exact bytes received, and the accounting lists only what 164.528 requires', async () => {
    const since = new Date().toISOString();
    const court = await exportTo('recipient=suffolk-court&basis=judicial&statement=Court%20order%20for%20laboratory%20records');
    expect(court.status).toBe(200);
    const event = log.auditEvents().filter((e) => e.action === 'export').at(-1)!;
    expectCourtExportDisclosure(event, court.bytes);
    expect(court.bytes.toString('utf8')).toMatch(/^# phiguard-export .*recipient=suffolk-court/);

    // To the patient (exempt, 164.528(a)(1)(ii)), internal (no recipient), to public health (listed).
    expect((await exportTo('recipient=state-dph&basis=individual&statement=Copy%20requested%20by%20the%20patient')).status).toBe(200);
    expect((await exportTo('')).status).toBe(200);
    expect(log.auditEvents().filter((e) => e.action === 'export').at(-1)!.disclosure).toBeUndefined();
    const health = await exportTo('recipient=state-dph&basis=public-health&statement=Reportable%20condition');
    expect(health.status).toBe(200);
    // Another patient's disclosure is not in this patient's accounting.
    expect((await call('GET', '/patients/1001/results.csv?recipient=suffolk-court&basis=judicial&statement=Subpoena', DESK, 'HLEGAL')).status).toBe(200);

    const acc = await call('GET', `/governance/patients/1003/disclosures?from=${encodeURIComponent(since)}`, PRIVACY, 'HOPERAT');
    expect(acc.status).toBe(200);
    const lines = acc.json as unknown as { action: string; basis: string; purpose: string; recipient: { id: string; name?: string }; digest: string }[];
    expect(lines.map((l) => [l.action, l.basis, l.recipient.id, l.recipient.name, l.purpose])).toEqual([
      ['export', 'judicial', 'suffolk-court', 'Suffolk Superior Court', 'Court order for laboratory records'],
      ['export', 'public-health', 'state-dph', 'State Department of Public Health', 'Reportable condition'],
    ]);
    expect(lines[1]!.digest).toBe(`sha256:${createHash('sha256').update(health.bytes).digest('hex')}`);
    // The accounting is the privacy office's.
    expect((await call('GET', '/governance/patients/1003/disclosures', DESK, 'HOPERAT')).status).toBe(403);
  });

  it('refuses an export to an unregistered recipient or a business associate without an agreement (403, audited), and a request without basis or statement (400)', async () => {
    const unknown = await exportTo('recipient=nobody&basis=judicial&statement=Court%20order');
    expect(unknown.status).toBe(403);
    expect(unknown.json).toMatchObject({ error: { reason: 'recipient_unknown' } });
    const vendor = await exportTo('recipient=copy-vendor&basis=operations&statement=Copy%20service');
    expect(vendor.status).toBe(403);
    expect(vendor.json).toMatchObject({ error: { reason: 'agreement_missing' } });
    expect(log.auditEvents().filter((e) => e.reason === 'agreement_missing' && e.attemptedAction === 'export')).toHaveLength(1);
    expect(log.auditEvents().filter((e) => e.reason === 'recipient_unknown' && e.attemptedAction === 'export')).toHaveLength(1);
    for (const refused of [unknown, vendor]) expect(refused.bytes.toString('utf8')).not.toContain('phiguard-export');
    const before = log.auditEvents().filter((e) => e.action === 'export').length;
    for (const q of ['recipient=state-dph', 'recipient=state-dph&basis=gossip&statement=x', 'recipient=state-dph&basis=public-health', 'recipient=state-dph&basis=public-health&statement=%20']) {
      const res = await exportTo(q);
      expect(res.status, q).toBe(400);
    }
    // Nothing was exported by a refused request.
    expect(log.auditEvents().filter((e) => e.action === 'export')).toHaveLength(before);
  });
});

describe('deny list (Express example)', () => {
  it('a contained user is refused on PHI routes and governance routes, audited; others untouched; re-enabled, served again', async () => {
    const chen: Who = { sub: 'dr.chen', roles: ['ordering-provider'] };
    expect((await call('GET', '/patients/1001/results', chen, 'TREAT')).status).toBe(200);
    // Only the security office may contain.
    expect((await call('POST', '/governance/deny-list/disable', chen, undefined, { principal: 'rn.okafor', reason: 'x' })).status).toBe(403);
    expect((await call('POST', '/governance/deny-list/disable', SECURITY, undefined, { principal: 'dr.chen', reason: 'offboarding' })).status).toBe(204);
    expect(log.auditEvents().at(-1)).toMatchObject({ reason: 'containment:disable:offboarding', actor: { id: 'sec.ops' }, resource: { type: 'Principal', id: 'dr.chen' } });
    for (const path of ['/patients/1001/results', '/patients/1001/results.csv']) {
      const before = log.auditEvents().length;
      const res = await call('GET', path, chen, 'TREAT');
      expect(log.auditEvents().length - before, `one event for ${path}`).toBe(1);
      expect(res.status, path).toBe(403);
      expect(res.json, path).toMatchObject({ error: { code: 'access_denied', reason: 'principal_disabled' } });
      expect(res.bytes.toString('utf8')).not.toContain('912-48-3571');
      expect(log.auditEvents().at(-1)).toMatchObject({ action: 'deny', outcome: 'denied', reason: 'principal_disabled', actor: { id: 'dr.chen' } });
    }
    // The governance routes skip the PHI pipeline; they check the list themselves.
    expect((await call('POST', '/governance/deny-list/disable', SECURITY, undefined, { principal: 'po.ade', reason: 'incident:12' })).status).toBe(204);
    const officer = await call('GET', '/governance/patients/1003/disclosures', PRIVACY, 'HOPERAT');
    expect(officer.status).toBe(403);
    expect(officer.json).toMatchObject({ error: { reason: 'principal_disabled' } });
    expect(log.auditEvents().at(-1)).toMatchObject({ action: 'deny', reason: 'principal_disabled', actor: { id: 'po.ade' } });
    expect((await call('POST', '/governance/deny-list/pause', SECURITY, undefined, { principal: 'po.ade' })).status).toBe(422);
    // Other users are untouched.
    expect((await call('GET', '/patients/1001/results', { sub: 'dr.ng', roles: ['ordering-provider'] }, 'TREAT')).status).toBe(200);
    for (const principal of ['dr.chen', 'po.ade']) expect((await call('POST', '/governance/deny-list/enable', SECURITY, undefined, { principal })).status).toBe(204);
    expect((await call('GET', '/patients/1001/results', chen, 'TREAT')).status).toBe(200);
    expect((await call('GET', '/governance/patients/1003/disclosures', PRIVACY, 'HOPERAT')).status).toBe(200);
  });
});

describe('two Express instances sharing Redis, the accounting read from PostgreSQL', () => {
  const auditTable = uniqueTable('exgov_audit');
  const prefix = `exgov-e2e-${process.pid}-${Date.now()}:`;
  let pool: pg.Pool;
  let client: Redis;
  const servers: Server[] = [];
  const bases: string[] = [];
  const logs = [memoryLog(), memoryLog()];

  beforeAll(async () => {
    pool = await testPool();
    await createPostgresAuditSink({ pool, table: auditTable }).migrate();
    client = new Redis(process.env.PHIGUARD_TEST_REDIS_URL ?? 'redis://127.0.0.1:56379', { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    client.on('error', () => undefined);
    for (let i = 0; i < 100 && client.status !== 'ready'; i++) await new Promise((r) => setTimeout(r, 20));
    if (client.status !== 'ready') throw new Error('Redis is not reachable: run scripts/services redis (or set PHIGUARD_TEST_REDIS_URL)');
    for (const log of logs) {
      const s = createApp({
        jwtSecret: JWT_SECRET,
        phiguardSecret: 'e2e-phiguard-secret-with-at-least-32-bytes',
        logger: log.logger,
        state: createRedisStateStore({ client, prefix, timeoutMs: 500 }),
        auditStore: createPostgresAuditSink({ pool, table: auditTable }),
      }).listen(0, '127.0.0.1');
      await new Promise<void>((resolve, reject) => s.once('listening', resolve).once('error', reject));
      servers.push(s);
      bases.push(`http://127.0.0.1:${(s.address() as AddressInfo).port}`);
    }
  });
  afterAll(async () => {
    for (const s of servers) await new Promise<void>((resolve) => (s.close(() => resolve()), s.closeAllConnections()));
    client?.disconnect();
    if (pool !== undefined) {
      await pool.query(`DROP TABLE IF EXISTS "${auditTable}"; DROP FUNCTION IF EXISTS "${auditTable}_append_only"()`);
      await pool.end();
    }
  });

  async function at(i: number, method: string, path: string, who: Who, purpose?: string, body?: unknown) {
    const saved = base;
    base = bases[i]!;
    try {
      return await call(method, path, who, purpose, body);
    } finally {
      base = saved;
    }
  }

  it('a recipient registered on one instance is admitted on the other; the accounting on either lists exactly the disclosures, from the audit table', async () => {
    expect((await at(0, 'POST', '/governance/recipients', PRIVACY, undefined, { id: 'county-dph', type: 'public-health-authority', name: 'County Health Department' })).status).toBe(201);
    expect((await at(0, 'POST', '/governance/recipients', PRIVACY, undefined, { id: 'billing-vendor', type: 'business-associate', name: 'Claims Vendor Inc' })).status).toBe(201);
    const sent = await at(1, 'GET', '/patients/1002/results.csv?recipient=county-dph&basis=public-health&statement=Reportable%20result', DESK, 'HLEGAL');
    expect(sent.status).toBe(200);
    // An internal export and one to the patient: not in the accounting.
    expect((await at(1, 'GET', '/patients/1002/results.csv', DESK, 'HLEGAL')).status).toBe(200);
    expect((await at(0, 'GET', '/patients/1002/results.csv?recipient=county-dph&basis=individual&statement=Copy%20for%20the%20patient', DESK, 'HLEGAL')).status).toBe(200);
    // Refused on the instance that did not register it: the agreement is missing everywhere.
    const refused = await at(1, 'GET', '/patients/1002/results.csv?recipient=billing-vendor&basis=payment&statement=Claims', DESK, 'HLEGAL');
    expect(refused.status).toBe(403);
    expect(refused.json).toMatchObject({ error: { reason: 'agreement_missing' } });
    const { rows } = await pool.query(`SELECT event FROM "${auditTable}" WHERE event->>'reason' = 'agreement_missing'`);
    expect(rows).toHaveLength(1);
    expect(rows[0].event).toMatchObject({ action: 'deny', attemptedAction: 'export', actor: { id: 'roi-2' } });

    for (const i of [0, 1]) {
      const acc = await at(i, 'GET', '/governance/patients/1002/disclosures', PRIVACY);
      expect(acc.status).toBe(200);
      const lines = acc.json as unknown as { basis: string; recipient: { id: string; name?: string }; digest: string; what: { resourceType: string } }[];
      expect(lines.map((l) => [l.basis, l.recipient.id, l.recipient.name, l.what.resourceType])).toEqual([['public-health', 'county-dph', 'County Health Department', 'ResultsExport']]);
      expect(lines[0]!.digest).toBe(`sha256:${createHash('sha256').update(sent.bytes).digest('hex')}`);
    }
  });

  it('a user disabled on one instance is refused on the other', async () => {
    const ng: Who = { sub: 'dr.ng', roles: ['ordering-provider'] };
    expect((await at(1, 'GET', '/patients/1002/results', ng, 'TREAT')).status).toBe(200);
    expect((await at(0, 'POST', '/governance/deny-list/disable', SECURITY, undefined, { principal: 'dr.ng', reason: 'incident:7' })).status).toBe(204);
    const refused = await at(1, 'GET', '/patients/1002/results', ng, 'TREAT');
    expect(refused.status).toBe(403);
    expect(refused.json).toMatchObject({ error: { reason: 'principal_disabled' } });
    expect((await at(1, 'POST', '/governance/deny-list/enable', SECURITY, undefined, { principal: 'dr.ng' })).status).toBe(204);
    expect((await at(0, 'GET', '/patients/1002/results', ng, 'TREAT')).status).toBe(200);
  });
});
