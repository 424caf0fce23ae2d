import type { INestApplication } from '@nestjs/common';
import type { FastifyPluginAsync } from 'fastify';
import type { DestinationStream, Logger } from 'pino';
import { PinoPretty } from 'pino-pretty';
import { isIPv6 } from 'node:net';
import { listening } from '../common/listening.js';
import type { GatewayConfig } from '../config/load-config.js';
import { startEmulator } from '../emulator/emulator.js';
import { HealthService } from '../modules/health/health.service.js';
import { DEV_SERVICE_CLIENT_SECRET, DEV_SSO_DISCOVERY_PATH, type SsoServiceClient } from '../config/dev-defaults.js';
import { serviceTokenCurl, startDevIssuer } from './dev-issuer.js';

export interface DevelopmentStack {
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
 * For a newcomer's `npm start`: the embedded parts the config asks for (config.development: whatever SignalR upstream
 * or SSO issuer is not configured) start in-process on loopback, at the addresses the config already points the
 * gateway at, with a loud warning. Never in production (the config has no embedded parts there).
 */
export async function startDevelopmentStack(config: GatewayConfig, log: Logger): Promise<DevelopmentStack> {
  const { emulatorPort, ssoPort } = config.development;
  const gatewayUrl = `http://${browsableHost(config.server.host)}:${config.server.port}`;
  const closers: Array<() => Promise<void>> = [];
  const stackLog = log.child({ context: 'DevelopmentStack' });
  let banner = '';
  let discovery: SsoServiceClient | undefined;

  if (emulatorPort !== undefined) {
    const accessKey = config.signalr.endpoints[0].connection.accessKey.reveal(); // the one endpoint of embeddedEnv
    const emulator = await listening(
      'EMULATOR_PORT',
      startEmulator({ host: '127.0.0.1', port: emulatorPort, accessKey, logger: log.child({ context: 'Emulator' }) }),
    );
    closers.push(() => emulator.close());
    stackLog.warn(`SIGNALR_CONNECTION_STRING is not set: using the embedded SignalR emulator at ${emulator.url} (development only).`);
  }

  if (ssoPort !== undefined) {
    const sso = await listening(
      'DEV_SSO_PORT',
      startDevIssuer({
        port: ssoPort,
        audience: config.sso.audience,
        serviceClientSecret: DEV_SERVICE_CLIENT_SECRET,
        redirectUris: [`${gatewayUrl}/demo/`, `${gatewayUrl}/docs/oauth2-redirect.html`],
      }),
    );
    closers.push(() => sso.close());
    stackLog.warn(`SSO_ISSUER is not set: using the embedded DEVELOPMENT issuer at ${sso.issuer}; anyone can sign in as anyone. Never use it in production.`);
    discovery = { issuer: sso.issuer, clientId: sso.service.clientId, clientSecret: sso.service.clientSecret };
    banner = `Try it: obtain a service token and broadcast to hub "chat":\n\n${serviceTokenCurl(sso, gatewayUrl)}\n\nDemo page: ${gatewayUrl}/demo/   Swagger UI: ${gatewayUrl}/docs`;
  }

  return {
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

/** Where a browser on this machine reaches a gateway listening on `host` (every interface: through loopback). */
function browsableHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return isIPv6(host) ? `[${host}]` : host;
}
