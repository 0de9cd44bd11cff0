/**
 * The leak-testing kit (@phiguard/core/testing) run over the NestJS example: every route, every
 * role, every purpose of use, and the error paths, with the response (status, headers, body) and
 * every log line (application, audit, errors) captured. A role may receive in a response body
 * exactly what the policy discloses to it; nothing identifying may appear anywhere else.
 */
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScanner } from '@phiguard/core';
import { canaryDetectors } from '@phiguard/core/testing';
import { createApp } from '../../examples/nestjs-lab-results/src/app.js';
import { memoryLog } from '../../examples/express-lab-results/src/memory-log.js';
import { COMMON_ROUTES, casesFor, sweepExample } from './leak-sweep.js';

const JWT_SECRET = 'e2e-jwt-secret-for-the-nest-leak-sweep';
const log = memoryLog();
let app: INestApplication;
let base: string;

beforeAll(async () => {
  // Test mode, as in the Express sweep: DLP treats the fixture's never-issued SSNs as real.
  const scanner = createScanner({ detectors: [...canaryDetectors] });
  app = await createApp({ jwtSecret: JWT_SECRET, phiguardSecret: 'e2e-phiguard-secret-with-at-least-32-bytes', logger: log.logger, scanner });
  await app.listen(0, '127.0.0.1');
  base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
});
afterAll(async () => {
  await app.close();
});

describe('leak sweep of the NestJS example', () => {
  it('no canary leaves through logs, audit, headers or error bodies; bodies carry only what each role may see', async () => {
    const result = await sweepExample({ base, lines: log.lines, jwtSecret: JWT_SECRET, routes: COMMON_ROUTES });
    expect(result.cases).toBe(casesFor(COMMON_ROUTES));
    expect(result.leaks).toEqual([]);
  });
});
