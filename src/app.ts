import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { AppModule } from './app.module.js';
import { acceptJsonBodiesOnly } from './common/json-body.js';
import { createLogger, PinoNestLogger, RequestLogController, requestIdOf } from './common/logging.js';
import { problemType, statusTitle, PROBLEM_CONTENT_TYPE } from './common/problem.js';
import { NegotiateConfig } from './config/negotiate.config.js';
import { ServerConfig } from './config/server.config.js';
import { SsoConfig } from './config/sso.config.js';
import type { Env } from './config/validate-env.js';
import { demoPage } from './dev/demo-page.js';
import { setupOpenApi } from './openapi/openapi.js';

/** Azure's REST limits (docs/azure-compatibility.md#limits): we enforce them before anything goes upstream. */
export const BODY_LIMIT_BYTES = 1024 * 1024;
export const HEADER_LIMIT_BYTES = 16 * 1024;

/**
 * Builds the gateway from an environment: config is validated here, once, and a ConfigError is thrown
 * before any socket opens. The caller decides when to `listen`.
 */
export async function createGateway(env: Env, logger?: Logger): Promise<NestFastifyApplication> {
  const server = ServerConfig.fromEnv(env);
  const log = logger ?? createLogger(server.logLevel);
  const adapter = new FastifyAdapter({
    loggerInstance: log,
    logController: new RequestLogController(),
    genReqId: requestIdOf,
    bodyLimit: BODY_LIMIT_BYTES,
    // Escaped 1024-character names can be ~12 KB; Fastify's default (100) would 404 long group names.
    routerOptions: { maxParamLength: HEADER_LIMIT_BYTES },
    http: { maxHeaderSize: HEADER_LIMIT_BYTES },
    clientErrorHandler: answerClientError,
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(env), adapter, {
    logger: new PinoNestLogger(log),
    abortOnError: false,
    // JSON only (acceptJsonBodiesOnly): Nest's default would also parse form bodies into DTOs.
    bodyParser: false,
  });
  const fastify = app.getHttpAdapter().getInstance();
  acceptJsonBodiesOnly(fastify);
  fastify.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.enableCors(corsOptions(server.corsOrigins));
  setupOpenApi(app);
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
    allowedHeaders: ['Authorization', 'Content-Type', 'X-Requested-With', 'X-SignalR-User-Agent', 'X-Request-Id'],
    exposedHeaders: ['X-Request-Id', 'Retry-After', 'WWW-Authenticate'],
    maxAge: 600,
  };
}

/** The demo page signs in with the frontend client at the gateway's own SSO and negotiates on its own origin. */
function demoPageConfig(app: NestFastifyApplication) {
  const sso = app.get(SsoConfig);
  return { issuer: sso.issuer, clientId: app.get(NegotiateConfig).frontendClientId, resource: sso.audience, hub: 'chat' };
}

/** Socket-level errors (oversized headers, garbage) get a problem+json answer too, then the socket closes. */
function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || !socket.writable) return;
  const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
  const code = status === 431 ? 'headers-too-large' : 'bad-request';
  const detail = status === 431 ? `Request headers exceed the ${HEADER_LIMIT_BYTES / 1024} KB limit.` : 'Malformed HTTP request.';
  const body = JSON.stringify({ type: problemType(code), title: statusTitle(status), status, detail, code });
  socket.end(`HTTP/1.1 ${status} ${statusTitle(status)}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}
