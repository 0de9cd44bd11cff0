/**
 * The response-path matrix: every Node and Express API that can write a body or a header ×
 * claimed / unclaimed route × no compression, compression before phiguard, compression after it ×
 * success / error / refusal, over real HTTP. For each cell: no byte of the document's PHI leaves
 * unprojected (body, decompressed, and every header value), and the status says what happened.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import compression from 'compression';
import express, { type Express, type Request, type Response } from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { AuthenticationRequiredError } from '@phiguard/core';
import { phiguard } from '@phiguard/express';
import { CHART, CHART_PHI, MemorySink, SECRET, billing, policy } from '../../packages/express/test/fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'phiguard-matrix-'));
const jsonFile = join(dir, 'chart.json');
writeFileSync(jsonFile, JSON.stringify(CHART));
const textFile = join(dir, 'chart.txt');
writeFileSync(textFile, `Zebulon Quartermaine MRN-55514821 ${'x'.repeat(2000)}`);
const BIG = { ...CHART, labs: Array.from({ length: 200 }, (_, i) => ({ code: `${1000 + i}-1`, value: i, note: 'Zebulon called from 617-555-0142' })) };

type Writer = (req: Request, res: Response) => void;
/** What a writer sends: a projectable JSON document, bytes phiguard cannot read, or an error. */
type Kind = 'json' | 'raw' | 'error' | 'empty';

const WRITERS: Record<string, { kind: Kind; write: Writer }> = {
  'res.json': { kind: 'json', write: (_q, r) => void r.json(CHART) },
  'res.json (large)': { kind: 'json', write: (_q, r) => void r.json(BIG) },
  'res.send(object)': { kind: 'json', write: (_q, r) => void r.send(CHART) },
  'res.type(json).send(string)': { kind: 'json', write: (_q, r) => void r.type('application/json').send(JSON.stringify(CHART)) },
  'writeHead + end(string)': {
    kind: 'json',
    write: (_q, r) => {
      r.writeHead(200, { 'Content-Type': 'application/json' });
      r.end(JSON.stringify(CHART));
    },
  },
  'flushHeaders + end(string)': {
    kind: 'json',
    write: (_q, r) => {
      r.setHeader('Content-Type', 'application/json');
      r.flushHeaders();
      r.end(JSON.stringify(CHART));
    },
  },
  'write chunks + end': {
    kind: 'json',
    write: (_q, r) => {
      r.setHeader('Content-Type', 'application/json');
      const text = JSON.stringify(CHART);
      r.write(text.slice(0, 20));
      r.write(Buffer.from(text.slice(20, 60)));
      r.end(text.slice(60));
    },
  },
  'stream piped (json)': {
    kind: 'json',
    write: (_q, r) => {
      r.setHeader('Content-Type', 'application/json');
      Readable.from([JSON.stringify(CHART)]).pipe(r);
    },
  },
  'res.sendFile (json)': { kind: 'json', write: (_q, r) => r.sendFile(jsonFile) },
  'res.send(text)': { kind: 'raw', write: (_q, r) => void r.send('Zebulon Quartermaine, MRN-55514821') },
  'res.send(Buffer)': { kind: 'raw', write: (_q, r) => void r.send(Buffer.from('raw bytes of Zebulon Quartermaine')) },
  'res.sendFile (text)': { kind: 'raw', write: (_q, r) => r.sendFile(textFile) },
  'res.download': { kind: 'raw', write: (_q, r) => r.download(textFile, 'Zebulon_Quartermaine_MRN-55514821.txt') },
  'writeHead(reason phrase) + json': {
    kind: 'json',
    write: (_q, r) => {
      r.writeHead(200, 'OK Zebulon Quartermaine', { 'Content-Type': 'application/json' });
      r.end(JSON.stringify(CHART));
    },
  },
  'statusMessage + json': {
    kind: 'json',
    write: (_q, r) => {
      r.statusMessage = 'Zebulon Quartermaine';
      r.json(CHART);
    },
  },
  'custom header + json': {
    kind: 'json',
    write: (_q, r) => {
      r.setHeader('X-Patient', 'MRN-55514821 617-555-0142');
      r.json(CHART);
    },
  },
  'attachment(name) + json': {
    kind: 'json',
    write: (_q, r) => {
      r.attachment('chart-MRN-55514821-617-555-0142.json');
      r.json(CHART);
    },
  },
  'cookie + json': {
    kind: 'json',
    write: (_q, r) => {
      r.cookie('last', 'MRN-55514821 617-555-0142');
      r.json(CHART);
    },
  },
  'status(404).json(document)': { kind: 'error', write: (_q, r) => void r.status(404).json({ error: 'No chart for Zebulon Quartermaine', chart: CHART }) },
  'status(500).send(text)': { kind: 'error', write: (_q, r) => void r.status(500).send('Zebulon Quartermaine MRN-55514821') },
  'throw': {
    kind: 'error',
    write: () => {
      throw Object.assign(new Error('lookup failed for Zebulon Quartermaine MRN-55514821'), { code: 'no_chart_for_MRN55514821' });
    },
  },
  'redirect (Location)': { kind: 'empty', write: (_q, r) => r.redirect('/charts/view?mrn=MRN-55514821&phone=617-555-0142') },
  'status(204) + header': {
    kind: 'empty',
    write: (_q, r) => {
      r.setHeader('X-Patient', 'MRN-55514821 617-555-0142');
      r.status(204).end();
    },
  },
};

