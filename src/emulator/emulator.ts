import cors from '@fastify/cors';
import Fastify from 'fastify';
import type { AddressInfo } from 'node:net';
import { accessKeyAuthentication, AccessTokenVerifier, type RestAuthentication } from './auth.js';
import type { ClientSettings } from './client/client-endpoint.js';
import { clientRoutes } from './client/client-routes.js';
import { serveWebSockets } from './client/websocket-upgrade.js';
import { AccessKeyRing, entraAuthentication, type EntraOptions } from './entra.js';
import { HubStore } from './hub-store.js';
import { EmulatorMetrics } from './metrics.js';
import { MAX_ESCAPED_NAME_LENGTH } from './rest/rest-request.js';
import { restRoutes } from './rest/rest-routes.js';

/** Azure's well-known emulator key (Microsoft.Azure.SignalR.Emulator). */
export const WELL_KNOWN_ACCESS_KEY = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH';

/** The subset of a pino logger the emulator uses. */
export interface EmulatorLogger {
  info(object: object, message?: string): void;
  warn(object: object, message?: string): void;
  error(object: object, message?: string): void;
}

export interface EmulatorOptions {
  host?: string;
  /** 0 picks a free port; the running emulator reports the real one. */
  port?: number;
  /** Local auth's key (default: the well-known one); not with `entra`, which turns local auth off. */
  accessKey?: string;
  /**
   * Entra mode, as an Azure resource with local auth disabled (`disableLocalAuth`): REST calls need an Entra ID token
   * from this issuer, and client tokens are signed with the temporary keys of `GET /api/auth/accessKey`. AccessKey-signed
   * tokens are refused.
   */
  entra?: EntraOptions;
  logger?: EmulatorLogger;
  /** Ping WebSocket and SSE clients that heard nothing for this long (ASP.NET Core: 15 s). */
  keepAliveIntervalMs?: number;
  /** Close WebSocket and SSE clients that sent nothing for this long (ASP.NET Core: 30 s). */
  clientTimeoutMs?: number;
  handshakeTimeoutMs?: number;
  /** How long a long poll is held before it returns empty (ASP.NET Core: 90 s). */
  longPollTimeoutMs?: number;
  /** A long-polling client that does not poll again within this is gone (ASP.NET Core: 15 s). */
  disconnectTimeoutMs?: number;
  /** `allowReconnect` in the Close message sent when the REST API closes connections (Azure's emulator: true). */
  closeAllowsReconnect?: boolean;
  /** A handshake request longer than this is refused (ASP.NET Core's maximum message size: 32 KB). */
  maxHandshakeBytes?: number;
  /** A client with more than this waiting unread is closed as a slow consumer (default 1 MB). */
  maxOutboundBufferBytes?: number;
  /** Node's process metrics at `/metrics` too: when the emulator is a process of its own (`npm run emulator`). */
  processMetrics?: boolean;
  /**
   * How long `:invoke` waits for the client's result (default 5 s: below the gateway's default UPSTREAM_TIMEOUT_MS of
   * 10 s, so the gateway's caller hears that the client did not answer rather than that the service did not).
   */
  invocationTimeoutMs?: number;
}

export interface RunningEmulator {
  /** e.g. `http://127.0.0.1:8888`, with the real port. */
  url: string;
  port: number;
  connectionString: string;
  close(): Promise<void>;
}

