/**
 * End-to-end: result delivery over real HTTP with two Express instances that share nothing but
 * a real Redis (scripts/services redis: 127.0.0.1:56379, or PHIGUARD_TEST_REDIS_URL): pickup
 * links redeemed exactly once across instances, signed webhooks refused when replayed to the
 * other instance, and a watermarked CSV export whose file name carries no identifier.
 */
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { Redis } from 'ioredis';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PhiGuardError, type AuditEvent } from '@phiguard/core';
import { createRedisStateStore } from '@phiguard/core/state';
import { buildNotification, createPickupLinks, signWebhook } from '../../packages/core/src/delivery/index.js';
import { connectRedis } from '../../packages/core/test/delivery/redis.js';
import { hardenPhiResponses, sendExport, verifySignature } from '../../packages/express/src/delivery.js';

// Until @phiguard/core's index re-exports the delivery module, add it to the aliased sources.

const LINK_SECRET = randomBytes(32);
const HOOK_SECRET = randomBytes(32);
const prefix = `dl-e2e-${process.pid}-${Date.now()}:`;
const RESULTS: Record<string, { id: string; code: string; value: number; unit: string }> = {
  'res-1': { id: 'res-1', code: '4548-4', value: 6.1, unit: '%' },
};

interface Instance {
  readonly server: Server;
  readonly audit: AuditEvent[];
  readonly hooks: unknown[];
}
const clients: Redis[] = [];
const servers: Server[] = [];

/** One app instance: its own Redis connection, the same secrets. */
async function start(): Promise<Instance> {
  const client = await connectRedis();
  clients.push(client);
  const store = createRedisStateStore({ client, prefix });
  const audit: AuditEvent[] = [];
  const hooks: unknown[] = [];
  const sink = { write: (e: AuditEvent) => void audit.push(e) };
  const links = createPickupLinks({ secret: LINK_SECRET, store, audit: sink });
  const app = express();
  // Behind a TLS-terminating proxy on loopback: its X-Forwarded-Proto is honoured.
  app.use(hardenPhiResponses({ trustProxy: ['127.0.0.1', '::1'] }));
  app.post('/results/:id/notify', async (req, res) => {
    const { token } = await links.issue({ resource: 'lab-result', resourceId: req.params.id, audience: String(req.headers['x-patient']), patientRef: 'pt_e2e' });
    const link = `https://portal.example.org/pickup/${token}`;
    res.json({ link, sms: buildNotification({ channel: 'sms', template: 'result-ready', link, organization: 'Acme Health', expiresInMinutes: 15 }) });
  });
  app.get('/pickup/:token', async (req, res) => {
    try {
      const ref = await links.redeem(req.params.token, { audience: String(req.headers['x-patient']) });
      res.json(RESULTS[ref.resourceId]);
    } catch (err) {
      const e = err as PhiGuardError;
      res.status(e.status ?? 500).json({ error: { code: e.code } });
    }
  });
  app.post('/hooks/lab', verifySignature({ secrets: [{ secret: HOOK_SECRET }], store, json: true }), (req, res) => {
    hooks.push(req.body);
    res.status(204).end();
  });
  app.get('/exports/results.csv', async (req, res) => {
    await sendExport(res, {
      format: 'csv',
      // What an app might naively build from the record: the scrubbing keeps it out of the header.
      filename: 'Patient Maria Garcia DOB 1962-07-04 MRN 00482913 results.csv',
      rows: Object.values(RESULTS),
      columns: ['id', 'code', 'value', 'unit'],
      meta: { purpose: 'HPAYMT', recipient: 'Acme Billing', user: 'u-clerk-3', requestId: String(req.headers['x-request-id'] ?? 'req-e2e') },
      audit: sink,
      resource: 'lab-result',
    });
  });
  const server = app.listen(0, '127.0.0.1');
  servers.push(server);
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  return { server, audit, hooks };
}

let east: Instance;
let west: Instance;
beforeAll(async () => {
  east = await start();
  west = await start();
});
afterAll(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
  for (const c of clients) c.disconnect();
});

const https = (r: request.Test) => r.set('X-Forwarded-Proto', 'https');

