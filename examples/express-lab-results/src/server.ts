/**
 * Runs the lab-results API: `npm start -w examples/express-lab-results` after `npm run build`.
 *   PORT             port to listen on (default 3000)
 *   JWT_SECRET       HS256 key of the bearer tokens (default: an embedded development secret)
 *   PHIGUARD_SECRET  32+ bytes keying research tokens and audit patient refs (same)
 *   PHIGUARD_AUDIT_KEY     hex or base64 key (32+ bytes) of the audit hash chain (default: a development key)
 *   PHIGUARD_AUDIT_PG_URL  also store audit events in PostgreSQL (append-only table, created if missing)
 *   PHIGUARD_AUDIT_PG_TABLE  its table (default phiguard_audit)
 *   PHIGUARD_AUDIT_MODE    sync: each PHI response waits for its event to be stored;
 *                          async (default): buffered and batched, drained on SIGTERM/SIGINT
 * Audit events are written to stdout as pino JSON lines, hash-chained.
 */
import pg from 'pg';
import { bufferedSink, parseChainKey, postgresAuditSink, type AuditSink } from '@phiguard/core';
import { createApp } from './app.js';
import { secretsFrom } from './auth.js';

const port = Number(process.env.PORT ?? 3000);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`PORT must be an integer from 0 to 65535 (got "${process.env.PORT}")\n`);
  process.exit(1);
}

const { jwtSecret, phiguardSecret } = secretsFrom(process.env);
const auditKey = process.env.PHIGUARD_AUDIT_KEY ? parseChainKey(process.env.PHIGUARD_AUDIT_KEY) : undefined;
const mode = process.env.PHIGUARD_AUDIT_MODE ?? 'async';
if (mode !== 'sync' && mode !== 'async') {
  process.stderr.write(`PHIGUARD_AUDIT_MODE must be sync or async (got "${mode}")\n`);
  process.exit(1);
}
let auditStore: AuditSink | undefined;
let pool: pg.Pool | undefined;
if (process.env.PHIGUARD_AUDIT_PG_URL) {
  pool = new pg.Pool({ connectionString: process.env.PHIGUARD_AUDIT_PG_URL, max: 4 });
  const store = postgresAuditSink({ pool, table: process.env.PHIGUARD_AUDIT_PG_TABLE });
  await store.migrate();
  auditStore = mode === 'sync' ? store : bufferedSink(store, { maxBuffer: 50_000, maxBatch: 500, flushIntervalMs: 50 });
}
const app = createApp({ jwtSecret, phiguardSecret, auditKey, auditStore });

const server = app.listen(port, (error?: Error) => {
  if (error) {
    process.stderr.write(`cannot listen on port ${port}: ${error.message}\n`);
    process.exit(1);
  }
  const address = server.address();
  const actual = typeof address === 'object' && address !== null ? address.port : port;
  // stdout: the URL first, then the audit log (one pino JSON line per event).
  process.stdout.write(
    `lab-results API listening on http://localhost:${actual}\n` +
      `  try: curl -H "Authorization: Bearer $(npm run -s token -w examples/express-lab-results -- ordering-provider)" ` +
      `-H "X-Purpose-Of-Use: TREAT" http://localhost:${actual}/patients/1001/results\n`,
  );
});

/** Graceful stop: no new requests, then every buffered audit event stored, then exit. */
function shutdown(signal: NodeJS.Signals): void {
  process.stderr.write(`${signal}: closing\n`);
  server.close(() => {
    app.locals.audit
      .close()
      .then(() => pool?.end())
      .then(
        () => process.exit(0),
        () => {
          process.stderr.write('audit events could not all be stored before exit\n');
          process.exit(1);
        },
      );
  });
  server.closeAllConnections();
}
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
