import { applyDecorators, HttpException, Injectable, Logger, SetMetadata, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiHeader } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createHash, randomUUID } from 'node:crypto';
import { catchError, concatMap, from, of, throwError, type Observable } from 'rxjs';
import { ApiProblems } from '../../common/api-problems.js';
import { ProblemException, type FieldError } from '../../common/problem.js';
import { renderProblem } from '../../common/problem.filter.js';
import { StateConfig } from '../../config/state.config.js';
import { SharedState, StateUnavailable } from '../../state/shared-state.js';
import { TrafficEvents } from '../shared/traffic-events.js';
import { problemOfUpstream } from '../shared/upstream-problems.js';

const IDEMPOTENT = 'signalr-gateway:idempotent';
const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

/**
 * How long a first request holds its key: past it, a request that never finished (its replica died) no longer blocks
 * the key. Longer than any request can run: a fan-out is at most 13 rounds of UPSTREAM_TIMEOUT_MS (10 s by default).
 */
const IN_FLIGHT_LEASE_MS = 5 * 60_000;
/** A duplicate of a request in flight is told to come back after this long. */
const IN_FLIGHT_RETRY_AFTER_S = 1;

/** Visible ASCII with inner spaces (RFC 9110 field values without obs-text). */
const PRINTABLE = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;
/** The draft's syntax is a Structured Field String (`"abc"`); a bare value is accepted as well and means the same key. */
const SF_STRING = /^"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*)"$/;

/**
 * The route accepts an `Idempotency-Key` (draft-ietf-httpapi-idempotency-key-header): documented here (the header,
 * 409 and 422), honoured by IdempotencyInterceptor.
 */
export const Idempotent = (): MethodDecorator =>
  applyDecorators(
    SetMetadata(IDEMPOTENT, true),
    ApiHeader({
      name: 'Idempotency-Key',
      required: false,
      description:
        'Makes a retry safe: a repeat with the same key (per caller and operation) and the same request gets the first outcome again, marked `Idempotency-Replayed: true`, ' +
        'without a second upstream call. 1-255 printable ASCII characters, bare or as a quoted structured-field string. Outcomes are kept for `IDEMPOTENCY_TTL_S` (24 h by default); 5xx and 429 are not kept.',
      schema: { type: 'string', minLength: 1, maxLength: MAX_IDEMPOTENCY_KEY_LENGTH, pattern: '^[\\x21-\\x7e]([\\x20-\\x7e]*[\\x21-\\x7e])?$' },
    }),
    ApiProblems(409, 422),
  );

/** What is kept of a first request while it runs, and then of its outcome. */
interface Pending {
  fingerprint: string;
  /** Tells this attempt's marker from a later one's (after the lease ran out), so only its owner settles it. */
  attempt: string;
}
interface Outcome {
  fingerprint: string;
  status: number;
  /** The success body (JSON), absent for an empty one. */
  body?: unknown;
  /** The problem of a 4xx, without its request id (a replay carries its own). */
  problem?: { code: string; title: string; detail: string; errors?: FieldError[]; headers: Record<string, string> };
}

