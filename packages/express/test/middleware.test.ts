import express from 'express';
import request from 'supertest';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AuditUnavailableError, OptionsError, definePolicy } from '@phiguard/core';
import { getAccessContext, nonPhi, phiResource, phiguard } from '@phiguard/express';
import { CHART, CHART_PHI, MemorySink, billing, doctor, makeApp, policy, SECRET, headerContext } from './fixtures.js';

/** Request ids are random UUIDs phiguard generated: one may hold the chart's digits by chance. */
const REQUEST_ID = /[\da-f]{8}-[\da-f]{4}-[\da-f]{4}-[\da-f]{4}-[\da-f]{12}/gi;

function expectNoPhi(text: string) {
  const visible = text.replace(REQUEST_ID, 'REQUEST-ID');
  for (const phi of CHART_PHI) expect(visible).not.toContain(phi);
}

afterEach(() => vi.restoreAllMocks());

describe('projection on a PHI route', () => {
  const { app, sink } = makeApp((a) => a.get('/charts/:id', (_req, res) => void res.json(CHART)));

  it('billing receives the MRN masked to its last 4 and result codes, nothing else', async () => {
    const res = await request(app).get('/charts/ch-1').set(billing);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: 'ch-1', patient: { mrn: '****4821' }, labs: [{ code: '2345-7' }, { code: '4548-4' }] });
  });

  it('the doctor receives every classified field and no unclassified one', async () => {
    const res = await request(app).get('/charts/ch-1').set(doctor);
    expect(res.body.patient).toEqual(CHART.patient);
    expect(res.body.labs[0]).toEqual({ code: '2345-7', value: 182, note: CHART.labs[0]!.note });
    expect(res.body.labs[0]).not.toHaveProperty('extra');
  });

  it('PHI responses are marked Cache-Control: no-store and carry a request id', async () => {
    const res = await request(app).get('/charts/ch-1').set(doctor).set('X-Request-Id', 'req-abc.1');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['x-request-id']).toBe('req-abc.1');
    const odd = await request(app).get('/charts/ch-1').set(doctor).set('X-Request-Id', 'has spaces <script>');
    expect(odd.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('writes one audit event per response with paths and operators, never values', async () => {
    sink.events.length = 0;
    await request(app).get('/charts/ch-1').set(billing).set('User-Agent', 'ua-test').set('traceparent', `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`);
    expect(sink.events).toHaveLength(1);
    const event = sink.events[0]!;
    expect(event).toMatchObject({
      action: 'read',
      outcome: 'success',
      actor: { id: 'bill-1', roles: ['billing'], userAgent: 'ua-test' },
      purposeOfUse: 'HPAYMT',
      resource: { type: 'Chart', id: 'ch-1' },
      transforms: { 'patient.mrn': 'partial' },
      request: { method: 'GET', route: '/charts/:id', traceId: 'a'.repeat(32) },
    });
    expect([...event.disclosed!].sort()).toEqual(['id', 'labs[].code', 'patient.mrn']);
    expect(event.patient?.ref).toMatch(/^pt_[\w-]{22}$/);
    expectNoPhi(JSON.stringify(event));
  });

  it('HEAD answers like GET without a body, and is audited', async () => {
    sink.events.length = 0;
    const get = await request(app).get('/charts/ch-1').set(billing);
    const head = await request(app).head('/charts/ch-1').set(billing);
    expect(head.status).toBe(200);
    expect(head.text ?? '').toBe('');
    expect(head.headers['content-length']).toBe(get.headers['content-length']);
    expect(head.headers['cache-control']).toBe('no-store');
    expect(sink.events.map((e) => e.request?.method)).toEqual(['GET', 'HEAD']);
  });

  it('a released body carries no validator: no ETag, never a 304, and its exact Content-Length', async () => {
    const first = await request(app).get('/charts/ch-1').set(billing);
    expect(first.status).toBe(200);
    expect(first.headers.etag).toBeUndefined();
    expect(Number(first.headers['content-length'])).toBe(Buffer.byteLength(first.text, 'utf8'));
    // A client replaying a validator still gets the body, projected for it now: no-store means no revalidation.
    const again = await request(app).get('/charts/ch-1').set(billing).set('If-None-Match', '*');
    expect(again.status).toBe(200);
    expect(again.text).toBe(first.text);
  });
});

