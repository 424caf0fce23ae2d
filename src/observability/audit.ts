import { AsyncLocalStorage } from 'node:async_hooks';
import { pino, type Logger } from 'pino';

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
 * What is learnt about a state-changing request while its handler runs: the upstream calls' outcomes (noted by the
 * upstream client), the trace id, and whether the idempotency store answered it.
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

/** The notes of the request whose handler is running; the upstream client adds its calls' outcomes to them. */
const current = new AsyncLocalStorage<AuditNotes>();

/** Runs `fn` (a route handler) with `notes` as the current request's notes. */
export function withAuditNotes<T>(notes: AuditNotes, fn: () => T): T {
  return current.run(notes, fn);
}

/** Notes one upstream call's outcome for the current request's audit record, if it has one. */
export function noteUpstreamOutcome(outcome: number | string): void {
  current.getStore()?.upstream.push(outcome);
}

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
    const file = pino.destination({ dest: destination, append: true, mkdir: true, sync: false });
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
