import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { createHash } from 'node:crypto';
import { Observable, tap } from 'rxjs';
import { sourceTextOf } from '../common/json-body.js';
import { withAuditEntry, type AuditEntry, type AuditMessage, type AuditTargets } from './audit.js';
import { currentTraceId } from './tracing.js';

/** Methods that change nothing (existence checks, health): never audited. */
const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Opens an audit entry for every state-changing operation whose handler is reached (authenticated and authorised):
 * sends, fan-outs, closes, group changes, token minting. The entry is current while the handler runs, so the upstream
 * client notes each call's outcome in it; the composition root writes it when the response is sent (AuditTrail),
 * only if the operation was accepted (validation passed: the handler finished or reached upstream).
 */
@Injectable()
export class AuditInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    if (READS.has(request.method)) return next.handle();
    const entry = entryOf(request, operationIdOf(context.getHandler()));
    request.audit = entry;
    // next.handle() binds the handler to the async context it is called in: inside withAuditEntry, the entry's.
    return withAuditEntry(entry, () => next.handle()).pipe(tap({ complete: () => (entry.accepted = true) }));
  }
}

/** Where @nestjs/swagger's `@ApiOperation` keeps its options (its DECORATORS.API_OPERATION, not a public export). */
const API_OPERATION_METADATA = 'swagger/apiOperation';

function operationIdOf(handler: object): string {
  const operation = Reflect.getMetadata(API_OPERATION_METADATA, handler) as { operationId?: string } | undefined;
  return operation?.operationId ?? (handler as { name?: string }).name ?? 'unknown';
}

function entryOf(request: FastifyRequest, operation: string): AuditEntry {
  const params = (request.params ?? {}) as Record<string, unknown>;
  const query = (request.query ?? {}) as Record<string, unknown>;
  const body = (request.body ?? {}) as Record<string, unknown>;
  const claims = request.user?.claims ?? {};
  return {
    requestId: request.id,
    traceId: currentTraceId(),
    actor: { subject: text(claims.sub), clientId: request.user?.caller },
    operation,
    hub: text(params['hub']),
    application: text(query['application']),
    targets: targetsOf(params, query, body, request.user?.user, operation),
    message: messageOf(body),
    upstream: [],
    replayed: false,
    accepted: false,
  };
}

function targetsOf(
  params: Record<string, unknown>,
  query: Record<string, unknown>,
  body: Record<string, unknown>,
  self: string | undefined,
  operation: string,
): AuditTargets {
  const targets: AuditTargets = {};
  const group = text(params['group']);
  // Token minting names its user in the query (`:generateToken?userId=`), or is for the caller's own user (negotiate).
  const user = text(params['user']) ?? text(query['userId']) ?? (operation === 'negotiate' ? self : undefined);
  const connectionId = text(params['connectionId']);
  if (group !== undefined) targets.group = group;
  if (user !== undefined) targets.user = user;
  if (connectionId !== undefined) targets.connectionId = connectionId;
  const groups = texts(body['groups']);
  const users = texts(body['users']);
  const excluded = texts([query['excluded']].flat().filter((value) => value !== undefined));
  if (groups) targets.groups = groups;
  if (users) targets.users = users;
  if (excluded) targets.excluded = excluded;
  return targets;
}

/** The message's target and a fingerprint of its arguments, as forwarded (the very text sent); the arguments themselves never. */
function messageOf(body: Record<string, unknown>): AuditMessage | undefined {
  const target = text(body['target']);
  if (target === undefined) return undefined;
  const args = body['arguments'];
  const argumentsJson = Array.isArray(args) ? sourceTextOfOr(args) : '[]';
  return { target, bytes: Buffer.byteLength(argumentsJson), sha256: createHash('sha256').update(argumentsJson).digest('hex') };
}

/** The arguments' text as sent; if they are not a body member (cannot happen for a parsed body), their JSON. */
function sourceTextOfOr(args: unknown[]): string {
  try {
    return sourceTextOf(args);
  } catch {
    return JSON.stringify(args);
  }
}

const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

function texts(value: unknown): string[] | undefined {
  if (!Array.isArray(value) || value.length === 0) return undefined;
  return value.filter((item): item is string => typeof item === 'string');
}
