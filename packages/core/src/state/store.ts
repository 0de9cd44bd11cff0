import { isClock, systemClock, type Clock } from '../base/clock.js';
import { OptionsError, StateUnavailableError } from '../errors.js';
import { didYouMean } from '../suggest.js';

/**
 * Shared state for what must hold across app instances: break-glass grants and revocations,
 * single-use nonces, rate and anomaly counters. Every operation is atomic. Implementations
 * reject with StateUnavailableError when the backing store cannot answer, so that callers fail
 * closed.
 */
export interface StateStore {
  get(key: string): Promise<string | null>;
  getMany(keys: readonly string[]): Promise<(string | null)[]>;
  /** Sets a value, expiring after `ttlMs` when given. */
  set(key: string, value: string, ttlMs?: number): Promise<void>;
  /** Sets a value only if the key is absent; true when it was set (single-use nonces). */
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean>;
  delete(key: string): Promise<boolean>;
  /** Increments a counter, starting a window of `ttlMs` when the counter is created. */
  increment(key: string, ttlMs: number): Promise<number>;
  addToSet(key: string, member: string): Promise<void>;
  removeFromSet(key: string, member: string): Promise<void>;
  members(key: string): Promise<string[]>;
  /** Adds `member` to a set that expires `ttlMs` after its creation; returns the set's size (anomaly windows). */
  addDistinct(key: string, member: string, ttlMs: number): Promise<number>;
}

/** A {@link StateStore} in process memory: the default, for one instance and for tests. */
export class MemoryStateStore implements StateStore {
  readonly #values = new Map<string, { value: string; expiresAt: number }>();
  readonly #sets = new Map<string, Set<string>>();
  readonly #clock: Clock;

  /** `clock`: what TTLs are measured against (default: the wall clock); tests advance their own. */
  constructor(options: { readonly clock?: Clock } = {}) {
    if (options === null || typeof options !== 'object') throw new OptionsError('MemoryStateStore options must be an object: { clock }');
    for (const key of Object.keys(options)) {
      if (key !== 'clock') throw new OptionsError(`MemoryStateStore: unknown option "${key}"${didYouMean(key, ['clock'])}`);
    }
    if (options.clock !== undefined && !isClock(options.clock)) throw new OptionsError('MemoryStateStore: `clock` must be a Clock (an object with now())');
    this.#clock = options.clock ?? systemClock;
  }