type Order = 'none' | 'compression before' | 'compression after';

function app(order: Order, sink: MemorySink): Express {
  const a = express();
  const squeeze = compression({ threshold: 0 });
  if (order === 'compression before') a.use(squeeze);
  // phiguard before the app's own authentication: the decision waits for the route.
  a.use(phiguard({ policy, secret: SECRET, audit: sink, mode: 'production', context: (req) => (req as Request & { user?: object }).user as never }));
  if (order === 'compression after') a.use(squeeze);
  a.use((req, _res, next) => {
    const user = req.headers['x-user'];
    if (typeof user === 'string') {
      (req as Request & { user?: object }).user = {
        principal: { id: user },
        roles: String(req.headers['x-roles'] ?? '').split(','),
        purposeOfUse: req.headers['x-purpose'],
      };
    }
    next();
  });
  for (const [i, [name, w]] of Object.entries(WRITERS).entries()) {
    a.get(`/charts/:id`, (req, res, next) => (req.query.w === name ? w.write(req, res) : next()));
    a.get(`/other/:id/${i}`, w.write);
  }
  return a;
}

/** Everything a client or an intermediary sees: the (decoded) body and every header value. */
function visible(res: request.Response): string {
  // The request id is a random UUID phiguard generated: it may contain any digits by chance.
  const id = String(res.headers['x-request-id'] ?? '');
  const all = `${res.text ?? ''}\n${Object.values(res.headers).flat().join('\n')}`;
  return id === '' ? all : all.replaceAll(id, 'REQUEST-ID');
}

const BILLING_VIEW = { id: 'ch-1', patient: { mrn: '****4821' }, labs: [{ code: '2345-7' }, { code: '4548-4' }] };

