import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import { ConnectionStringError, parseConnectionString, type SignalRConnection } from './connection-string.js';
import { ConfigError, validateEnv, type Env } from './validate-env.js';

class SignalREnv {
  @IsString({ message: 'is required, e.g. Endpoint=https://<name>.service.signalr.net;AccessKey=<key>;Version=1.0;' })
  SIGNALR_CONNECTION_STRING: string;

  /** One deadline for a whole upstream call: connecting, Azure's status, every retry and the waits between them. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(300_000)
  UPSTREAM_TIMEOUT_MS = 10_000;

  /** One attempt's share of the deadline (unset: all of it); shorter, a timed-out non-message call can be retried. */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(300_000)
  UPSTREAM_ATTEMPT_TIMEOUT_MS?: number;

  /** Retries after the first attempt; 0 (the Management SDK's default) sends every call once. */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(10)
  UPSTREAM_MAX_RETRIES = 0;

  /** The wait before the first retry; it doubles with each further retry, up to UPSTREAM_RETRY_MAX_DELAY_MS. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(60_000)
  UPSTREAM_RETRY_DELAY_MS = 200;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(60_000)
  UPSTREAM_RETRY_MAX_DELAY_MS = 2_000;

  /** Lifetime of client tokens from negotiate; REST tokens use it too, capped at Azure's 1 hour. */
  @Type(() => Number)
  @IsInt()
  @Min(60)
  @Max(86_400)
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
  constructor(
    readonly connection: SignalRConnection,
    /** The deadline of one upstream call, retries included. */
    readonly timeoutMs: number,
    readonly tokenLifetimeSeconds: number,
    /** Unless given (fromEnv always does), every call is sent once. */
    readonly retry: RetrySettings = { maxRetries: 0, attemptTimeoutMs: timeoutMs, delayMs: 0, maxDelayMs: 0 },
  ) {}

  static fromEnv(env: Env): SignalRConfig {
    const e = validateEnv(SignalREnv, env);
    const attemptTimeoutMs = e.UPSTREAM_ATTEMPT_TIMEOUT_MS ?? e.UPSTREAM_TIMEOUT_MS;
    if (attemptTimeoutMs > e.UPSTREAM_TIMEOUT_MS) {
      throw new ConfigError('Invalid configuration:\n  - UPSTREAM_ATTEMPT_TIMEOUT_MS: must not exceed UPSTREAM_TIMEOUT_MS, the deadline of the whole call');
    }
    const retry = { maxRetries: e.UPSTREAM_MAX_RETRIES, attemptTimeoutMs, delayMs: e.UPSTREAM_RETRY_DELAY_MS, maxDelayMs: e.UPSTREAM_RETRY_MAX_DELAY_MS };
    return new SignalRConfig(parsed(e.SIGNALR_CONNECTION_STRING), e.UPSTREAM_TIMEOUT_MS, e.SIGNALR_TOKEN_LIFETIME_S, retry);
  }
}

function parsed(connectionString: string): SignalRConnection {
  try {
    return parseConnectionString(connectionString);
  } catch (error) {
    if (error instanceof ConnectionStringError) throw new ConfigError(`Invalid configuration:\n  - SIGNALR_CONNECTION_STRING: ${error.message}`);
    throw error;
  }
}
