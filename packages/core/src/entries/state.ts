/**
 * @phiguard/core/state: the shared state the guard keeps (break-glass grants, throttles, step-up),
 * in memory for one process or in Redis for many.
 * @packageDocumentation
 */
export { createMemoryStateStore, createRedisStateStore } from '../state/store.js';
export type { RedisLike, RedisStateStoreOptions, StateStore } from '../state/store.js';
