import type { LoggerService } from '@nestjs/common';
import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import * as onExit from 'on-exit-leak-free';
import { pino, type DestinationStream, type Logger } from 'pino';

/**
 * Defence in depth: the code never hands a credential to the logger (a test checks the logs of the whole run without
 * redaction), but a header or config object logged by mistake is censored. Exact paths only: wildcard paths made
 * every request line about 10 % more expensive in `npm run bench`.
 */
const REDACT = ['authorization', 'headers.authorization', 'req.headers.authorization', 'err.headers.authorization', 'accessKey', 'token', 'connectionString'];

/**
 * JSON lines on stdout, unless `destination` says otherwise (development's readable logs), through `bufferedLines`.
 */
export function createLogger(level: string, destination: DestinationStream = bufferedLines(1)): Logger {
  return pino({ level, base: { service: 'signalr-gateway' }, redact: { paths: REDACT, censor: '[redacted]' } }, destination);
}

/** How long a line may wait in the buffer of `bufferedLines` when traffic is too light to fill it. */
export const LOG_FLUSH_INTERVAL_MS = 1000;

/**
 * Where log and audit lines go (a file descriptor or a file path): buffered up to 4 KB, then written synchronously,
 * and at least every second. Measured in `npm run bench` (scenario 5): a synchronous write per line cost about a
 * third of the gateway's CPU per request; asynchronous writes of the buffer, 9 µs more per request than synchronous
 * ones (each went through libuv's thread pool and back); and without a timer a quiet gateway held its lines until 4 KB
 * had gathered. A stdout that stops reading holds the gateway back rather than filling its memory. What is buffered is
 * written when the process exits (`process.exit` included; pino does that only for asynchronous destinations), and
 * on `logger.flush`.
 */
export function bufferedLines(dest: number | string): DestinationStream {
  const stream = pino.destination({
    dest,
    sync: true,
    minLength: 4096,
    periodicFlush: LOG_FLUSH_INTERVAL_MS,
    ...(typeof dest === 'string' && { append: true, mkdir: true }),
  });
  onExit.register(stream, (exiting) => {
    try {
      exiting.flushSync();
    } catch {
      // Closed or broken (EPIPE): there is nowhere left to write to.
    }
  });
  return stream;
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

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/**
 * Nest's start-up chatter, the same on every start ("Mapped {/api/hubs/:hub/::send, POST} route" and 30 more
 * lines): at debug level, so a start shows what differs (warnings, the SSO, where it listens). /openapi.json
 * lists the routes.
 */
const START_UP_CONTEXTS = new Set(['NestFactory', 'InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestApplication']);

/**
 * Nest's loggers (`new Logger(X.name)`, and Nest's own) written to pino: `context` names the class, an object
 * message keeps its fields (`logger.warn({ msg: 'upstream call failed', status })`), so redaction applies to them.
 */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}
  log(message: unknown, ...params: unknown[]): void {
    this.write(START_UP_CONTEXTS.has(contextOf(params) ?? '') ? 'debug' : 'info', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  private write(level: Level, message: unknown, params: unknown[]): void {
    // Nest's Logger appends its context as the last parameter; `error(message, stack)` puts a stack before it.
    const context = contextOf(params);
    const stack = params.length > 1 && typeof params.at(-2) === 'string' ? params.at(-2) : undefined;
    const fields = { context, stack };
    if (message instanceof Error) this.logger[level]({ ...fields, err: message }, message.message);
    else if (typeof message === 'object' && message !== null) this.logger[level]({ ...fields, ...message });
    else this.logger[level](fields, String(message));
  }
}

function contextOf(params: readonly unknown[]): string | undefined {
  const last = params.at(-1);
  return typeof last === 'string' ? last : undefined;
}