describe('denials', () => {
  const handler = vi.fn((_req: express.Request, res: express.Response) => void res.json(CHART));
  const { app, sink } = makeApp((a) => a.get('/charts/:id', handler));

  it('an unknown role gets 403 with a reason code, the handler never runs, and a deny event is written', async () => {
    handler.mockClear();
    sink.events.length = 0;
    const res = await request(app).get('/charts/ch-1').set({ ...doctor, 'x-roles': 'janitor' });
    expect(res.status).toBe(403);
    expect(res.body.error).toMatchObject({ code: 'access_denied', reason: 'role_unknown', status: 403 });
    expect(handler).not.toHaveBeenCalled();
    expect(sink.events).toHaveLength(1);
    expect(sink.events[0]).toMatchObject({ action: 'deny', outcome: 'denied', attemptedAction: 'read', reason: 'role_unknown' });
    expectNoPhi(res.text);
  });

  it('a request without purpose of use gets 403 purpose_required', async () => {
    const res = await request(app).get('/charts/ch-1').set({ 'x-user': 'dr-1', 'x-roles': 'doctor' });
    expect(res.status).toBe(403);
    expect(res.body.error.reason).toBe('purpose_required');
  });

  it('a purpose the role has no rule for gets 403 purpose_not_permitted; a made-up purpose purpose_unknown', async () => {
    expect((await request(app).get('/charts/1').set({ ...billing, 'x-purpose': 'TREAT' })).body.error.reason).toBe('purpose_not_permitted');
    expect((await request(app).get('/charts/1').set({ ...billing, 'x-purpose': 'GOSSIP' })).body.error.reason).toBe('purpose_unknown');
  });

  it('an unauthenticated request gets 401 with WWW-Authenticate and a denial in audit', async () => {
    sink.events.length = 0;
    const res = await request(app).get('/charts/ch-1');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expect(res.body.error.code).toBe('authentication_required');
    expect(sink.events[0]).toMatchObject({ action: 'deny', outcome: 'denied', reason: 'authentication_required', actor: { id: null } });
  });

  it('a context resolver that crashes answers 401, never the crash message', async () => {
    const { app: broken } = makeApp((a) => a.get('/charts/:id', handler), {
      context: () => {
        throw new Error('token for Zebulon Quartermaine expired');
      },
    });
    const res = await request(broken).get('/charts/1');
    expect(res.status).toBe(401);
    expectNoPhi(res.text);
  });
});

