/**
 * End-to-end: a provider issues a single-use pickup link for a patient's results; the SMS text
 * carries the link and nothing identifying; the patient signs in and opens it once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScanner } from '@phiguard/core';
import { createApp, signToken } from '../../examples/express-lab-results/src/app.js';
import { PATIENTS } from '../../examples/express-lab-results/src/data.js';
import { memoryLog } from '../../examples/express-lab-results/src/memory-log.js';
import { serve, type Served } from './serve.js';

const JWT_SECRET = 'e2e-jwt-secret-for-the-pickup-suite';
const log = memoryLog();
let served: Served;

beforeAll(async () => {
  served = await serve(createApp({ jwtSecret: JWT_SECRET, phiguardSecret: 'e2e-phiguard-secret-with-at-least-32-bytes', logger: log.logger }));
});
afterAll(async () => {
  await served.close();
});

async function call(method: string, path: string, claims: Record<string, unknown>, purpose: string) {
  const token = await signToken({ sub: 'e2e-pickup', roles: [], amr: ['pwd', 'otp'], ...claims } as never, JWT_SECRET);
  const res = await fetch(`${served.base}${path}`, { method, headers: { authorization: `Bearer ${token}`, 'x-purpose-of-use': purpose } });
  const text = await res.text();
  return { status: res.status, text, body: text ? (JSON.parse(text) as Record<string, any>) : undefined };
}

describe('single-use result links', () => {
  it('are issued with a PHI-free notification and redeemed once by the patient they name', async () => {
    const issued = await call('POST', '/patients/1001/result-links', { sub: 'dr.chen', roles: ['ordering-provider'] }, 'TREAT');
    expect(issued.status).toBe(201);
    const { url, notification } = issued.body as { url: string; notification: { text: string } };
    expect(url).toMatch(/^https:\/\/results\.example\.org\/pickup\/v1\.[\w-]+\.[\w-]+$/);
    expect(url).not.toMatch(/1001/);
    expect(notification.text).toContain(url);
    const withoutLink = notification.text.replace(url, '');
    expect(createScanner().scan(withoutLink)).toEqual([]);
    const patient = PATIENTS.get('1001')!.patient;
    for (const value of [patient.name[0]!.family, patient.birthDate]) expect(notification.text).not.toContain(value);

    const path = new URL(url).pathname;
    const other = await call('GET', path, { sub: 'pt-1002', roles: ['patient'], patient: '1002' }, 'PATRQT');
    expect(other.status).toBe(404);
    expect(other.body).toMatchObject({ error: { code: 'link_invalid' } });

    const opened = await call('GET', path, { sub: 'pt-1001', roles: ['patient'], patient: '1001' }, 'PATRQT');
    expect(opened.status).toBe(200);
    expect(opened.body!.patient.id).toBe('1001');
    expect(opened.body!.patient.ssn).toBe('***-**-3571');

    const again = await call('GET', path, { sub: 'pt-1001', roles: ['patient'], patient: '1001' }, 'PATRQT');
    expect(again.status).toBe(410);
    expect(again.body).toMatchObject({ error: { code: 'link_used' } });
    expect(log.lines.join('\n')).not.toContain(path.split('/').at(-1));
  });

  it('a link refused for a missing second factor is not spent: opened again with one, it serves once', async () => {
    const issued = await call('POST', '/patients/1004/result-links', { sub: 'dr.chen', roles: ['ordering-provider'] }, 'TREAT');
    const path = new URL((issued.body as { url: string }).url).pathname;
    const me = { sub: 'pt-1004', roles: ['patient'], patient: '1004' };
    const withoutMfa = await call('GET', path, { ...me, amr: ['pwd'] }, 'PATRQT');
    expect(withoutMfa.status).toBe(401);
    expect(withoutMfa.body).toMatchObject({ error: { code: 'step_up_required' } });
    const withMfa = await call('GET', path, me, 'PATRQT');
    expect(withMfa.status).toBe(200);
    expect(withMfa.body!.patient.id).toBe('1004');
    const again = await call('GET', path, me, 'PATRQT');
    expect(again.status).toBe(410);
    const redeemed = log.auditEvents().filter((e) => (e as { reason?: string }).reason === 'pickup-link-redeemed');
    expect(redeemed.length).toBeGreaterThanOrEqual(1);
  });

  it('a tampered link is refused with a code and nothing more', async () => {
    const issued = await call('POST', '/patients/1002/result-links', { sub: 'dr.chen', roles: ['ordering-provider'] }, 'TREAT');
    const path = new URL((issued.body as { url: string }).url).pathname;
    const tampered = path.slice(0, -2) + (path.endsWith('A') ? 'BB' : 'AA');
    const res = await call('GET', tampered, { sub: 'pt-1002', roles: ['patient'], patient: '1002' }, 'PATRQT');
    expect(res.status).toBe(404);
    expect(res.text).not.toMatch(/1002|signature|hmac/i);
  });
});
