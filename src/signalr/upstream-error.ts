import type { RestCall } from './urls.js';

/**
 * How an upstream call failed: Azure answered with a status it should not have (`status`), did not answer within
 * the deadline (`timeout`), could not be reached at all (`unreachable`: refused, DNS), or the connection broke
 * mid-call (`transport`), or answered with a body that is not what the contract says (`malformed`).
 */
export type UpstreamFailure = 'status' | 'timeout' | 'unreachable' | 'transport' | 'malformed';

/**
 * `x-ms-error-code` values Azure sends with a 404 that means "that connection, user, group or stream does not exist"
 * (docs/azure-compatibility.md#responses): an answer about the thing, not a failure of the service.
 */
const NOT_EXISTED_CODES = new Set([
  'Warning.Connection.NotExisted',
  'Warning.User.NotExisted',
  'Warning.Group.NotExisted',
  'Info.User.NotInGroup',
  'Error.Connection.NotExisted',
  // A client stream that is not open (2024-12-01 streams; the emulator's code, docs/azure-compatibility.md#streams).
  'Warning.Stream.NotExisted',
]);

/** The client's own deadline is a `TimeoutError`; undici's connect timeout is the only phase timer left to it. */
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT']);
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * A failed call to Azure SignalR. It names the operation by method and path only: the query and headers, which could
 * carry a token, are never kept. It says what happened; what the gateway's caller gets for it is decided on the HTTP
 * side (src/modules/shared/upstream-problems.ts).
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
    /** `message` of Azure's error body, read only for the operations that answer with a body (a client's error text for `:invoke`). */
    readonly upstreamMessage?: string,
  ) {
    super(`Azure SignalR ${operation}: ${status === undefined ? failure : `HTTP ${status}${errorCode ? ` ${errorCode}` : ''}`}`);
  }

  /** Azure answered that the connection, user, group or stream does not exist (a 404 with a NotExisted code). */
  get notExisted(): boolean {
    return this.status === 404 && NOT_EXISTED_CODES.has(this.errorCode ?? '');
  }

  static fromStatus(call: RestCall, status: number, errorCode?: string, retryAfter?: string, upstreamMessage?: string): UpstreamError {
    return new UpstreamError('status', operationOf(call), true, status, errorCode, retryAfter, upstreamMessage);
  }

  /** A success whose body is not what the contract says (only operations that answer with a body). */
  static malformed(call: RestCall, status: number, why: string): UpstreamError {
    return new UpstreamError('malformed', operationOf(call), true, status, undefined, undefined, why);
  }

  /** Classifies what undici threw; anything that is not a network failure is a gateway bug and is rethrown as is. */
  static fromFailure(call: RestCall, error: unknown, requestWritten: boolean): UpstreamError {
    const code = (error as { code?: unknown } | null)?.code;
    if ((error as Error | null)?.name === 'TimeoutError' || TIMEOUT_CODES.has(code as string))
      return new UpstreamError('timeout', operationOf(call), requestWritten);
    if (UNREACHABLE_CODES.has(code as string)) return new UpstreamError('unreachable', operationOf(call), requestWritten);
    if (typeof code === 'string') return new UpstreamError('transport', operationOf(call), requestWritten);
    throw error;
  }
}

function operationOf(call: RestCall): string {
  return `${call.method} ${call.path}`;
}
