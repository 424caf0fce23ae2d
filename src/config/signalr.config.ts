import { IsOptional, IsString } from 'class-validator';
import { ConnectionStringError, parseConnectionString, type SignalRConnection } from './connection-string.js';
import { ConfigError, IntegerFrom, validateEnv, type ConfigProblem, type Env } from './validate-env.js';

class SignalREnv {
  /** The one-endpoint form; the multi-endpoint form is SIGNALR_ENDPOINTS (read by SignalRConfig.fromEnv). */
  @IsOptional()
  @IsString()
  SIGNALR_CONNECTION_STRING?: string;

  /**
   * Several SignalR instances: `east,west,backup:secondary` (names, each optionally `:primary`, the default, or
   * `:secondary`, as Azure's `Azure:SignalR:Endpoints:<name>[:secondary]` keys); each one's connection string in
   * `SIGNALR_CONNECTION_STRING_<NAME>`.
   */
  @IsOptional()
  @IsString()
  SIGNALR_ENDPOINTS?: string;

  /** With several endpoints: how often each one's health is probed (Azure's SDK: every 2 minutes). */
  @IntegerFrom(100, 600_000)
  SIGNALR_HEALTH_CHECK_INTERVAL_MS = 10_000;

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

/** Azure's endpoint types: negotiate uses a secondary only when no primary is healthy; every operation goes to both. */
export type EndpointType = 'primary' | 'secondary';

/** One SignalR instance the gateway fronts. */
export interface SignalREndpoint {
  /** From SIGNALR_ENDPOINTS (lowercased), or `default` for SIGNALR_CONNECTION_STRING: in logs, problems and metric labels. */
  name: string;
  type: EndpointType;
  connection: SignalRConnection;
}

/** The name of the one endpoint of SIGNALR_CONNECTION_STRING. */
export const DEFAULT_ENDPOINT_NAME = 'default';
/** Each endpoint multiplies every operation's upstream calls; more would be a deployment to split. */
export const MAX_ENDPOINTS = 16;
/** A name fits an environment variable's name and a metric label: letters, digits, `_`, starting with a letter. */
const ENDPOINT_NAME = /^[a-z][a-z0-9_]{0,31}$/;
const ENDPOINT_ENTRY = /^([^:]*)(?::(.*))?$/;
const CONNECTION_STRING_PREFIX = 'SIGNALR_CONNECTION_STRING_';

/** The variable holding an endpoint's connection string: `SIGNALR_CONNECTION_STRING_<NAME>`. */
export const connectionStringVariable = (name: string): string => CONNECTION_STRING_PREFIX + name.toUpperCase();

/** Where the Azure SignalR instances are and how the gateway talks to them. AccessKeys are Secrets: never printed. */
export class SignalRConfig {
  /** In configuration order; one primary named `default` for SIGNALR_CONNECTION_STRING. At least one primary. */
  readonly endpoints!: readonly SignalREndpoint[];
  /** How often each endpoint's health is probed when there are several (one endpoint: never; see docs/configuration.md). */
  readonly healthCheckIntervalMs!: number;
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
      endpoints: endpointsOf(env, e),
      healthCheckIntervalMs: e.SIGNALR_HEALTH_CHECK_INTERVAL_MS,
      timeoutMs: e.UPSTREAM_TIMEOUT_MS,
      tokenLifetimeSeconds: e.SIGNALR_TOKEN_LIFETIME_S,
      retry: { maxRetries: e.UPSTREAM_MAX_RETRIES, attemptTimeoutMs, delayMs: e.UPSTREAM_RETRY_DELAY_MS, maxDelayMs: e.UPSTREAM_RETRY_MAX_DELAY_MS },
    });
  }
}

