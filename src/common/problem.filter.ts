import { ArgumentsHost, Catch, HttpException, Logger, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PROBLEM_CONTENT_TYPE, ProblemException, problemType, statusTitle, type Problem, type ProblemInit } from './problem.js';

interface Rendered {
  problem: Problem;
  headers: Record<string, string>;
}

/**
 * The problem for an error that another room defines and only the HTTP side knows how to answer (a failed upstream
 * call: src/modules/shared/upstream-problems.ts), or undefined when `error` is not one of them.
 */
export type ProblemMapper = (error: unknown) => ProblemInit | undefined;

/**
 * Turns anything thrown while serving a request into RFC 9457 problem+json: what `mapper` knows as it says, our
 * ProblemExceptions as they are, Nest's HttpExceptions and Fastify's own errors (body too large, bad JSON) by their
 * status, and anything else into a 500 whose detail reveals nothing (it is logged instead).
 */
export function renderProblem(thrown: unknown, mapper: ProblemMapper, requestId?: string): Rendered {
  const mapped = mapper(thrown);
  const error = mapped === undefined ? thrown : new ProblemException(mapped);
  if (error instanceof ProblemException) {
    const { code, title, errors, endpoints, headers } = error;
    const problem = { type: problemType(code), title, status: error.getStatus(), detail: error.message, code, requestId, errors, endpoints };
    return { problem, headers };
  }
  const status = statusOf(error);
  if (status === undefined || status >= 500) {
    logger.error({ msg: 'unhandled error', requestId, err: error });
    return plain(500, 'internal', 'The gateway failed to handle the request; see its logs for the request id.', requestId);
  }
  return plain(status, codeFor(status), detailOf(error, status), requestId);
}

function plain(status: number, code: string, detail: string, requestId?: string): Rendered {
  return { problem: { type: problemType(code), title: statusTitle(status), status, detail, code, requestId }, headers: {} };
}

function statusOf(error: unknown): number | undefined {
  if (error instanceof HttpException) return error.getStatus();
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 600 ? status : undefined;
}

function detailOf(error: unknown, status: number): string {
  if (status === 413) return 'The request body exceeds the 1 MB limit of the SignalR REST API.';
  if (status === 415) return 'Unsupported content type: send application/json.';
  if (error instanceof HttpException) {
    const response = error.getResponse();
    const message = typeof response === 'object' && response !== null ? (response as { message?: unknown }).message : response;
    return Array.isArray(message) ? message.join('; ') : typeof message === 'string' ? message : error.message;
  }
  // Fastify's parser errors carry useful, secret-free messages ("Unexpected token } in JSON at position 9").
  return error instanceof Error ? error.message : statusTitle(status);
}

function codeFor(status: number): string {
  return (
    (
      {
        400: 'bad-request',
        404: 'not-found',
        405: 'method-not-allowed',
        413: 'payload-too-large',
        415: 'unsupported-media-type',
        431: 'headers-too-large',
      } as Record<number, string>
    )[status] ?? `http-${status}`
  );
}

export function sendProblem(reply: FastifyReply, rendered: Rendered): FastifyReply {
  return reply.status(rendered.problem.status).headers(rendered.headers).type(PROBLEM_CONTENT_TYPE).send(rendered.problem);
}

/** The one exception filter of the gateway; `mapper` answers the errors of rooms this one does not know. */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  constructor(private readonly mapper: ProblemMapper) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    sendProblem(http.getResponse<FastifyReply>(), renderProblem(error, this.mapper, request.id));
  }
}

/** renderProblem's logger, declared after the class it is named after (renderProblem runs only later). */
const logger = new Logger(ProblemFilter.name);
