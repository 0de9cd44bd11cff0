/**
 * What every adapter does around the exchange, in core once (packages/core/src/exchange/entry.ts):
 * the per-request entry over real node:http (begun once, headers set, a Node response gated, the
 * entry dropped at the response's end), the name and narrowing checks adapters make at start-up,
 * route classification, admission, the release of a handler's value, break-glass facts and
 * refusals, and the signature check both adapters build from their options.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { OptionsError, createPhiGuard, definePolicy, type AccessContext, type AuditEvent } from '@phiguard/core';
import {
  admitRequest,
  breakGlassFacts,
  checkNarrowingRules,
  checkResourceName,
  classifyRoute,
  createExchangeHost,
  isAnswer,
  isGatedResponse,
  isRawValue,
  narrowingCache,
  nodeRequestFacts,
  refusal,
  releaseReturned,
  requestEntries,
  requestFacts,
  resourceNamed,
  routeInfoOf,
  type NarrowingRules,
  type RequestEntry,
} from '@phiguard/core/adapter';
import { AUDIT_ACTIONS } from '@phiguard/core/audit';
import { createSignatureCheck, signRequest } from '@phiguard/core/delivery';
import { createMemoryStateStore } from '@phiguard/core/state';
import { SECRET } from './helpers.js';

const policy = definePolicy({
  roles: ['clinician'],
  resources: {
    Note: {
      id: 'id',
      subject: 'patientId',
      routes: ['GET /notes/:patientId'],
      fields: { id: 'non-phi', patientId: 'direct-identifier', code: 'clinical', text: 'free-text' },
      disclose: { clinician: { TREAT: { '*': 'send', text: 'deny' } } },
    },
    Report: {
      subject: 'patientId',
      rawBody: 'allow',
      fields: { patientId: 'direct-identifier', summary: 'free-text' },
      disclose: { clinician: { TREAT: { '*': 'send' }, ETREAT: { '*': 'send' } } },
    },
  },
});

const events: AuditEvent[] = [];
const guard = createPhiGuard({ policy, secret: SECRET, audit: { write: (e: AuditEvent) => void events.push(e) }, mode: 'production' });
const host = createExchangeHost(guard, { nonPhi: ['GET /health'] });
const clinician = (): AccessContext => ({ principal: { id: 'c-1' }, roles: ['clinician'], purposeOfUse: 'TREAT' });
const facts = (method = 'GET', url = '/notes/p-1', headers: Record<string, string> = {}) => requestFacts(method, url, headers, '10.0.0.7');
const entries = requestEntries();
/** An entry with no response at hand (gate null): the release alone is under test. */
const bare = (method = 'GET', url = '/notes/p-1'): RequestEntry => entries.enter({}, { host, facts: facts(method, url), decide: () => null }, (e) => e);

describe('request entries over node:http', () => {
  let server: http.Server;
  let base: string;
  type Labelled = RequestEntry & { readonly label: string };
  const seen: { entry: Labelled; again: Labelled; key: object }[] = [];
  const store = requestEntries<Labelled>();

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const start = { host, facts: nodeRequestFacts({ method: req.method ?? 'GET', url: req.url, headers: req.headers }), response: res, decide: () => null };
      const entry = store.enter(req, start, (e) => ({ ...e, label: 'first' }));
      const again = store.enter(req, start, (e) => ({ ...e, label: 'second' }));
      seen.push({ entry, again, key: req });
      entry.exchange.skip();
      res.setHeader('Content-Type', 'application/json');
      res.end('{"ok":true}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('enters a request once, sets the exchange headers, gates the Node response and forgets it at the end', async () => {
    const res = await fetch(`${base}/health?x=1`, { headers: { 'x-request-id': 'req-42' } });
    expect(await res.json()).toEqual({ ok: true });
    expect(res.headers.get('x-request-id')).toBe('req-42');
    const { entry, again, key } = seen.at(-1)!;
    expect(again).toBe(entry); // the second enter found the first: one exchange per request
    expect(entry.label).toBe('first');
    expect(entry.gate).not.toBeNull();
    expect(entry.requestId).toBe('req-42');
    expect(entry.facts).toMatchObject({ method: 'GET', path: '/health', query: 'x=1' });
    // `done` ran at the last byte: nothing of the request stays reachable from its key.
    expect(store.get(key)).toBeUndefined();
  });

  it('an entry without a Node response has no gate; a response with setHeader still gets the headers', () => {
    const set: Record<string, string> = {};
    const plain = { setHeader: (k: string, v: string) => void (set[k] = v) };
    const key = {};
    const entry = entries.enter(key, { host, facts: facts('GET', '/x', { 'x-request-id': 'abc' }), response: plain, decide: () => null }, (e) => e);
    expect(entry.gate).toBeNull();
    expect(set).toEqual({ 'X-Request-Id': 'abc' });
    expect(entries.get(key)).toBe(entry); // no gate, no `done`: it lives as long as its key
    expect(bare().gate).toBeNull();
  });

  it('isGatedResponse: a node:http response, not look-alikes', () => {
    const res = new http.ServerResponse(new http.IncomingMessage(null as never));
    expect(isGatedResponse(res)).toBe(true);
    for (const other of [null, undefined, {}, { writeHead() {}, end() {} }, { setHeader() {} }, 'res']) expect(isGatedResponse(other)).toBe(false);
  });

  it('nodeRequestFacts: the URL as received (originalUrl before url), split once', () => {
    expect(nodeRequestFacts({ method: 'POST', originalUrl: '/api/a?b=1', url: '/a?b=1', headers: {}, ip: '::1' })).toEqual({ method: 'POST', path: '/api/a', query: 'b=1', headers: {}, ip: '::1' });
    expect(nodeRequestFacts({ method: 'GET', headers: {} }).path).toBe('/');
  });
});

