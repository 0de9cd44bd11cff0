/**
 * The NestJS example: its CSV export, research extract and abnormal-results report withhold
 * HIV and genetic results from, and ask the second factor of, the callers its JSON view does.
 */
import 'reflect-metadata';
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { createApp } from '../../examples/nestjs-lab-results/src/app.js';
import { memoryLog } from '../../examples/express-lab-results/src/memory-log.js';
import { expectSensitiveRoutesConsistent } from './sensitive-routes.js';

const JWT_SECRET = 'e2e-jwt-secret-for-the-nest-sensitive-sweep';
let app: INestApplication;
let base: string;

beforeAll(async () => {
  app = await createApp({ jwtSecret: JWT_SECRET, phiguardSecret: 'e2e-phiguard-secret-with-at-least-32-bytes', logger: memoryLog().logger });
  await app.listen(0, '127.0.0.1');
  base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
});
afterAll(async () => {
  await app.close();
});

describe('sensitive results on every route of the NestJS example', () => {
  it('every role × purpose × second factor: export, extract and report never show more than the JSON view, and ask the second factor where it does', async () => {
    await expectSensitiveRoutesConsistent(base, JWT_SECRET);
  }, 120_000);
});
