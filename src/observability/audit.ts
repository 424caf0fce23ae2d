import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { pino, type Logger } from 'pino';
import { bufferedLines } from '../common/logging.js';

/** Who asked, from the verified SSO token; never the token. */
export interface AuditActor {
  /** The token's `sub`. */
  subject?: string;
  /** The calling application: `azp`, `client_id`, `appid` or `sub` (the request log's `caller`). */
  clientId?: string;
}

/** Whom an operation addresses; a list only where the operation names several (fan-outs, `excluded`). */
export interface AuditTargets {
  group?: string;
  user?: string;
  connectionId?: string;
  groups?: string[];
  users?: string[];
  excluded?: string[];
}

/** The message of a send: its target name, and the size and SHA-256 of its arguments exactly as forwarded; never the arguments. */
export interface AuditMessage {
  target: string;
  bytes: number;
  sha256: string;
}

/**
 * What is learnt about a state-changing request while its handler runs: the upstream calls' outcomes (appended by the
 * upstream client to the list its handler passes on, `@UpstreamAttempts()`), the trace id, and whether the
 * idempotency store answered it.
 */
export interface AuditNotes {
  /** Each upstream attempt's status, or how it failed without one (`timeout`, `unreachable`, `transport`), in completion order. */
  upstream: (number | string)[];
  traceId?: string;
  /**
   * Whether the answer was replayed from the idempotency store rather than sent upstream again. The idempotency
   * guard or interceptor sets it (`request.audit.replayed = true`) when it answers from its store.
   */
  replayed: boolean;
}

/** One line of the audit trail (docs/audit.md, field by field). */
export interface AuditRecord {
  kind: 'audit';
  requestId: string;
  traceId?: string;
  actor: AuditActor;
  /** The OpenAPI operationId: `sendToGroup`, `addUserToGroup`, `negotiate`, ... */
  operation: string;
  hub?: string;
  application?: string;
  targets: AuditTargets;
  message?: AuditMessage;
  outcome: { status: number; upstream: (number | string)[]; replayed: boolean };
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The audit notes of a state-changing request while the audit trail is on (set before its handler runs). */
    audit?: AuditNotes;
  }
}

/**
 * The list the request's upstream attempts' outcomes go to, its audit record's `upstream`: a handler hands it to its
 * service, which puts it in the HubScope of its upstream calls. Undefined while the audit trail is off and on reads
 * (nothing audited). Passed by hand: an implicit per-request context would make Node 20 hook every promise of the
 * process, about a sixth of the gateway's CPU per request (docs/audit.md#cost).
 */
export const UpstreamAttempts = createParamDecorator(
  (_data: unknown, context: ExecutionContext): (number | string)[] | undefined => context.switchToHttp().getRequest<FastifyRequest>().audit?.upstream,
);

/**
 * Whether a request was accepted, so that it is audited: it reached Azure, or it succeeded (token minting calls no
 * one). Refusals by authentication, permissions or validation (401, 403, 400, 413, 415) did neither.
 */
export const wasAccepted = (notes: AuditNotes, status: number): boolean => notes.upstream.length > 0 || status < 400;

/** The audit stream (AUDIT_LOG): one JSON line per accepted state-changing operation. */
export class AuditTrail {
  private constructor(private readonly out: Logger | undefined) {}

  /**
   * `stdout`: through the application's logger (one writer per file descriptor, so lines never interleave), at info
   * level whatever LOG_LEVEL says. A path: appended to that file, buffered. `off`: nothing.
   */
  static to(destination: string, appLogger: Logger): AuditTrail {
    if (destination === 'off') return new AuditTrail(undefined);
    if (destination === 'stdout') return new AuditTrail(appLogger.child({}, { level: 'info' }));
    const file = bufferedLines(destination);
    return new AuditTrail(pino({ base: { service: 'signalr-gateway' } }, file));
  }

  get enabled(): boolean {
    return this.out !== undefined;
  }

  write(record: AuditRecord): void {
    this.out?.info(record, 'audit');
  }

  /** Writes what is buffered (at shutdown). */
  flush(): void {
    this.out?.flush();
  }
}
