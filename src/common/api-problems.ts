import { applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { ProblemDto } from './problem.dto.js';
import { PROBLEM_CONTENT_TYPE } from './problem.js';

const PROBLEMS: Record<number, string> = {
  400: 'Invalid request: a field error per bad path segment, query value or body property (code `validation`), or malformed JSON.',
  404: 'Nothing there (no connection, user, group or membership).',
  413: "The request body exceeds 1 MB (the SignalR REST API limit), or the SignalR token would exceed Azure's 4096 characters (code `token-too-long`: names too long once escaped, or too many claims).",
  409: 'A request with the same `Idempotency-Key` is still in flight (code `idempotency-key-in-flight`); retry after `Retry-After` seconds to get its outcome.',
  415: 'The body is not `application/json`.',
  422: 'The `Idempotency-Key` was already used for a different request: method, path, query or body (code `idempotency-key-reused`).',
  429: "The caller's rate limit is spent (code `rate-limited`, or `rate-limit-exceeded` when one request costs more than the whole budget), or the SignalR service is throttling (`upstream-throttled`); retry after `Retry-After` seconds.",
  502: "The SignalR service failed or refused the gateway's credentials. With several SignalR endpoints, code `partial-failure`: the operation took effect at some endpoints and failed at others; `endpoints` gives each one's outcome, and a retry repeats it where it took effect (a message is delivered there twice).",
  503: 'The SignalR service cannot be reached (with several endpoints, negotiate: none is healthy, code `no-healthy-endpoint`); with a Microsoft Entra ID connection string, no Entra token or temporary signing key can be had (code `upstream-auth-unavailable`); or an `Idempotency-Key` cannot be checked because the shared state (Redis) cannot be reached (code `idempotency-unavailable`).',
  504: 'The SignalR service did not answer in time.',
};

/** The rate-limit fields (draft-ietf-httpapi-ratelimit-headers) on every answer to a caller with a limit. */
export const RATE_LIMIT_HEADERS = {
  'RateLimit-Policy': { description: "The caller's budget, when it has one: `caller;q=<upstream calls>;w=<seconds>`.", schema: { type: 'string' } },
  RateLimit: { description: 'What is left of it: `caller;r=<remaining>;t=<seconds until all of it is back>`.', schema: { type: 'string' } },
} as const;

const RETRY_AFTER = { 'Retry-After': { description: 'Seconds to wait before retrying.', schema: { type: 'integer' } } } as const;

/** The problem+json error responses of an operation, by status. */
export const ApiProblems = (...statuses: number[]): MethodDecorator =>
  applyDecorators(
    ApiExtraModels(ProblemDto),
    ...statuses.map((status) =>
      ApiResponse({
        status,
        description: PROBLEMS[status],
        content: { [PROBLEM_CONTENT_TYPE.split(';')[0]]: { schema: { $ref: getSchemaPath(ProblemDto) } } },
        headers: status === 429 ? { ...RETRY_AFTER, ...RATE_LIMIT_HEADERS } : status === 409 ? RETRY_AFTER : undefined,
      }),
    ),
  );
