/**
 * The NestJS example: its CSV export, research extract and abnormal-results report withhold
 * HIV and genetic results from, and ask the second factor of, the callers its JSON view does.
 */
import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { createApp } from '../../examples/nestjs-lab-results/src/app.js';
import { memoryLog } from '../../examples/express-lab-results/src/memory-log.js';
import { CASES, SENSITIVE_PATIENTS, SENSITIVE_ROUTES, consistent, inBatches, outcomeOf, type Outcome } from './sensitive-routes.js';

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
    const rows = await inBatches(CASES, 8, async (c) => {
      const out: Record<string, Outcome> = {};
      for (const id of SENSITIVE_PATIENTS) {
        for (const kind of ['json', 'csv'] as const) {
          const r = SENSITIVE_ROUTES[kind](id);
          out[`${kind} ${id}`] = await outcomeOf(base, JWT_SECRET, c, r.path, r.reveals, id);
        }
      }
      for (const kind of ['extract', 'report'] as const) {
        const r = SENSITIVE_ROUTES[kind]();
        out[kind] = await outcomeOf(base, JWT_SECRET, c, r.path, r.reveals, SENSITIVE_PATIENTS[0]!);
      }
      return { ...c, out };
    });
    const wrong: string[] = [];
    for (const { role, purpose, mfa, out } of rows) {
      for (const id of SENSITIVE_PATIENTS) {
        const json = out[`json ${id}`]!;
        for (const other of [`csv ${id}`, 'extract', 'report']) {
          if (!consistent(json, out[other]!)) wrong.push(`${role} ${purpose} mfa=${mfa}: json ${id} ${json}, ${other} ${out[other]}`);
        }
      }
    }
    expect(wrong).toEqual([]);
    const seen = (key: string, outcome: Outcome) => rows.some((r) => r.out[key] === outcome);
    const id = SENSITIVE_PATIENTS[0]!;
    expect([seen(`csv ${id}`, 'masked'), seen(`csv ${id}`, 'step-up'), seen(`csv ${id}`, 'revealed')]).toEqual([true, true, true]);
    expect([seen('extract', 'masked'), seen('report', 'masked')]).toEqual([true, true]);
    expect([seen(`json ${id}`, 'step-up'), seen(`json ${id}`, 'revealed'), seen(`json ${id}`, 'masked')]).toEqual([true, true, true]);
  }, 120_000);
});
