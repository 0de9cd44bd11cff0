/**
 * End-to-end over HTTP on the NestJS example: a CSV export to an outside recipient carries the
 * disclosure record of a `disclose` event (recipient, purpose statement, basis, delivery method,
 * digest of the exact bytes received), is refused without a registered recipient or a business
 * associate agreement, and the accounting of disclosures lists it or not by 164.528.
 */
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../examples/nestjs-lab-results/src/app.js';
import { signToken } from '../../examples/express-lab-results/src/auth.js';
import { memoryLog } from '../../examples/express-lab-results/src/memory-log.js';
import { expectCourtExportDisclosure } from './export-disclosure.js';

const JWT_SECRET = 'e2e-jwt-secret-for-the-export-disclosures-01';
const log = memoryLog();
let app: INestApplication;
let base: string;

async function call(method: string, path: string, sub: string, roles: string[], purpose: string, body?: unknown) {
  const token = await signToken({ sub, roles, amr: ['pwd', 'otp'] }, JWT_SECRET);
  const headers: Record<string, string> = { authorization: `Bearer ${token}`, 'x-purpose-of-use': purpose };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()) };
}
const exportTo = (q: string) => call('GET', `/patients/1003/results.csv?${q}`, 'roi-2', ['release-of-information'], 'HLEGAL');

beforeAll(async () => {
  app = await createApp({ jwtSecret: JWT_SECRET, phiguardSecret: 'e2e-phiguard-secret-with-at-least-32-bytes', logger: log.logger });
  await app.listen(0, '127.0.0.1');
  base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  for (const r of [
    { id: 'state-dph', type: 'public-health-authority', name: 'State Department of Public Health' },
    { id: 'suffolk-court', type: 'court', name: 'Suffolk Superior Court' },
    { id: 'copy-vendor', type: 'business-associate', name: 'Records Copy Service LLC' },
  ]) {
    const res = await call('POST', '/governance/recipients', 'po.ade', ['privacy-officer'], 'HOPERAT', r);
    if (res.status !== 201) throw new Error(`registration failed: ${res.status}`);
  }
});
afterAll(async () => {
  await app.close();
});

describe('CSV export to an outside recipient (NestJS example)', () => {
  it('records the disclosure block with the digest of the exact bytes received, and the accounting lists only what 164.528 requires', async () => {
    const since = new Date().toISOString();
    const court = await exportTo('recipient=suffolk-court&basis=judicial&statement=Court%20order%20for%20laboratory%20records');
    expect(court.status).toBe(200);
    const event = log.auditEvents().filter((e) => e.action === 'export').at(-1)!;
    expectCourtExportDisclosure(event, court.bytes);

    // An export to the patient (exempt, 164.528(a)(1)(ii)) and an internal one (no recipient).
    expect((await exportTo('recipient=state-dph&basis=individual&statement=Copy%20requested%20by%20the%20patient')).status).toBe(200);
    expect((await exportTo('')).status).toBe(200);
    expect(log.auditEvents().filter((e) => e.action === 'export').at(-1)!.disclosure).toBeUndefined();
    const health = await exportTo('recipient=state-dph&basis=public-health&statement=Reportable%20condition');
    expect(health.status).toBe(200);

    const acc = await call('GET', `/governance/patients/1003/disclosures?from=${encodeURIComponent(since)}`, 'po.ade', ['privacy-officer'], 'HOPERAT');
    expect(acc.status).toBe(200);
    const lines = JSON.parse(acc.bytes.toString('utf8')) as { action: string; basis: string; purpose: string; recipient: { id: string; name?: string }; digest: string }[];
    expect(lines.map((l) => [l.action, l.basis, l.recipient.id, l.recipient.name])).toEqual([
      ['export', 'judicial', 'suffolk-court', 'Suffolk Superior Court'],
      ['export', 'public-health', 'state-dph', 'State Department of Public Health'],
    ]);
    expect(lines[1]!.digest).toBe(`sha256:${createHash('sha256').update(health.bytes).digest('hex')}`);
  });

  it('refuses an export to an unregistered recipient or a business associate without an agreement (403, audited), and a request without basis or statement (400)', async () => {
    const unknown = await exportTo('recipient=nobody&basis=judicial&statement=Court%20order');
    expect(unknown.status).toBe(403);
    expect(JSON.parse(unknown.bytes.toString('utf8'))).toMatchObject({ error: { reason: 'recipient_unknown' } });
    const vendor = await exportTo('recipient=copy-vendor&basis=operations&statement=Copy%20service');
    expect(vendor.status).toBe(403);
    expect(JSON.parse(vendor.bytes.toString('utf8'))).toMatchObject({ error: { reason: 'agreement_missing' } });
    expect(log.auditEvents().filter((e) => e.reason === 'agreement_missing' && e.attemptedAction === 'export')).toHaveLength(1);
    expect(vendor.bytes.toString('utf8')).not.toContain('phiguard-export');
    for (const q of ['recipient=state-dph', 'recipient=state-dph&basis=gossip&statement=x', 'recipient=state-dph&basis=public-health']) {
      expect((await exportTo(q)).status, q).toBe(400);
    }
  });
});