describe('body shapes', () => {
  it('top-level arrays are projected element by element', async () => {
    const { app } = makeApp((a) => a.get('/charts', (_req, res) => void res.json([{ id: 'a', patient: { name: 'Zebulon' } }, { id: 'b' }])));
    expect((await request(app).get('/charts').set(doctor)).body).toEqual([{ id: 'a', patient: { name: 'Zebulon' } }, { id: 'b' }]);
    expect((await request(app).get('/charts').set(billing)).body).toEqual([{ id: 'a' }, { id: 'b' }]);
  });

  it('null and res.send(object) go through the same projection', async () => {
    const { app } = makeApp((a) => {
      a.get('/charts/null', (_req, res) => void res.json(null));
      a.get('/charts/:id', (_req, res) => void res.send(CHART));
    });
    expect((await request(app).get('/charts/null').set(billing)).text).toBe('null');
    expect((await request(app).get('/charts/x').set(billing)).body.patient).toEqual({ mrn: '****4821' });
  });

  it('a Buffer, string or stream on a PHI route is refused unless the resource allows raw bodies', async () => {
    const scan = Buffer.from('raw image bytes of Zebulon');
    const { app, sink } = makeApp((a) => {
      a.get('/charts/buffer', (_req, res) => void res.send(scan));
      a.get('/charts/string', (_req, res) => void res.send('Zebulon Quartermaine, MRN-55514821'));
      a.get('/charts/stream', (_req, res) => {
        res.write('Zebulon ');
        res.end('Quartermaine');
      });
      a.get('/scans/:id', phiResource('Scan'), (_req, res) => void res.send(scan));
    });
    for (const path of ['/charts/buffer', '/charts/string', '/charts/stream']) {
      const res = await request(app).get(path).set(doctor);
      expect(res.status, path).toBe(500);
      expect(res.body.error.code, path).toBe('raw_body_denied');
      expectNoPhi(res.text);
    }
    sink.events.length = 0;
    const allowed = await request(app).get('/scans/1').set(doctor).buffer(true).parse((r, cb) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => cb(null, Buffer.concat(chunks)));
    });
    expect(allowed.status).toBe(200);
    expect(Buffer.compare(allowed.body as Buffer, scan)).toBe(0);
    expect(allowed.headers['cache-control']).toBe('no-store');
    expect(sink.events[0]).toMatchObject({ outcome: 'success', resource: { type: 'Scan' }, disclosed: ['(raw body)'] });
  });

  it('a response another middleware already sent is left alone and not audited twice', async () => {
    const { app, sink } = makeApp((a) =>
      a.get('/charts/:id', (_req, res) => {
        res.json(CHART);
        try {
          res.json(CHART);
        } catch {
          /* Express refuses a second response */
        }
      }),
    );
    const res = await request(app).get('/charts/1').set(billing);
    expect(res.status).toBe(200);
    expect(res.body.patient).toEqual({ mrn: '****4821' });
    expect(sink.events.filter((e) => e.outcome === 'success')).toHaveLength(1);

    const early = express();
    early.use((_req, res) => void res.status(204).end());
    early.use(phiguard({ policy, secret: SECRET, audit: { write() {} }, context: headerContext }));
    expect((await request(early).get('/charts/1')).status).toBe(204);
  });

  it('a DELETE answered 204 without a body is audited as a delete, once; a refused one as a denied delete', async () => {
    const { app, sink } = makeApp((a) => a.delete('/charts/:id', phiResource('Chart'), (_req, res) => void res.status(204).end()));
    const res = await request(app).delete('/charts/ch-1').set(doctor);
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    expect(sink.events).toHaveLength(1);
    expect(sink.events[0]).toMatchObject({ action: 'delete', outcome: 'success', resource: { type: 'Chart' }, request: { method: 'DELETE', route: '/charts/:id' } });
    const refused = await request(app).delete('/charts/ch-1').set({ 'x-user': 'mallory', 'x-roles': 'janitor', 'x-purpose': 'TREAT' });
    expect(refused.status).toBe(403);
    expect(sink.events.at(-1)).toMatchObject({ action: 'deny', attemptedAction: 'delete', outcome: 'denied' });
    expect(sink.events).toHaveLength(2);
  });

  it('an empty 200 on a PHI route (res.end() with nothing) is audited once, as the request\'s action', async () => {
    const { app, sink } = makeApp((a) => a.put('/charts/:id', phiResource('Chart'), (_req, res) => void res.status(200).end()));
    const res = await request(app).put('/charts/ch-1').set(doctor);
    expect(res.status).toBe(200);
    expect(res.text).toBe('');
    expect(sink.events).toHaveLength(1);
    expect(sink.events[0]).toMatchObject({ action: 'update', outcome: 'success', resource: { type: 'Chart' } });
  });

  it('POST to a PHI route is audited as create', async () => {
    const { app, sink } = makeApp((a) => a.post('/charts', (req, res) => void res.status(201).json({ ...CHART, labs: req.body.labs })));
    const res = await request(app).post('/charts').set(doctor).send({ labs: [{ code: '1-1', value: 1 }] });
    expect(res.status).toBe(201);
    expect(sink.events.at(-1)).toMatchObject({ action: 'create', outcome: 'success' });
  });
});

