import { execFileSync } from 'node:child_process';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OptionsError, createScanner, type AuditEvent } from '@phiguard/core';
import { createMemoryStateStore } from '@phiguard/core/state';
import { getClientIdentity, getVerifiedSignature, hardenPhiResponses, sendExport, verifySignature, type SendExportOptions } from '../src/delivery.js';


/** The documented scheme, computed independently: `t=<t>,v1=hex(HMAC-SHA256(secret, "t.METHOD.path.hex(sha256(body))"))`. */
function signRequest(o: { secret: Uint8Array; method: string; path: string; body: string; timestamp?: number }): string {
  const t = o.timestamp ?? Math.floor(Date.now() / 1000);
  const digest = createHash('sha256').update(o.body).digest('hex');
  return `t=${t},v1=${createHmac('sha256', o.secret).update(`${t}.${o.method.toUpperCase()}.${o.path}.${digest}`).digest('hex')}`;
}

const CURRENT = randomBytes(32);
const PREVIOUS = randomBytes(32);
const BODY = JSON.stringify({ resultId: 'r-1', status: 'final' });

function hookApp(options: Partial<Parameters<typeof verifySignature>[0]> = {}, before?: express.RequestHandler) {
  const calls: unknown[] = [];
  const app = express();
  if (before) app.use(before);
  app.post('/hooks/results', verifySignature({ secrets: [{ id: 'k2', secret: CURRENT }], store: createMemoryStateStore(), ...options }), (req, res) => {
    calls.push(req.body);
    res.json({ ok: true, secretId: getVerifiedSignature(req)?.secretId ?? null, isBuffer: Buffer.isBuffer(req.body) });
  });
  return { app, calls };
}

const sign = (secret: Uint8Array, body = BODY, path = '/hooks/results', timestamp?: number) =>
  signRequest({ secret, method: 'POST', path, body, ...(timestamp === undefined ? {} : { timestamp }) });

describe('verifySignature', () => {
  it('accepts a valid signed request and gives the handler the raw body', async () => {
    const { app, calls } = hookApp();
    const res = await request(app).post('/hooks/results').set('Content-Type', 'application/json').set('X-PhiGuard-Signature', sign(CURRENT)).send(BODY);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ok: true, secretId: 'k2', isBuffer: true });
    expect((calls[0] as Buffer).toString('utf8')).toBe(BODY);
  });

  it('parses the verified body as JSON with `json: true`', async () => {
    const { app, calls } = hookApp({ json: true });
    const res = await request(app).post('/hooks/results').set('Content-Type', 'application/json').set('X-PhiGuard-Signature', sign(CURRENT)).send(BODY);
    expect(res.status).toBe(200);
    expect(calls).toEqual([{ resultId: 'r-1', status: 'final' }]);
  });

  it('rejects a replay with 409 signature_replayed before the handler', async () => {
    const { app, calls } = hookApp();
    const header = sign(CURRENT);
    await request(app).post('/hooks/results').set('X-PhiGuard-Signature', header).send(BODY).expect(200);
    const res = await request(app).post('/hooks/results').set('X-PhiGuard-Signature', header).send(BODY);
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: 'signature_replayed', status: 409 });
    expect(res.headers['cache-control']).toBe('no-store');
    expect(calls).toHaveLength(1);
  });

  it('rejects stale, body-tampered, wrong-key, wrong-path, unsigned and rotated-out-after-overlap requests with 401', async () => {
    const { app, calls } = hookApp({ secrets: [{ secret: CURRENT }, { id: 'old', secret: PREVIOUS, notAfter: Date.now() - 1000 }] });
    const stale = sign(CURRENT, BODY, '/hooks/results', Math.floor(Date.now() / 1000) - 301);
    const cases: [string | undefined, string, string][] = [
      [stale, BODY, 'signature_stale'],
      [sign(CURRENT), BODY.replace('final', 'amended'), 'signature_invalid'],
      [sign(randomBytes(32)), BODY, 'signature_invalid'],
      [sign(CURRENT, BODY, '/hooks/other'), BODY, 'signature_invalid'],
      [undefined, BODY, 'signature_invalid'],
      [sign(PREVIOUS), BODY, 'signature_invalid'],
    ];
    for (const [header, body, code] of cases) {
      const req = request(app).post('/hooks/results').set('Content-Type', 'application/json');
      const res = await (header === undefined ? req : req.set('X-PhiGuard-Signature', header)).send(body);
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ error: { code, status: 401 } });
    }
    expect(calls).toHaveLength(0);
  });

  it('accepts a rotated-out secret during its overlap', async () => {
    const { app } = hookApp({ secrets: [{ secret: CURRENT }, { id: 'old', secret: PREVIOUS, notAfter: new Date(Date.now() + 60_000) }] });
    const res = await request(app).post('/hooks/results').set('X-PhiGuard-Signature', sign(PREVIOUS)).send(BODY);
    expect(res.body).toMatchObject({ ok: true, secretId: 'old' });
  });

  it('signs the query string too (originalUrl) and works under a mounted router', async () => {
    const router = express.Router();
    router.post('/results', verifySignature({ secrets: [{ secret: CURRENT }], store: createMemoryStateStore() }), (_req, res) => void res.json({ ok: true }));
    const app = express().use('/hooks', router);
    await request(app).post('/hooks/results?v=2').set('X-PhiGuard-Signature', sign(CURRENT, BODY, '/hooks/results?v=2')).send(BODY).expect(200);
    await request(app).post('/hooks/results?v=3').set('X-PhiGuard-Signature', sign(CURRENT, BODY, '/hooks/results?v=2')).send(BODY).expect(401);
  });

  it('uses a raw body read by express.raw() before it, and refuses a body already parsed to an object', async () => {
    const { app } = hookApp({}, express.raw({ type: '*/*' }));
    await request(app).post('/hooks/results').set('Content-Type', 'application/json').set('X-PhiGuard-Signature', sign(CURRENT)).send(BODY).expect(200);
    const parsed = hookApp({}, express.json());
    const res = await request(parsed.app).post('/hooks/results').set('Content-Type', 'application/json').set('X-PhiGuard-Signature', sign(CURRENT)).send(BODY);
    expect(res.status).toBe(500);
    expect(res.body.error.code).toBe('signature_body_parsed');
    expect(parsed.calls).toHaveLength(0);
  });

  it('refuses bodies over the limit with 413', async () => {
    const { app, calls } = hookApp({ limit: 10 });
    const res = await request(app).post('/hooks/results').set('X-PhiGuard-Signature', sign(CURRENT)).send(BODY);
    expect(res.status).toBe(413);
    expect(calls).toHaveLength(0);
  });

  it('validates options at start-up', () => {
    const store = createMemoryStateStore();
    expect(() => verifySignature({ secrets: [{ secret: 'short' }], store })).toThrow(/at least 32/);
    expect(() => verifySignature({ secrets: [{ secret: CURRENT }], store, toleranceSecond: 3 } as never)).toThrow(/did you mean "toleranceSeconds"/);
    expect(() => verifySignature({ secrets: [{ secret: CURRENT }], store, tolerance: 3, toleranceSeconds: 3 })).toThrow(OptionsError);
    expect(() => verifySignature({ secrets: [{ secret: CURRENT }] } as never)).toThrow(/store/);
  });
});

