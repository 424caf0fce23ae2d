import {
  applyDecorators,
  Catch,
  Injectable,
  Logger,
  UseFilters,
  UseGuards,
  type ArgumentsHost,
  type CanActivate,
  type ExceptionFilter,
  type ExecutionContext,
} from '@nestjs/common';
import { ApiHeader } from '@nestjs/swagger';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hash, randomUUID } from 'node:crypto';
import { ApiProblems } from '../../common/api-problems.js';
import { ProblemException, type EndpointOutcome, type FieldError, type Problem } from '../../common/problem.js';
import { StateConfig } from '../../config/state.config.js';
import { SharedState, StateUnavailable } from '../../state/shared-state.js';
import { TrafficEvents } from '../shared/traffic-events.js';

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
 * 409 and 422), honoured by IdempotencyGuard and keepIdempotentOutcomes. Its guard must run before the rate limit's (a replay costs
 * no upstream call): apply it first, below `@RateLimited()` or before it in `applyDecorators`.
 */
export const Idempotent = (): MethodDecorator =>
  applyDecorators(
    UseGuards(IdempotencyGuard),
    UseFilters(new ReplayFilter()),
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
  problem?: { code: string; title: string; detail: string; errors?: FieldError[]; endpoints?: EndpointOutcome[]; headers: Record<string, string> };
}

/** A first request with a key, holding its in-flight marker until keepIdempotentOutcomes settles it. */
interface Claim {
  stateKey: string;
  pending: string;
  fingerprint: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by IdempotencyGuard on a first request with an Idempotency-Key; its outcome is kept when it is sent. */
    idempotencyClaim?: Claim;
  }
}

/**
 * Idempotency-Key on the routes marked `@Idempotent()`, after the SSO guard (keys are per caller). The first request
 * with a key puts an in-flight marker (atomically: one replica wins) and runs; keepIdempotentOutcomes replaces the
 * marker with its outcome as it is sent, unless it is retryable (5xx, 429), in which case the key is released.
 * Repeats with the same fingerprint get that outcome again; while the first runs, 409; with another fingerprint, 422.
 * Without a key nothing happens (no await, no state). When the shared state cannot be reached the request is refused
 * with 503 rather than risk a second delivery.
 *
 * A guard rather than a Nest interceptor: an interceptor sends every request of its routes through Nest's RxJS
 * pipeline, key or not (RxJS and an AsyncResource per step: docs/performance.md).
 */
@Injectable()
export class IdempotencyGuard implements CanActivate {
  private readonly logger = new Logger(IdempotencyGuard.name);

  constructor(
    private readonly state: SharedState,
    private readonly events: TrafficEvents,
  ) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    // Node sets the header for one or several fields, empty ones too: undefined means none was sent.
    if (request.headers[IDEMPOTENCY_KEY_HEADER] === undefined) return true;
    return this.claim(request);
  }

  private async claim(request: FastifyRequest): Promise<boolean> {
    const key = idempotencyKeyOf(request);
    const route = `${request.method} ${request.routeOptions.url ?? ''}`;
    const caller = request.caller ?? '';
    const stateKey = `idempotency:${digest(caller, route, key)}`;
    const fingerprint = digest(request.method, request.url, JSON.stringify(request.body ?? null));
    const pending = JSON.stringify({ fingerprint, attempt: randomUUID() } satisfies Pending);

    const existing = await this.state.putIfAbsent(stateKey, pending, IN_FLIGHT_LEASE_MS).catch((error: unknown) => {
      throw this.unavailable(error, route);
    });
    if (existing !== undefined) this.answerRepeat(JSON.parse(existing) as Pending | Outcome, fingerprint, request, caller, route);
    request.idempotencyClaim = { stateKey, pending, fingerprint };
    return true;
  }

  /** Throws the stored outcome again (a ReplayFilter answers it, or the problem filter), or 409/422. */
  private answerRepeat(record: Pending | Outcome, fingerprint: string, request: FastifyRequest, caller: string, route: string): never {
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
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- not an error: the way a guard ends a request with an answer (ReplayFilter sends it)
    throw new Replay(record.status, record.body);
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

/** A kept success outcome, thrown by IdempotencyGuard so that the handler does not run. */
class Replay {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {}
}

/** Sends a Replay as the first answer was sent, marked `Idempotency-Replayed: true`. */
@Catch(Replay)
class ReplayFilter implements ExceptionFilter<Replay> {
  catch(replay: Replay, host: ArgumentsHost): void {
    void host.switchToHttp().getResponse<FastifyReply>().status(replay.status).header('idempotency-replayed', 'true').send(replay.body);
  }
}

/**
 * Keeps the outcome of every claimed request (IdempotencyGuard) as it is sent, before its first byte goes out, so an
 * immediate retry finds it: a success's status and JSON body, a 4xx's problem without its request id; a 5xx or 429
 * releases the key (the caller may retry). A failure here is logged, not answered. Hooked on the POST routes only (the
 * idempotent ones); call it before the routes are registered.
 */
export function keepIdempotentOutcomes(fastify: FastifyInstance, state: SharedState, config: StateConfig): void {
  const logger = new Logger('IdempotencyOutcomes');
  const ttlMs = config.idempotencyTtlSeconds * 1000;
  const settle = async (claim: Claim, status: number, payload: unknown): Promise<void> => {
    try {
      const outcome = outcomeOf(claim.fingerprint, status, payload);
      if (outcome === undefined) await state.deleteIf(claim.stateKey, claim.pending);
      else await state.replaceIf(claim.stateKey, claim.pending, JSON.stringify(outcome), ttlMs);
    } catch (error) {
      // The request has run: its answer stands. The key stays in flight (409) until the lease runs out.
      logger.warn(`Idempotency outcome not stored (${String(error)}); the key answers 409 until its lease ends`);
    }
  };
  fastify.addHook('onRoute', (route) => {
    if (![route.method].flat().includes('POST')) return;
    route.onSend = [
      ...[route.onSend ?? []].flat(),
      (request, reply, payload, done) => {
        const claim = request.idempotencyClaim;
        if (claim === undefined) return done(null, payload);
        request.idempotencyClaim = undefined;
        void settle(claim, reply.statusCode, payload).then(() => done(null, payload));
      },
    ];
  });
}

/** What is kept of an answer (its serialised JSON `payload`), or undefined when the caller may retry it (5xx, 429). */
function outcomeOf(fingerprint: string, status: number, payload: unknown): Outcome | undefined {
  if (status >= 500 || status === 429) return undefined;
  const body = typeof payload === 'string' && payload !== '' ? (JSON.parse(payload) as unknown) : undefined;
  if (status < 400) return { fingerprint, status, body };
  // Every error answer is a problem (ProblemFilter). Those with headers of their own (401, 429, 503) are never kept.
  // With several SignalR endpoints a 4xx says what each did (`endpoints`): the replay says it again.
  const { code, title, detail, errors, endpoints } = body as Problem;
  return { fingerprint, status, problem: { code, title, detail, errors, endpoints, headers: {} } };
}

/** The key of a request that sent the header; a 400 problem for a malformed key or several. */
function idempotencyKeyOf(request: FastifyRequest): string {
  const raw = request.raw.rawHeaders;
  let count = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i].toLowerCase() === IDEMPOTENCY_KEY_HEADER) count += 1;
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

const digest = (...parts: string[]): string => hash('sha256', parts.join('\0'), 'base64url');