describe('the error path never carries PHI', () => {
  const boom = 'Patient Zebulon Quartermaine SSN 912-34-5678 not billable';

  it('a thrown error answers 500 with a code; the message reaches neither the client nor the logs nor stderr', async () => {
    const stderr = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const { app, errors, sink } = makeApp((a) => {
      a.get('/charts/:id', () => {
        throw new Error(boom);
      });
      a.get('/async', nonPhi(), async () => {
        throw new Error(boom);
      });
    });
    for (const path of ['/charts/1', '/async']) {
      const res = await request(app).get(path).set(doctor);
      expect(res.status).toBe(500);
      expect(res.body.error.code).toBe('internal_error');
      expect(res.text).not.toContain('912-34-5678');
      expectNoPhi(res.text);
    }
    expect(JSON.stringify(errors)).not.toContain('912-34-5678');
    expect(errors).toHaveLength(2);
    expect(stderr).not.toHaveBeenCalled();
    expect(sink.events.filter((e) => e.outcome === 'error')).toMatchObject([{ resource: { type: 'Chart' }, reason: 'internal_error' }]);
  });

  it('a malformed JSON request body answers 400 without quoting it', async () => {
    const { app } = makeApp((a) => a.post('/charts', (_req, res) => void res.json({})));
    const res = await request(app).post('/charts').set(doctor).set('Content-Type', 'application/json').send('{"name": Zebulon Quartermaine}');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('bad_request');
    expectNoPhi(res.text);
  });

  it('a 10 MB request body is refused with 413 and nothing echoed', async () => {
    const { app } = makeApp((a) => a.post('/charts', (_req, res) => void res.json({})));
    const big = JSON.stringify({ note: `Zebulon ${'x'.repeat(10 * 1024 * 1024)}` });
    const res = await request(app).post('/charts').set(doctor).set('Content-Type', 'application/json').send(big);
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('payload_too_large');
    expectNoPhi(res.text);
  });

  it("an app's own error body on a PHI route is reduced to its code, and only to a code the app listed in errorCodes", async () => {
    const route = (a: express.Express) => {
      a.get('/charts/:id', (_req, res) => void res.status(404).json({ error: { code: 'chart_missing', message: 'No chart for Zebulon Quartermaine' } }));
      a.get('/charts/:id/mrn', (_req, res) => void res.status(404).json({ code: 'no_chart_for_MRN55514821' }));
    };
    const { app: listed } = makeApp(route, { errorCodes: ['chart_missing'] });
    const res = await request(listed).get('/charts/1').set(doctor);
    expect(res.status).toBe(404);
    expect(res.body.error).toMatchObject({ code: 'chart_missing', status: 404 });
    expectNoPhi(res.text);
    // A code can quote a value: unlisted codes become the generic code of the status.
    const { app } = makeApp(route);
    for (const path of ['/charts/1', '/charts/1/mrn']) {
      const unlisted = await request(app).get(path).set(doctor);
      expect(unlisted.body.error).toMatchObject({ code: 'not_found', status: 404 });
      expect(unlisted.text).not.toContain('MRN');
    }
  });

  it('an unknown URL answers 404 without echoing the path', async () => {
    const { app } = makeApp(() => undefined);
    const res = await request(app).get('/lookup/Zebulon-Quartermaine');
    expect(res.status).toBe(404);
    expectNoPhi(res.text);
  });
});

describe('oversized and hostile handler output', () => {
  it('a 10 MB document is refused whole (500 limit_exceeded), audited as an error', async () => {
    const labs = Array.from({ length: 40_000 }, (_, i) => ({ code: `c${i}`, value: i, note: `Zebulon ${'y'.repeat(200)}` }));
    const { app, sink } = makeApp((a) => a.get('/charts/:id', (_req, res) => void res.json({ ...CHART, labs })));
    const res = await request(app).get('/charts/1').set(doctor);
    expect(res.status).toBe(500);
    expect(res.body.error.code).toBe('limit_exceeded');
    expectNoPhi(res.text);
    expect(sink.events.at(-1)).toMatchObject({ outcome: 'error', reason: 'limit_exceeded' });
  });

  it('a 10,000-deep object under a sent field is refused, not a stack overflow', async () => {
    let deep: Record<string, unknown> = { name: 'Zebulon' };
    for (let i = 0; i < 10_000; i++) deep = { d: deep };
    const { app } = makeApp((a) => a.get('/charts/:id', (_req, res) => void res.json({ ...CHART, patient: { ...CHART.patient, name: deep } })));
    const res = await request(app).get('/charts/1').set(doctor);
    expect(res.status).toBe(500);
    expect(res.body.error.code).toBe('limit_exceeded');
  });

  it('__proto__, constructor and prototype keys neither crash nor pollute', async () => {
    const hostile = JSON.parse('{"id":"x","__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"patient":{"name":{"__proto__":{"polluted":true}},"prototype":1}}');
    const { app } = makeApp((a) => a.get('/charts/:id', (_req, res) => void res.json(hostile)));
    const res = await request(app).get('/charts/1').set(doctor);
    expect(res.status).toBe(200);
    expect(res.body.id).toBe('x');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
  });
});

