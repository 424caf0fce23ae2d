import { Module, type DynamicModule, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance } from 'fastify';
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { AppModule } from './app.module.js';
import { acceptJsonBodiesOnly } from './common/json-body.js';
import { acceptsBinaryPayload, BINARY_PAYLOAD_TYPES } from './modules/shared/routes.js';
import { createLogger, PinoNestLogger, RequestLogController, requestIdOf } from './common/logging.js';
import { problemType, statusTitle, PROBLEM_CONTENT_TYPE } from './common/problem.js';
import { sendSecurityHeaders } from './security-headers.js';
import { NegotiateConfig } from './config/negotiate.config.js';
import type { GatewayConfig } from './config/load-config.js';
import type { HttpTimeouts } from './config/server.config.js';
import { SsoConfig } from './config/sso.config.js';
import { StateConfig } from './config/state.config.js';
import { demoPage } from './dev/demo-page.js';
import { Lifecycle } from './lifecycle/lifecycle.js';
import { AuditTrail } from './observability/audit.js';
import { GatewayMetrics } from './observability/metrics.js';
import { setupOpenApi } from './openapi/openapi.js';
import { SharedState } from './state/shared-state.js';
import { keepIdempotentOutcomes } from './modules/idempotency/idempotency.js';
import { TrafficEvents } from './modules/shared/traffic-events.js';
import { countTraffic, observeRequests, operationIdsOf } from './request-observation.js';

/** Azure's REST limits (docs/azure-compatibility.md#limits): we enforce them before anything goes upstream. */
export const BODY_LIMIT_BYTES = 1024 * 1024;
export const HEADER_LIMIT_BYTES = 16 * 1024;

/**
 * Builds the gateway from its loaded config (`loadConfig`). The caller decides when to `listen`. `extraModules` are
 * imported beside the app module (tests add probe routes with it, behind the same limits, request id and guard).
 */
export async function createGateway(config: GatewayConfig, logger?: Logger, extraModules: readonly Type[] = []): Promise<NestFastifyApplication> {
  const { server } = config;
  const log = logger ?? createLogger(server.logLevel);
  const adapter = new FastifyAdapter({
    loggerInstance: log,
    logController: new RequestLogController(),
    genReqId: requestIdOf,
    bodyLimit: BODY_LIMIT_BYTES,
    // Escaped 1024-character names can be ~12 KB; Fastify's default (100) would 404 long group names.
    routerOptions: { maxParamLength: HEADER_LIMIT_BYTES },
    ...timeoutOptions(server.timeouts),
    http: { maxHeaderSize: HEADER_LIMIT_BYTES, ...nodeTimeoutOptions(server.timeouts) },
    clientErrorHandler: answerClientError,
  });
  const app = await NestFactory.create<NestFastifyApplication>(withModules(AppModule.forRoot(config, log), extraModules), adapter, {
    logger: new PinoNestLogger(log),
    abortOnError: false,
    // JSON, and binary payloads on Azure's send-like routes (acceptJsonBodiesOnly): Nest's default would also parse form bodies into DTOs.
    bodyParser: false,
  });
  const fastify = app.getHttpAdapter().getInstance();
  await sendSecurityHeaders(fastify, app, server.production);
  acceptJsonBodiesOnly(fastify, { contentTypes: BINARY_PAYLOAD_TYPES, accepts: acceptsBinaryPayload });
  const lifecycle = app.get(Lifecycle);
  // Callback-style hooks here and in the files below: an async hook costs a promise per request.
  fastify.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    // While draining for a shutdown, every caller reconnects for its next request (a load balancer: elsewhere).
    if (lifecycle.draining) reply.header('connection', 'close');
    done();
  });
  // Without origins there is nothing to allow: no CORS headers, and no per-request CORS hook.
  if (server.corsOrigins.length > 0) app.enableCors(corsOptions(server.corsOrigins));
  const document = setupOpenApi(app);
  const operationIds = operationIdsOf(document);
  observeRequests(fastify, app.get(GatewayMetrics), app.get(AuditTrail), operationIds);
  keepIdempotentOutcomes(fastify, app.get(SharedState), app.get(StateConfig));
  countTraffic(app.get(TrafficEvents), app.get(GatewayMetrics), operationIds);
  if (!server.production) await app.register(demoPage(demoPageConfig(app)));
  return app;
}

