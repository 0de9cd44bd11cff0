/**
 * The minimum-necessary checks every compat app must pass, whatever its framework version:
 * each role receives exactly its fields of a FHIR Patient, a searchset Bundle and a page of ORM
 * rows; denials are refused before the handler and audited; no SSN leaves in any body or
 * audit line; the app's own helmet, CORS and error handler keep working.
 */
import { request as httpRequest } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { expect, it } from 'vitest';
import { JWT_SECRET, type RunningApp } from './harness.js';
import { PURPOSE, expectTokenLike, expectedItem, expectedPatient, tokenFor, type Role, type Row, type Seeded } from './data.js';

export interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  /** The body as the client reads it (decompressed when the server compressed it). */
  readonly text: string;
  /** The bytes on the wire. */
  readonly wireBytes: number;
  json(): any;
}

/** One HTTP request over a real socket; the caller chooses every header (no implicit gzip). */
export function call(base: string, path: string, headers: Record<string, string> = {}, method = 'GET', body?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(new URL(path, base), { method, headers: { 'accept-encoding': 'identity', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const raw = Buffer.concat(chunks);
        const text = (res.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
        resolve({ status: res.statusCode!, headers: res.headers, text, wireBytes: raw.length, json: () => JSON.parse(text) });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

export async function as(role: Role | 'unknown-role', purpose?: string): Promise<Record<string, string>> {
  const p = purpose ?? (role === 'unknown-role' ? 'TREAT' : PURPOSE[role]);
  return { authorization: `Bearer ${await tokenFor(JWT_SECRET, role)}`, 'x-purpose-of-use': p };
}

const ROLES: readonly Role[] = ['clinician', 'billing', 'researcher'];
const TOKEN = /^tok_[\w-]{22}$/;

/** Replaces the token placeholders of an expectation by the tokens received, after checking their shape. */
function withTokens(expected: Record<string, unknown>, actual: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...expected };
  for (const [k, v] of Object.entries(expected)) {
    if (v === expectTokenLike) {
      expect(actual[k]).toMatch(TOKEN);
      out[k] = actual[k];
    }
  }
  return out;
}

/**
 * Drops objects and arrays left empty. The projection keeps an array's elements as `{}` when
 * every field of them is withheld (`address: [{}]`): it tells the element count, nothing else.
 */
function pruned(value: unknown): unknown {
  if (Array.isArray(value)) {
    const out = value.map(pruned).filter((v) => v !== undefined);
    return out.length === 0 ? undefined : out;
  }
  if (value !== null && typeof value === 'object') {
    const out = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, pruned(v)]).filter(([, v]) => v !== undefined));
    return Object.keys(out).length === 0 ? undefined : out;
  }
  return value;
}

/** Each role's fields of every row of every page of `/patients`. */
function pageChecks(get: (path: string, headers: Record<string, string>) => Promise<Reply>, seed: Seeded, what: string): void {
  const rows = seed.rows;
  it.each(ROLES)(`paginated list of ${what}: %s receives its fields of each row on every page`, async (role) => {
    const pageSize = 4;
    const pages = Math.ceil(rows.length / pageSize);
    const seen: Record<string, unknown>[] = [];
    for (let page = 1; page <= pages; page++) {
      const r = await get(`/patients?page=${page}&pageSize=${pageSize}`, await as(role));
      expect(r.status).toBe(200);
      const body = r.json();
      expect(body).toMatchObject({ page, pageSize, total: rows.length });
      noSsn(r.text, seed);
      seen.push(...body.items);
    }
    expect(seen).toHaveLength(rows.length);
    seen.forEach((item, i) => expect(pruned(item)).toEqual(withTokens(expectedItem(role, rows[i]!), item)));
  });
}

/**
 * A handler that returns Sequelize model instances as they are (`items: rows`, no `raw` and no
 * `get({ plain: true })`): each role still gets exactly its columns, never `{}`.
 */
export function ormInstanceChecks(app: () => RunningApp, seed: Seeded): void {
  pageChecks((path, headers) => call(app().base, path, headers), seed, 'Sequelize instances returned as they are');
}

/** Every body and audit line the suite saw, swept for SSNs at the end. */
export interface Sweep {
  readonly bodies: string[];
}

function noSsn(text: string, seed: Seeded): void {
  const found = seed.ssns.filter((s) => text.includes(s) || text.includes(s.replace(/-/g, '')));
  expect(found, 'an SSN left the app').toEqual([]);
}

/**
 * Registers the checks inside the caller's describe block. `app()` is the running app; `seed`
 * its rows.
 */
export function minimumNecessaryChecks(app: () => RunningApp, seed: Seeded): void {
  const sweep: Sweep = { bodies: [] };
  const get = async (path: string, headers: Record<string, string>) => {
    const r = await call(app().base, path, headers);
    sweep.bodies.push(r.text);
    return r;
  };
  const rows = seed.rows;
  const pick = (i: number): Row => rows[i % rows.length]!;

  it.each(ROLES)('FHIR Patient: %s receives exactly its fields, with no-store and the app’s helmet and CORS headers', async (role) => {
    for (const row of [pick(0), pick(7), pick(rows.length - 1)]) {
      const r = await get(`/fhir/Patient/${row.id}`, { ...(await as(role)), origin: 'https://portal.example' });
      expect(r.status).toBe(200);
      const body = r.json() as Record<string, unknown>;
      expect(pruned(body)).toEqual(withTokens(expectedPatient(role, row), body));
      expect(r.headers['cache-control']).toBe('no-store');
      expect(r.headers['x-content-type-options']).toBe('nosniff'); // helmet
      expect(r.headers['access-control-allow-origin']).toBe('https://portal.example'); // cors
    }
  });

  it('FHIR Patient: one patient keeps one research token across requests, and different patients get different ones', async () => {
    const h = await as('researcher');
    const a1 = (await get(`/fhir/Patient/${pick(1).id}`, h)).json().id;
    const a2 = (await get(`/fhir/Patient/${pick(1).id}`, h)).json().id;
    const b = (await get(`/fhir/Patient/${pick(2).id}`, h)).json().id;
    expect(a1).toBe(a2);
    expect(b).not.toBe(a1);
  });

  it.each(ROLES)('searchset Bundle: %s receives its fields of every entry; the self link loses the identifier searched for', async (role) => {
    const all = await get('/fhir/Patient?_count=200', await as(role));
    expect(all.status).toBe(200);
    const bundle = all.json();
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'searchset', total: rows.length });
    expect(bundle.entry).toHaveLength(rows.length);
    bundle.entry.forEach((e: { resource: Record<string, unknown>; fullUrl?: string; search: unknown }, i: number) => {
      expect(pruned(e.resource)).toEqual(withTokens(expectedPatient(role, rows[i]!), e.resource));
      expect(e.search).toEqual({ mode: 'match' });
      if (role === 'researcher') expect(e.fullUrl).toBeUndefined();
      else expect(e.fullUrl).toMatch(new RegExp(`/fhir/Patient/${rows[i]!.id}$`));
    });
    // Searching by SSN finds the patient; the self link that repeats the search is scrubbed.
    const target = pick(3);
    const bySsn = await get(`/fhir/Patient?identifier=${target.ssn}`, await as(role));
    expect(bySsn.status).toBe(200);
    const found = bySsn.json();
    expect(found.total).toBe(1);
    expect(pruned(found.entry[0].resource)).toEqual(withTokens(expectedPatient(role, target), found.entry[0].resource));
    expect(found.link[0].relation).toBe('self');
    expect(found.link[0].url).toContain('identifier=');
    noSsn(bySsn.text, seed);
  });

  pageChecks(get, seed, 'ORM rows');

  it('denials: a role without a rule for the purpose, an unknown role and a missing purpose are refused with 403 and audited', async () => {
    const cases: [Record<string, string>, string][] = [
      [await as('billing', 'TREAT'), 'billing-user'],
      [await as('researcher', 'TREAT'), 'researcher-user'],
      [await as('unknown-role'), 'unknown-role-user'],
      [{ authorization: (await as('clinician')).authorization! }, 'clinician-user'],
    ];
    for (const [headers, actor] of cases) {
      for (const path of [`/fhir/Patient/${pick(4).id}`, '/fhir/Patient', '/patients?page=1']) {
        const r = await get(path, headers);
        expect(r.status, `${actor} ${path}`).toBe(403);
        expect(r.json().error).toMatchObject({ code: 'access_denied', status: 403 });
        expect(r.text).not.toContain(pick(4).family);
        const denial = app()
          .audit()
          .find((e) => e.outcome === 'denied' && (e.actor as { id?: string }).id === actor && (e.request as { requestId?: string } | undefined)?.requestId === r.headers['x-request-id']);
        expect(denial, `no denial audited for ${actor} ${path}`).toBeDefined();
      }
    }
  });

  it('without a token the app’s own authentication answers 401 and no PHI is sent', async () => {
    const r = await get(`/fhir/Patient/${pick(5).id}`, {});
    expect(r.status).toBe(401);
    expect(r.text).not.toContain(pick(5).family);
  });

  it('every successful read is audited with the paths sent and the patient as a reference, never a value', async () => {
    const row = pick(6);
    const r = await get(`/fhir/Patient/${row.id}`, await as('billing'));
    const event = app()
      .audit()
      .find((e) => (e.request as { requestId?: string } | undefined)?.requestId === r.headers['x-request-id']);
    expect(event).toMatchObject({ action: 'read', outcome: 'success', purposeOfUse: 'HPAYMT', actor: { id: 'billing-user', roles: ['billing'] }, resource: { type: 'Patient' } });
    // The resource id of a Patient is the patient's id: recorded as a keyed reference, not as sent.
    expect(JSON.stringify((event!.resource as { id?: unknown }).id ?? null)).not.toContain(row.id);
    expect(event!.disclosed).toEqual(expect.arrayContaining(['id', 'identifier[].value', 'name']));
    expect(event!.disclosed).not.toContain('birthDate');
    const ref = (event!.patient as { ref: string }).ref;
    expect(ref).not.toContain(row.id);
    const line = JSON.stringify(event);
    for (const value of [row.family, row.given, row.mrn, row.ssn, row.birthDate]) expect(line).not.toContain(value);
  });

  it('non-PHI routes pass unchanged and unaudited', async () => {
    const before = app().audit().length;
    expect((await get('/health', {})).json()).toEqual({ status: 'ok' });
    expect((await get('/fhir/metadata', {})).json()).toMatchObject({ resourceType: 'CapabilityStatement', fhirVersion: '4.0.1' });
    expect(app().audit().length).toBe(before);
  });

  it('no SSN in any body the suite received, nor in any audit line', () => {
    expect(sweep.bodies.length).toBeGreaterThan(20);
    for (const text of sweep.bodies) noSsn(text, seed);
    noSsn(JSON.stringify(app().audit()), seed);
  });
}