describe('routes no resource claims', () => {
  it('are refused by default (500 unmapped_route) and reported once, by route pattern', async () => {
    const { app, errors } = makeApp((a) => a.get('/reports/:id', (_req, res) => void res.json({ name: 'Zebulon' })));
    const res = await request(app).get('/reports/1');
    expect(res.status).toBe(500);
    expect(res.body.error.code).toBe('unmapped_route');
    await request(app).get('/reports/2');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ route: 'GET /reports/:id', code: 'unmapped_route' });
  });

  it('pass with nonPhi() or onUnmappedRoute: "pass"', async () => {
    const { app } = makeApp((a) => a.get('/health', nonPhi(), (_req, res) => void res.json({ ok: true })));
    expect((await request(app).get('/health')).body).toEqual({ ok: true });
    const { app: lax } = makeApp((a) => a.get('/misc', (_req, res) => void res.send('hello')), { onUnmappedRoute: 'pass' });
    expect((await request(lax).get('/misc')).text).toBe('hello');
  });

  it('phiResource() claims a route on a router, and getAccessContext exposes the resolved context', async () => {
    let seen: unknown;
    const { app } = makeApp((a) => {
      const router = express.Router();
      router.get('/:id', phiResource('Chart'), (_req, res) => {
        seen = getAccessContext(res);
        res.json(CHART);
      });
      a.use('/v2/charts', router);
    });
    const res = await request(app).get('/v2/charts/1').set(billing);
    expect(res.body.patient).toEqual({ mrn: '****4821' });
    expect(seen).toMatchObject({ principal: { id: 'bill-1' }, purposeOfUse: 'HPAYMT', request: { route: '/v2/charts/:id' } });
  });
});

describe('fail closed on audit', () => {
  it('a throwing audit sink answers 503 and releases nothing', async () => {
    const { app } = makeApp((a) => a.get('/charts/:id', (_req, res) => void res.json(CHART)), {
      audit: {
        write() {
          throw new Error('disk full');
        },
      },
    });
    const res = await request(app).get('/charts/1').set(doctor);
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('audit_unavailable');
    expectNoPhi(res.text);
  });

  it('an asynchronous sink is awaited: rejection answers 503, success sends the body', async () => {
    let fail = true;
    const { app } = makeApp((a) => a.get('/charts/:id', (_req, res) => void res.json(CHART)), {
      audit: { write: () => (fail ? Promise.reject(new AuditUnavailableError()) : new Promise<void>((r) => setTimeout(r, 5))) },
    });
    expect((await request(app).get('/charts/1').set(billing)).status).toBe(503);
    fail = false;
    const ok = await request(app).get('/charts/1').set(billing);
    expect(ok.status).toBe(200);
    expect(ok.body.patient).toEqual({ mrn: '****4821' });
  });
});

describe('start-up validation', () => {
  it('app.use(phiguard) without calling it is explained', () => {
    const call = phiguard as unknown as (...args: unknown[]) => unknown;
    expect(() => call({}, {}, () => undefined)).toThrow(/must be called/);
  });

  it('misspelled options throw with a suggestion', () => {
    expect(() => phiguard({ policy, secret: SECRET, audit: { write() {} }, context: headerContext, onUnmapedRoute: 'pass' } as never)).toThrow(
      /unknown phiguard option "onUnmapedRoute"; did you mean "onUnmappedRoute"/,
    );
  });

  it('a missing context resolver or audit sink fails at start-up', () => {
    expect(() => phiguard({ policy, secret: SECRET, audit: { write() {} } } as never)).toThrow(OptionsError);
    expect(() => phiguard({ policy, secret: SECRET, context: headerContext } as never)).toThrow(/audit/);
  });
});