describe('hardenPhiResponses over plain HTTP', () => {
  const app = (options: Parameters<typeof hardenPhiResponses>[0]) =>
    express()
      .use(hardenPhiResponses(options))
      .get('/results', (_req, res) => void res.json({ ok: true }));

  it('refuses plain HTTP with 403 https_required, uncached', async () => {
    const res = await request(app({})).get('/results');
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ error: { code: 'https_required', status: 403 } });
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers.pragma).toBe('no-cache');
  });

  it('sets no-store and no-cache on allowed responses', async () => {
    const res = await request(app({ requireHttps: false })).get('/results');
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers.pragma).toBe('no-cache');
  });

  it('keeps no-store when a handler sets its own caching headers', async () => {
    const app = express()
      .use(hardenPhiResponses({ requireHttps: false }))
      .get('/a', (_req, res) => void res.set('Cache-Control', 'public, max-age=3600').json({ ok: true }))
      .get('/b', (_req, res) => void res.writeHead(200, { 'Cache-Control': 'max-age=60', 'Content-Type': 'text/plain' }).end('ok'));
    for (const path of ['/a', '/b']) {
      const res = await request(app).get(path);
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers.pragma).toBe('no-cache');
    }
  });

  it('honours X-Forwarded-Proto only from trusted proxy addresses, reading the entry the nearest proxy wrote', async () => {
    await request(app({})).get('/results').set('X-Forwarded-Proto', 'https').expect(403);
    await request(app({ trustProxy: ['10.0.0.1'] })).get('/results').set('X-Forwarded-Proto', 'https').expect(403);
    await request(app({ trustProxy: ['127.0.0.1'] })).get('/results').set('X-Forwarded-Proto', 'https').expect(200);
    await request(app({ trustProxy: ['127.0.0.0/8', '::1'] })).get('/results').set('X-Forwarded-Proto', 'https').expect(200);
    await request(app({ trustProxy: ['127.0.0.1'] })).get('/results').set('X-Forwarded-Proto', 'https, http').expect(403);
    await request(app({ trustProxy: ['127.0.0.1'] })).get('/results').set('X-Forwarded-Proto', 'http').expect(403);
    await request(app({ trustProxy: ['127.0.0.1'] })).get('/results').expect(403);
  });

  it('validates options at start-up', () => {
    expect(() => hardenPhiResponses({ trustProxy: ['loopback'] })).toThrow(/not an IP address/);
    expect(() => hardenPhiResponses({ trustProxy: ['10.0.0.0/33'] })).toThrow(OptionsError);
    expect(() => hardenPhiResponses({ requireHttp: true } as never)).toThrow(/did you mean "requireHttps"/);
    expect(() => hardenPhiResponses({ mtls: {} as never })).toThrow(/principalFromSubject/);
    // app.use(hardenPhiResponses) without the call is explained, not run with the request as options.
    const bare = hardenPhiResponses as unknown as (...a: unknown[]) => unknown;
    expect(() => bare({}, {}, () => undefined)).toThrow(/must be called/);
    expect(() => (verifySignature as unknown as (...a: unknown[]) => unknown)({}, {}, () => undefined)).toThrow(/must be called/);
  });

  it('refuses mTLS routes reached without TLS', async () => {
    const res = await request(app({ requireHttps: false, mtls: { principalFromSubject: () => 'x' } })).get('/results');
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('client_certificate_required');
  });
});

