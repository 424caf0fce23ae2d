import type { Rate } from '../config/state.config.js';

/** The shared state cannot be read or written now (Redis down or too slow); the caller decides what that means. */
export class StateUnavailable extends Error {
  override readonly name = 'StateUnavailable';
}

/** What `consume` decided, in whole seconds as the RateLimit and Retry-After headers carry them. */
export interface RateDecision {
  readonly allowed: boolean;
  /** Units that could still be spent right now, after this request when it was allowed. */
  readonly remaining: number;
  /** Seconds until the whole budget is back. */
  readonly resetSeconds: number;
  /** When refused: seconds until this request's cost fits (0 when allowed). */
  readonly retryAfterSeconds: number;
}

/**
 * State shared by every replica: small string values with a time to live, changed only atomically, and one
 * rate-limit primitive. Two implementations, chosen at boot (src/state/state.module.ts): in memory and in Redis. Its
 * users never learn which one they have. Every method rejects with StateUnavailable when the state cannot be reached.
 */
export abstract class SharedState {
  /** Stores `value` under `key` unless the key holds a value; answers that value, or undefined when it stored `value`. */
  abstract putIfAbsent(key: string, value: string, ttlMs: number): Promise<string | undefined>;
  /** Replaces the value of `key` with `value` only while it is still `expected`; whether it did. */
  abstract replaceIf(key: string, expected: string, value: string, ttlMs: number): Promise<boolean>;
  /** Deletes `key` only while its value is still `expected`; whether it did. */
  abstract deleteIf(key: string, expected: string): Promise<boolean>;
  /** Spends `cost` units of the budget `key` under `rate` when all of them fit, otherwise none (see gcra); 0 reads it. */
  abstract consume(key: string, cost: number, rate: Rate): Promise<RateDecision>;
  /** Resolves when the state is usable (for /readyz). */
  abstract ping(): Promise<void>;
  /** `memory` or `redis`: for readiness and logs only. */
  abstract readonly kind: 'memory' | 'redis';
}

/**
 * GCRA (the generic cell rate algorithm), in microseconds: a budget is one number, its theoretical arrival time
 * (TAT). Each unit moves it `interval` = seconds/count later; a request fits when the new TAT is at most one window
 * (`seconds`) ahead of now, so a caller may spend its whole `count` at once, then `count` per `seconds` smoothly.
 * One number per caller and no cleanup (it expires when the TAT has passed) is why it suits one Redis script; the
 * script in redis-state.ts is this function, line for line, on Redis's clock.
 */
export function gcra(storedTat: number | undefined, nowUs: number, cost: number, rate: Rate): { decision: RateDecision; tat?: number } {
  const interval = Math.round((rate.seconds * 1e6) / rate.count);
  const window = rate.seconds * 1e6;
  const tat = Math.max(storedTat ?? nowUs, nowUs);
  const next = tat + cost * interval;
  if (next - nowUs > window) {
    const decision = {
      allowed: false,
      remaining: remainingOf(window - (tat - nowUs), interval),
      resetSeconds: seconds(tat - nowUs),
      retryAfterSeconds: seconds(next - nowUs - window),
    };
    return { decision };
  }
  return {
    decision: { allowed: true, remaining: remainingOf(window - (next - nowUs), interval), resetSeconds: seconds(next - nowUs), retryAfterSeconds: 0 },
    tat: next,
  };
}

const remainingOf = (room: number, interval: number): number => Math.max(0, Math.floor(room / interval));
const seconds = (us: number): number => Math.ceil(us / 1e6);
