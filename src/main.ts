import 'reflect-metadata';
import { createGateway } from './app.js';
import { createLogger } from './common/logging.js';
import { ServerConfig } from './config/server.config.js';
import { ConfigError, type Env } from './config/validate-env.js';

/** In production every upstream is configured explicitly: the embedded development parts are refused. */
function requireProductionSettings(env: Env): void {
  const missing = ['SIGNALR_CONNECTION_STRING', 'SSO_ISSUER', 'SSO_AUDIENCE'].filter((name) => !env[name]);
  if (missing.length > 0) {
    throw new ConfigError(`Invalid configuration:\n${missing.map((name) => `  - ${name}: required when NODE_ENV=production (the embedded emulator and development SSO are for development only)`).join('\n')}`);
  }
}

async function main(): Promise<void> {
  const server = ServerConfig.fromEnv(process.env);
  const log = createLogger(server.logLevel);
  let env: Env = process.env;
  let closeStack = async (): Promise<void> => {};
  if (server.production) {
    requireProductionSettings(env);
  } else {
    // Imported only here: the development parts (oidc-provider) are not installed in the production image.
    const { startDevelopmentStack } = await import('./dev/development-stack.js');
    const stack = await startDevelopmentStack(env, log);
    env = stack.env;
    closeStack = stack.close;
  }
  const app = await createGateway(env, log);
  await app.listen({ port: server.port, host: server.host });
  // Drain in-flight requests, close the upstream pool, then the embedded parts; the process then ends by itself.
  const shutdown = (): void => void app.close().then(closeStack);
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((error: unknown) => {
  // A configuration error is the operator's to fix: say what is wrong, without a stack trace.
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
