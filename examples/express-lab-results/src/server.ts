/**
 * Runs the lab-results API: `npm start -w examples/express-lab-results` after `npm run build`.
 *   PORT             port to listen on (default 3000)
 *   JWT_SECRET       HS256 key of the bearer tokens (default: an embedded development secret)
 *   PHIGUARD_SECRET  32+ bytes keying research tokens and audit patient refs (same)
 *   PHIGUARD_AUDIT_KEY     hex or base64 key (32+ bytes) of the audit hash chain (default: a development key)
 *   PHIGUARD_AUDIT_PG_URL  also store audit events in PostgreSQL (append-only table, created if missing)
 *   PHIGUARD_AUDIT_PG_TABLE  its table (default phiguard_audit)
 *   PHIGUARD_AUDIT_MODE    durable (default): each PHI response waits for its event's batch to be
 *                            fsync'd to a local write-ahead file (group commit, ~1 ms); a shipper
 *                            then stores the events in PostgreSQL, resuming after a crash (both
 *                            on a worker thread);
 *                          sync: each PHI response waits for its event to be stored in PostgreSQL;
 *                          async: buffered in memory and batched (a crash loses what is buffered)
 *   PHIGUARD_AUDIT_DIR     durable mode: the write-ahead directory, on persistent local storage, one
 *                          per instance (default .phiguard-audit/<table> with a store; without a
 *                          store and without this variable there are no write-ahead files)
 * Audit events are also written to stdout as pino JSON lines (hash-chained, except in durable
 * mode, where the write-ahead files and the store carry the chain).
 */
import { join } from 'node:path';
import pg from 'pg';
import { type AuditSink } from '@phiguard/core';
import {
  createBufferedSink,
  createDurableSink,
  parseChainKey,
  createPostgresAuditSink,
  type DurableAuditSink,
} from '@phiguard/core/audit';
import { createApp, DEV_AUDIT_KEY } from './app.js';
import { secretsFrom } from './auth.js';

const port = Number(process.env.PORT ?? 3000);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`PORT must be an integer from 0 to 65535 (got "${process.env.PORT}")\n`);
  process.exit(1);
}

const { jwtSecret, phiguardSecret } = secretsFrom(process.env);
const auditKey = process.env.PHIGUARD_AUDIT_KEY ? parseChainKey(process.env.PHIGUARD_AUDIT_KEY) : undefined;
const mode = process.env.PHIGUARD_AUDIT_MODE ?? 'durable';
if (mode !== 'durable' && mode !== 'sync' && mode !== 'async') {
  process.stderr.write(`PHIGUARD_AUDIT_MODE must be durable, sync or async (got "${mode}")\n`);
  process.exit(1);
}
let auditStore: AuditSink | undefined;
let durableAudit: DurableAuditSink | undefined;
let pool: pg.Pool | undefined;
// Failed commits and shipments, for the operator (codes and messages only: events hold no PHI).
const onError = (err: unknown, info: { phase: string; attempt: number }): void =>
  void process.stderr.write(`audit ${info.phase} failed (attempt ${info.attempt}): ${(err as Error)?.message ?? String(err)}\n`);
const table = process.env.PHIGUARD_AUDIT_PG_TABLE;
const walDir = process.env.PHIGUARD_AUDIT_DIR;
if (process.env.PHIGUARD_AUDIT_PG_URL) {
  pool = new pg.Pool({ connectionString: process.env.PHIGUARD_AUDIT_PG_URL, max: 4 });
  pool.on('error', () => undefined); // a connection lost while idle: the next query reconnects
  const store = createPostgresAuditSink({ pool, table });
  await store.migrate();
  if (mode === 'durable') {
    // The writer, the chain and the shipper run on a worker thread, which opens its own connection.
    durableAudit = createDurableSink({
      dir: walDir ?? join('.phiguard-audit', table ?? 'phiguard_audit'),
      key: auditKey ?? DEV_AUDIT_KEY,
      ship: { postgres: { connectionString: process.env.PHIGUARD_AUDIT_PG_URL, ...(table === undefined ? {} : { table }) } },
      onError,
    });
  } else {
    auditStore = mode === 'sync' ? store : createBufferedSink(store, { maxBuffer: 50_000, maxBatch: 500, flushIntervalMs: 50 });
  }
} else if (mode === 'durable' && walDir) {
  durableAudit = createDurableSink({ dir: walDir, key: auditKey ?? DEV_AUDIT_KEY, onError }); // the files are the record
}
const app = createApp({ jwtSecret, phiguardSecret, auditKey, auditStore, durableAudit });

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