describe('names an adapter was given, checked at start-up', () => {
  it('resourceNamed: the compiled resource, or an OptionsError with the nearest name', () => {
    expect(resourceNamed(guard.policy, 'Note', 'x').name).toBe('Note');
    expect(() => resourceNamed(guard.policy, 'Nte', '@PhiResource("Nte") on A.b()')).toThrow(
      new OptionsError('@PhiResource("Nte") on A.b(): the policy has no such resource; did you mean "Note"?'),
    );
    expect(() => resourceNamed(guard.policy, 'Zzzzzzzz', 'phiResource("Zzzzzzzz")')).toThrow(/^phiResource\("Zzzzzzzz"\): the policy has no such resource$/);
  });

  it('checkResourceName: a non-empty string, before any policy', () => {
    expect(checkResourceName('Note', 'phiResource')).toBe('Note');
    for (const bad of ['', undefined, null, 7, {}]) {
      expect(() => checkResourceName(bad as never, '@PhiResource')).toThrow(new OptionsError('@PhiResource(name) needs a resource name from the policy'));
    }
  });

  it('checkNarrowingRules: non-empty, only send and deny; a frozen copy, the input untouched', () => {
    const rules = { code: 'send', '*': 'deny' } as const;
    const checked = checkNarrowingRules(rules, '@MinimumNecessary');
    expect(checked).toEqual(rules);
    expect(checked).not.toBe(rules);
    expect(Object.isFrozen(checked)).toBe(true);
    expect(Object.isFrozen(rules)).toBe(false);
    expect(() => checkNarrowingRules({}, '@MinimumNecessary')).toThrow(/@MinimumNecessary\(rules\) needs a non-empty rule set/);
    expect(() => checkNarrowingRules(null as never, 'narrow')).toThrow(OptionsError);
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.string().filter((op) => op !== 'send' && op !== 'deny'), (selector, op) => {
        expect(() => checkNarrowingRules({ [selector]: op } as never, '@MinimumNecessary')).toThrow(/a handler can only narrow, with send, deny/);
      }),
    );
  });

  it('narrowingCache: compiled once per handler, found again by it; problems are one OptionsError naming the site', () => {
    const cache = narrowingCache(guard.policy);
    const handler = () => undefined;
    const site = { resource: '@PhiResource("Note") on A.get()', rules: '@MinimumNecessary on A.get()' };
    expect(cache.get(handler)).toBeUndefined();
    const narrowing = cache.of(handler, 'Note', { code: 'send' }, site);
    expect([...narrowing.sends].sort()).toEqual(['code', 'id']); // non-PHI fields a rule set does not name are sent
    // Later calls (the guard, per request) find the start-up compilation, whatever they pass.
    expect(cache.of(handler, 'Note', { text: 'send' }, site)).toBe(narrowing);
    expect(cache.get(handler)).toBe(narrowing);
    expect(() => cache.of(() => undefined, 'Nte', { code: 'send' }, { ...site, resource: '@PhiResource("Nte") on A.get()' })).toThrow(/^@PhiResource\("Nte"\) on A.get\(\): the policy has no such resource; did you mean "Note"\?$/);
    let error: unknown;
    try {
      cache.of(() => undefined, 'Note', { cod: 'send', txt: 'send' } as NarrowingRules, site);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(OptionsError);
    expect((error as Error).message).toMatch(/@MinimumNecessary on A.get\(\): "cod" is not a declared field of Note.*did you mean "code"\?; @MinimumNecessary on A.get\(\): "txt"/);
  });

  it('AUDIT_ACTIONS lists every action once', () => {
    expect(new Set(AUDIT_ACTIONS).size).toBe(AUDIT_ACTIONS.length);
    expect(AUDIT_ACTIONS).toEqual(expect.arrayContaining(['read', 'create', 'update', 'delete', 'export', 'disclose', 'break-glass', 'login', 'deny']));
  });
});

