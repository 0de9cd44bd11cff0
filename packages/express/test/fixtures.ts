import express, { type Express } from 'express';
import { AuthenticationRequiredError, definePolicy, type AuditEvent, type AuditSink } from '@phiguard/core';
import { phiguard, type PhiGuardExpressOptions } from '@phiguard/express';

export const SECRET = 'test-secret-test-secret-test-secret!';

export const policy = definePolicy({
  roles: ['doctor', 'billing'],
  resources: {
    Chart: {
      routes: ['GET /charts/:id', 'POST /charts'],
      subject: 'patient.id',
      id: 'id',
      fields: {
        id: 'non-phi',
        'patient.id': 'direct-identifier',
        'patient.mrn': 'direct-identifier',
        'patient.name': 'direct-identifier',
        'labs[].code': 'clinical',
        'labs[].value': 'clinical',
        'labs[].note': 'free-text',
      },
      disclose: {
        doctor: { TREAT: { '*': 'send' } },
        billing: { HPAYMT: { 'patient.mrn': { op: 'partial', keep: 4 }, 'labs[].code': 'send' } },
      },
    },
    Scan: {
      rawBody: 'allow',
      fields: { image: 'clinical' },
      disclose: { doctor: { TREAT: { '*': 'send' } } },
    },
    ChartList: {
      routes: ['GET /charts'],
      fields: { '[].id': 'non-phi', '[].patient.name': 'direct-identifier' },
      disclose: { doctor: { TREAT: { '*': 'send' } }, billing: { HPAYMT: {} } },
    },
  },
});

export const CHART = {
  id: 'ch-1',
  patient: { id: 4242, mrn: 'MRN-55514821', name: 'Zebulon Quartermaine' },
  labs: [
    { code: '2345-7', value: 182, note: 'Zebulon called from 617-555-0142', extra: 'x' },
    { code: '4548-4', value: 9.1, note: null },
  ],
};

/** The PHI strings of CHART, for leak searches. */
export const CHART_PHI = ['MRN-55514821', 'Zebulon', 'Quartermaine', '617-555-0142', '4242'];

/** Context from test headers: x-user, x-roles (comma list), x-purpose. */
export function headerContext(req: express.Request) {
  const user = req.headers['x-user'];
  if (typeof user !== 'string') throw new AuthenticationRequiredError();
  return {
    principal: { id: user },
    roles: String(req.headers['x-roles'] ?? '').split(',').filter(Boolean),
    purposeOfUse: req.headers['x-purpose'] as string | undefined,
  };
}

export class MemorySink implements AuditSink {
  readonly events: AuditEvent[] = [];
  write(event: AuditEvent): void {
    this.events.push(event);
  }
}

/** An app with phiguard mounted and the given routes added after it. */
export function makeApp(
  routes: (app: Express) => void,
  overrides: Partial<PhiGuardExpressOptions> = {},
): { app: Express; sink: MemorySink; errors: object[] } {
  const sink = new MemorySink();
  const errors: object[] = [];
  const app = express();
  // phiguard first, so that every request (including one a body parser rejects) is governed.
  app.use(
    phiguard({
      policy,
      secret: SECRET,
      audit: sink,
      context: headerContext,
      logger: { error: (obj) => void errors.push(obj) },
      mode: 'production',
      ...overrides,
    }),
  );
  app.use(express.json({ limit: '100kb' }));
  routes(app);
  return { app, sink, errors };
}

export const doctor = { 'x-user': 'dr-1', 'x-roles': 'doctor', 'x-purpose': 'TREAT' };
export const billing = { 'x-user': 'bill-1', 'x-roles': 'billing', 'x-purpose': 'HPAYMT' };
