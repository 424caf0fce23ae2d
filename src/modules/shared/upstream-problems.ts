import { renderProblem } from '../../common/problem.filter.js';
import { ProblemException, type EndpointOutcome, type ProblemInit } from '../../common/problem.js';
import { EndpointFailures, NoHealthyEndpoint } from '../../signalr/endpoint-router.js';
import { InvalidContinuationToken } from '../../signalr/signalr.client.js';
import type { UpstreamResult } from '../../signalr/endpoint-client.js';
import { EntraAuthError } from '../../signalr/entra-token.js';
import { TokenTooLongError } from '../../signalr/signer.js';
import { UpstreamError } from '../../signalr/upstream-error.js';

/**
 * What the gateway's callers get for what Azure SignalR did: the upstream client (src/signalr/) only reports it, and
 * this file, on the HTTP side, is the one place that decides the answer. The problem filter uses problemOfUpstream.
 */

/**
 * `x-ms-error-code` values of a failed `:invoke` (2024-12-01). Azure documents none; these are the emulator's
 * (docs/azure-compatibility.md#client-results), matched by code so that a different answer from Azure falls through
 * to the generic rows instead of being misread.
 */
export const INVOCATION_CODES = {
  /** The client answered with an error: its handler threw. */
  clientError: 'Error.ClientInvocation.Failed',
  /** The client answered without a result: it has no handler for the method, or the handler returned nothing. */
  noResult: 'Error.ClientInvocation.NoResult',
  /** The client did not answer within the service's invocation timeout. */
  timeout: 'Error.ClientInvocation.Timeout',
} as const;

/** The client's own words, when Azure passed them on. */
const clientSaid = (e: UpstreamError): string => (e.upstreamMessage ? `: ${e.upstreamMessage}` : '.');

/** One row of the outcome table: which failures it matches and what the gateway's caller gets. */
interface UpstreamOutcome {
  matches(error: UpstreamError): boolean;
  status: number;
  code: string;
  detail(error: UpstreamError): string;
}

const answered = (error: UpstreamError): string => `HTTP ${error.status}${error.errorCode ? ` (${error.errorCode})` : ''}`;

/**
 * THE mapping of upstream outcomes to what the gateway's caller sees; the first matching row wins. Successes, and the
 * 404s of the operations whose 404 is an answer (`notFoundIsAnswer` in src/signalr/urls.ts), never get here. A row
 * describes how the last attempt ended, once the retries allowed by src/signalr/retry.ts are spent.
 *
 * | Upstream                                   | Caller | code                        | Why                                                |
 * |--------------------------------------------|--------|-----------------------------|----------------------------------------------------|
 * | no status within UPSTREAM_TIMEOUT_MS       | 504    | upstream-timeout            | one deadline for the whole call, retries included  |
 * | connection refused, DNS failure            | 503    | upstream-unavailable        | Azure (or the emulator) is down or misaddressed    |
 * | connection broken mid-call                 | 502    | upstream-connection-failed  |                                                    |
 * | a success body not as the contract says    | 502    | upstream-malformed-response | list and :invoke read bodies                       |
 * | :invoke, the client's handler threw        | 502    | client-invocation-failed    | the client's error text in the detail              |
 * | :invoke, the client gave no result         | 502    | client-no-result            | no handler for the method, or it returned nothing  |
 * | :invoke, the client did not answer in time | 504    | client-invocation-timeout   | the service's invocation timeout                   |
 * | 401, 403                                   | 502    | upstream-auth-failed        | the gateway's AccessKey is wrong, not the caller's |
 * | 404 + a known NotExisted x-ms-error-code   | 404    | not-found                   | e.g. closing a connection that is gone             |
 * | 413                                        | 413    | payload-too-large           | Azure's 1 MB REST limit                            |
 * | 429                                        | 429    | upstream-throttled          | Retry-After passed through                         |
 * | any other 4xx (400, a bare 404, ...)       | 502    | upstream-rejected-request   | we validate first: a gateway bug or contract drift |
 * | 5xx                                        | 502    | upstream-error              |                                                    |
 */
