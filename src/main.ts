import 'reflect-metadata';
import { createGateway } from './app.js';
import { ServerConfig } from './config/server.config.js';
import { ConfigError } from './config/validate-env.js';

async function main(): Promise<void> {
  const app = await createGateway(process.env);
  const { port, host } = app.get(ServerConfig);
  app.enableShutdownHooks();
  await app.listen({ port, host });
}

main().catch((error: unknown) => {
  // A configuration error is the operator's to fix: say what is wrong, without a stack trace.
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