/**
 * Browsers on the CORS_ORIGINS (and only there) may call negotiate and the API, with credentials as the SignalR
 * browser client sends them; so the allowed origin is always echoed, never `*`. Other origins get no CORS headers.
 */
function corsOptions(origins: readonly string[]) {
  return {
    origin: origins.map((origin) => new URL(origin).origin),
    credentials: true,
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE'],
    allowedHeaders: ['Authorization', 'Content-Type', 'X-Requested-With', 'X-SignalR-User-Agent', 'X-Request-Id', 'Idempotency-Key'],
    exposedHeaders: ['X-Request-Id', 'Retry-After', 'WWW-Authenticate', 'Idempotency-Replayed', 'RateLimit', 'RateLimit-Policy'],
    maxAge: 600,
  };
}

/** The demo page signs in with the frontend client at the gateway's own SSO and negotiates on its own origin. */
function demoPageConfig(app: NestFastifyApplication) {
  const sso = app.get(SsoConfig);
  return { issuer: sso.issuer, clientId: app.get(NegotiateConfig).frontendClientId, resource: sso.audience, hub: 'chat' };
}

/** Fastify's server timeouts; a request (or its headers) that takes too long ends in answerClientError's 408. */
function timeoutOptions(timeouts: HttpTimeouts) {
  return { requestTimeout: timeouts.requestMs, keepAliveTimeout: timeouts.keepAliveMs, connectionTimeout: timeouts.connectionMs };
}

/**
 * Node checks the headers and request timeouts on a timer, every 30 s by default; a fifth of the shorter timeout
 * keeps a short configured timeout meaningful (cut within 120 % of it).
 */
function nodeTimeoutOptions(timeouts: HttpTimeouts) {
  return { headersTimeout: timeouts.headersMs, connectionsCheckingInterval: Math.min(30_000, Math.ceil(timeouts.headersMs / 5)) };
}

/** How long a client gets to read a socket-level answer before the socket is destroyed, whether or not it closed its side. */
const CLIENT_ERROR_LINGER_MS = 1000;

/**
 * Socket-level errors (oversized headers, garbage, a request too slow to arrive) get a problem+json answer with a
 * request id too, then the socket closes. `this` is the Fastify instance (Fastify binds it).
 */
function answerClientError(this: FastifyInstance, error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  // As Node does: no answer once a response has started on this socket; it would corrupt that response.
  const started = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
  if (socket.writable && !started) {
    const { status, code, detail } = clientProblem(error.code);
    const requestId = randomUUID();
    this.log.info({ requestId, status, reason: error.code }, 'client error');
    const body = JSON.stringify({ type: problemType(code), title: statusTitle(status), status, detail, code, requestId });
    socket.end(
      `HTTP/1.1 ${status} ${statusTitle(status)}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nX-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  // A client that never closes its side (a slow-loris) would otherwise hold the socket, and a file descriptor, forever.
  socket.setTimeout(CLIENT_ERROR_LINGER_MS, () => socket.destroy());
}

function clientProblem(errorCode: string | undefined): { status: number; code: string; detail: string } {
  if (errorCode === 'HPE_HEADER_OVERFLOW')
    return { status: 431, code: 'headers-too-large', detail: `Request headers exceed the ${HEADER_LIMIT_BYTES / 1024} KB limit.` };
  if (errorCode === 'ERR_HTTP_REQUEST_TIMEOUT') return { status: 408, code: 'request-timeout', detail: 'The request did not arrive in time.' };
  return { status: 400, code: 'bad-request', detail: 'Malformed HTTP request.' };
}

/** The app module alone, or a module importing it and `extraModules`. */
function withModules(app: DynamicModule, extraModules: readonly Type[]): DynamicModule {
  if (extraModules.length === 0) return app;
  @Module({})
  class GatewayWithExtras {}
  return { module: GatewayWithExtras, imports: [app, ...extraModules] };
}