const UPSTREAM_OUTCOMES: readonly UpstreamOutcome[] = [
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
    matches: (e) => e.failure === 'malformed',
    status: 502,
    code: 'upstream-malformed-response',
    detail: (e) => `Azure SignalR answered ${e.operation} with a body the gateway cannot read (${e.upstreamMessage ?? 'malformed'}).`,
  },
  {
    matches: (e) => e.errorCode === INVOCATION_CODES.clientError,
    status: 502,
    code: 'client-invocation-failed',
    detail: (e) => `The client's handler failed${clientSaid(e)}`,
  },
  {
    matches: (e) => e.errorCode === INVOCATION_CODES.noResult,
    status: 502,
    code: 'client-no-result',
    detail: () => 'The client gave no result: it has no handler for the method, or its handler returned nothing.',
  },
  {
    matches: (e) => e.errorCode === INVOCATION_CODES.timeout,
    status: 504,
    code: 'client-invocation-timeout',
    detail: () => "The client did not answer the invocation within the SignalR service's timeout.",
  },
  {
    matches: (e) => e.status === 401 || e.status === 403,
    status: 502,
    code: 'upstream-auth-failed',
    detail: (e) => `Azure SignalR refused the gateway's credentials (${answered(e)}) for ${e.operation}; the gateway's connection string needs fixing.`,
  },
  {
    matches: (e) => e.notExisted,
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
    detail: (e) =>
      `Azure SignalR rejected ${e.operation} with ${answered(e)}; the gateway validates requests first, so this is a gateway bug or API contract drift.`,
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

/**
 * With several endpoints, an operation that did not succeed at every endpoint it had to
 * (docs/azure-compatibility.md#multiple-endpoints):
 *
 * - it took effect at some (`reached`): 502 `partial-failure`, never a success, so no failure is hidden; the endpoints
 *   that took it are listed, since a retry repeats it there;
 * - it took effect nowhere: what a gateway in front of the first failing endpoint alone would have answered (the same
 *   status, code and Retry-After), so a caller's handling of 429, 503 or 504 still applies.
 *
 * Either way `endpoints` gives each endpoint's outcome.
 */
function endpointFailuresProblem(failures: EndpointFailures): ProblemInit {
  const endpoints = failures.outcomes.map((outcome): EndpointOutcome => {
    if (outcome.kind === 'ok') return { endpoint: outcome.endpoint.name, status: (outcome.result as Partial<UpstreamResult>).status ?? 200 };
    if (outcome.error === undefined) return { endpoint: outcome.endpoint.name, status: 404 };
    const { problem } = renderProblem(outcome.error, problemOfUpstream);
    return { endpoint: outcome.endpoint.name, status: problem.status, problem };
  });
  const failed = endpoints.filter((_, at) => failures.outcomes[at].kind === 'failed').map(({ endpoint, problem }) => `${endpoint} (${problem!.code})`);
  const reached = failures.reached.map(({ name }) => name);
  if (reached.length === 0) {
    const first = problemOfUpstream(failures.firstFailure)!;
    return { ...first, detail: `${first.detail} Failed at SignalR endpoint(s) ${failed.join(', ')}.`, endpoints };
  }
  return {
    status: 502,
    code: 'partial-failure',
    detail:
      `${failures.operation} took effect at SignalR endpoint(s) ${reached.join(', ')} but failed at ${failed.join(', ')}. ` +
      `A retry repeats it at ${reached.join(', ')} too (a message is delivered twice to their clients).`,
    endpoints,
  };
}

/** The problem filter's mapper (see app.module.ts): the problem for the upstream room's own errors, undefined for any other. */
export function problemOfUpstream(error: unknown): ProblemInit | undefined {
  if (error instanceof UpstreamError) return upstreamProblem(error);
  if (error instanceof EndpointFailures) return endpointFailuresProblem(error);
  if (error instanceof NoHealthyEndpoint) return { status: 503, code: 'no-healthy-endpoint', detail: `${error.message}.`, headers: { 'retry-after': '5' } };
  if (error instanceof InvalidContinuationToken) {
    return {
      status: 400,
      code: 'validation',
      detail: `query.continuationToken: ${error.message}`,
      errors: [{ field: 'query.continuationToken', message: error.message }],
    };
  }
  // A token Azure would refuse is never sent; callers get 413, as negotiate in Azure's SDK answers.
  if (error instanceof TokenTooLongError) return { status: 413, code: 'token-too-long', detail: error.message };
  // Nothing went upstream: the gateway's own Entra credential failed, which /readyz reports too.
  if (error instanceof EntraAuthError) return { status: 503, code: 'upstream-auth-unavailable', detail: error.message, headers: { 'retry-after': '30' } };
  return undefined;
}

/** Turns the upstream's 404 answer (nothing there: no such group, user, connection or membership) into ours. */
export function requireFound(result: UpstreamResult, detail: string): void {
  if (result.status === 404) throw new ProblemException({ status: 404, code: 'not-found', detail });
}