/**
 * The app's own error handler keeps answering (404 stays 404) and nothing it echoes of the
 * request (a searched SSN) reaches the client.
 */
export function errorHandlerChecks(app: () => RunningApp, seed: Seeded): void {
  const rows = seed.rows;
  const get = (path: string, headers: Record<string, string>) => call(app().base, path, headers);
  it('the app’s error handler still answers its 404s, and nothing it echoes of the request reaches the client', async () => {
    const missing = `${rows[0]!.ssn.slice(0, 4)}99-9999`;
    const r = await get(`/fhir/Patient?identifier=${missing}`, await as('clinician'));
    expect(r.status).toBe(404);
    expect(r.text).not.toContain(missing);
    const byId = await get('/fhir/Patient/nobody', await as('clinician'));
    expect(byId.status).toBe(404);
    expect(app().output()).toMatch(/app error handler: \w+ \(404\)/);
  });
}

/** compression(): a projected body over the 1 kB threshold arrives gzip-encoded and whole. */
export function compressionChecks(app: () => RunningApp, seed: Seeded): void {
  it('compression: a searchset Bundle well over 1 kB arrives gzip-encoded, whole and projected, and is audited once', async () => {
    const h = await as('billing');
    // Not the app's first response: a writer wrapped on the first request behaves differently from then on.
    expect((await call(app().base, `/fhir/Patient/${seed.rows[0]!.id}`, { ...h, 'accept-encoding': 'gzip' })).status).toBe(200);
    const r = await call(app().base, '/fhir/Patient?_count=200', { ...h, 'accept-encoding': 'gzip' });
    expect(r.status).toBe(200);
    expect(r.headers['content-encoding']).toBe('gzip');
    expect(r.text.length).toBeGreaterThan(1024);
    const bundle = r.json();
    expect(bundle.entry).toHaveLength(seed.rows.length);
    bundle.entry.forEach((e: { resource: { identifier: { value: string }[] } }, i: number) => expect(e.resource.identifier[0]!.value).toBe(`****${seed.rows[i]!.mrn.slice(-4)}`));
    for (const ssn of seed.ssns) expect(r.text).not.toContain(ssn);
    const events = app()
      .audit()
      .filter((e) => (e.request as { requestId?: string } | undefined)?.requestId === r.headers['x-request-id']);
    expect(events.map((e) => e.outcome)).toEqual(['success']);
  });
}

