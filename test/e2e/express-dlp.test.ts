/**
 * End-to-end: DLP on request bodies of the Express example, over real HTTP. Notes from the care
 * team must not quote identifiers (`dlp: { request: 'block' }`); portal messages are stored with
 * identifiers redacted (`dlp: { request: 'redact' }`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve, type Served } from './serve.js';
import { createApp, signToken } from '../../examples/express-lab-results/src/app.js';
import { memoryLog } from '../../examples/express-lab-results/src/memory-log.js';
import type { PostStore } from '../../examples/express-lab-results/src/repository.js';

const JWT_SECRET = 'e2e-jwt-secret-for-the-dlp-suite';
const SSN = '123-45-6789';
const PHONE = '(617) 555-0143';
const EMAIL = 'jane.doe@example.org';

const log = memoryLog();
let served: Served;
let base: string;
let posted: PostStore;

beforeAll(async () => {
  const app = createApp({ jwtSecret: JWT_SECRET, phiguardSecret: 'e2e-phiguard-secret-with-at-least-32-bytes', logger: log.logger });
  posted = app.locals.posted as PostStore;
  served = await serve(app);
  base = served.base;
});

afterAll(async () => {
  await served.close();
});

async function post(path: string, body: string, claims: { roles: string[]; patient?: string }, purpose: string, type = 'application/json') {
  const token = await signToken({ sub: 'e2e-dlp', ...claims }, JWT_SECRET);
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'x-purpose-of-use': purpose, 'content-type': type },
    body,
  });
  const text = await res.text();
  return { status: res.status, text, body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
}

const provider = { roles: ['ordering-provider'] };
const lastAudit = () => log.auditEvents().at(-1)!;

describe('DLP on a block route (care-team notes)', () => {
  it('refuses a note whose free text holds an SSN with 422, never echoes it, stores nothing, and audits counts only', async () => {
    const before = posted.list('notes').length;
    const from = log.lines.length;
    const r = await post('/patients/1001/notes', JSON.stringify({ text: `Verified identity, SSN ${SSN}, call back ${PHONE}` }), provider, 'TREAT');
    expect(r.status).toBe(422);
    expect(r.body).toMatchObject({ error: { code: 'dlp_blocked', status: 422 } });
    expect(r.text).not.toContain(SSN);
    expect(posted.list('notes')).toHaveLength(before);
    const event = lastAudit();
    expect(event).toMatchObject({ action: 'deny', outcome: 'denied', attemptedAction: 'create', reason: 'dlp_blocked' });
    expect(event.dlp).toEqual({ action: 'block', counts: { SSN: 1, PHONE: 1 } });
    const written = log.lines.slice(from).join('\n');
    expect(written).not.toContain(SSN);
    expect(written).not.toContain('555-0143');
  });

  it('sees through zero-width characters and fullwidth digits', async () => {
    const evasive = '１２３\u200b-45-\u00ad6789';
    const r = await post('/patients/1001/notes', JSON.stringify({ text: `SSN ${evasive} on file` }), provider, 'TREAT');
    expect(r.status).toBe(422);
  });

  it('accepts a note without identifiers', async () => {
    const r = await post('/patients/1001/notes', JSON.stringify({ text: 'Repeat glucose fasting in 2 weeks; reference range 70-99 mg/dL.' }), provider, 'TREAT');
    expect(r.status).toBe(201);
    expect(posted.list('notes').at(-1)!.text).toBe('Repeat glucose fasting in 2 weeks; reference range 70-99 mg/dL.');
  });

  it('refuses a body it cannot scan (415) rather than let it through unscanned', async () => {
    const r = await post('/patients/1001/notes', `SSN ${SSN}`, provider, 'TREAT', 'application/octet-stream');
    expect(r.status).toBe(415);
    expect(r.body).toMatchObject({ error: { code: 'dlp_unscannable' } });
    expect(r.text).not.toContain(SSN);
  });

  it('checks access before reading the body: a role without a rule is refused with 403', async () => {
    const r = await post('/patients/1001/notes', JSON.stringify({ text: `SSN ${SSN}` }), { roles: ['billing'] }, 'HPAYMT');
    expect(r.status).toBe(403);
  });
});

describe('DLP on a redact route (portal messages)', () => {
  it('stores the message with identifiers replaced by typed markers, and audits the counts', async () => {
    const r = await post(
      '/patients/1002/messages',
      JSON.stringify({ text: `Please call me at ${PHONE} or write to ${EMAIL}. My SSN is ${SSN}.` }),
      { roles: ['patient'], patient: '1002' },
      'PATRQT',
    );
    expect(r.status).toBe(201);
    const stored = posted.list('messages').at(-1)!;
    expect(stored.text).toBe('Please call me at [PHONE] or write to [EMAIL]. My SSN is [SSN].');
    expect(r.text).not.toMatch(/555-0143|jane\.doe|123-45-6789/);
    const dlp = log.auditEvents().find((e) => e.dlp?.action === 'redact');
    expect(dlp?.dlp).toEqual({ action: 'redact', counts: { PHONE: 1, EMAIL: 1, SSN: 1 } });
    expect(log.lines.join('\n')).not.toMatch(/555-0143|jane\.doe|123-45-6789/);
  });

  it('also reads text/plain bodies', async () => {
    const r = await post('/patients/1002/messages', `SSN ${SSN}`, { roles: ['patient'], patient: '1002' }, 'PATRQT', 'text/plain');
    // The handler expects JSON { text }: the redacted string reaches it, and it answers 400 without echoing anything.
    expect(r.status).toBe(400);
    expect(r.text).not.toContain(SSN);
  });
});
