// First: tracing, when OTEL_* asks for it, must be in place before Fastify and undici load (instrument.ts).
import './observability/instrument.js';
import 'reflect-metadata';
import type { Logger } from 'pino';
import { createGateway } from './app.js';
import { createLogger } from './common/logging.js';
import { listening, PortInUseError, requireFreePort } from './common/listening.js';
import { loadConfig } from './config/load-config.js';
import { ConfigError } from './config/validate-env.js';
import type { DevelopmentStack } from './dev/development-stack.js';
import { drainAndClose } from './lifecycle/shutdown.js';
import { GatewayMetrics } from './observability/metrics.js';
import { serveMetrics, type MetricsListener } from './observability/metrics-server.js';
import { shutdownTracing } from './observability/tracing.js';

async function main(): Promise<void> {
  // Every setting is checked here, before anything starts or logs.
  const config = loadConfig(process.env);
  const { server } = config;
  const { emulatorPort, ssoPort } = config.development;
  // Every port is tried before anything starts, so that a taken one is all that is said.
  await requireFreePort('PORT', server.host, server.port);
  if (emulatorPort !== undefined) await requireFreePort('EMULATOR_PORT', '127.0.0.1', emulatorPort);
  if (ssoPort !== undefined) await requireFreePort('DEV_SSO_PORT', '127.0.0.1', ssoPort);
  let log: Logger;
  let stack: DevelopmentStack | undefined;
  if (server.production) {
    log = createLogger(server.logLevel);
  } else {
    // Imported only here: the development parts (oidc-provider, pino-pretty) are not installed in the production image.
    const development = await import('./dev/development-stack.js');
    // Readable at a terminal; JSON lines when stdout is a file, a pipe or a log collector.
    log = createLogger(server.logLevel, process.stdout.isTTY ? development.readableLogs() : undefined);
    stack = await development.startDevelopmentStack(config, log);
  }
  const app = await createGateway(config, log);
  if (stack) await app.register(stack.routes);
  await listening('PORT', app.listen({ port: server.port, host: server.host }));
  // Prometheus' scrape endpoint, on its own port (same HOST) so that it is never exposed with the API.
  const { metricsPort } = config.observability;
  let metrics: MetricsListener | undefined;
  if (metricsPort !== 0) {
    metrics = await listening('METRICS_PORT', serveMetrics(app.get(GatewayMetrics).registry, server.host, metricsPort));
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
  console.error(error instanceof ConfigError || error instanceof PortInUseError ? error.message : error);
  process.exit(1);
});