describe.each<Order>(['none', 'compression before', 'compression after'])('response paths, %s', (order) => {
  const sink = new MemorySink();
  const server = app(order, sink);

  it.each(Object.keys(WRITERS))('claimed route, %s: only the projection leaves', async (name) => {
    const { kind } = WRITERS[name]!;
    const res = await request(server).get(`/charts/ch-1?w=${encodeURIComponent(name)}`).set(billing);
    for (const phi of CHART_PHI) expect(visible(res), `${name}: ${phi}`).not.toContain(phi);
    if (kind === 'json') {
      expect(res.status).toBe(200);
      expect(res.headers['cache-control']).toBe('no-store');
      if (name !== 'res.json (large)') expect(JSON.parse(res.text)).toEqual(BILLING_VIEW);
      else expect(JSON.parse(res.text).labs).toHaveLength(200);
    } else if (kind === 'raw') {
      expect(res.status).toBe(500);
      expect(JSON.parse(res.text).error.code).toBe('raw_body_denied');
    } else if (kind === 'error') {
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(Object.keys(JSON.parse(res.text))).toEqual(['error']);
    } else {
      expect([204, 302]).toContain(res.status);
    }
  });

  it.each(Object.keys(WRITERS))('unclaimed route, %s: nothing leaves but error bodies', async (name) => {
    const { kind } = WRITERS[name]!;
    const res = await request(server).get(`/other/ch-1/${Object.keys(WRITERS).indexOf(name)}`).set(billing);
    for (const phi of CHART_PHI) expect(visible(res), `${name}: ${phi}`).not.toContain(phi);
    if (kind === 'json' || kind === 'raw') {
      expect(res.status).toBe(500);
      expect(JSON.parse(res.text).error.code).toBe('unmapped_route');
    }
  });

  it('a caller the policy refuses gets the refusal, whatever the writer', async () => {
    for (const name of ['res.json', 'writeHead + end(string)', 'write chunks + end']) {
      const res = await request(server).get(`/charts/ch-1?w=${encodeURIComponent(name)}`).set({ ...billing, 'x-roles': 'janitor' });
      expect(res.status).toBe(403);
      for (const phi of CHART_PHI) expect(visible(res)).not.toContain(phi);
    }
    const anonymous = await request(server).get('/charts/ch-1?w=res.json');
    expect(anonymous.status).toBe(401);
  });

  it("Express's automatic OPTIONS answer on a PHI route is not refused", async () => {
    const res = await request(server).options('/charts/ch-1');
    expect(res.status).toBe(200);
    expect(res.text).toContain('GET');
  });
});

describe('authentication after phiguard', () => {
  it('the context resolver sees what the app’s own auth set, and denials still come before the handler', async () => {
    const sink = new MemorySink();
    let ran = 0;
    const a = express();
    a.use(phiguard({ policy, secret: SECRET, audit: sink, mode: 'production', context: (req) => {
      const user = (req as Request & { user?: { id: string; roles: string[] } }).user;
      if (user === undefined) throw new AuthenticationRequiredError();
      return { principal: { id: user.id }, roles: user.roles, purposeOfUse: 'HPAYMT' };
    } }));
    a.use((req, _res, next) => {
      if (req.headers.authorization === 'Bearer bill') (req as Request & { user?: object }).user = { id: 'bill-1', roles: ['billing'] };
      if (req.headers.authorization === 'Bearer jan') (req as Request & { user?: object }).user = { id: 'jan-1', roles: ['janitor'] };
      next();
    });
    a.get('/charts/:id', (_req, res) => {
      ran++;
      res.json(CHART);
    });
    const ok = await request(a).get('/charts/ch-1').set('Authorization', 'Bearer bill');
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual(BILLING_VIEW);
    const denied = await request(a).get('/charts/ch-1').set('Authorization', 'Bearer jan');
    expect(denied.status).toBe(403);
    expect((await request(a).get('/charts/ch-1')).status).toBe(401);
    expect(ran).toBe(1);
    expect(sink.events.map((e) => e.outcome)).toEqual(['success', 'denied', 'denied']);
  });
});

describe('refusals keep what CORS and helmet set', () => {
  it('a denied browser request still carries the CORS and helmet headers, so the client reads the reason', async () => {
    const { default: cors } = await import('cors');
    const { default: helmet } = await import('helmet');
    const a = express();
    a.use(cors({ origin: 'https://portal.example' }));
    a.use(helmet());
    a.use(phiguard({ policy, secret: SECRET, audit: new MemorySink(), mode: 'production', context: (req) => ({ principal: { id: 'x' }, roles: [String(req.headers['x-roles'])], purposeOfUse: 'HPAYMT' }) }));
    a.get('/charts/:id', (_req, res) => void res.json(CHART));
    const res = await request(a).get('/charts/ch-1').set({ Origin: 'https://portal.example', 'x-roles': 'janitor' });
    expect(res.status).toBe(403);
    expect(res.body.error.reason).toBe('role_unknown');
    expect(res.headers['access-control-allow-origin']).toBe('https://portal.example');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toBeDefined();
  });
});
