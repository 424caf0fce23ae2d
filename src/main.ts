// First: tracing, when OTEL_* asks for it, must be in place before Fastify and undici load (instrument.ts).
import './observability/instrument.js';
import 'reflect-metadata';
import type { Logger } from 'pino';
import { createGateway } from './app.js';
import { createLogger } from './common/logging.js';
import { ObservabilityConfig } from './config/observability.config.js';
import { ServerConfig } from './config/server.config.js';
import { ConfigError, type Env } from './config/validate-env.js';
import type { DevelopmentStack } from './dev/development-stack.js';
import { drainAndClose } from './lifecycle/shutdown.js';
import { GatewayMetrics } from './observability/metrics.js';
import { serveMetrics, type MetricsListener } from './observability/metrics-server.js';
import { shutdownTracing } from './observability/tracing.js';

/** In production every upstream is configured explicitly: the embedded development parts are refused. */
function requireProductionSettings(env: Env): void {
  const missing = ['SIGNALR_CONNECTION_STRING', 'SSO_ISSUER', 'SSO_AUDIENCE'].filter((name) => !env[name]);
  if (missing.length > 0) {
    throw new ConfigError(
      `Invalid configuration:\n${missing.map((name) => `  - ${name}: required when NODE_ENV=production (the embedded emulator and development SSO are for development only)`).join('\n')}`,
    );
  }
}

async function main(): Promise<void> {
  const server = ServerConfig.fromEnv(process.env);
  let env: Env = process.env;
  let log: Logger;
  let stack: DevelopmentStack | undefined;
  if (server.production) {
    requireProductionSettings(env);
    log = createLogger(server.logLevel);
  } else {
    // Imported only here: the development parts (oidc-provider, pino-pretty) are not installed in the production image.
    const development = await import('./dev/development-stack.js');
    // Readable at a terminal; JSON lines when stdout is a file, a pipe or a log collector.
    log = createLogger(server.logLevel, process.stdout.isTTY ? development.readableLogs() : undefined);
    stack = await development.startDevelopmentStack(env, log);
    env = stack.env;
  }
  const app = await createGateway(env, log);
  if (stack) await app.register(stack.routes);
  await app.listen({ port: server.port, host: server.host });
  // Prometheus' scrape endpoint, on its own port (same HOST) so that it is never exposed with the API.
  const { metricsPort } = app.get(ObservabilityConfig);
  let metrics: MetricsListener | undefined;
  if (metricsPort !== 0) {
    metrics = await serveMetrics(app.get(GatewayMetrics).registry, server.host, metricsPort);
    log.info({ url: `http://${server.host}:${metrics.port}/metrics` }, 'metrics listening');
  }
  await stack?.showBanner(app);
  // Drain (readiness fails, requests still served), close the server, then the upstream pool and the embedded parts;
  // the process then ends by itself, or at the deadline if something hangs. A second Ctrl-C stops at once (Node's default).
  const shutdown = (signal: NodeJS.Signals): void => {
    log.info({ signal, ...server.shutdown }, 'shutting down');
    setTimeout(() => {
      log.error({ timeoutMs: server.shutdown.timeoutMs }, 'shutdown deadline passed: exiting with requests or connections still open');
      process.exit(1);
    }, server.shutdown.timeoutMs).unref();
    // The metrics stay up while draining (the drain shows on the dashboards), and stop with the rest; buffered spans go last.
    drainAndClose(app, server.shutdown.drainDelayMs)
      .then(() => Promise.all([stack?.close(), metrics?.close()]))
      .then(() => shutdownTracing())
      .catch((error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((error: unknown) => {
  // Configuration and busy ports are the operator's to fix: say what is wrong, without a stack trace.
  console.error(describeStartupError(error));
  process.exit(1);
});

function describeStartupError(error: unknown): unknown {
  if (error instanceof ConfigError) return error.message;
  const { code, address, port } = error as { code?: string; address?: string; port?: number };
  if (code === 'EADDRINUSE')
    return `Cannot listen on ${address}:${port}: the port is in use. Stop what holds it or choose another port (PORT, METRICS_PORT, EMULATOR_PORT, DEV_SSO_PORT).`;
  return error;
}
