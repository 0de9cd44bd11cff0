/**
 * The Express example: its CSV export, research extract and abnormal-results report withhold
 * HIV and genetic results from, and ask the second factor of, the callers its JSON view does.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { createApp } from '../../examples/express-lab-results/src/app.js';
import { memoryLog } from '../../examples/express-lab-results/src/memory-log.js';
import { serve, type Served } from './serve.js';
import { expectSensitiveRoutesConsistent } from './sensitive-routes.js';

const JWT_SECRET = 'e2e-jwt-secret-for-the-sensitive-sweep';
let served: Served;

beforeAll(async () => {
  served = await serve(createApp({ jwtSecret: JWT_SECRET, phiguardSecret: 'e2e-phiguard-secret-with-at-least-32-bytes', logger: memoryLog().logger }));
});
afterAll(async () => {
  await served.close();
});

describe('sensitive results on every route of the Express example', () => {
  it('every role × purpose × second factor: export, extract and report never show more than the JSON view, and ask the second factor where it does', async () => {
    await expectSensitiveRoutesConsistent(served.base, JWT_SECRET);
  }, 120_000);
});