describe('classifying the route that runs', () => {
  it('non-PHI declarations skip, claims claim, the rest runs unclaimed (writes refused before the handler)', () => {
    const skipped = bare();
    expect(classifyRoute(skipped.exchange, 'GET', '/notes/:id', 'non-phi')).toBeNull();
    expect(skipped.exchange.kind).toBe('non-phi');

    const claimed = bare();
    expect(classifyRoute(claimed.exchange, 'GET', '/notes/:patientId', { resource: 'Note', route: '/notes/:patientId', params: { patientId: 'p-1' } })).toBeNull();
    expect(claimed.exchange.kind).toBe('phi');
    expect(routeInfoOf(claimed.exchange)).toEqual({ resource: 'Note', action: 'read', route: '/notes/:patientId', allowBreakGlass: false });

    const listed = bare('GET', '/health');
    expect(classifyRoute(listed.exchange, 'GET', '/health', undefined)).toBeNull();
    expect(listed.exchange.kind).toBe('non-phi');

    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      const write = bare(method, '/things');
      const refused = classifyRoute(write.exchange, method, '/things', undefined);
      expect(refused?.status).toBe(500);
      expect(write.exchange.route).toBe('/things');
    }
    const read = bare('GET', '/things');
    expect(classifyRoute(read.exchange, 'GET', '/things', undefined)).toBeNull();
    expect(read.exchange.kind).toBe('unmapped');
  });

  it('routeInfoOf: break-glass as the claim says it, else as the resource has emergency rules', () => {
    const cases = [
      { resource: 'Note', allow: undefined, expected: false },
      { resource: 'Report', allow: undefined, expected: true },
      { resource: 'Report', allow: false, expected: false },
      { resource: 'Note', allow: true, expected: true },
    ];
    for (const { resource, allow, expected } of cases) {
      const { exchange } = bare();
      exchange.claim({ resource, route: '/r', ...(allow === undefined ? {} : { allowBreakGlass: allow }) });
      expect(routeInfoOf(exchange).allowBreakGlass).toBe(expected);
    }
    expect(routeInfoOf(bare().exchange)).toEqual({ resource: null, action: 'read', route: undefined, allowBreakGlass: false });
  });
});

describe('admitting a request and releasing what the handler returned', () => {
  const claimedNote = () => {
    const entry = bare();
    entry.exchange.claim({ resource: 'Note', route: '/notes/:patientId', params: { patientId: 'p-1' } });
    return entry;
  };

  it('admitRequest: a resolver that throws is a 401 answer; an allowed caller gets the body back', async () => {
    const refused = await admitRequest(claimedNote().exchange, () => { throw new Error('no token'); }, 'application/json', undefined);
    expect(isAnswer(refused) && refused.status).toBe(401);
    const body = { q: 1 };
    expect(await admitRequest(claimedNote().exchange, clinician, 'application/json', body)).toEqual({ body });
  });

  it('releaseReturned: a value leaves projected (and narrowed), audited once', async () => {
    const entry = claimedNote();
    await entry.exchange.admit(clinician);
    const before = events.length;
    const value = { id: 'n-1', patientId: 'p-1', code: 'E11', text: 'called the patient at home' };
    const released = await releaseReturned(entry, value, isRawValue(value), null);
    expect(released).toEqual({ body: { id: 'n-1', patientId: 'p-1', code: 'E11' } });
    expect(events.length).toBe(before + 1);
    expect(JSON.stringify(events.at(-1))).not.toContain('called the patient');

    const narrowed = claimedNote();
    await narrowed.exchange.admit(clinician);
    const narrowing = narrowingCache(guard.policy).of(() => undefined, 'Note', { code: 'send' }, { resource: 'r', rules: 'n' });
    // The subject is kept for the plan's audit, then removed; the narrowing sends code (and the non-PHI id).
    expect(await releaseReturned(narrowed, narrowing.before(value), false, narrowing)).toEqual({ body: { id: 'n-1', code: 'E11' } });
    expect(events.at(-1)).toMatchObject({ resource: { type: 'Note' } });
    expect(value.text).toBe('called the patient at home'); // the handler's value is not mutated
  });

  it('releaseReturned: raw values leave only where the resource allows raw bodies', async () => {
    const denied = claimedNote();
    await denied.exchange.admit(clinician);
    const answer = await releaseReturned(denied, 'patientId,text\np-1,secret', true, null);
    expect(isAnswer(answer) && answer.status).toBeGreaterThanOrEqual(400);
    expect(JSON.stringify(answer)).not.toContain('secret');

    const allowed = bare();
    allowed.exchange.claim({ resource: 'Report', route: '/reports/:id' });
    await allowed.exchange.admit(clinician);
    const csv = Buffer.from('patientId,summary\n');
    expect(await releaseReturned(allowed, csv, isRawValue(csv), null)).toEqual({ body: csv });
  });

  it('isRawValue: text, bytes and streams; not plain values', () => {
    for (const raw of ['x', Buffer.from('x'), new Uint8Array(2), new ArrayBuffer(2), { pipe() {} }]) expect(isRawValue(raw)).toBe(true);
    for (const value of [null, undefined, 1, {}, [], { pipe: 1 }, new Date(0)]) expect(isRawValue(value)).toBe(false);
  });
});