/**
 * Idempotency-Key on the routes marked `@Idempotent()`. The first request with a key puts an in-flight marker
 * (atomically: one replica wins), runs, and replaces the marker with its outcome unless it is retryable (5xx, 429),
 * in which case the key is released. Repeats with the same fingerprint get that outcome again; while the first runs,
 * 409; with another fingerprint, 422. Without a key nothing changes. When the shared state cannot be reached the
 * request is refused with 503 rather than risk a second delivery.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  private readonly logger = new Logger(IdempotencyInterceptor.name);
  private readonly ttlMs: number;

  constructor(
    private readonly reflector: Reflector,
    private readonly state: SharedState,
    private readonly events: TrafficEvents,
    config: StateConfig,
  ) {
    this.ttlMs = config.idempotencyTtlSeconds * 1000;
  }

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    if (!this.reflector.get<boolean | undefined>(IDEMPOTENT, context.getHandler())) return next.handle();
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const key = idempotencyKeyOf(request);
    if (key === undefined) return next.handle();

    const route = `${request.method} ${request.routeOptions.url ?? ''}`;
    const caller = request.caller ?? '';
    const stateKey = `idempotency:${digest(caller, route, key)}`;
    const fingerprint = digest(request.method, request.url, JSON.stringify(request.body ?? null));
    const pending = JSON.stringify({ fingerprint, attempt: randomUUID() } satisfies Pending);

    const existing = await this.state.putIfAbsent(stateKey, pending, IN_FLIGHT_LEASE_MS).catch((error: unknown) => {
      throw this.unavailable(error, route);
    });
    if (existing !== undefined)
      return of(this.answerRepeat(JSON.parse(existing) as Pending | Outcome, fingerprint, request, http.getResponse<FastifyReply>(), caller, route));

    const reply = http.getResponse<FastifyReply>();
    return next.handle().pipe(
      concatMap((body: unknown) => from(this.settle(stateKey, pending, { fingerprint, status: reply.statusCode, body }).then(() => body))),
      catchError((error: unknown) => from(this.settle(stateKey, pending, outcomeOfError(error, fingerprint))).pipe(concatMap(() => throwError(() => error)))),
    );
  }

  /** The stored outcome again, or 409/422. */
  private answerRepeat(record: Pending | Outcome, fingerprint: string, request: FastifyRequest, reply: FastifyReply, caller: string, route: string): unknown {
    if (record.fingerprint !== fingerprint) {
      throw new ProblemException({
        status: 422,
        code: 'idempotency-key-reused',
        detail: 'This Idempotency-Key was used for a different request (method, path, query or body); use a new key for a new request.',
      });
    }
    if (!('status' in record)) {
      throw new ProblemException({
        status: 409,
        code: 'idempotency-key-in-flight',
        detail: 'A request with this Idempotency-Key is still being processed; retry after Retry-After seconds to get its outcome.',
        headers: { 'retry-after': String(IN_FLIGHT_RETRY_AFTER_S) },
      });
    }
    this.events.emit('replayed', { caller, route, status: record.status, request });
    if (record.problem !== undefined) {
      throw new ProblemException({ status: record.status, ...record.problem, headers: { ...record.problem.headers, 'idempotency-replayed': 'true' } });
    }
    reply.header('idempotency-replayed', 'true');
    return record.body;
  }

  /** Keeps the outcome, or releases the key (outcome undefined: retryable). A failure here is logged, not answered. */
  private async settle(stateKey: string, pending: string, outcome: Outcome | undefined): Promise<void> {
    try {
      if (outcome === undefined) await this.state.deleteIf(stateKey, pending);
      else await this.state.replaceIf(stateKey, pending, JSON.stringify(outcome), this.ttlMs);
    } catch (error) {
      // The request has run: its answer stands. The key stays in flight (409) until the lease runs out.
      this.logger.warn(`Idempotency outcome not stored (${String(error)}); the key answers 409 until its lease ends`);
    }
  }

  private unavailable(error: unknown, route: string): unknown {
    if (!(error instanceof StateUnavailable)) return error;
    this.logger.warn(`Idempotency-Key refused: ${error.message}`);
    this.events.emit('state-unavailable', { feature: 'idempotency', route });
    return new ProblemException({
      status: 503,
      code: 'idempotency-unavailable',
      detail: 'Idempotency keys cannot be checked right now, so the request was not sent (it could have been a duplicate). Retry later, or without the key.',
      headers: { 'retry-after': '5' },
    });
  }
}

/** The error's outcome as it will be answered, or undefined when the caller may retry it (5xx, 429). */
function outcomeOfError(error: unknown, fingerprint: string): Outcome | undefined {
  const status = problemOfUpstream(error)?.status ?? (error instanceof HttpException ? error.getStatus() : 500);
  if (status >= 500 || status === 429) return undefined;
  const { problem, headers } = renderProblem(error, problemOfUpstream);
  return { fingerprint, status, problem: { code: problem.code, title: problem.title, detail: problem.detail, errors: problem.errors, headers } };
}

/** The request's key, undefined without one; a 400 problem for a malformed key or several. */
function idempotencyKeyOf(request: FastifyRequest): string | undefined {
  const raw = request.raw.rawHeaders;
  let count = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i].toLowerCase() === IDEMPOTENCY_KEY_HEADER) count += 1;
  if (count === 0) return undefined;
  const value = request.headers[IDEMPOTENCY_KEY_HEADER];
  const quoted = typeof value === 'string' ? SF_STRING.exec(value) : null;
  const key = quoted ? quoted[1].replace(/\\(["\\])/g, '$1') : value;
  if (count > 1 || typeof key !== 'string' || key.length > MAX_IDEMPOTENCY_KEY_LENGTH || !PRINTABLE.test(key)) {
    throw new ProblemException({
      status: 400,
      code: 'invalid-idempotency-key',
      detail: `Send one Idempotency-Key of 1-${MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters.`,
      errors: [
        { field: 'header.idempotency-key', message: count > 1 ? 'must be sent once' : `must be 1-${MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters` },
      ],
    });
  }
  return key;
}

const digest = (...parts: string[]): string => createHash('sha256').update(parts.join('\0')).digest('base64url');
