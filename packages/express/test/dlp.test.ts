import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { CHART, doctor, makeApp } from './fixtures.js';

const SSN = '123-45-6789';
const EMAIL = 'zeb.q@example.org';

describe('errors thrown by handlers', () => {
  const thrower = () => {
    throw new Error(`lookup failed for patient SSN ${SSN}, contact ${EMAIL}`);
  };

  it('reach the client and the log without the SSN or e-mail in the message (default: messages omitted)', async () => {
    const { app, errors } = makeApp((a) => a.get('/charts/:id', thrower));
    const res = await request(app).get('/charts/ch-1').set(doctor);
    expect(res.status).toBe(500);
    expect(res.text).not.toContain(SSN);
    expect(res.text).not.toContain(EMAIL);
    const line = JSON.stringify(errors);
    expect(errors).toHaveLength(1);
    expect(line).not.toContain(SSN);
    expect(line).not.toContain(EMAIL);
    expect(line).not.toContain('lookup failed');
  });

  it("with errorMessages: 'redact', log the message with identifiers replaced by markers", async () => {
    const { app, errors } = makeApp((a) => a.get('/charts/:id', thrower), { errorMessages: 'redact' });
    const res = await request(app).get('/charts/ch-1').set(doctor);
    expect(res.status).toBe(500);
    expect(res.text).not.toMatch(/123-45-6789|zeb\.q/);
    expect(errors).toHaveLength(1);
    expect((errors[0] as { err: { message: string } }).err.message).toBe('lookup failed for patient SSN [SSN], contact [EMAIL]');
  });

  it('refuses an unknown errorMessages value at start-up', () => {
    expect(() => makeApp(() => undefined, { errorMessages: 'log' as never })).toThrow(/errorMessages/);
  });
});

describe('response headers on PHI routes', () => {
  it('redacts identifiers an application put in its own headers', async () => {
    const { app } = makeApp((a) =>
      a.get('/charts/:id', (_req, res) => {
        res.setHeader('X-Patient', `SSN ${SSN}`);
        res.setHeader('X-Trace-Note', ['ok', `mail ${EMAIL}`]);
        res.json(CHART);
      }),
    );
    const res = await request(app).get('/charts/ch-1').set(doctor);
    expect(res.status).toBe(200);
    expect(res.headers['x-patient']).toBe('SSN [SSN]');
    expect(res.headers['x-trace-note']).toBe('ok, mail [EMAIL]');
    expect(JSON.stringify(res.headers)).not.toMatch(/123-45-6789|zeb\.q/);
  });

  it('rebuilds a Content-Disposition file name without identifiers', async () => {
    const { app } = makeApp((a) =>
      a.get('/charts/:id', (_req, res) => {
        res.attachment(`labs SSN ${SSN} ${EMAIL}.json`);
        res.json(CHART);
      }),
    );
    const res = await request(app).get('/charts/ch-1').set(doctor);
    expect(res.headers['content-disposition']).toBe('attachment; filename="labs SSN SSN EMAIL.json"');
  });

  it('leaves headers without identifiers, and system headers, as they are', async () => {
    const { app } = makeApp((a) =>
      a.get('/charts/:id', (_req, res) => {
        res.setHeader('X-Version', '2024-03-15.1');
        res.attachment('lab-report.pdf');
        res.json(CHART);
      }),
    );
    const res = await request(app).get('/charts/ch-1').set(doctor).set('X-Request-Id', 'req-1');
    expect(res.headers['x-request-id']).toBe('req-1');
    expect(res.headers['content-disposition']).toBe('attachment; filename="lab-report.pdf"');
    expect(res.headers['cache-control']).toBe('no-store');
  });
});

describe('engine options through the middleware', () => {
  it('accepts every createPhiGuard option (relationship, state, scanner, cipher…)', async () => {
    const { createScanner } = await import('@phiguard/core');
    const { createMemoryStateStore } = await import('@phiguard/core/state');
    expect(() =>
      makeApp(() => undefined, { relationship: () => ({ careTeam: true }), encounterFollowUpDays: 7, state: createMemoryStateStore(), scanner: createScanner() }),
    ).not.toThrow();
  });
});

describe('throttled users', () => {
  it('answer 429 throttled on PHI routes while paused, audited as an error', async () => {
    const { createPhiGuard } = await import('@phiguard/core');
    const { createMemoryStateStore } = await import('@phiguard/core/state');
    const express = (await import('express')).default;
    const { phiguard } = await import('@phiguard/express');
    const { policy, SECRET, headerContext, MemorySink, CHART } = await import('./fixtures.js');
    const sink = new MemorySink();
    const guard = createPhiGuard({ policy, secret: SECRET, audit: sink, mode: 'production', state: createMemoryStateStore(), throttling: true });
    const app = express();
    app.use(phiguard({ guard, context: headerContext }));
    app.get('/charts/:id', (_req, res) => void res.json(CHART));
    expect((await request(app).get('/charts/ch-1').set(doctor)).status).toBe(200);
    await guard.throttle('dr-1', 60_000);
    const res = await request(app).get('/charts/ch-1').set(doctor);
    expect(res.status).toBe(429);
    expect(res.body).toMatchObject({ error: { code: 'throttled', status: 429 } });
    expect(sink.events.at(-1)).toMatchObject({ outcome: 'error', reason: 'throttled' });
    expect((await request(app).get('/charts/ch-1').set({ ...doctor, 'x-user': 'dr-2' })).status).toBe(200);
  });
});
