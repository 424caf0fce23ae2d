import type { LoggerService } from '@nestjs/common';
import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { pino, type Logger } from 'pino';

/**
 * Defence in depth: the code never hands a credential to the logger (a test checks the logs of the whole run without
 * redaction), but a header or config object logged by mistake is censored. Exact paths only: wildcard paths made
 * every request line about 10 % more expensive in `npm run bench`.
 */
const REDACT = ['authorization', 'headers.authorization', 'req.headers.authorization', 'err.headers.authorization', 'accessKey', 'token', 'connectionString'];

/**
 * Buffered, asynchronous writes to stdout: a synchronous write per request line cost about a third of the gateway's
 * CPU per request in `npm run bench`. pino flushes the buffer when the process exits.
 */
export function createLogger(level: string): Logger {
  const destination = pino.destination({ dest: 1, sync: false, minLength: 4096 });
  return pino({ level, base: { service: 'signalr-gateway' }, redact: { paths: REDACT, censor: '[redacted]' } }, destination);
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** Reuses a caller's `x-request-id` when it is a plausible id (no log injection), otherwise makes one. */
export function requestIdOf(request: IncomingMessage): string {
  const given = request.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Who called (the SSO token's `azp`, `client_id`, `appid` or `sub`), set by the auth guard; logged, never the token. */
    caller?: string;
  }
}

/** Exactly one log line per request, written when the response is complete. */
export class RequestLogController extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const line = {
      method: request.method,
      route: request.routeOptions.url ?? request.url.split('?')[0],
      status: reply.statusCode,
      durationMs: Math.round(reply.elapsedTime * 10) / 10,
      caller: request.caller,
    };
    if (error) reply.log.error({ ...line, err: error }, 'request failed');
    else reply.log.info(line, 'request');
  }
}

/** Routes Nest's own messages (boot, route map, filter errors) into the same JSON log stream. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}
  log(message: unknown, context?: string): void { this.logger.info({ context }, text(message)); }
  error(message: unknown, trace?: string, context?: string): void { this.logger.error({ context, trace }, text(message)); }
  warn(message: unknown, context?: string): void { this.logger.warn({ context }, text(message)); }
  debug(message: unknown, context?: string): void { this.logger.debug({ context }, text(message)); }
  verbose(message: unknown, context?: string): void { this.logger.trace({ context }, text(message)); }
}

function text(message: unknown): string {
  return typeof message === 'string' ? message : JSON.stringify(message);
}
