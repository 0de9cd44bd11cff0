/**
 * Vitest global set-up: brings up the real services the suites need (PostgreSQL, Redis,
 * SoftHSM2, Chromium) through scripts/services, idempotently, so that `npm test` works on a
 * fresh machine with nothing run first. A service the caller points the suites at
 * (PHIGUARD_TEST_PG_URL, PHIGUARD_TEST_REDIS_URL) is used as given and not started here.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('../../scripts/services', import.meta.url));

function service(name: string): string {
  const run = spawnSync('bash', [script, name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 15 * 60_000 });
  if (run.status !== 0) {
    throw new Error(
      `scripts/services ${name} failed (exit ${run.status ?? run.signal}); the suites that need it cannot run.\n` +
        `${run.stderr.trim()}\nRun scripts/services ${name} by hand to see why, or set the service's PHIGUARD_TEST_* URL.`,
    );
  }
  return run.stdout.trim().split('\n').pop() ?? '';
}

export default function setup(): void {
  if (process.env.PHIGUARD_TEST_PG_URL === undefined) process.env.PHIGUARD_TEST_PG_URL = service('postgres');
  if (process.env.PHIGUARD_TEST_REDIS_URL === undefined) process.env.PHIGUARD_TEST_REDIS_URL = service('redis');
  service('softhsm');
  service('chromium');
}
