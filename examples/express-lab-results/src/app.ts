import express, { type Express } from 'express';
import { pino, type Logger } from 'pino';
import { nonPhi, phiguard } from '@phiguard/express';
import { jwtContext } from './auth.js';
import { findPatient } from './data.js';
import { operators, policy } from './policy.js';
import { labResultsView } from './view.js';

export { policy } from './policy.js';
export { signToken, secretsFrom, jwtContext, DEV_JWT_SECRET, DEV_PHIGUARD_SECRET } from './auth.js';
export { operators } from './policy.js';
export { findPatient } from './data.js';
export { labResultsView } from './view.js';

export interface AppOptions {
  /** Verifies the HS256 bearer tokens (JWT_SECRET). */
  readonly jwtSecret: string | Uint8Array;
  /** 32+ bytes keying research tokens and audit patient references (PHIGUARD_SECRET). */
  readonly phiguardSecret: string | Uint8Array;
  /** Where audit events (and PHI-free error lines) go. Default: pino to stdout. */
  readonly logger?: Logger;
}

/**
 * The lab-results API. The handlers below know nothing about roles: they return the whole view,
 * and phiguard decides, per caller and purpose of use, what of it leaves the process.
 */
export function createApp(options: AppOptions): Express {
  const app = express();
  app.disable('x-powered-by');

  // The one line. Mounted first so that it governs every request, including those a body
  // parser rejects. Audit: 45 CFR 164.312(b).
  app.use(phiguard({ policy, operators, secret: options.phiguardSecret, audit: options.logger ?? pino(), context: jwtContext(options.jwtSecret) }));

  app.use(express.json({ limit: '100kb' }));

  app.get('/health', nonPhi(), (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.get('/patients/:id/results', (req, res) => {
    const record = findPatient(req.params.id);
    if (record === undefined) {
      res.status(404).json({ error: { code: 'not_found' } });
      return;
    }
    res.json(labResultsView(record));
  });

  return app;
}
