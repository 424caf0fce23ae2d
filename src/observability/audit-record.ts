import type { FastifyRequest } from 'fastify';
import { hash } from 'node:crypto';
import { sourceTextOf } from '../common/json-body.js';
import type { AuditMessage, AuditNotes, AuditRecord, AuditTargets } from './audit.js';

/**
 * The audit record of a state-changing request, composed when its response has been sent (request-observation.ts):
 * who from the verified token, what from its path, query and body (validated by then, since only requests that were
 * accepted are written), the outcome from the status answered and the upstream calls noted while it was handled.
 */
export function auditRecordOf(request: FastifyRequest, operation: string, notes: AuditNotes, status: number): AuditRecord {
  const params = (request.params ?? {}) as Record<string, unknown>;
  const query = (request.query ?? {}) as Record<string, unknown>;
  const body = (request.body ?? {}) as Record<string, unknown>;
  const claims = request.user?.claims ?? {};
  return {
    kind: 'audit',
    requestId: request.id,
    ...(notes.traceId !== undefined && { traceId: notes.traceId }),
    actor: { subject: text(claims.sub), clientId: request.user?.caller },
    operation,
    hub: text(params['hub']),
    application: text(query['application']),
    targets: targetsOf(params, query, body, request.user?.user, operation),
    message: messageOf(body),
    outcome: { status, upstream: notes.upstream, replayed: notes.replayed },
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
  return { target, bytes: Buffer.byteLength(argumentsJson), sha256: hash('sha256', argumentsJson, 'hex') };
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
