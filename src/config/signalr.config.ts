import { IsOptional, IsString } from 'class-validator';
import { ConnectionStringError, parseConnectionString, type SignalRConnection } from './connection-string.js';
import { ConfigError, IntegerFrom, validateEnv, type Env } from './validate-env.js';

class SignalREnv {
  @IsString({ message: 'is required, e.g. Endpoint=https://<name>.service.signalr.net;AccessKey=<key>;Version=1.0;' })
  SIGNALR_CONNECTION_STRING: string;

  /** One deadline for a whole upstream call: connecting, Azure's status, every retry and the waits between them. */
  @IntegerFrom(1, 300_000)
  UPSTREAM_TIMEOUT_MS = 10_000;

  /** One attempt's share of the deadline (unset: all of it); shorter, a timed-out non-message call can be retried. */
  @IsOptional()
  @IntegerFrom(1, 300_000)
  UPSTREAM_ATTEMPT_TIMEOUT_MS?: number;

  /** Retries after the first attempt; 0 (the Management SDK's default) sends every call once. */
  @IntegerFrom(0, 10)
  UPSTREAM_MAX_RETRIES = 0;

  /** The wait before the first retry; it doubles with each further retry, up to UPSTREAM_RETRY_MAX_DELAY_MS. */
  @IntegerFrom(1, 60_000)
  UPSTREAM_RETRY_DELAY_MS = 200;

  @IntegerFrom(1, 60_000)
  UPSTREAM_RETRY_MAX_DELAY_MS = 2_000;

  /** Lifetime of client tokens from negotiate; REST tokens use it too, capped at Azure's 1 hour. */
  @IntegerFrom(60, 86_400)
  SIGNALR_TOKEN_LIFETIME_S = 3600;
}

/** How a failed upstream call is tried again (src/signalr/retry.ts decides which failures may be). */
export interface RetrySettings {
  /** Retries after the first attempt; 0 turns retrying off. */
  maxRetries: number;
  /** Budget of one attempt, at most the call's deadline. */
  attemptTimeoutMs: number;
  /** Backoff before retry n: delayMs × 2^(n−1), capped at maxDelayMs, jittered. */
  delayMs: number;
  maxDelayMs: number;
}

/** Where Azure SignalR Service is and how the gateway talks to it. The AccessKey is a Secret: never printed. */
export class SignalRConfig {
  readonly connection!: SignalRConnection;
  /** The deadline of one upstream call, retries included. */
  readonly timeoutMs!: number;
  readonly tokenLifetimeSeconds!: number;
  readonly retry!: RetrySettings;

  constructor(options: SignalRConfig) {
    Object.assign(this, options);
  }

  static fromEnv(env: Env): SignalRConfig {
    const e = validateEnv(SignalREnv, env);
    const attemptTimeoutMs = e.UPSTREAM_ATTEMPT_TIMEOUT_MS ?? e.UPSTREAM_TIMEOUT_MS;
    if (attemptTimeoutMs > e.UPSTREAM_TIMEOUT_MS) {
      throw new ConfigError([{ variable: 'UPSTREAM_ATTEMPT_TIMEOUT_MS', rule: 'must not exceed UPSTREAM_TIMEOUT_MS, the deadline of the whole call' }]);
    }
    return new SignalRConfig({
      connection: parsed(e.SIGNALR_CONNECTION_STRING),
      timeoutMs: e.UPSTREAM_TIMEOUT_MS,
      tokenLifetimeSeconds: e.SIGNALR_TOKEN_LIFETIME_S,
      retry: { maxRetries: e.UPSTREAM_MAX_RETRIES, attemptTimeoutMs, delayMs: e.UPSTREAM_RETRY_DELAY_MS, maxDelayMs: e.UPSTREAM_RETRY_MAX_DELAY_MS },
    });
  }
}

function parsed(connectionString: string): SignalRConnection {
  try {
    return parseConnectionString(connectionString);
  } catch (error) {
    if (error instanceof ConnectionStringError) throw new ConfigError([{ variable: 'SIGNALR_CONNECTION_STRING', rule: error.message }]);
    throw error;
  }
}
