import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, IsUrl, Max, Min } from 'class-validator';
import { CommaSeparated, ConfigError, validateEnv, type Env } from './validate-env.js';

const TEN_MINUTES_MS = 600_000;

class ServerEnv {
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 3000;

  @IsString()
  HOST = '127.0.0.1';

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';

  /** Comma-separated browser origins allowed by CORS (negotiate, demo page). */
  @IsOptional()
  @CommaSeparated()
  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] }, { each: true })
  CORS_ORIGINS: string[] = [];

  @IsIn(['development', 'production', 'test'])
  NODE_ENV = 'development';

  /** Longest wait for a request's headers, from its first byte (Node's headersTimeout). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(TEN_MINUTES_MS)
  HTTP_HEADERS_TIMEOUT_MS = 10_000;

  /** Longest wait for a whole request, headers and body (Node's requestTimeout): 1 MB in 30 s is ~35 KB/s. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(TEN_MINUTES_MS)
  HTTP_REQUEST_TIMEOUT_MS = 30_000;

  /**
   * How long an idle keep-alive connection stays open. Longer than the load balancer's own idle timeout (60 s on AWS
   * ALB and nginx), so the balancer, never the gateway, closes an idle connection: otherwise the balancer may send
   * a request on a connection the gateway is closing, and its caller gets a 502.
   */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(3_600_000)
  HTTP_KEEP_ALIVE_TIMEOUT_MS = 75_000;

  /** A connection with no traffic either way for this long is closed (a client that stops reading its answer). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(TEN_MINUTES_MS)
  HTTP_CONNECTION_TIMEOUT_MS = 60_000;

  /** On SIGTERM, how long `/readyz` fails while requests are still served, so load balancers stop sending first. */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(TEN_MINUTES_MS)
  SHUTDOWN_DRAIN_DELAY_MS?: number;

  /** On SIGTERM, the process exits after this long whatever is still running. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(TEN_MINUTES_MS)
  SHUTDOWN_TIMEOUT_MS = 25_000;
}

/** The timeouts of the gateway's own HTTP server, in milliseconds. */
export interface HttpTimeouts {
  headersMs: number;
  requestMs: number;
  keepAliveMs: number;
  connectionMs: number;
}

/** What happens on SIGTERM, in milliseconds. */
export interface ShutdownTimes {
  drainDelayMs: number;
  timeoutMs: number;
}

/** Production waits for load balancers to notice `/readyz` (0 elsewhere: a developer's Ctrl-C stops at once). */
const PRODUCTION_DRAIN_DELAY_MS = 10_000;

/** How the gateway's own HTTP server listens, logs, times out and shuts down. */
export class ServerConfig {
  constructor(
    readonly port: number,
    readonly host: string,
    readonly logLevel: string,
    readonly corsOrigins: readonly string[],
    readonly production: boolean,
    readonly timeouts: HttpTimeouts,
    readonly shutdown: ShutdownTimes,
  ) {}

  static fromEnv(env: Env): ServerConfig {
    const e = validateEnv(ServerEnv, env);
    // Node refuses a headers timeout longer than the request's: the headers are part of the request.
    if (e.HTTP_HEADERS_TIMEOUT_MS > e.HTTP_REQUEST_TIMEOUT_MS) {
      throw new ConfigError('Invalid configuration:\n  - HTTP_HEADERS_TIMEOUT_MS: must not exceed HTTP_REQUEST_TIMEOUT_MS');
    }
    const production = e.NODE_ENV === 'production';
    const timeouts = {
      headersMs: e.HTTP_HEADERS_TIMEOUT_MS,
      requestMs: e.HTTP_REQUEST_TIMEOUT_MS,
      keepAliveMs: e.HTTP_KEEP_ALIVE_TIMEOUT_MS,
      connectionMs: e.HTTP_CONNECTION_TIMEOUT_MS,
    };
    const drainDelayMs = e.SHUTDOWN_DRAIN_DELAY_MS ?? (production ? PRODUCTION_DRAIN_DELAY_MS : 0);
    return new ServerConfig(e.PORT, e.HOST, e.LOG_LEVEL, e.CORS_ORIGINS, production, timeouts, { drainDelayMs, timeoutMs: e.SHUTDOWN_TIMEOUT_MS });
  }
}
