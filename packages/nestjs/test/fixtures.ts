import 'reflect-metadata';
import { Test } from '@nestjs/testing';
import type { INestApplication } from '@nestjs/common';
import {
  AuthenticationRequiredError,
  definePolicy,
  type AccessContext,
  type AuditEvent,
  type AuditSink,
} from '@phiguard/core';
import { PhiGuardModule, type PhiGuardModuleOptions, type PhiRouteInfo } from '../src/index.js';

export const SSN = '123-45-6789';
export const CHART = Object.freeze({
  id: 'ch-1',
  patientId: 'p-7',
  name: 'Zebulon Quartermaine',
  ssn: SSN,
  mrn: 'MRN00012345',
  glucose: 182,
  comment: 'stable',
});

export const policy = definePolicy({
  roles: ['doctor', 'billing', 'patient'],
  resources: {
    Chart: {
      subject: 'patientId',
      subjectParam: 'id',
      id: 'id',
      fields: {
        id: 'non-phi',
        patientId: 'direct-identifier',
        name: 'direct-identifier',
        ssn: 'direct-identifier',
        mrn: 'direct-identifier',
        glucose: 'clinical',
        comment: 'free-text',
      },
      disclose: {
        doctor: { TREAT: { '*': 'send' } },
        billing: { HPAYMT: { mrn: { op: 'partial', keep: 4 }, glucose: 'deny' } },
        patient: { PATRQT: { '*': 'send', ssn: { op: 'partial', keep: 4, mask: '***-**-' } } },
      },
    },
    Report: {
      rawBody: 'allow',
      fields: { body: 'clinical' },
      disclose: { doctor: { TREAT: { '*': 'send' } } },
    },
    Note: {
      dlp: { request: 'block' },
      fields: { text: 'free-text' },
      disclose: { doctor: { TREAT: { '*': 'send' } } },
    },
    Message: {
      dlp: { request: 'redact' },
      fields: { text: 'free-text' },
      disclose: { doctor: { TREAT: { '*': 'send' } } },
    },
  },
});

export const SECRET = 'unit-test-secret-unit-test-secret-0123456789';

/** A context from test headers: `x-user`, `x-roles` (comma separated), `x-purpose`, `x-patient`. No `x-user` → 401. */
export function headerContext(seen: PhiRouteInfo[] = []) {
  return (req: { headers: Record<string, string | undefined> }, route: PhiRouteInfo): AccessContext => {
    seen.push(route);
    const user = req.headers['x-user'];
    if (!user) throw new AuthenticationRequiredError();
    return {
      principal: { id: user, patientId: req.headers['x-patient'] ?? null },
      roles: (req.headers['x-roles'] ?? '').split(',').filter(Boolean),
      purposeOfUse: req.headers['x-purpose'] ?? null,
    };
  };
}

export interface Harness {
  readonly app: INestApplication;
  readonly events: AuditEvent[];
  readonly errors: unknown[];
  readonly routes: PhiRouteInfo[];
}

/** A Nest app with the given controllers under PhiGuardModule.forRoot, initialized (not listening). */
export async function makeApp(
  controllers: (new (...args: never[]) => unknown)[],
  options: Partial<PhiGuardModuleOptions> = {},
  sink?: AuditSink,
): Promise<Harness> {
  const events: AuditEvent[] = [];
  const errors: unknown[] = [];
  const routes: PhiRouteInfo[] = [];
  const moduleRef = await Test.createTestingModule({
    imports: [
      PhiGuardModule.forRoot({
        policy,
        secret: SECRET,
        mode: 'production',
        audit: sink ?? { write: (e) => void events.push(e) },
        logger: { error: (obj: object) => void errors.push(obj) },
        context: headerContext(routes),
        ...options,
      }),
    ],
    controllers,
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  return { app, events, errors, routes };
}

export const doctor = { 'x-user': 'u-doc', 'x-roles': 'doctor', 'x-purpose': 'TREAT' };
export const billing = { 'x-user': 'u-bill', 'x-roles': 'billing', 'x-purpose': 'HPAYMT' };