/** A refusal carries the headers the app's helmet and cors set, so a browser reads the reason. */
export function refusalHeaderChecks(app: () => RunningApp, seed: Seeded): void {
  it('refusals keep the CORS and helmet headers, so a browser reads the reason', async () => {
    const r = await call(app().base, `/fhir/Patient/${seed.rows[0]!.id}`, { ...(await as('billing', 'TREAT')), origin: 'https://portal.example' });
    expect(r.status).toBe(403);
    expect(r.headers['access-control-allow-origin']).toBe('https://portal.example');
    expect(r.headers['access-control-expose-headers']).toMatch(/X-Request-Id/i);
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect(r.json().error).toMatchObject({ code: 'access_denied', reason: 'purpose_not_permitted' });
  });
}

/**
 * Non-PHI marks are route-exact. `mount`: `app.use('/fhir', nonPhi(), metadataRouter)` marks
 * `/fhir` itself only, so even the router's own /fhir/metadata stays unmapped (refused) and
 * nothing under the mount is unguarded. `list`: the `nonPhi` option's routes pass, no others.
 * Either way an unclaimed route under /fhir is refused and a write there echoes nothing.
 */
export function nonPhiExactChecks(app: () => RunningApp, seed: Seeded, style: 'mount' | 'list'): void {
  it(`non-PHI marks (${style}) are route-exact: unclaimed routes under /fhir are refused and echo nothing`, async () => {
    expect((await call(app().base, '/health')).json()).toEqual({ status: 'ok' });
    const metadata = await call(app().base, '/fhir/metadata');
    if (style === 'list') expect(metadata.json()).toMatchObject({ resourceType: 'CapabilityStatement' });
    else expect([metadata.status, metadata.json().error?.code]).toEqual([500, 'unmapped_route']);
    const h = await as('clinician');
    const encounter = await call(app().base, '/fhir/Encounter/e1', h);
    expect(encounter.status).toBe(500);
    expect(encounter.json().error.code).toBe('unmapped_route');
    expect(encounter.text).not.toContain('Patient/p0001');
    const ssn = seed.ssns[0]!;
    const echo = await call(app().base, '/fhir/Encounter', { ...h, 'content-type': 'application/json' }, 'POST', JSON.stringify({ resourceType: 'Encounter', note: `SSN ${ssn}` }));
    expect(echo.status).toBeGreaterThanOrEqual(400);
    expect(echo.text).not.toContain(ssn);
  });
}
