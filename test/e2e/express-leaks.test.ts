/**
 * The leak-testing kit (@phiguard/core/testing) run over the Express example: every route, every
 * role, every purpose of use, and the error paths, with the response (status, headers, body) and
 * every log line (application, audit, errors) captured. A role may receive in a response body
 * exactly what the policy discloses to it; nothing identifying may appear anywhere else.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScanner } from '@phiguard/core';
import { canaryDetectors } from '@phiguard/core/testing';
import { createApp } from '../../examples/express-lab-results/src/app.js';
import { memoryLog } from '../../examples/express-lab-results/src/memory-log.js';
import { COMMON_ROUTES, casesFor, sweepExample } from './leak-sweep.js';
import { serve, type Served } from './serve.js';

const JWT_SECRET = 'e2e-jwt-secret-for-the-leak-sweep';
const log = memoryLog();
let served: Served;

beforeAll(async () => {
  // Test mode: the fixture's SSNs use the never-issued 9xx area, which the production scanner
  // rightly ignores; the kit's canary detectors make DLP treat them as the real thing.
  const scanner = createScanner({ detectors: [...canaryDetectors] });
  served = await serve(createApp({ jwtSecret: JWT_SECRET, phiguardSecret: 'e2e-phiguard-secret-with-at-least-32-bytes', logger: log.logger, scanner }));
});
afterAll(async () => {
  await served.close();
});

const ROUTES = [
  ...COMMON_ROUTES,
  'GET /patients/1001/disclosures',
  'GET /governance/patients/1001/disclosures',
  'GET /reports/abnormal-results',
  'GET /patients/1001/results.csv',
  'POST /patients/1001/result-links',
  'GET /research/extract',
];

describe('leak sweep of the Express example', () => {
  it('no canary leaves through logs, audit, headers or error bodies; bodies carry only what each role may see', async () => {
    const result = await sweepExample({ base: served.base, lines: log.lines, jwtSecret: JWT_SECRET, routes: ROUTES });
    expect(result.cases).toBe(casesFor(ROUTES));
    expect(result.leaks).toEqual([]);
  });
});