describe('audit and error details', () => {
  it('a failed authentication is audited with where it came from, and no actor', async () => {
    const { app, sink } = makeApp((a) => a.get('/charts/:id', (_req, res) => void res.json(CHART)));
    await request(app).get('/charts/1').set('User-Agent', 'probe/1').set('X-Request-Id', 'r-401');
    expect(sink.events.at(-1)).toMatchObject({
      action: 'deny',
      reason: 'authentication_required',
      actor: { id: null, roles: [], userAgent: 'probe/1' },
      request: { method: 'GET', route: '/charts/:id', requestId: 'r-401' },
    });
  });

  it('error bodies are JSON and never cached, whatever type an earlier handler set', async () => {
    const { app } = makeApp(() => undefined);
    const res = await request(app).get('/nowhere');
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body.error.code).toBe('not_found');
  });
});

describe('routing and mounting that must not leak', () => {
  it('two resources claiming one route (any parameter names) fail at start-up', () => {
    const clash = definePolicy({
      roles: ['doctor'],
      resources: {
        Chart: { routes: ['GET /charts/:id'], fields: { id: 'non-phi' }, disclose: { doctor: { TREAT: { '*': 'send' } } } },
        Billing: { routes: ['GET /charts/:chartId'], fields: { id: 'non-phi' }, disclose: { doctor: { TREAT: { '*': 'send' } } } },
      },
    });
    expect(() => phiguard({ policy: clash, secret: SECRET, audit: new MemorySink(), context: headerContext })).toThrow(/claimed by Chart and Billing/);
    expect(() => phiguard({ policy, secret: SECRET, audit: new MemorySink(), context: headerContext, nonPhi: ['GET /charts/:x'] })).toThrow(/claimed by Chart and nonPhi/);
  });

  it('a route the matcher cannot read fails at start-up naming it, with the syntax to use', () => {
    expect(() => phiguard({ policy, secret: SECRET, audit: new MemorySink(), context: headerContext, nonPhi: ['GET /status/:id?'] })).toThrow(OptionsError);
    expect(() => phiguard({ policy, secret: SECRET, audit: new MemorySink(), context: headerContext, nonPhi: ['GET /status/:id?'] })).toThrow(/GET \/status\/:id\? .*\{\/:id\}/);
  });

  it('the route Express actually ran decides the resource, not the first pattern that matches the URL', async () => {
    const overlapping = definePolicy({
      roles: ['billing'],
      resources: {
        // Declared first, and its pattern matches /items/summary too.
        Item: { routes: ['GET /items/:id'], fields: { id: 'non-phi', name: 'direct-identifier', ssn: 'direct-identifier' }, disclose: { billing: { HPAYMT: { '*': 'send' } } } },
        Summary: { routes: ['GET /items/summary'], fields: { count: 'non-phi', name: 'direct-identifier', ssn: 'direct-identifier' }, disclose: { billing: { HPAYMT: { count: 'send' } } } },
      },
    });
    const sink = new MemorySink();
    const app = express();
    app.use(phiguard({ policy: overlapping, secret: SECRET, audit: sink, context: headerContext, mode: 'production' }));
    app.get('/items/summary', (_req, res) => void res.json({ count: 3, name: 'Zebulon Quartermaine', ssn: '123-45-6789' }));
    app.get('/items/:id', (_req, res) => void res.json({ id: 'i-1', name: 'Zebulon Quartermaine' }));
    const res = await request(app).get('/items/summary').set(billing);
    expect(res.body).toEqual({ count: 3 });
    expect(sink.events[0]).toMatchObject({ resource: { type: 'Summary' }, request: { route: '/items/summary' } });
    expect((await request(app).get('/items/i-1').set(billing)).body).toEqual({ id: 'i-1', name: 'Zebulon Quartermaine' });
  });

  it('a second phiguard with another engine (a sub-app) is refused, not silently ignored', async () => {
    const { app } = makeApp((a) => {
      const sub = express();
      sub.use(phiguard({ policy, secret: SECRET, audit: new MemorySink(), context: headerContext }));
      sub.get('/x/:id', (_req, res) => void res.json(CHART));
      a.use('/sub', sub);
    });
    const res = await request(app).get('/sub/x/1').set(doctor);
    expect(res.status).toBe(500);
    expectNoPhi(res.text);
  });

  it('nonPhi() mounted on a prefix marks that path only, never the routes under it', async () => {
    const { app } = makeApp((a) => {
      const fhir = express.Router();
      fhir.get('/', (_req, res) => void res.json({ resourceType: 'CapabilityStatement' }));
      fhir.get('/Encounter/:id', (_req, res) => void res.json({ resourceType: 'Encounter', subject: 'Zebulon Quartermaine' }));
      fhir.post('/Patient', (req, res) => void res.json(req.body));
      a.use('/fhir', nonPhi(), fhir);
    });
    expect((await request(app).get('/fhir').set(doctor)).body).toEqual({ resourceType: 'CapabilityStatement' });
    const encounter = await request(app).get('/fhir/Encounter/1').set(doctor);
    expect(encounter.status).toBe(500);
    expect(encounter.body.error.code).toBe('unmapped_route');
    expectNoPhi(encounter.text);
    const echo = await request(app).post('/fhir/Patient').set(doctor).send({ ssn: '123-45-6789', name: 'Zebulon' });
    expect(echo.status).toBe(500);
    expect(echo.text).not.toContain('123-45-6789');
  });

  it('routes listed in the nonPhi option pass exactly', async () => {
    const { app } = makeApp((a) => {
      a.get('/health', (_req, res) => void res.json({ ok: true }));
      a.get('/health/deep', (_req, res) => void res.json({ patient: 'Zebulon' }));
    }, { nonPhi: ['GET /health'] });
    expect((await request(app).get('/health')).body).toEqual({ ok: true });
    expect((await request(app).get('/health/deep')).status).toBe(500);
  });
});

