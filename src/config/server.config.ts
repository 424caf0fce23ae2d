import { IsIn, IsOptional, IsUrl, ValidateBy } from 'class-validator';
import { isIP } from 'node:net';
import { CommaSeparated, ConfigError, IntegerFrom, validateEnv, type Env } from './validate-env.js';

const TEN_MINUTES_MS = 600_000;
const HOST_NAME = /^(?=.{1,253}$)[a-z\d]([a-z\d-]{0,61}[a-z\d])?(\.[a-z\d]([a-z\d-]{0,61}[a-z\d])?)*$/i;

/** Dotted digits are an IPv4 address or nothing: `999.1.1.1` is not a host name either. */
function isListenAddress(value: unknown): boolean {
  return typeof value === 'string' && (isIP(value) !== 0 || (HOST_NAME.test(value) && !/^[\d.]+$/.test(value)));
}

class ServerEnv {
  @IntegerFrom(0, 65535)
  PORT = 3000;

  /** An IP address or a host name to listen on: 127.0.0.1 (loopback), 0.0.0.0 (every IPv4 interface), ::, localhost. */
  @ValidateBy({
    name: 'listenAddress',
    validator: { validate: isListenAddress, defaultMessage: () => 'must be an IP address (e.g. 127.0.0.1, 0.0.0.0, ::) or a host name' },
  })
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
  @IntegerFrom(1, TEN_MINUTES_MS)
  HTTP_HEADERS_TIMEOUT_MS = 10_000;

  /** Longest wait for a whole request, headers and body (Node's requestTimeout): 1 MB in 30 s is ~35 KB/s. */
  @IntegerFrom(1, TEN_MINUTES_MS)
  HTTP_REQUEST_TIMEOUT_MS = 30_000;

  /**
   * How long an idle keep-alive connection stays open. Longer than the load balancer's own idle timeout (60 s on AWS
   * ALB and nginx), so the balancer, never the gateway, closes an idle connection: otherwise the balancer may send
   * a request on a connection the gateway is closing, and its caller gets a 502.
   */
  @IntegerFrom(1, 3_600_000)
  HTTP_KEEP_ALIVE_TIMEOUT_MS = 75_000;

  /** A connection with no traffic either way for this long is closed (a client that stops reading its answer). */
  @IntegerFrom(1, TEN_MINUTES_MS)
  HTTP_CONNECTION_TIMEOUT_MS = 60_000;

  /** On SIGTERM, how long `/readyz` fails while requests are still served, so load balancers stop sending first. */
  @IsOptional()
  @IntegerFrom(0, TEN_MINUTES_MS)
  SHUTDOWN_DRAIN_DELAY_MS?: number;

  /** On SIGTERM, the process exits after this long whatever is still running. */
  @IntegerFrom(1, TEN_MINUTES_MS)
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
  readonly port!: number;
  readonly host!: string;
  readonly logLevel!: string;
  readonly corsOrigins!: readonly string[];
  readonly production!: boolean;
  readonly timeouts!: HttpTimeouts;
  readonly shutdown!: ShutdownTimes;

  constructor(options: ServerConfig) {
    Object.assign(this, options);
  }

  static fromEnv(env: Env): ServerConfig {
    const e = validateEnv(ServerEnv, env);
    // Node refuses a headers timeout longer than the request's: the headers are part of the request.
    if (e.HTTP_HEADERS_TIMEOUT_MS > e.HTTP_REQUEST_TIMEOUT_MS) {
      throw new ConfigError([{ variable: 'HTTP_HEADERS_TIMEOUT_MS', rule: 'must not exceed HTTP_REQUEST_TIMEOUT_MS' }]);
    }
    const production = e.NODE_ENV === 'production';
    return new ServerConfig({
      port: e.PORT,
      host: e.HOST,
      logLevel: e.LOG_LEVEL,
      corsOrigins: e.CORS_ORIGINS,
      production,
      timeouts: {
        headersMs: e.HTTP_HEADERS_TIMEOUT_MS,
        requestMs: e.HTTP_REQUEST_TIMEOUT_MS,
        keepAliveMs: e.HTTP_KEEP_ALIVE_TIMEOUT_MS,
        connectionMs: e.HTTP_CONNECTION_TIMEOUT_MS,
      },
      shutdown: {
        drainDelayMs: e.SHUTDOWN_DRAIN_DELAY_MS ?? (production ? PRODUCTION_DRAIN_DELAY_MS : 0),
        timeoutMs: e.SHUTDOWN_TIMEOUT_MS,
      },
    });
  }
}
