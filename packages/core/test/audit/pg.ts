import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { dropAuditTableSql } from '../../src/audit/postgres.js';

/** The PostgreSQL the audit suites use: `scripts/services postgres` starts it. */
export const PG_URL = process.env.PHIGUARD_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:55432/postgres';

/** A pool on the test server; fails loudly (never skips) when it is unreachable. */
export async function testPool(max = 4): Promise<pg.Pool> {
  const pool = new pg.Pool({ connectionString: PG_URL, max, connectionTimeoutMillis: 5000 });
  pool.on('error', () => undefined); // idle clients killed by a test's server restart
  try {
    await pool.query('SELECT 1');
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw new Error(
      `PostgreSQL is unreachable at ${PG_URL} (${(err as Error).message}). ` +
        'Start it with `scripts/services postgres` (installs and runs a throwaway server on 127.0.0.1:55432), ' +
        'or point PHIGUARD_TEST_PG_URL at a server where the tests may create tables and roles.',
    );
  }
  return pool;
}

/** A fresh table name per suite, so suites running in parallel never share rows. */
export const uniqueTable = (prefix: string): string => `${prefix}_${randomBytes(4).toString('hex')}`;

/**
 * A suite's pool and table: the pool opened before the suite, the table dropped and the pool
 * closed after it. `pool()` is valid inside the suite's tests.
 */
export function pgSuite(prefix: string): { readonly table: string; pool(): pg.Pool } {
  const table = uniqueTable(prefix);
  let pool: pg.Pool | undefined;
  beforeAll(async () => {
    pool = await testPool();
  });
  afterAll(async () => {
    if (pool === undefined) return;
    await pool.query(dropAuditTableSql(table));
    await pool.end();
  });
  return {
    table,
    pool() {
      if (pool === undefined) throw new Error('pgSuite: the pool is open only inside the suite');
      return pool;
    },
  };
}

/**
 * A TCP proxy in front of the test server that can be cut (every connection reset, new ones
 * refused) and restored on the same port: the store going down and coming back, as the
 * application's pool sees it.
 */
export async function pgProxy(): Promise<{ url: string; down(): Promise<void>; up(): Promise<void>; close(): Promise<void> }> {
  const net = await import('node:net');
  const target = new URL(PG_URL);
  const sockets = new Set<import('node:net').Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    sockets.add(client).add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream).pipe(client);
  });
  const listen = (port: number) => new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as import('node:net').AddressInfo).port);
    });
  });
  const port = await listen(0);
  const url = new URL(PG_URL);
  url.port = String(port);
  return {
    url: url.toString(),
    async down() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      sockets.clear();
      await closed;
    },
    async up() {
      await listen(port);
    },
    async close() {
      for (const s of sockets) s.destroy();
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