describe('writes on routes nobody claimed', () => {
  it('are refused before the handler runs, so a retry cannot repeat the side effect', async () => {
    let ran = 0;
    const { app } = makeApp((a) => {
      a.post('/orders', (_req, res) => {
        ran++;
        res.status(201).json({ ok: true });
      });
      a.get('/orders', (_req, res) => void res.json([]));
    });
    const res = await request(app).post('/orders').set(doctor).send({ note: 'x' });
    expect(res.status).toBe(500);
    expect(res.body.error.code).toBe('unmapped_route');
    expect(ran).toBe(0);
    // A read still runs, and only its body is refused.
    expect((await request(app).get('/orders').set(doctor)).body.error.code).toBe('unmapped_route');
  });
});

describe('non-PHI routes listed in the policy', () => {
  it('pass exactly, a claimed route cannot be listed, and a malformed entry is a policy error', async () => {
    const withHealth = definePolicy({ ...policy, nonPhi: ['GET /health'] } as Parameters<typeof definePolicy>[0]);
    const sink = new MemorySink();
    const app = express();
    app.use(phiguard({ policy: withHealth, secret: SECRET, audit: sink, context: headerContext, mode: 'production' }));
    app.get('/health', (_req, res) => void res.json({ ok: true }));
    app.get('/health/:id', (_req, res) => void res.json({ patient: 'Zebulon' }));
    expect((await request(app).get('/health')).body).toEqual({ ok: true });
    expect((await request(app).get('/health/1')).status).toBe(500);
    expect(sink.events).toHaveLength(0);
    const clash = definePolicy({ ...policy, nonPhi: ['GET /charts/:x'] } as Parameters<typeof definePolicy>[0]);
    expect(() => phiguard({ policy: clash, secret: SECRET, audit: new MemorySink(), context: headerContext })).toThrow(/claimed by Chart and nonPhi/);
    const bad = definePolicy({ ...policy, nonPhi: ['health'] } as Parameters<typeof definePolicy>[0]);
    expect(() => phiguard({ policy: bad, secret: SECRET, audit: new MemorySink(), context: headerContext })).toThrow(/policy.nonPhi: route "health"/);
  });
});
