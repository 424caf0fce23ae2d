import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { createLogger, LOG_FLUSH_INTERVAL_MS, PinoNestLogger } from '../../src/common/logging.js';

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

/** A Node process that logs one line to its stdout through createLogger, then runs `then` (its own source text). */
function loggingProcess(then: string): ChildProcess {
  const logging = new URL('../../src/common/logging.js', import.meta.url).href;
  const source = `const { createLogger } = await import(${JSON.stringify(logging)}); createLogger('info').info('one line'); ${then}`;
  return spawn(process.execPath, ['--input-type=module', '-e', source], { stdio: ['ignore', 'pipe', 'inherit'] });
}

test('a quiet process writes its buffered log lines within the flush interval, not when 4 KB have gathered', { timeout: 20_000 }, async (t) => {
  const child = loggingProcess('setTimeout(() => {}, 60_000);');
  t.after(() => child.kill());
  const started = Date.now();
  const [chunk] = (await once(child.stdout!, 'data')) as [Buffer];
  assert.equal((JSON.parse(chunk.toString()) as { msg: string }).msg, 'one line');
  // Generous against a slow machine, yet far below the 60 s the process would otherwise hold the line.
  assert.ok(Date.now() - started < LOG_FLUSH_INTERVAL_MS + 10_000, 'the line came out while the process was still running');
  assert.equal(child.exitCode, null);
});

test('process.exit writes what is buffered', async () => {
  const child = loggingProcess('process.exit(3);');
  const chunks: Buffer[] = [];
  child.stdout!.on('data', (chunk: Buffer) => chunks.push(chunk));
  const [code] = (await once(child, 'exit')) as [number];
  assert.equal(code, 3);
  assert.equal((JSON.parse(Buffer.concat(chunks).toString()) as { msg: string }).msg, 'one line');
});
