import { IsOptional, IsString, Matches } from 'class-validator';
import { CommaSeparated, ConfigError, IntegerFrom, validateEnv, type Env } from './validate-env.js';

const RATE = /^[1-9]\d{0,8}\/[1-9]\d{0,5}$/;
const OVERRIDE = /^[^=\s]{1,256}=[1-9]\d{0,8}\/[1-9]\d{0,5}$/;

class StateEnv {
  /** Shared state (idempotency records, rate budgets) in Redis, for several replicas; unset: in this process's memory. */
  @IsOptional()
  @Matches(/^rediss?:\/\/\S+$/, { message: 'must be a redis:// or rediss:// URL' })
  REDIS_URL?: string;

  /** Longest wait for one Redis command (connecting included) before the gateway acts as if Redis were down. */
  @IntegerFrom(10, 60_000)
  REDIS_TIMEOUT_MS = 500;

  /** Prefix of every key the gateway writes, so several gateways (or other tenants) can share one Redis. */
  @IsString()
  @Matches(/^[\w:.-]{0,64}$/, { message: 'letters, digits and _ : . - only, up to 64' })
  REDIS_KEY_PREFIX = 'signalr-gateway:';

  /** How long an Idempotency-Key's outcome is kept and replayed. */
  @IntegerFrom(1, 7 * 86_400)
  IDEMPOTENCY_TTL_S = 86_400;

  /** Most entries the in-memory store keeps (idempotency records and rate budgets); the oldest go first beyond it. */
  @IntegerFrom(100, 10_000_000)
  STATE_MEMORY_MAX_ENTRIES = 100_000;

  /** Every caller's budget of upstream calls, `<count>/<seconds>` (e.g. `200/1`); unset: no limit. */
  @IsOptional()
  @Matches(RATE, { message: 'must be <count>/<seconds>, e.g. 200/1' })
  RATE_LIMIT?: string;

  /** Budgets of named callers (SSO client ids), `client-a=1000/1,client-b=10/60`; they replace RATE_LIMIT for them. */
  @CommaSeparated()
  @Matches(OVERRIDE, { each: true, message: 'lists <client id>=<count>/<seconds>, comma-separated' })
  RATE_LIMIT_OVERRIDES: string[] = [];
}

/** A budget: `count` upstream calls per `seconds`, at most `count` of them at once. */
export interface Rate {
  readonly count: number;
  readonly seconds: number;
}

/** Where shared state lives and how the idempotency and rate-limit features use it. */
export class StateConfig {
  /** Unset: state in memory (one replica). */
  readonly redisUrl!: string | undefined;
  readonly redisTimeoutMs!: number;
  readonly redisKeyPrefix!: string;
  readonly idempotencyTtlSeconds!: number;
  readonly memoryMaxEntries!: number;
  /** The budget of callers without an override; undefined: unlimited. */
  readonly rateLimit!: Rate | undefined;
  readonly rateLimitOverrides!: ReadonlyMap<string, Rate>;

  constructor(options: Omit<StateConfig, 'rateOf'>) {
    Object.assign(this, options);
  }

  /** A caller's budget, or undefined when it is not limited. */
  rateOf(caller: string): Rate | undefined {
    return this.rateLimitOverrides.get(caller) ?? this.rateLimit;
  }

  static fromEnv(env: Env): StateConfig {
    const e = validateEnv(StateEnv, env);
    const overrides = new Map<string, Rate>();
    for (const entry of e.RATE_LIMIT_OVERRIDES) {
      const at = entry.lastIndexOf('=');
      const client = entry.slice(0, at);
      if (overrides.has(client)) throw new ConfigError([{ variable: 'RATE_LIMIT_OVERRIDES', rule: 'names a client id twice' }]);
      overrides.set(client, rateOf(entry.slice(at + 1)));
    }
    return new StateConfig({
      redisUrl: e.REDIS_URL,
      redisTimeoutMs: e.REDIS_TIMEOUT_MS,
      redisKeyPrefix: e.REDIS_KEY_PREFIX,
      idempotencyTtlSeconds: e.IDEMPOTENCY_TTL_S,
      memoryMaxEntries: e.STATE_MEMORY_MAX_ENTRIES,
      rateLimit: e.RATE_LIMIT === undefined ? undefined : rateOf(e.RATE_LIMIT),
      rateLimitOverrides: overrides,
    });
  }
}

function rateOf(text: string): Rate {
  const [count, seconds] = text.split('/').map(Number);
  return { count, seconds };
}
