import express from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { definePolicy } from '@phiguard/core';
import { phiguard } from '@phiguard/express';

describe('quick', () => {
  it('works', async () => {
    const policy = definePolicy({
      roles: ['billing'],
      resources: {
        Lab: {
          routes: ['GET /p/:id'],
          subject: 'patient.id',
          fields: { 'patient.id': 'direct-identifier', 'patient.mrn': 'direct-identifier', 'results[].code': 'clinical' },
          disclose: { billing: { HPAYMT: { 'patient.mrn': { op: 'partial' }, 'results[].code': 'send' } } },
        },
      },
    });
    const lines: unknown[] = [];
    const app = express();
    app.use(phiguard({ policy, secret: 's'.repeat(32), audit: { write: (e) => void lines.push(e) },
      context: (req) => ({ principal: { id: 'u1' }, roles: [String(req.headers['x-role'])], purposeOfUse: req.headers['x-pou'] as string }) }));
    app.get('/p/:id', (_req, res) => { res.json({ patient: { id: 7, mrn: 'MRN9994821' }, results: [{ code: 'x', v: 1 }] }); });
    app.get('/boom', () => { throw new Error('SSN 123-45-6789'); });
    const r = await request(app).get('/p/7').set('x-role', 'billing').set('x-pou', 'HPAYMT');
    console.log(r.status, r.headers['cache-control'], r.text, JSON.stringify(lines));
    const d = await request(app).get('/p/7').set('x-role', 'nobody').set('x-pou', 'HPAYMT');
    console.log(d.status, d.text);
    const b = await request(app).get('/boom');
    console.log(b.status, b.text);
    expect(r.status).toBe(200);
  });
});
