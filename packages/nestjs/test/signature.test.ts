import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { Body, Controller, HttpCode, Post, UseGuards, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signRequest } from '@phiguard/core/delivery';
import { createMemoryStateStore } from '@phiguard/core/state';
import { PhiGuardModule, SignatureGuard, SkipPhiGuard } from '@phiguard/nestjs';
import { SECRET, headerContext, policy } from './fixtures.js';

const CURRENT = randomBytes(32);
const RETIRED = randomBytes(32);
const received: unknown[] = [];

@Controller('hooks')
@SkipPhiGuard()
class HooksController {
  @Post('results')
  @HttpCode(202)
  @UseGuards(SignatureGuard({ secrets: [{ secret: CURRENT }, { secret: RETIRED, notAfter: new Date(Date.now() - 1000) }], store: createMemoryStateStore() }))
  receive(@Body() body: unknown) {
    received.push(body);
    return { received: true };
  }
}

let app: INestApplication;
beforeAll(async () => {
  const moduleRef = await Test.createTestingModule({
    imports: [PhiGuardModule.forRoot({ policy, secret: SECRET, mode: 'production', audit: { write() {} }, context: headerContext() })],
    controllers: [HooksController],
  }).compile();
  app = moduleRef.createNestApplication({ logger: false, rawBody: true });
  await app.init();
});
afterAll(async () => {
  await app.close();
});

const BODY = JSON.stringify({ resultId: 'r-9', status: 'final' });
const post = (headers: Record<string, string>, body = BODY) =>
  request(app.getHttpServer()).post('/hooks/results').set({ 'content-type': 'application/json', ...headers }).send(body);

describe('SignatureGuard (Nest)', () => {
  it('lets a correctly signed request through, once', async () => {
    const sig = signRequest({ secret: CURRENT, method: 'POST', path: '/hooks/results', body: BODY });
    const ok = await post({ 'x-phiguard-signature': sig });
    expect(ok.status).toBe(202);
    expect(received.at(-1)).toEqual({ resultId: 'r-9', status: 'final' });
    const replay = await post({ 'x-phiguard-signature': sig });
    expect(replay.status).toBe(409);
    expect(replay.body).toMatchObject({ error: { code: 'signature_replayed' } });
  });

  it('refuses tampered bodies, stale timestamps, wrong or retired keys and missing signatures, without echoing anything', async () => {
    const cases = [
      [{ 'x-phiguard-signature': signRequest({ secret: CURRENT, method: 'POST', path: '/hooks/results', body: BODY }) }, BODY.replace('r-9', 'r-8'), 'signature_invalid'],
      [{ 'x-phiguard-signature': signRequest({ secret: CURRENT, method: 'POST', path: '/hooks/results', body: BODY, timestamp: Math.floor(Date.now() / 1000) - 3600 }) }, BODY, 'signature_stale'],
      [{ 'x-phiguard-signature': signRequest({ secret: randomBytes(32), method: 'POST', path: '/hooks/results', body: BODY }) }, BODY, 'signature_invalid'],
      [{ 'x-phiguard-signature': signRequest({ secret: RETIRED, method: 'POST', path: '/hooks/results', body: BODY }) }, BODY, 'signature_invalid'],
      [{}, BODY, 'signature_invalid'],
    ] as const;
    const before = received.length;
    for (const [headers, body, code] of cases) {
      const res = await post(headers, body);
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ error: { code } });
      expect(res.text).not.toContain('r-9');
    }
    expect(received).toHaveLength(before);
  });
});