describe('delivery across two instances sharing Redis', () => {
  it('a pickup link redeemed twice concurrently on two instances succeeds exactly once', async () => {
    const issued = await https(request(east.server).post('/results/res-1/notify').set('X-Patient', 'patient:1001'));
    expect(issued.status).toBe(200);
    const { link, sms } = issued.body as { link: string; sms: { text: string } };
    expect(sms.text).toContain(link);
    expect(link).not.toMatch(/res-1|1001/);
    const path = new URL(link).pathname;
    const [a, b] = await Promise.all([
      https(request(east.server).get(path).set('X-Patient', 'patient:1001')),
      https(request(west.server).get(path).set('X-Patient', 'patient:1001')),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 410]);
    const ok = a.status === 200 ? a : b;
    const used = a.status === 200 ? b : a;
    expect(ok.body).toEqual(RESULTS['res-1']);
    expect(ok.headers['cache-control']).toBe('no-store');
    expect(used.body).toEqual({ error: { code: 'link_used' } });
    // One disclosure on redemption across both instances' audit trails.
    const redeemed = [...east.audit, ...west.audit].filter((e) => e.reason === 'pickup-link-redeemed');
    expect(redeemed).toHaveLength(1);
  });

  it('the link is refused to another audience and over plain HTTP', async () => {
    const issued = await https(request(west.server).post('/results/res-1/notify').set('X-Patient', 'patient:1001'));
    const path = new URL((issued.body as { link: string }).link).pathname;
    expect((await https(request(east.server).get(path).set('X-Patient', 'patient:1002'))).status).toBe(404);
    const plain = await request(east.server).get(path).set('X-Patient', 'patient:1001');
    expect(plain.status).toBe(403);
    expect(plain.body.error.code).toBe('https_required');
    expect((await https(request(east.server).get(path).set('X-Patient', 'patient:1001'))).status).toBe(200);
  });

  it('a signed webhook is accepted once; the same delivery replayed to the other instance is refused', async () => {
    const base = `http://127.0.0.1:${(east.server.address() as AddressInfo).port}`;
    const hook = signWebhook({ secret: HOOK_SECRET, url: `${base}/hooks/lab`, body: { event: 'result.final', resultId: 'res-1' } });
    const send = (server: Server) => https(request(server).post('/hooks/lab').set(hook.headers).send(hook.body as string));
    expect((await send(east.server)).status).toBe(204);
    const replay = await send(west.server);
    expect(replay.status).toBe(409);
    expect(replay.body.error.code).toBe('signature_replayed');
    expect(east.hooks).toEqual([{ event: 'result.final', resultId: 'res-1' }]);
    expect(west.hooks).toEqual([]);
  });

  it('sends a watermarked CSV export whose file name carries no identifier', async () => {
    const res = await https(request(west.server).get('/exports/results.csv').set('X-Request-Id', 'req-e2e-42')).buffer(true).parse((r, cb) => {
      let text = '';
      r.on('data', (c: Buffer) => (text += c.toString()));
      r.on('end', () => cb(null, text));
    });
    expect(res.status).toBe(200);
    const disposition = res.headers['content-disposition'] as string;
    expect(disposition).toMatch(/^attachment; filename="[A-Za-z0-9._-]+\.csv"$/);
    for (const leak of ['Maria', 'Garcia', '1962', '00482913']) expect(disposition).not.toContain(leak);
    expect(res.headers['cache-control']).toBe('no-store');
    const lines = (res.body as string).split('\r\n');
    expect(lines[0]).toMatch(/^# phiguard-export purpose=HPAYMT recipient="Acme Billing" user=u-clerk-3 time=\S+Z requestId=req-e2e-42 exportId=\S+ records=1 sha256=[0-9a-f]{64}$/);
    expect(lines.slice(1, 3)).toEqual(['id,code,value,unit', 'res-1,4548-4,6.1,%']);
    const event = west.audit.find((e) => e.action === 'export');
    expect(event).toMatchObject({ outcome: 'success', purposeOfUse: 'HPAYMT', resource: { type: 'lab-result', id: res.headers['x-phiguard-export-id'] } });
  });
});
