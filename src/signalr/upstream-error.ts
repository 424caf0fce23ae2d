import type { ProblemInit } from '../common/problem.js';
import type { RestCall } from './urls.js';

/**
 * How an upstream call failed: Azure answered with a status it should not have (`status`), did not answer within
 * the deadline (`timeout`), could not be reached at all (`unreachable`: refused, DNS), or the connection broke
 * mid-call (`transport`).
 */
export type UpstreamFailure = 'status' | 'timeout' | 'unreachable' | 'transport';

/** `x-ms-error-code` values Azure sends with a 404 that means "that connection, user or group does not exist" (docs/azure-compatibility.md#responses). */
export const NOT_EXISTED_CODES = new Set(['Warning.Connection.NotExisted', 'Warning.User.NotExisted', 'Warning.Group.NotExisted', 'Info.User.NotInGroup', 'Error.Connection.NotExisted']);

/** The client's own deadline is a `TimeoutError`; undici's connect timeout is the only phase timer left to it. */
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT']);
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * A failed call to Azure SignalR. It names the operation by method and path only: the query and headers, which could
 * carry a token, are never kept. The problem filter renders it through UPSTREAM_OUTCOMES.
 */
export class UpstreamError extends Error {
  override readonly name = 'UpstreamError';

  private constructor(
    readonly failure: UpstreamFailure,
    /** `METHOD /api/...`, no query. */
    readonly operation: string,
    /**
     * Whether undici had written the request to a connection, so Azure may have received it. False proves it did not
     * (the failure came while connecting), which makes even a message safe to send again.
     */
    readonly requestWritten: boolean,
    /** Azure's HTTP status, when it answered. */
    readonly status?: number,
    /** Azure's `x-ms-error-code`, when given. */
    readonly errorCode?: string,
    /** Azure's `Retry-After`, passed on with a 429. */
    readonly retryAfter?: string,
  ) {
    super(`Azure SignalR ${operation}: ${status === undefined ? failure : `HTTP ${status}${errorCode ? ` ${errorCode}` : ''}`}`);
  }

  static fromStatus(call: RestCall, status: number, errorCode?: string, retryAfter?: string): UpstreamError {
    return new UpstreamError('status', operationOf(call), true, status, errorCode, retryAfter);
  }

  /** Classifies what undici threw; anything that is not a network failure is a gateway bug and is rethrown as is. */
  static fromFailure(call: RestCall, error: unknown, requestWritten: boolean): UpstreamError {
    const code = (error as { code?: unknown } | null)?.code;
    if ((error as Error | null)?.name === 'TimeoutError' || TIMEOUT_CODES.has(code as string)) return new UpstreamError('timeout', operationOf(call), requestWritten);
    if (UNREACHABLE_CODES.has(code as string)) return new UpstreamError('unreachable', operationOf(call), requestWritten);
    if (typeof code === 'string') return new UpstreamError('transport', operationOf(call), requestWritten);
    throw error;
  }
}

function operationOf(call: RestCall): string {
  return `${call.method} ${call.path}`;
}

/** One row of the outcome table: which failures it matches and what the gateway's caller gets. */
export interface UpstreamOutcome {
  matches(error: UpstreamError): boolean;
  status: number;
  code: string;
  detail(error: UpstreamError): string;
}

const answered = (error: UpstreamError): string => `HTTP ${error.status}${error.errorCode ? ` (${error.errorCode})` : ''}`;

/**
 * THE mapping of upstream outcomes to what the gateway's caller sees; the first matching row wins. Successes, and the
 * 404s of existence checks and add-connection-to-group, are answers and never get here. A row describes how the last
 * attempt ended, once the retries allowed by src/signalr/retry.ts are spent.
 *
 * | Upstream                                   | Caller | code                        | Why                                                |
 * |--------------------------------------------|--------|-----------------------------|----------------------------------------------------|
 * | no status within UPSTREAM_TIMEOUT_MS       | 504    | upstream-timeout            | one deadline for the whole call, retries included  |
 * | connection refused, DNS failure            | 503    | upstream-unavailable        | Azure (or the emulator) is down or misaddressed    |
 * | connection broken mid-call                 | 502    | upstream-connection-failed  |                                                    |
 * | 401, 403                                   | 502    | upstream-auth-failed        | the gateway's AccessKey is wrong, not the caller's |
 * | 404 + a known NotExisted x-ms-error-code   | 404    | not-found                   | e.g. removing a connection that is gone            |
 * | 413                                        | 413    | payload-too-large           | Azure's 1 MB REST limit                            |
 * | 429                                        | 429    | upstream-throttled          | Retry-After passed through                         |
 * | any other 4xx (400, a bare 404, ...)       | 502    | upstream-rejected-request   | we validate first: a gateway bug or contract drift |
 * | 5xx                                        | 502    | upstream-error              |                                                    |
 */
export const UPSTREAM_OUTCOMES: readonly UpstreamOutcome[] = [
  {
    matches: (e) => e.failure === 'timeout',
    status: 504,
    code: 'upstream-timeout',
    detail: (e) => `Azure SignalR did not answer ${e.operation} within the gateway's timeout.`,
  },
  {
    matches: (e) => e.failure === 'unreachable',
    status: 503,
    code: 'upstream-unavailable',
    detail: (e) => `Azure SignalR could not be reached for ${e.operation} (connection refused or host not found).`,
  },
  {
    matches: (e) => e.failure === 'transport',
    status: 502,
    code: 'upstream-connection-failed',
    detail: (e) => `The connection to Azure SignalR broke during ${e.operation}.`,
  },
  {
    matches: (e) => e.status === 401 || e.status === 403,
    status: 502,
    code: 'upstream-auth-failed',
    detail: (e) => `Azure SignalR refused the gateway's credentials (${answered(e)}) for ${e.operation}; the gateway's connection string needs fixing.`,
  },
  {
    matches: (e) => e.status === 404 && NOT_EXISTED_CODES.has(e.errorCode ?? ''),
    status: 404,
    code: 'not-found',
    detail: (e) => `Azure SignalR answered ${e.errorCode} for ${e.operation}.`,
  },
  {
    matches: (e) => e.status === 413,
    status: 413,
    code: 'payload-too-large',
    detail: () => 'Azure SignalR refused the message as too large (its REST limit is 1 MB).',
  },
  {
    matches: (e) => e.status === 429,
    status: 429,
    code: 'upstream-throttled',
    detail: () => 'Azure SignalR is throttling (connection or message quota reached); retry later.',
  },
  {
    matches: (e) => e.status !== undefined && e.status < 500,
    status: 502,
    code: 'upstream-rejected-request',
    detail: (e) => `Azure SignalR rejected ${e.operation} with ${answered(e)}; the gateway validates requests first, so this is a gateway bug or API contract drift.`,
  },
  {
    matches: () => true,
    status: 502,
    code: 'upstream-error',
    detail: (e) => `Azure SignalR failed ${e.operation} with ${answered(e)}.`,
  },
];

/** What the caller gets for a failed upstream call, per UPSTREAM_OUTCOMES. */
export function upstreamProblem(error: UpstreamError): ProblemInit {
  const outcome = UPSTREAM_OUTCOMES.find((row) => row.matches(error))!;
  const headers = outcome.status === 429 && error.retryAfter !== undefined ? { 'retry-after': error.retryAfter } : undefined;
  return { status: outcome.status, code: outcome.code, detail: outcome.detail(error), headers };
}
