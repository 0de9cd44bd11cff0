/**
 * A real Redis for the delivery suites: `scripts/services redis` (127.0.0.1:56379) or
 * PHIGUARD_TEST_REDIS_URL. Suites fail, never skip, when it is absent.
 */
import { Redis } from 'ioredis';

export const REDIS_URL = process.env.PHIGUARD_TEST_REDIS_URL ?? 'redis://127.0.0.1:56379';

/** Connects a client and waits until it is ready; throws with instructions when Redis is absent. */
export async function connectRedis(): Promise<Redis> {
  const c = new Redis(REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  c.on('error', () => undefined); // surfaced below, and by the store as StateUnavailableError
  for (let i = 0; i < 150 && c.status !== 'ready'; i++) await new Promise((r) => setTimeout(r, 20));
  try {
    if (c.status !== 'ready') throw new Error('not ready');
    await c.ping();
  } catch {
    c.disconnect();
    throw new Error(`Redis is not reachable at ${REDIS_URL}: run scripts/services redis (or set PHIGUARD_TEST_REDIS_URL)`);
  }
  return c;
}
