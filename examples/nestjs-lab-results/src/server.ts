/**
 * Runs the lab-results API on NestJS: `npm start -w examples/nestjs-lab-results` after `npm run build`.
 *   PORT             port to listen on (default 3000)
 *   JWT_SECRET       HS256 key of the bearer tokens (default: an embedded development secret)
 *   PHIGUARD_SECRET  32+ bytes keying research tokens and audit patient refs (same)
 * Audit events are written to stdout as pino JSON lines.
 */
import { createApp } from './app.js';
import { secretsFrom } from '../../express-lab-results/src/auth.js';

const port = Number(process.env.PORT ?? 3000);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`PORT must be an integer from 0 to 65535 (got "${process.env.PORT}")\n`);
  process.exit(1);
}

const { jwtSecret, phiguardSecret } = secretsFrom(process.env);
const app = await createApp({ jwtSecret, phiguardSecret }).catch((err: unknown) => {
  // Misconfiguration fails here, at start-up; phiguard's messages carry no field values.
  process.stderr.write(`cannot start: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}\n`);
  process.exit(1);
});
try {
  await app.listen(port);
} catch (err) {
  process.stderr.write(`cannot listen on port ${port}: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
const address = app.getHttpServer().address();
const actual = typeof address === 'object' && address !== null ? address.port : port;
// stdout: the URL first, then the audit log (one pino JSON line per event).
process.stdout.write(
  `lab-results API (NestJS) listening on http://localhost:${actual}\n` +
    `  try: curl -H "Authorization: Bearer $(npm run -s token -w examples/nestjs-lab-results -- ordering-provider)" ` +
    `-H "X-Purpose-Of-Use: TREAT" http://localhost:${actual}/patients/1001/results\n`,
);

function shutdown(signal: NodeJS.Signals): void {
  process.stderr.write(`${signal}: closing\n`);
  void app.close().then(() => process.exit(0));
}
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
