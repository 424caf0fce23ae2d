import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger, PinoNestLogger } from '../../src/common/logging.js';

/** Nest's real Logger, written through the gateway's pino logger into memory: one parsed object per line. */
function nestLogger(context: string, level = 'debug'): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  Logger.overrideLogger(new PinoNestLogger(createLogger(level, { write: (line: string) => void lines.push(JSON.parse(line)) })));
  return { logger: new Logger(context), lines };
}

test("a Nest logger's object message reaches pino as fields, named after its class, secrets redacted", () => {
  const { logger, lines } = nestLogger('SignalRClient');
  logger.warn({ msg: 'upstream call failed', status: 503, headers: { authorization: 'Bearer secret-token' } });
  assert.equal(lines.length, 1);
  assert.deepEqual(
    { ...lines[0], time: undefined },
    {
      level: 40,
      time: undefined,
      service: 'signalr-gateway',
      context: 'SignalRClient',
      msg: 'upstream call failed',
      status: 503,
      headers: { authorization: '[redacted]' },
    },
  );
});

test('text messages, errors and stack traces keep their context', () => {
  const { logger, lines } = nestLogger('TokenVerifier');
  logger.log('SSO ready');
  logger.error('unhandled error', 'Error: boom\n    at somewhere');
  logger.error(new Error('boom'));
  assert.deepEqual(
    lines.map(({ level, context, msg, stack }) => ({ level, context, msg, stack })),
    [
      { level: 30, context: 'TokenVerifier', msg: 'SSO ready', stack: undefined },
      { level: 50, context: 'TokenVerifier', msg: 'unhandled error', stack: 'Error: boom\n    at somewhere' },
      { level: 50, context: 'TokenVerifier', msg: 'boom', stack: undefined },
    ],
  );
  assert.equal((lines[2]['err'] as { message: string }).message, 'boom');
});

test("Nest's start-up lines (route map, modules) are debug, not info", () => {
  const { lines } = nestLogger('ignored', 'info');
  new Logger('RouterExplorer').log('Mapped {/api/hubs/:hub/::send, POST} route');
  new Logger('InstanceLoader').log('AppModule dependencies initialized');
  assert.deepEqual(lines, []);
});
