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
 * One accepted state-changing request in the making: filled when its handler starts (AuditInterceptor), completed
 * with the answer's status when the response is sent, then written (docs/audit.md, field by field).
 */
export interface AuditEntry {
  requestId: string;
  traceId?: string;
  actor: AuditActor;
  /** The OpenAPI operationId: `sendToGroup`, `addUserToGroup`, `negotiate`, ... */
  operation: string;
  hub?: string;
  application?: string;
  targets: AuditTargets;
  message?: AuditMessage;
  /** Each upstream call's status, or how it failed without one (`timeout`, `unreachable`, `transport`), in completion order. */
  upstream: (number | string)[];
  /**
   * Whether the answer was replayed from the idempotency store rather than sent upstream again. The idempotency
   * interceptor sets it (`request.audit.replayed = true`) when it answers from its store.
   */
  replayed: boolean;
  /** Set once the handler ran to its end or reached upstream: refusals by validation are not audited. */
  accepted: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** This request's audit entry, when it is a state-changing operation (set by AuditInterceptor). */
    audit?: AuditEntry;
  }
}

/** The entry of the request whose handler is running; the upstream client notes its calls' outcomes in it. */
const current = new AsyncLocalStorage<AuditEntry>();

/** Runs `fn` (a handler) with `entry` as the current entry. */
export function withAuditEntry<T>(entry: AuditEntry, fn: () => T): T {
  return current.run(entry, fn);
}

/** Notes one upstream call's outcome in the current request's audit entry, if there is one. */
export function noteUpstreamOutcome(outcome: number | string): void {
  const entry = current.getStore();
  if (entry === undefined) return;
  entry.upstream.push(outcome);
  entry.accepted = true;
}

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

  /** Writes `entry`, answered with `status`, if it was accepted. */
  write(entry: AuditEntry, status: number): void {
    if (!this.out || !entry.accepted) return;
    const { accepted: _accepted, replayed, upstream, ...what } = entry;
    this.out.info({ kind: 'audit', ...what, outcome: { status, upstream, replayed } }, 'audit');
  }

  /** Writes what is buffered (at shutdown). */
  flush(): void {
    this.out?.flush();
  }
}