const BODY_LIMIT_BYTES = 1024 * 1024; // Azure's REST limit; larger bodies get 413
// Two escaped ids in the path and the same path again in the token's `aud` outgrow Node's 16 KB default.
const MAX_HEADER_BYTES = 64 * 1024;

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${name} must be a positive integer.`);
  return value;
}

function endpointHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

interface Authentication {
  /** Client tokens. */
  verifier: AccessTokenVerifier;
  authenticate: RestAuthentication;
  /** Entra mode's `GET /api/auth/accessKey`. */
  accessKey?: () => { KeyId: string; AccessKey: string };
  /** The connection string's auth part. */
  auth: string;
}

/** Local auth with one AccessKey, or Entra mode: Entra ID tokens for REST calls, rotating temporary keys for client tokens. */
function authenticationOf(options: EmulatorOptions, metrics: EmulatorMetrics): Authentication {
  const { entra } = options;
  if (!entra) {
    const accessKey = options.accessKey ?? WELL_KNOWN_ACCESS_KEY;
    const verifier = AccessTokenVerifier.forAccessKey(accessKey);
    return { verifier, authenticate: accessKeyAuthentication(verifier), auth: `AccessKey=${accessKey}` };
  }
  const keys = new AccessKeyRing(
    positiveInteger('entra.keyRotationMs', entra.keyRotationMs, 60 * 60_000),
    positiveInteger('entra.keyOverlapMs', entra.keyOverlapMs, 60 * 60_000),
  );
  const onDiscoveryFailure = (error: Error): void => options.logger?.error({ err: { message: error.message } }, 'Entra issuer discovery failed');
  return {
    verifier: new AccessTokenVerifier(keys.keyOf),
    authenticate: entraAuthentication(entra, onDiscoveryFailure),
    accessKey: () => (metrics.accessKeyIssued(), keys.current()),
    auth: 'AuthType=azure',
  };
}

/** Starts a local service that behaves like Azure SignalR Service in serverless mode. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const host = options.host ?? '127.0.0.1';
  if (options.entra && options.accessKey !== undefined) throw new Error('accessKey and entra exclude each other: Entra mode turns local auth off.');
  const keepAliveMs = options.keepAliveIntervalMs ?? 15_000;
  const clientTimeoutMs = options.clientTimeoutMs ?? 30_000;
  const settings: ClientSettings = {
    handshakeTimeoutMs: options.handshakeTimeoutMs ?? 15_000,
    longPollTimeoutMs: options.longPollTimeoutMs ?? 90_000,
    disconnectTimeoutMs: options.disconnectTimeoutMs ?? 15_000,
    maxHandshakeBytes: positiveInteger('maxHandshakeBytes', options.maxHandshakeBytes, 32 * 1024),
    maxOutboundBufferBytes: positiveInteger('maxOutboundBufferBytes', options.maxOutboundBufferBytes, 1024 * 1024),
  };
  const invocationTimeoutMs = positiveInteger('invocationTimeoutMs', options.invocationTimeoutMs, 5_000);
  const store = new HubStore(options.closeAllowsReconnect ?? true);
  const metrics = new EmulatorMetrics(store, { processMetrics: options.processMetrics });
  store.metrics = metrics;
  const { verifier, authenticate, accessKey, auth } = authenticationOf(options, metrics);

  // Fastify's own request logging would print URLs, and browsers put tokens in `access_token`.
  // On close, long-lived client requests (polls, event streams) are cut rather than waited for.
  const app = Fastify({
    logger: false,
    bodyLimit: BODY_LIMIT_BYTES,
    forceCloseConnections: true,
    routerOptions: { maxParamLength: MAX_ESCAPED_NAME_LENGTH },
    http: { maxHeaderSize: MAX_HEADER_BYTES },
  });
  app.setErrorHandler((error, _request, reply) => {
    const status = (error as { statusCode?: number }).statusCode ?? 500;
    if (status >= 500) options.logger?.error({ err: { message: (error as Error).message } }, 'emulator request failed');
    return reply.code(status).send({ message: status < 500 ? (error as Error).message : 'Internal server error.' });
  });
  // Browsers on other origins connect: reflect the origin and allow credentials, as Azure's emulator does.
  await app.register(cors, { origin: true, credentials: true, methods: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS'] });
  await app.register(clientRoutes({ store, verifier, settings }));
  await app.register(restRoutes(store, authenticate, { invocationTimeoutMs, accessKey }));
  // Prometheus' text format, public like Azure's emulator itself (a local development tool, on loopback by default).
  app.get('/metrics', async (_request, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));

  const stopWebSockets = serveWebSockets(app.server, { store, verifier, settings });
  const keepAlive = setInterval(() => store.keepAlive(keepAliveMs, clientTimeoutMs), keepAliveMs / 2).unref();

  await app.listen({ host, port: options.port ?? 8888 });
  const port = (app.server.address() as AddressInfo).port;
  const url = `http://${endpointHost(host)}:${port}`;
  options.logger?.info({ url }, 'SignalR emulator listening');

  return {
    url,
    port,
    connectionString: `Endpoint=${url};${auth};Version=1.0;`,
    async close() {
      clearInterval(keepAlive);
      store.closeEverything();
      stopWebSockets();
      await app.close();
    },
  };
}