describe('hardenPhiResponses over real TLS with client certificates', () => {
  let dir: string;
  let server: https.Server;
  let port: number;
  const pem = (name: string) => readFileSync(join(dir, name));
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });

  function issue(name: string, cn: string, caName: string, ext: string) {
    openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/O=Acme Labs/CN=${cn}`);
    writeFileSync(join(dir, `${name}.ext`), ext);
    openssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${caName}.crt`, '-CAkey', `${caName}.key`, '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`);
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'phiguard-mtls-'));
    for (const ca of ['ca', 'rogue']) {
      openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${ca}.key`, '-out', `${ca}.crt`, '-days', '2', '-subj', `/CN=${ca} test CA`);
    }
    issue('server', 'localhost', 'ca', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
    issue('partner', 'lab-partner-1', 'ca', 'extendedKeyUsage=clientAuth\n');
    issue('stranger', 'unknown-client', 'ca', 'extendedKeyUsage=clientAuth\n');
    issue('forged', 'lab-partner-1', 'rogue', 'extendedKeyUsage=clientAuth\n');

    const app = express()
      .use(hardenPhiResponses({ mtls: { principalFromSubject: (subject) => (subject.O === 'Acme Labs' && subject.CN === 'lab-partner-1' ? 'partner:lab-1' : null) } }))
      .get('/results', (req, res) => void res.json({ principal: getClientIdentity(req)?.principal, cn: req.phiguardClient?.subject.CN }));
    // The server asks for a certificate but lets the middleware decide (rejectUnauthorized: false).
    server = https.createServer({ key: pem('server.key'), cert: pem('server.crt'), ca: pem('ca.crt'), requestCert: true, rejectUnauthorized: false }, app);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((r) => server?.close(r));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function get(client?: string): Promise<{ status: number; headers: Record<string, unknown>; body: Record<string, unknown> }> {
    return new Promise((resolve, reject) => {
      const req = https.request(
        { host: '127.0.0.1', port, path: '/results', ca: pem('ca.crt'), ...(client ? { key: pem(`${client}.key`), cert: pem(`${client}.crt`) } : {}) },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: JSON.parse(text) as Record<string, unknown> }));
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  it('maps a verified client certificate to req.phiguardClient', async () => {
    const res = await get('partner');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ principal: 'partner:lab-1', cn: 'lab-partner-1' });
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('refuses a TLS client without a certificate (401) or with one from another CA (401)', async () => {
    expect((await get()).body).toEqual({ error: { code: 'client_certificate_required', status: 401 } });
    const forged = await get('forged');
    expect(forged.status).toBe(401);
    expect(forged.body).toEqual({ error: { code: 'client_certificate_required', status: 401 } });
  });

  it('refuses a verified certificate whose subject maps to no principal (403)', async () => {
    const res = await get('stranger');
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ error: { code: 'client_not_allowed', status: 403 } });
  });
});

describe('sendExport', () => {
  const rows = [
    { id: 'r1', code: '2345-7', value: 182 },
    { id: 'r2', code: '=cmd|calc', value: -1 },
  ];
  const meta = { purpose: 'HPAYMT', recipient: 'Acme Billing', user: 'u-clerk-3', requestId: 'req-9' };
  function exportApp(over: Partial<SendExportOptions> = {}) {
    const events: AuditEvent[] = [];
    const app = express().get('/export', async (_req, res) => {
      await sendExport(res, { format: 'csv', filename: 'Patient Jane Doe DOB 1951-04-12 MRN 7654321.csv', rows, columns: ['id', 'code', 'value'], meta, audit: { write: (e) => void events.push(e) }, resource: 'lab-result', ...over });
    });
    return { app, events };
  }

  it('sends a watermarked CSV as an attachment whose file name carries no identifier', async () => {
    const { app, events } = exportApp();
    const res = await request(app).get('/export').buffer(true).parse((r, cb) => {
      let text = '';
      r.on('data', (c: Buffer) => (text += c.toString()));
      r.on('end', () => cb(null, text));
    });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv; charset=utf-8/);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers.pragma).toBe('no-cache');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    const disposition = res.headers['content-disposition'] as string;
    expect(disposition).toMatch(/^attachment; filename="[A-Za-z0-9._-]+\.csv"$/);
    for (const leak of ['Jane', 'Doe', '1951', '7654321']) expect(disposition).not.toContain(leak);
    const text = res.body as string;
    expect(text.split('\r\n')[0]).toMatch(/^# phiguard-export purpose=HPAYMT recipient="Acme Billing" user=u-clerk-3 time=\S+ requestId=req-9 exportId=[0-9a-f-]{36} records=2 sha256=[0-9a-f]{64}$/);
    expect(text).toContain("r2,'=cmd|calc,-1");
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ action: 'export', outcome: 'success', resource: { type: 'lab-result', id: res.headers['x-phiguard-export-id'] } });
  });

  it('carries the disclosure record with the digest of the exact bytes sent; a bad block or one without audit answers an error and sends nothing', async () => {
    const disclosure = { recipient: { type: 'business-associate' as const, id: 'acme-billing', nameRef: 'rn_42' }, purpose: 'Claims processing', basis: 'payment' as const };
    const { app, events } = exportApp({ disclosure });
    const res = await request(app).get('/export').buffer(true).parse((r, cb) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => cb(null, Buffer.concat(chunks)));
    });
    expect(res.status).toBe(200);
    const sent = res.body as Buffer;
    expect(events[0]!.disclosure).toEqual({
      recipient: disclosure.recipient,
      purpose: 'Claims processing',
      basis: 'payment',
      deliveryMethod: 'download',
      digest: `sha256:${createHash('sha256').update(sent).digest('hex')}`,
      bytes: sent.length,
      description: { recordTypes: [], records: 2 },
    });
    for (const over of [{ disclosure, audit: undefined }, { disclosure: { ...disclosure, basis: 'whim' as never } }, { disclosure: { ...disclosure, purpose: 'For Jane Doe MRN 7654321' } }]) {
      const bad = exportApp(over);
      const r = await request(bad.app).get('/export');
      expect(r.status).toBe(500);
      expect(r.text).not.toContain('phiguard-export');
      expect(bad.events).toEqual([]);
    }
  });

  it('sends JSON with the watermark, and fixes the extension to the format', async () => {
    const { app } = exportApp({ format: 'json', filename: 'labs.csv' });
    const res = await request(app).get('/export');
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['content-disposition']).toBe('attachment; filename="labs.json"');
    expect(res.body.data).toEqual(rows);
    expect(res.body.meta.watermark).toMatchObject({ purpose: 'HPAYMT', recipient: 'Acme Billing', records: 2 });
  });

  it('sends nothing but 503 when the audit sink fails', async () => {
    const { app } = exportApp({ audit: { write: () => Promise.reject(new Error('down')) } });
    const res = await request(app).get('/export');
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ error: { code: 'audit_unavailable', status: 503 } });
    expect(res.headers['content-disposition']).toBeUndefined();
  });

  it('answers 500 export_invalid for a watermark that could forge lines', async () => {
    const { app } = exportApp({ meta: { ...meta, user: 'u\r\n=x' } });
    const res = await request(app).get('/export');
    expect(res.status).toBe(500);
    expect(res.body.error.code).toBe('export_invalid');
  });

  it('uses the given scanner for the file name, and refuses misspelled options', async () => {
    const { app } = exportApp({ filename: 'Okonkwo labs.csv', scanner: createScanner({ names: ['Okonkwo'] }) });
    expect((await request(app).get('/export')).headers['content-disposition']).not.toMatch(/Okonkwo/);
    const bad = express().get('/x', async (_req, res, next) => {
      try {
        await sendExport(res, { format: 'csv', filename: 'a.csv', rows, columns: ['id'], meta, colums: [] } as never);
      } catch (err) {
        res.status(500).json({ message: (err as Error).message });
        return next();
      }
    });
    expect((await request(bad).get('/x')).body.message).toMatch(/did you mean "columns"/);
  });
});
