import { Logger } from '@nestjs/common';
import { Redis, type Result } from 'ioredis';
import type { Rate } from '../config/state.config.js';
import { SharedState, StateUnavailable, type RateDecision } from './shared-state.js';

/** Each script reads and writes one key in one step: Redis runs a script alone, so replicas never interleave. */
const SCRIPTS = {
  putIfAbsent: `
local current = redis.call('GET', KEYS[1])
if current then return current end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false`,
  replaceIf: `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1`,
  deleteIf: `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])`,
  // gcra() of shared-state.ts on Redis's clock (one clock for every replica). Times in whole microseconds, which a
  // Lua number holds exactly; written with %.0f because tostring would round them to 14 digits.
  gcra: `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local cost, interval, window = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tat = math.max(tonumber(redis.call('GET', KEYS[1]) or now), now)
local nextTat = tat + cost * interval
if nextTat - now > window then
  return {0, math.floor((window - (tat - now)) / interval), math.ceil((tat - now) / 1000000), math.ceil((nextTat - now - window) / 1000000)}
end
if cost > 0 then redis.call('SET', KEYS[1], string.format('%.0f', nextTat), 'PX', math.ceil((nextTat - now) / 1000)) end
return {1, math.floor((window - (nextTat - now)) / interval), math.ceil((nextTat - now) / 1000000), 0}`,
};

declare module 'ioredis' {
  interface RedisCommander<Context> {
    putIfAbsent(key: string, value: string, ttlMs: number): Result<string | null, Context>;
    replaceIf(key: string, expected: string, value: string, ttlMs: number): Result<number, Context>;
    deleteIf(key: string, expected: string): Result<number, Context>;
    gcra(key: string, cost: number, interval: number, window: number): Result<[number, number, number, number], Context>;
  }
}

export interface RedisStateOptions {
  url: string;
  /** Longest wait for a command, connecting included; then it fails with StateUnavailable. */
  timeoutMs: number;
  keyPrefix: string;
}

/** The state every replica shares, in Redis (one server, or a primary behind a proxy: one script touches one key). */
export class RedisState extends SharedState {
  readonly kind = 'redis';
  private readonly logger = new Logger(RedisState.name);
  private readonly redis: Redis;
  private lastErrorLog = 0;

  constructor({ url, timeoutMs, keyPrefix }: RedisStateOptions) {
    super();
    this.redis = new Redis(url, {
      keyPrefix,
      connectTimeout: timeoutMs,
      commandTimeout: timeoutMs,
      // A request never waits for Redis longer than timeoutMs (commandTimeout counts from the send, queued or not) and
      // a command is never retried: its queue is failed at the first failed reconnection. The feature decides what an
      // unreachable Redis means.
      maxRetriesPerRequest: 0,
      retryStrategy: (attempt) => Math.min(attempt * 100, 2_000),
    });
    for (const [name, lua] of Object.entries(SCRIPTS)) this.redis.defineCommand(name, { numberOfKeys: 1, lua });
    // Without a listener ioredis prints every reconnection failure; one line per 10 s is enough.
    this.redis.on('error', (error: Error) => {
      if (Date.now() - this.lastErrorLog < 10_000) return;
      this.lastErrorLog = Date.now();
      this.logger.warn(`Redis: ${error.message}`);
    });
  }

  async putIfAbsent(key: string, value: string, ttlMs: number): Promise<string | undefined> {
    return (await this.#run(() => this.redis.putIfAbsent(key, value, ttlMs))) ?? undefined;
  }

  async replaceIf(key: string, expected: string, value: string, ttlMs: number): Promise<boolean> {
    return (await this.#run(() => this.redis.replaceIf(key, expected, value, ttlMs))) === 1;
  }

  async deleteIf(key: string, expected: string): Promise<boolean> {
    return (await this.#run(() => this.redis.deleteIf(key, expected))) === 1;
  }

  async consume(key: string, cost: number, rate: Rate): Promise<RateDecision> {
    const interval = Math.round((rate.seconds * 1e6) / rate.count);
    const [allowed, remaining, resetSeconds, retryAfterSeconds] = await this.#run(() => this.redis.gcra(key, cost, interval, rate.seconds * 1e6));
    return { allowed: allowed === 1, remaining: Math.max(0, remaining), resetSeconds, retryAfterSeconds };
  }

  async ping(): Promise<void> {
    await this.#run(() => this.redis.ping());
  }

  /** Closes the connection: politely when Redis answers, at once when it does not. */
  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  async #run<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      throw new StateUnavailable(`Redis: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  }
}
