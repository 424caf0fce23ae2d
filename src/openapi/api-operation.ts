import { applyDecorators, HttpCode } from '@nestjs/common';
import { ApiExtraModels, ApiOperation, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { PROBLEM_CONTENT_TYPE } from '../common/problem.js';
import { ProblemDto } from './problem.dto.js';

const PROBLEMS: Record<number, string> = {
  400: 'Invalid request: a field error per bad path segment, query value or body property (code `validation`), or malformed JSON.',
  404: 'Nothing there (no connection, user, group or membership).',
  413: 'The request body exceeds 1 MB (the SignalR REST API limit), or the SignalR token would exceed Azure\'s 4096 characters (code `token-too-long`: names too long once escaped, or too many claims).',
  415: 'The body is not `application/json`.',
  429: 'The SignalR service is throttling; retry after `Retry-After` seconds.',
  502: 'The SignalR service failed or refused the gateway\'s credentials.',
  503: 'The SignalR service cannot be reached.',
  504: 'The SignalR service did not answer in time.',
};

/** The problem+json error responses of an operation, by status. */
export const ApiProblems = (...statuses: number[]): MethodDecorator =>
  applyDecorators(
    ApiExtraModels(ProblemDto),
    ...statuses.map((status) =>
      ApiResponse({
        status,
        description: PROBLEMS[status],
        content: { [PROBLEM_CONTENT_TYPE.split(';')[0]]: { schema: { $ref: getSchemaPath(ProblemDto) } } },
        headers: status === 429 ? { 'Retry-After': { description: 'Seconds to wait before retrying.', schema: { type: 'integer' } } } : undefined,
      }),
    ),
  );

const SUCCESSES: Record<number, string> = {
  200: 'Done.',
  202: 'Accepted for delivery by the SignalR service (not a delivery confirmation).',
  204: 'Done.',
  207: 'One result per recipient, each with the status its own call got.',
};

export interface UpstreamOperation {
  operationId: string;
  summary: string;
  description?: string;
  /** The success status, set as the route's HTTP code and documented. */
  status: 200 | 202 | 204 | 207;
  /** The success body's class, if any. */
  type?: new () => object;
  /** The operation has a JSON body (so 415 is possible). */
  body?: boolean;
  /** The operation answers 404 when its target does not exist. */
  notFound?: boolean;
}

/**
 * Declares an operation that is forwarded to the SignalR service: its success code (set and documented at once, so
 * they cannot drift apart), its OpenAPI identity and every error it can answer.
 */
export function ApiUpstreamOperation({ operationId, summary, description, status, type, body = false, notFound = false }: UpstreamOperation): MethodDecorator {
  // 401 and 403 are documented by RequirePermission, with the security requirement.
  // 413 for every operation: the names in a path (or a fan-out's body) can make the REST token too long.
  const problems = [400, ...(notFound ? [404] : []), 413, ...(body ? [415] : []), 429, 502, 503, 504];
  return applyDecorators(
    HttpCode(status),
    ApiOperation({ operationId, summary, description }),
    ApiResponse({ status, description: SUCCESSES[status], type }),
    ApiProblems(...problems),
  );
}
