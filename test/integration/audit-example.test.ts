/**
 * The Express example as a real process (examples/express-lab-results/dist/server.js, built by
 * `npm test`) with its audit events stored in PostgreSQL (scripts/services postgres):
 * - async mode: 10,000 PHI requests (reads and denials), then a graceful stop: the table holds
 *   exactly one event per response, and `phiguard audit verify` passes on it;
 * - sync mode: `kill -9` during load loses no event of any response a client received;
 * - durable mode (the default): `kill -9` during load from 16 clients, then a restart on the same
 *   write-ahead directory: every 200 the clients received has exactly one stored event, none is
 *   stored twice, and the chain (one stream, continued across the restart) verifies.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main as cli } from '../../packages/cli/src/main.js';
import { signToken } from '../../examples/express-lab-results/src/auth.js';
import { PG_URL, testPool, uniqueTable } from '../../packages/core/test/audit/pg.js';
import { dropAuditTableSql } from '@phiguard/core/testing';

const SERVER = fileURLToPath(new URL('../../examples/express-lab-results/dist/server.js', import.meta.url));
const JWT_SECRET = 'integration-jwt-secret-for-the-audit-example';
const AUDIT_KEY = randomBytes(32).toString('hex');
let pool: pg.Pool;
const tables: string[] = [];

beforeAll(async () => {
  pool = await testPool(2);
});
afterAll(async () => {
  if (pool === undefined) return;
  for (const t of tables) await pool.query(dropAuditTableSql(t)).catch(() => undefined);
  await pool.end();
});

async function startServer(
  mode: 'sync' | 'async' | null,
  table: string,
  extra: Record<string, string> = {},
): Promise<{ child: ChildProcess; base: string; exited: Promise<number | null>; stderr: () => string }> {
  const env: Record<string, string | undefined> = { ...process.env };
  delete env.PHIGUARD_AUDIT_MODE;
  let stderr = '';
  const child = spawn(process.execPath, [SERVER], {
    env: {
      ...env,
      PORT: '0',
      NODE_ENV: 'development',
      JWT_SECRET,
      PHIGUARD_SECRET: 'integration-phiguard-secret-with-32-bytes!',
      PHIGUARD_AUDIT_KEY: AUDIT_KEY,
      PHIGUARD_AUDIT_PG_URL: PG_URL,
      PHIGUARD_AUDIT_PG_TABLE: table,
      ...(mode === null ? {} : { PHIGUARD_AUDIT_MODE: mode }),
      ...extra,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr!.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const base = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /listening on (http:\/\/localhost:\d+)/.exec(out);
      if (m) resolve(m[1]!.replace('localhost', '127.0.0.1'));
    });
    child.once('exit', (code) => reject(new Error(`server exited (${code}) before listening`)));
    setTimeout(() => reject(new Error('server did not start in 20 s')), 20_000);
  });
  child.stdout!.resume(); // the audit log goes to stdout; keep draining it
  return { child, base, exited, stderr: () => stderr };
}

const tokens = {
  billing: signToken({ sub: 'load-billing', roles: ['billing'] }, JWT_SECRET),
  janitor: signToken({ sub: 'load-janitor', roles: ['janitor'] }, JWT_SECRET),
};

/** One request: a billing read, or (every tenth) a denial. Resolves with the response's request id and status. */
async function one(base: string, i: number, prefix = 'load'): Promise<{ id: string; status: number }> {
  const denied = i % 10 === 9;
  const res = await fetch(`${base}/patients/100${(i % 5) + 1}/results`, {
    headers: { authorization: `Bearer ${await (denied ? tokens.janitor : tokens.billing)}`, 'x-purpose-of-use': 'HPAYMT', 'x-request-id': `${prefix}-${i}` },
  });
  await res.arrayBuffer();
  return { id: res.headers.get('x-request-id')!, status: res.status };
}

async function load(base: string, total: number, concurrency: number, received: { id: string; status: number }[], prefix = 'load'): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        try {
          received.push(await one(base, i, prefix));
        } catch {
          return; // the server went away (kill -9)
        }
      }
    }),
  );
}

