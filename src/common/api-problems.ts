import { applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { ProblemDto } from './problem.dto.js';
import { PROBLEM_CONTENT_TYPE } from './problem.js';

const PROBLEMS: Record<number, string> = {
  400: 'Invalid request: a field error per bad path segment, query value or body property (code `validation`), or malformed JSON.',
  404: 'Nothing there (no connection, user, group or membership).',
  413: "The request body exceeds 1 MB (the SignalR REST API limit), or the SignalR token would exceed Azure's 4096 characters (code `token-too-long`: names too long once escaped, or too many claims).",
  415: 'The body is not `application/json`.',
  429: 'The SignalR service is throttling; retry after `Retry-After` seconds.',
  502: "The SignalR service failed or refused the gateway's credentials.",
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