/** The endpoints of either form, every problem of the multi-endpoint form at once. */
function endpointsOf(env: Env, e: SignalREnv): SignalREndpoint[] {
  if (e.SIGNALR_ENDPOINTS === undefined) {
    if (e.SIGNALR_CONNECTION_STRING === undefined) {
      throw new ConfigError([
        {
          variable: 'SIGNALR_CONNECTION_STRING',
          rule: 'is required, e.g. Endpoint=https://<name>.service.signalr.net;AccessKey=<key>;Version=1.0; (or SIGNALR_ENDPOINTS for several instances)',
        },
      ]);
    }
    return [{ name: DEFAULT_ENDPOINT_NAME, type: 'primary', connection: parsed('SIGNALR_CONNECTION_STRING', e.SIGNALR_CONNECTION_STRING) }];
  }
  const problems: ConfigProblem[] = [];
  const problem = (variable: string, rule: string): void => void problems.push({ variable, rule });
  if (e.SIGNALR_CONNECTION_STRING !== undefined) {
    problem('SIGNALR_CONNECTION_STRING', 'must not be set together with SIGNALR_ENDPOINTS: give each endpoint its SIGNALR_CONNECTION_STRING_<NAME> instead');
  }
  const declared: { name: string; type: EndpointType }[] = [];
  // As every list setting: items trimmed, empty ones dropped (`east, west,`).
  for (const entry of e.SIGNALR_ENDPOINTS.split(',')
    .map((item) => item.trim())
    .filter(Boolean)) {
    const [, rawName, rawType] = ENDPOINT_ENTRY.exec(entry)!;
    const name = rawName.trim().toLowerCase();
    const type = (rawType?.trim().toLowerCase() ?? 'primary') as EndpointType;
    if (!ENDPOINT_NAME.test(name)) {
      problem('SIGNALR_ENDPOINTS', `'${entry}' is not a name (a letter, then up to 31 letters, digits or _), optionally followed by :primary or :secondary`);
    } else if (type !== 'primary' && type !== 'secondary') {
      problem('SIGNALR_ENDPOINTS', `${name}: the type after ':' must be primary or secondary`);
    } else if (declared.some((other) => other.name === name)) {
      problem('SIGNALR_ENDPOINTS', `${name} is listed twice (names are case-insensitive: each is one SIGNALR_CONNECTION_STRING_<NAME>)`);
    } else {
      declared.push({ name, type });
    }
  }
  if (declared.length > MAX_ENDPOINTS) problem('SIGNALR_ENDPOINTS', `lists ${declared.length} endpoints; at most ${MAX_ENDPOINTS}`);
  if (declared.length > 0 && !declared.some(({ type }) => type === 'primary')) {
    problem('SIGNALR_ENDPOINTS', 'needs at least one primary endpoint (negotiate uses secondaries only while no primary is healthy)');
  }
  // A variable for a name that is not listed is a typo, or an endpoint someone meant to add: either way, say so.
  for (const variable of Object.keys(env).filter((key) => key.startsWith(CONNECTION_STRING_PREFIX) && env[key])) {
    const name = variable.slice(CONNECTION_STRING_PREFIX.length).toLowerCase();
    if (!declared.some((endpoint) => endpoint.name === name)) problem(variable, `is set, but SIGNALR_ENDPOINTS does not list '${name}'`);
  }
  const endpoints: SignalREndpoint[] = [];
  for (const { name, type } of declared) {
    const variable = connectionStringVariable(name);
    const text = env[variable];
    if (!text) {
      problem(variable, `is required: SIGNALR_ENDPOINTS lists '${name}'`);
      continue;
    }
    try {
      const connection = parsed(variable, text);
      // The same instance twice would receive every message twice. Azure's SDK keeps the primary entry and warns;
      // a configuration validated once can simply refuse it. An instance is where its calls go: ServerEndpoint, by
      // default Endpoint with its Port (two emulators on one host differ only by the port).
      const twin = endpoints.find((other) => other.connection.serverEndpoint.href === connection.serverEndpoint.href);
      if (twin) {
        problem(
          variable,
          `has the same ServerEndpoint (or Endpoint and Port) as ${connectionStringVariable(twin.name)}: each endpoint must be a different SignalR instance`,
        );
      } else endpoints.push({ name, type, connection });
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(...error.problems);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return endpoints;
}

function parsed(variable: string, connectionString: string): SignalRConnection {
  try {
    return parseConnectionString(connectionString);
  } catch (error) {
    if (error instanceof ConnectionStringError) throw new ConfigError([{ variable, rule: error.message }]);
    throw error;
  }
}
