/**
 * The response gate's end of life, over real node:http: whichever way a response ends (a body
 * phiguard let pass because the route carries no PHI, a raw body the resource allows, a released
 * projection, a refusal), the adapter's `done` hook runs exactly once, at Node's end, so nothing
 * of the request stays reachable from a response that lingers on a keep-alive socket.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPhiGuard, definePolicy, type AuditEvent } from '@phiguard/core';
import { createExchangeHost, guardResponse, requestFacts, type Exchange } from '@phiguard/core/adapter';
import { SECRET } from './helpers.js';

const policy = definePolicy({
  roles: ['clinician'],
  resources: {
    Note: {
      subject: 'patientId',
      routes: ['GET /notes/:id'],
      rawBody: 'allow',
      fields: { patientId: 'direct-identifier', text: 'free-text' },
      disclose: { clinician: { TREAT: { '*': 'send' } } },
    },
  },
});

const events: AuditEvent[] = [];
const guard = createPhiGuard({ policy, secret: SECRET, audit: { write: (e: AuditEvent) => void events.push(e) }, mode: 'production' });
const host = createExchangeHost(guard, { nonPhi: ['GET /health'] });
const context = () => ({ principal: { id: 'u-1' }, roles: ['clinician'], purposeOfUse: 'TREAT' });

/** How each request ends, by path. */
const HANDLERS: Record<string, (res: http.ServerResponse, exchange: Exchange) => void> = {
  '/health': (res) => res.end('{"ok":true}'),
  '/notes/raw': (res) => {
    res.setHeader('Content-Type', 'text/plain');
    res.write('line one\n');
    res.end('line two\n');
  },
  '/notes/json': (res) => {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ patientId: 'p-1', text: 'seen today' }));
  },
  '/notes/denied': (res) => {
    res.statusCode = 500;
    res.end('{"detail":"stack trace"}');
  },
};

let server: http.Server;
let base: string;
const doneCalls = new Map<string, number>();
const endedWhenDone = new Map<string, boolean>();

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const path = req.url ?? '/';
    const facts = requestFacts(req.method ?? 'GET', path, req.headers, req.socket.remoteAddress);
    const exchange = host.begin(facts);
    guardResponse(res, exchange, {
      decide: () => exchange.admit(context),
      done: () => {
        doneCalls.set(path, (doneCalls.get(path) ?? 0) + 1);
        endedWhenDone.set(path, res.writableEnded);
      },
    });
    const matched = host.match(req.method ?? 'GET', facts.path);
    if (matched === 'non-phi') exchange.skip();
    else if (matched !== null) exchange.claim({ resource: matched.resource, route: matched.route, params: matched.params });
    HANDLERS[path]!(res, exchange);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('the gate retires at the response end', () => {
  it.each(Object.keys(HANDLERS))('%s: done runs once, after Node ended the response', async (path) => {
    const res = await fetch(base + path);
    await res.arrayBuffer();
    expect(doneCalls.get(path)).toBe(1);
    expect(endedWhenDone.get(path)).toBe(true);
  });

  it('a second end after retirement reaches Node and calls done no more', async () => {
    const path = '/health';
    const before = doneCalls.get(path) ?? 0;
    const twice = http.createServer((req, res) => {
      const exchange = host.begin(requestFacts('GET', path, req.headers, undefined));
      guardResponse(res, exchange, { decide: () => exchange.admit(context), done: () => doneCalls.set(path, (doneCalls.get(path) ?? 0) + 1) });
      exchange.skip();
      res.end('{}');
      res.end(); // Node ignores an end after the end
    });
    await new Promise<void>((resolve) => twice.listen(0, '127.0.0.1', resolve));
    const r = await fetch(`http://127.0.0.1:${(twice.address() as { port: number }).port}${path}`);
    expect(await r.text()).toBe('{}');
    await new Promise<void>((resolve) => twice.close(() => resolve()));
    expect(doneCalls.get(path)).toBe(before + 1);
  });
});