describe('break-glass facts and refusals', () => {
  it('breakGlassFacts: the route pattern, never the URL, the trace id and the query names; the user agent only when it is one string', () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const entry = entries.enter({}, { host, facts: requestFacts('POST', '/break-glass/g-9/review?x=1', { 'user-agent': 'curl/8', 'x-request-id': 'r-1', traceparent }, '::1'), decide: () => null }, (e) => e);
    const resolve = () => clinician();
    const f = breakGlassFacts(entry, '/break-glass/:grantId/review', resolve, { grantId: 'g-9' }, { decision: 'appropriate' });
    expect(f).toEqual({
      resolve,
      request: { method: 'POST', route: '/break-glass/:grantId/review', ip: '::1', userAgent: 'curl/8', requestId: 'r-1', traceId: '4bf92f3577b34da6a3ce929d0e0e4736', query: ['x'] },
      params: { grantId: 'g-9' },
      body: { decision: 'appropriate' },
    });
    const two = entries.enter({}, { host, facts: requestFacts('GET', '/', { 'user-agent': ['a', 'b'] as never }), decide: () => null }, (e) => e);
    expect(breakGlassFacts(two, undefined, resolve, {}, undefined).request.userAgent).toBeUndefined();
  });

  it('refusal: a code and the request id, never a message; no-store, and a challenge on 401', () => {
    const entry = bare();
    expect(refusal(entry, 404, 'break_glass_disabled')).toEqual({
      status: 404,
      headers: { 'Cache-Control': 'no-store', 'Content-Type': 'application/json; charset=utf-8' },
      body: { error: { code: 'break_glass_disabled', status: 404, requestId: entry.requestId } },
    });
    expect(refusal(undefined, 401, 'signature_invalid').headers['WWW-Authenticate']).toBe('Bearer');
    expect(refusal(entry, 403, 'access_denied', 'no_rule').body.error).toEqual({ code: 'access_denied', status: 403, reason: 'no_rule', requestId: entry.requestId });
  });
});

describe('createSignatureCheck', () => {
  const secret = 'whsec-0123456789abcdef0123456789abcdef';
  const now = () => Math.floor(Date.now() / 1000);

  it('reads the signature from the named header (any case) and accepts a request once', async () => {
    const check = createSignatureCheck({ secrets: [{ secret }], store: createMemoryStateStore(), header: 'X-Hook-Signature' }, 'SignatureGuard');
    const body = Buffer.from('{"id":1}');
    const signature = signRequest({ secret, method: 'POST', path: '/hooks', body, timestamp: now() });
    const request = { headers: { 'x-hook-signature': signature }, method: 'POST', path: '/hooks', body };
    expect(await check.verify(request)).toMatchObject({ ok: true });
    await expect(check.verify(request)).rejects.toMatchObject({ code: 'signature_replayed' });
    await expect(check.verify({ ...request, headers: { 'x-phiguard-signature': signature } })).rejects.toMatchObject({ code: 'signature_invalid' });
  });

  it('defaults to x-phiguard-signature; a bad header name or bad options fail at construction, naming the API', async () => {
    const check = createSignatureCheck({ secrets: [{ secret }], store: createMemoryStateStore(), toleranceSeconds: undefined }, 'verifySignature');
    const signature = signRequest({ secret, method: 'GET', path: '/a', timestamp: now() });
    expect(await check.verify({ headers: { 'x-phiguard-signature': signature }, method: 'GET', path: '/a' })).toMatchObject({ ok: true });
    for (const header of ['', 'x signature', 'x:sig', 'a'.repeat(65)]) {
      expect(() => createSignatureCheck({ secrets: [{ secret }], store: createMemoryStateStore(), header }, 'SignatureGuard')).toThrow(new OptionsError('SignatureGuard: `header` must be a header name'));
    }
    expect(() => createSignatureCheck({ secrets: [{ secret: 'short' }], store: createMemoryStateStore() }, 'SignatureGuard')).toThrow(OptionsError);
  });
});