const requestIds = async (table: string) =>
  (await pool.query<{ id: string }>(`SELECT event->'request'->>'requestId' AS id FROM "${table}"`)).rows.map((r) => r.id);

describe('the example under load with a PostgreSQL audit store', () => {
  it('async: 10,000 PHI requests, graceful stop, exactly one stored event per response, and the chain verifies', async () => {
    const table = uniqueTable('example_async');
    tables.push(table);
    const { child, base, exited } = await startServer('async', table);
    const received: { id: string; status: number }[] = [];
    await load(base, 10_000, 16, received);
    expect(received).toHaveLength(10_000);
    expect(received.filter((r) => r.status === 200)).toHaveLength(9_000);
    expect(received.filter((r) => r.status === 403)).toHaveLength(1_000);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const ids = await requestIds(table);
    expect(ids).toHaveLength(10_000);
    expect(new Set(ids)).toEqual(new Set(received.map((r) => r.id)));
    const out: string[] = [];
    const code = await cli(['audit', 'verify', PG_URL, '--table', table, '--key', AUDIT_KEY], {
      out: (s: string) => void out.push(s),
      err: (s: string) => void out.push(s),
      env: {},
    });
    expect(code).toBe(0);
    expect(out.join('')).toMatch(/10000 events/);
  }, 240_000);

  it('sync: kill -9 during load loses no event of any response the client received', async () => {
    const table = uniqueTable('example_sync');
    tables.push(table);
    const { child, base, exited } = await startServer('sync', table);
    const received: { id: string; status: number }[] = [];
    const running = load(base, 100_000, 8, received);
    while (received.length < 500) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGKILL');
    await running;
    await exited;
    const stored = new Set(await requestIds(table));
    const lost = received.filter((r) => !stored.has(r.id));
    expect(received.length).toBeGreaterThanOrEqual(500);
    expect(lost).toEqual([]);
  }, 120_000);

  it('durable (the default): kill -9 mid-load from 16 clients, restart; every 200 has exactly one stored event, none twice, and the chain verifies', async () => {
    const table = uniqueTable('example_durable');
    tables.push(table);
    const dir = mkdtempSync(join(tmpdir(), 'phiguard-example-wal-'));
    try {
      const first = await startServer(null, table, { PHIGUARD_AUDIT_DIR: dir });
      const received: { id: string; status: number }[] = [];
      const running = load(first.base, 1_000_000, 16, received, 'before');
      while (received.length < 1500) await new Promise((r) => setTimeout(r, 20));
      first.child.kill('SIGKILL');
      await running;
      await first.exited;
      expect(received.length).toBeGreaterThanOrEqual(1500);
      const inStore = new Set(await requestIds(table));
      const unshipped = received.filter((r) => r.status === 200 && !inStore.has(r.id)).length;
      console.info(`durable example: ${received.length} responses before kill -9, ${unshipped} of the 200s not yet in PostgreSQL (committed locally, shipped after the restart)`);
      // Restart on the same directory: recovery, then the shipper sends what the store lacks.
      const second = await startServer(null, table, { PHIGUARD_AUDIT_DIR: dir });
      await load(second.base, 500, 16, received, 'after');
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
      expect(readdirSync(dir).some((n) => n.startsWith('torn-'))).toBe(false);

      const { rows } = await pool.query<{ id: string; n: number }>(
        `SELECT event->'request'->>'requestId' AS id, count(*)::int AS n FROM "${table}" GROUP BY 1`,
      );
      const stored = new Map(rows.map((r) => [r.id, r.n]));
      const ok = received.filter((r) => r.status === 200);
      expect(ok.length).toBeGreaterThan(1500 * 0.8);
      expect(ok.filter((r) => stored.get(r.id) !== 1)).toEqual([]);
      expect(rows.filter((r) => r.n !== 1)).toEqual([]);
      const out: string[] = [];
      const code = await cli(['audit', 'verify', PG_URL, '--table', table, '--key', AUDIT_KEY], {
        out: (s: string) => void out.push(s),
        err: (s: string) => void out.push(s),
        env: {},
      });
      expect(out.join('')).toMatch(/streams: 1 /);
      expect(code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);
});
