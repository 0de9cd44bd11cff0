// A benchmark target, one per process: `node server.mjs <plain|plain-auth|protected|phiguard> <auditFile> [role purpose]`.
// `phiguard` is phiguard alone on the example's route (a synchronous context, audit lines to a
// pino file destination), as in the in-process benchmark; `protected` is the whole example app.
// Prints the port on stdout; answers { cpu } on IPC so the runner can compute CPU per request.
import express from 'express';
import { pino } from 'pino';
import { createApp, findPatient, jwtContext, labResultsView } from '../../examples/express-lab-results/dist/app.js';
import { createFieldCipher } from '../../packages/core/dist/index.js';
import { createStreamSink as streamSink } from '../../packages/core/dist/audit.js';
import { DEV_JWT_SECRET, DEV_PHIGUARD_SECRET, phiguardApp } from './fixture.mjs';
import { createLocalKeyring } from '../../packages/kms/dist/index.js';

const [mode, auditFile, role = 'billing', purpose = 'HPAYMT'] = process.argv.slice(2);

function plainApp(withAuth) {
  const app = express();
  app.disable('x-powered-by');
  const resolve = jwtContext(DEV_JWT_SECRET);
  if (withAuth) {
    // The same token verification the protected app's context resolver does, without phiguard.
    app.use((req, res, next) => {
      try {
        resolve(req);
      } catch {
        return void res.status(401).end();
      }
      next();
    });
  }
  app.use(express.json({ limit: '100kb' }));
  app.get('/patients/:id/results', (req, res) => {
    const record = findPatient(req.params.id);
    if (record === undefined) return void res.status(404).json({ error: { code: 'not_found' } });
    res.json(labResultsView(record));
  });
  return app;
}

let app;
if (mode === 'plain') app = plainApp(false);
else if (mode === 'plain-auth') app = plainApp(true);
else if (mode === 'protected') {
  const logger = pino(pino.destination({ dest: auditFile, sync: false, minLength: 4096 }));
  // A local master key, allowed under NODE_ENV=production for the benchmark only.
  const keyring = createLocalKeyring({ key: new Uint8Array(32).fill(1), allowInProduction: true });
  app = createApp({ jwtSecret: DEV_JWT_SECRET, phiguardSecret: DEV_PHIGUARD_SECRET, logger, keyring });
} else if (mode === 'phiguard') {
  const keyring = createLocalKeyring({ key: new Uint8Array(32).fill(1), allowInProduction: true });
  const audit = streamSink(pino.destination({ dest: auditFile, sync: false, minLength: 4096 }));
  app = phiguardApp({ role, purpose, audit, cipher: createFieldCipher({ keyring }) });
} else throw new Error(`unknown mode ${mode}`);

const server = app.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
process.on('message', (msg) => {
  if (msg === 'cpu') process.send({ cpu: process.cpuUsage() });
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
