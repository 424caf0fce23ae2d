import { DevelopmentConfig, embeddedEnv } from './development.config.js';
import { EntraConfig } from './entra.config.js';
import { NegotiateConfig } from './negotiate.config.js';
import { ObservabilityConfig } from './observability.config.js';
import { ServerConfig } from './server.config.js';
import { SignalRConfig } from './signalr.config.js';
import { SsoConfig } from './sso.config.js';
import { StateConfig } from './state.config.js';
import { ConfigError, type ConfigProblem, type Env } from './validate-env.js';

/** Every typed config of the gateway, built once at start; each part is injectable by its class (config.module.ts). */
export interface GatewayConfig {
  server: ServerConfig;
  signalr: SignalRConfig;
  entra: EntraConfig;
  sso: SsoConfig;
  negotiate: NegotiateConfig;
  state: StateConfig;
  observability: ObservabilityConfig;
  development: DevelopmentConfig;
}

/**
 * Builds every config from the environment, or throws one ConfigError listing every problem, one per variable.
 * Outside production, SignalR and SSO default to the embedded parts' addresses (DevelopmentConfig).
 */
export function loadConfig(env: Env): GatewayConfig {
  const problems = productionProblems(env);
  const load = <T>(build: () => T): T | undefined => {
    try {
      return build();
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(...error.problems);
      return undefined;
    }
  };
  // With a bad port listed, the default ports stand in, so the embedded addresses raise no second, invented problem.
  const development = load(() => DevelopmentConfig.fromEnv(env)) ?? DevelopmentConfig.fromEnv({ ...env, EMULATOR_PORT: undefined, DEV_SSO_PORT: undefined });
  const withEmbedded = { ...env, ...embeddedEnv(development) };
  const config: { [Part in keyof GatewayConfig]: GatewayConfig[Part] | undefined } = {
    server: load(() => ServerConfig.fromEnv(env)),
    signalr: load(() => SignalRConfig.fromEnv(withEmbedded)),
    entra: load(() => EntraConfig.fromEnv(env)),
    sso: load(() => SsoConfig.fromEnv(withEmbedded)),
    negotiate: load(() => NegotiateConfig.fromEnv(env)),
    state: load(() => StateConfig.fromEnv(env)),
    observability: load(() => ObservabilityConfig.fromEnv(env, env['NODE_ENV'] === 'production')),
    development,
  };
  problems.push(...crossPartProblems(config));
  // A variable's first problem is the one to fix: a production rule says more than "must be a URL" about a missing issuer.
  const first = problems.filter((problem, at) => problems.findIndex(({ variable }) => variable === problem.variable) === at);
  if (first.length > 0) throw new ConfigError(first);
  return config as GatewayConfig; // every part loaded: a part that failed left a problem
}

const REQUIRED_IN_PRODUCTION = ['SIGNALR_CONNECTION_STRING', 'SSO_ISSUER', 'SSO_AUDIENCE'];
/** A required variable that another form of the same setting stands in for. */
const ALTERNATIVES: Record<string, string> = { SIGNALR_CONNECTION_STRING: 'SIGNALR_ENDPOINTS' };

/** Production's rules, all of them: real upstreams only (no embedded parts), and SSO keys fetched over https only. */
function productionProblems(env: Env): ConfigProblem[] {
  if (env['NODE_ENV'] !== 'production') return [];
  const missing = REQUIRED_IN_PRODUCTION.filter((variable) => !env[variable] && !env[ALTERNATIVES[variable] ?? '']).map((variable) => ({
    variable,
    rule: 'required when NODE_ENV=production (the embedded emulator and development SSO are for development only)',
  }));
  // Keys fetched over plain HTTP could be swapped on the way.
  const insecure = ['SSO_ISSUER', 'SSO_JWKS_URI']
    .filter((variable) => URL.parse(env[variable] ?? '')?.protocol === 'http:')
    .map((variable) => ({ variable, rule: 'must be https:// when NODE_ENV=production' }));
  return [...missing, ...insecure];
}

/** Rules between two parts, checked once both loaded. */
function crossPartProblems({ server, signalr }: { server?: ServerConfig; signalr?: SignalRConfig }): ConfigProblem[] {
  // An idle caller connection is closed after HTTP_CONNECTION_TIMEOUT_MS: a caller waiting on a slow upstream call
  // sends and receives nothing meanwhile, so a shorter timeout would cut it off before its answer.
  if (server && signalr && server.timeouts.connectionMs <= signalr.timeoutMs) {
    return [
      {
        variable: 'HTTP_CONNECTION_TIMEOUT_MS',
        rule: `must be above UPSTREAM_TIMEOUT_MS (${signalr.timeoutMs}), or callers waiting on an upstream call are cut off`,
      },
    ];
  }
  return [];
}