  #live(key: string) {
    const entry = this.#values.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.#clock.now()) {
      this.#values.delete(key);
      return undefined;
    }
    return entry;
  }
  async get(key: string) {
    return this.#live(key)?.value ?? null;
  }
  async getMany(keys: readonly string[]) {
    return keys.map((k) => this.#live(k)?.value ?? null);
  }
  async set(key: string, value: string, ttlMs?: number) {
    this.#values.set(key, { value, expiresAt: ttlMs === undefined ? Infinity : this.#clock.now() + ttlMs });
  }
  async setIfAbsent(key: string, value: string, ttlMs: number) {
    if (this.#live(key) !== undefined) return false;
    this.#values.set(key, { value, expiresAt: this.#clock.now() + ttlMs });
    return true;
  }
  async delete(key: string) {
    return this.#values.delete(key) || this.#sets.delete(key);
  }
  async increment(key: string, ttlMs: number) {
    const entry = this.#live(key);
    const next = (entry ? Number(entry.value) : 0) + 1;
    this.#values.set(key, { value: String(next), expiresAt: entry?.expiresAt ?? this.#clock.now() + ttlMs });
    return next;
  }
  async addToSet(key: string, member: string) {
    let set = this.#sets.get(key);
    if (set === undefined) this.#sets.set(key, (set = new Set()));
    set.add(member);
  }
  async removeFromSet(key: string, member: string) {
    this.#sets.get(key)?.delete(member);
  }
  async members(key: string) {
    return [...(this.#sets.get(key) ?? [])];
  }
  async addDistinct(key: string, member: string, ttlMs: number) {
    const windowKey = `${key}\0window`;
    if (this.#live(windowKey) === undefined) {
      this.#sets.delete(key);
      this.#values.set(windowKey, { value: '1', expiresAt: this.#clock.now() + ttlMs });
    }
    await this.addToSet(key, member);
    return this.#sets.get(key)!.size;
  }
}

/** The one method of an ioredis client (or anything alike) the Redis store uses. */
export interface RedisLike {
  call(command: string, ...args: (string | number)[]): Promise<unknown>;
}

/** Options of {@link RedisStateStore}. */
export interface RedisStateStoreOptions {
  /**
   * An ioredis client. Create it with `enableOfflineQueue: false` and `maxRetriesPerRequest: 1`
   * so that an outage surfaces at once instead of queueing requests, and wait for its `ready`
   * event before serving (without the offline queue, commands sent earlier fail).
   */
  readonly client: RedisLike;
  /** Prefix of every key. Default `phiguard:`. */
  readonly prefix?: string;
  /** Time limit of one command. Default 500 ms. */
  readonly timeoutMs?: number;
}

// Counter and window in one round trip, atomically.
const INCREMENT = "local n = redis.call('INCR', KEYS[1]) if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end return n";
const ADD_DISTINCT =
  "if redis.call('SADD', KEYS[1], ARGV[1]) == 1 and redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return redis.call('SCARD', KEYS[1])";

/**
 * A {@link StateStore} on Redis, shared by every app instance that uses the same server. Any
 * failure or slow answer becomes StateUnavailableError (the message never carries keys or values).
 */
export class RedisStateStore implements StateStore {
  readonly #client: RedisLike;
  readonly #prefix: string;
  readonly #timeoutMs: number;

  constructor(options: RedisStateStoreOptions) {
    if (!options || typeof options.client?.call !== 'function') {
      throw new OptionsError('RedisStateStore needs { client }: an ioredis client (new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1 }))');
    }
    this.#client = options.client;
    this.#prefix = options.prefix ?? 'phiguard:';
    this.#timeoutMs = options.timeoutMs ?? 500;
    if (!Number.isInteger(this.#timeoutMs) || this.#timeoutMs < 1) throw new OptionsError('RedisStateStore: timeoutMs must be a positive integer');
  }

  async #call(command: string, ...args: (string | number)[]): Promise<unknown> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new StateUnavailableError('State store did not answer in time.')), this.#timeoutMs);
    });
    try {
      return await Promise.race([this.#client.call(command, ...args), timeout]);
    } catch (err) {
      throw err instanceof StateUnavailableError ? err : new StateUnavailableError();
    } finally {
      clearTimeout(timer);
    }
  }

  async get(key: string) {
    return (await this.#call('GET', this.#prefix + key)) as string | null;
  }
  async getMany(keys: readonly string[]) {
    if (keys.length === 0) return [];
    return (await this.#call('MGET', ...keys.map((k) => this.#prefix + k))) as (string | null)[];
  }
  async set(key: string, value: string, ttlMs?: number) {
    if (ttlMs === undefined) await this.#call('SET', this.#prefix + key, value);
    else await this.#call('SET', this.#prefix + key, value, 'PX', Math.max(1, Math.ceil(ttlMs)));
  }
  async setIfAbsent(key: string, value: string, ttlMs: number) {
    return (await this.#call('SET', this.#prefix + key, value, 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX')) === 'OK';
  }
  async delete(key: string) {
    return Number(await this.#call('DEL', this.#prefix + key)) > 0;
  }
  async increment(key: string, ttlMs: number) {
    return Number(await this.#call('EVAL', INCREMENT, 1, this.#prefix + key, Math.max(1, Math.ceil(ttlMs))));
  }
  async addToSet(key: string, member: string) {
    await this.#call('SADD', this.#prefix + key, member);
  }
  async removeFromSet(key: string, member: string) {
    await this.#call('SREM', this.#prefix + key, member);
  }
  async members(key: string) {
    return (await this.#call('SMEMBERS', this.#prefix + key)) as string[];
  }
  async addDistinct(key: string, member: string, ttlMs: number) {
    return Number(await this.#call('EVAL', ADD_DISTINCT, 1, this.#prefix + key, member, Math.max(1, Math.ceil(ttlMs))));
  }
}

/** A {@link StateStore} in this process's memory: one instance, tests and single-process services. */
export function createMemoryStateStore(options: { readonly clock?: Clock } = {}): StateStore {
  return new MemoryStateStore(options);
}

/** A {@link StateStore} in Redis, shared by every instance of a service. */
export function createRedisStateStore(options: RedisStateStoreOptions): StateStore {
  return new RedisStateStore(options);
}
