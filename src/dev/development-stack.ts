import type { INestApplication } from '@nestjs/common';
import { Type } from 'class-transformer';
import { IsInt, Max, Min } from 'class-validator';
import type { FastifyPluginAsync } from 'fastify';
import type { DestinationStream, Logger } from 'pino';
import { PinoPretty } from 'pino-pretty';
import { ServerConfig } from '../config/server.config.js';
import { validateEnv, type Env } from '../config/validate-env.js';
import { startEmulator } from '../emulator/emulator.js';
import { HealthService } from '../modules/health/health.service.js';
import { DEV_EMULATOR_PORT, DEV_SERVICE_CLIENT_SECRET, DEV_SSO_DISCOVERY_PATH, DEV_SSO_PORT, type SsoServiceClient } from '../config/dev-defaults.js';
import { serviceTokenCurl, startDevIssuer } from './dev-issuer.js';

/** Ports of the embedded parts, for when the defaults are taken. */
class DevelopmentEnv {
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(65535)
  EMULATOR_PORT = DEV_EMULATOR_PORT;

  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(65535)
  DEV_SSO_PORT = DEV_SSO_PORT;
}

export interface DevelopmentStack {
  /** The environment with the embedded parts filled in. */
  env: Env;
  /** Development-only gateway routes: where the development SSO is, for the CLI (DEV_SSO_DISCOVERY_PATH). */
  routes: FastifyPluginAsync;
  /** Once the gateway listens: the copy-paste "Try it" block for the person at the terminal, if there is one. */
  showBanner(app: INestApplication): Promise<void>;
  close(): Promise<void>;
}

/**
 * Development logs for a person at a terminal: one readable line each, instead of JSON. Written synchronously, so
 * that what is printed after a log line (the banner) appears after it.
 */
export function readableLogs(): DestinationStream {
  return PinoPretty({
    sync: true,
    singleLine: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,service,context',
    messageFormat: '{if context}[{context}] {end}{msg}',
  });
}

/**
 * For a newcomer's `npm start`: whatever is not configured (SignalR upstream, SSO issuer) is started in-process
 * on loopback, and the gateway is pointed at it, with a loud warning. Never used in production (main.ts refuses).
 */
export async function startDevelopmentStack(env: Env, log: Logger): Promise<DevelopmentStack> {
  const server = ServerConfig.fromEnv(env);
  const ports = validateEnv(DevelopmentEnv, env);
  const gatewayUrl = `http://${server.host === '0.0.0.0' ? '127.0.0.1' : server.host}:${server.port}`;
  const filled: Env = { ...env };
  const closers: Array<() => Promise<void>> = [];
  const stackLog = log.child({ context: 'DevelopmentStack' });
  let banner = '';
  let discovery: SsoServiceClient | undefined;

  if (!env.SIGNALR_CONNECTION_STRING) {
    const emulator = await startEmulator({ host: '127.0.0.1', port: ports.EMULATOR_PORT, logger: log.child({ context: 'Emulator' }) });
    filled.SIGNALR_CONNECTION_STRING = emulator.connectionString;
    closers.push(() => emulator.close());
    stackLog.warn(`SIGNALR_CONNECTION_STRING is not set: using the embedded SignalR emulator at ${emulator.url} (development only).`);
  }

  if (!env.SSO_ISSUER) {
    const sso = await startDevIssuer({
      port: ports.DEV_SSO_PORT,
      serviceClientSecret: DEV_SERVICE_CLIENT_SECRET,
      redirectUris: [`${gatewayUrl}/demo/`, `${gatewayUrl}/docs/oauth2-redirect.html`],
    });
    filled.SSO_ISSUER = sso.issuer;
    filled.SSO_AUDIENCE = sso.audience;
    closers.push(() => sso.close());
    stackLog.warn(`SSO_ISSUER is not set: using the embedded DEVELOPMENT issuer at ${sso.issuer}; anyone can sign in as anyone. Never use it in production.`);
    discovery = { issuer: sso.issuer, clientId: sso.service.clientId, clientSecret: sso.service.clientSecret };
    banner = `Try it: obtain a service token and broadcast to hub "chat":\n\n${serviceTokenCurl(sso, gatewayUrl)}\n\nDemo page: ${gatewayUrl}/demo/   Swagger UI: ${gatewayUrl}/docs`;
  }

  return {
    env: filled,
    routes: async (fastify) => {
      // The service client is public like the README's curl, and useless elsewhere: the SSO listens on loopback only.
      if (discovery) fastify.get(DEV_SSO_DISCOVERY_PATH, async () => discovery);
    },
    async showBanner(app) {
      if (!banner) return;
      // The block invites a first request: it is shown once that would work (the SSO's keys load after listen), so
      // every start-up line comes before it and it stays on screen. If not ready, the logged reason is above it.
      await app
        .get(HealthService)
        .ready()
        .catch(() => undefined);
      await new Promise<void>((resolve) => log.flush(() => resolve()));
      // For the person at the terminal, not a log record: it must stay copy-pasteable.
      process.stdout.write(`\n${banner}\n\n`);
    },
    close: async () => {
      await Promise.all(closers.map((close) => close()));
    },
  };
}
