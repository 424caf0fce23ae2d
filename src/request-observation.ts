import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { OpenAPIObject } from '@nestjs/swagger';
import { addressedHubOf } from './common/names.js';
import { auditRecordOf } from './observability/audit-record.js';
import { AuditTrail, wasAccepted } from './observability/audit.js';
import type { TrafficEvents } from './modules/shared/traffic-events.js';
import { GatewayMetrics } from './observability/metrics.js';
import { annotateActiveSpan, currentTraceId } from './observability/tracing.js';

/** Methods that change nothing (existence checks, health, the documents): never audited. */
const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

const HTTP_METHODS = ['get', 'head', 'post', 'put', 'delete', 'patch', 'options'] as const;

/**
 * Each route's OpenAPI operationId by `METHOD /fastify/route/:template` (`POST /api/hubs/:hub/groups/:group/::send`),
 * so requests refused before their handler (401, 403, 400) are counted by operation too. A HEAD without an
 * operation of its own is its GET's.
 */
export function operationIdsOf(document: OpenAPIObject): Map<string, string> {
  const ids = new Map<string, string>();
  for (const [path, item] of Object.entries(document.paths)) {
    // OpenAPI's `{hub}` is Fastify's `:hub`; a literal colon (`/:send`) is written `::` in a Fastify route.
    const route = path.replace(/:/g, '::').replace(/\{(\w+)\}/g, ':$1');
    for (const method of HTTP_METHODS) {
      const operationId = (item as Record<string, { operationId?: string } | undefined>)[method]?.operationId;
      if (operationId !== undefined) ids.set(`${method.toUpperCase()} ${route}`, operationId);
    }
  }
  for (const [key, id] of [...ids]) if (key.startsWith('GET ') && !ids.has(`HEAD ${key.slice(4)}`)) ids.set(`HEAD ${key.slice(4)}`, id);
  return ids;
}

/**
 * Every request is measured (GatewayMetrics: duration by route template, in flight, by operation, caller and hub) and
 * its server span named after its route with the operation and hub (when tracing is on). With the audit trail on, every
 * state-changing request gets audit notes of its own before its handler runs (`request.audit`; the handler passes their
 * `upstream` list to the upstream client, `@UpstreamAttempts()`), and its record is written when its response has been
 * sent, if it was accepted.
 *
 * Plain Fastify hooks and a handler wrapper rather than a Nest interceptor: any global interceptor sends every request
 * through Nest's RxJS pipeline, which doubled the gateway's CPU per request in `npm run bench`. Call it before the
 * routes are registered (before `listen` or `init`), so that the onRoute hook sees them.
 */
export function observeRequests(fastify: FastifyInstance, metrics: GatewayMetrics, audit: AuditTrail, operationIds: ReadonlyMap<string, string>): void {
  if (audit.enabled) {
    fastify.addHook('onRoute', (route) => {
      const methods = [route.method].flat();
      if (methods.every((method) => READS.has(method))) return;
      const handler = route.handler;
      route.handler = function (this: FastifyInstance, request, reply) {
        if (READS.has(request.method)) return handler.call(this, request, reply);
        request.audit = { upstream: [], traceId: currentTraceId(), replayed: false };
        return handler.call(this, request, reply);
      };
    });
  }
  fastify.addHook('onRequest', (request, reply, done) => {
    metrics.requestStarted();
    reply.raw.once('close', metrics.requestEnded);
    const route = request.routeOptions.url;
    if (route !== undefined) annotateActiveSpan(() => spanOf(request, route));
    done();
  });
  const spanOf = (request: FastifyRequest, route: string) => {
    const operation = operationIds.get(`${request.method} ${route}`);
    const hub = addressedHubOf(request.params, request.query);
    const attributes = {
      'http.route': route,
      ...(operation !== undefined && { 'signalr.operation': operation }),
      ...(hub !== undefined && { 'signalr.hub': hub }),
    };
    return { name: `${request.method} ${route}`, attributes };
  };
  fastify.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url;
    const operation = route === undefined ? undefined : operationIds.get(`${request.method} ${route}`);
    metrics.requestCompleted({
      // Unmatched paths are one label value, never the path (a scanner's 404s would make a series each).
      route: route ?? 'unmatched',
      method: request.method,
      status: reply.statusCode,
      seconds: reply.elapsedTime / 1000,
      operation,
      caller: request.caller,
      hub: route === undefined ? undefined : addressedHubOf(request.params, request.query),
    });
    const notes = request.audit;
    if (notes && route !== undefined && wasAccepted(notes, reply.statusCode)) {
      audit.write(auditRecordOf(request, operation ?? route, notes, reply.statusCode));
    }
    done();
  });
}

/** The rate limits' refusals and the idempotency replays, counted by operation; a replay's audit record says so. */
export function countTraffic(events: TrafficEvents, metrics: GatewayMetrics, operationIds: ReadonlyMap<string, string>): void {
  const operationOf = (route: string): string => operationIds.get(route) ?? 'unknown';
  events.on('rate-limited', ({ caller, route }) => metrics.rateLimited(operationOf(route), caller));
  events.on('replayed', ({ route, request }) => {
    metrics.idempotentReplay(operationOf(route));
    if (request.audit !== undefined) request.audit.replayed = true;
  });
}
