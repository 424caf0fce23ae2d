import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { runUntilExit, type Exited } from '../fixtures/development-process.js';
import { freePort } from '../fixtures/stack.js';

/** A start that fails says one thing on stderr, prints nothing else (no log line, no stack trace) and exits with 1. */
function assertOnlySays(exited: Exited, message: string): void {
  assert.deepEqual({ code: exited.code, stderr: exited.stderr, stdout: exited.stdout }, { code: 1, stderr: `${message}\n`, stdout: '' });
}

describe('the messages of a start that fails (real processes)', () => {
  let ports: Record<'PORT' | 'EMULATOR_PORT' | 'DEV_SSO_PORT', string>;
  let holder: Server;
  let taken: number;
  before(async () => {
    const [port, emulatorPort, ssoPort] = await Promise.all([freePort(), freePort(), freePort()]);
    ports = { PORT: String(port), EMULATOR_PORT: String(emulatorPort), DEV_SSO_PORT: String(ssoPort) };
    holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    taken = (holder.address() as { port: number }).port;
  });
  after(() => holder.close());

  test('PORT=abc gives one problem', async () => {
    assertOnlySays(await runUntilExit('gateway', { ...ports, PORT: 'abc' }), 'Invalid configuration:\n  - PORT: must be a whole number from 0 to 65535');
  });

  test('SSO_ISSUER without SSO_AUDIENCE says it is required when SSO_ISSUER is set, and nothing else starts', async () => {
    assertOnlySays(
      await runUntilExit('gateway', { ...ports, SSO_ISSUER: 'http://127.0.0.1:1' }),
      "Invalid configuration:\n  - SSO_AUDIENCE: is required when SSO_ISSUER is set (the gateway's identifier at the issuer, the tokens' aud)",
    );
  });

  test('HOST=999.1.1.1 is a configuration problem, not a stack trace', async () => {
    assertOnlySays(
      await runUntilExit('gateway', { ...ports, HOST: '999.1.1.1' }),
      'Invalid configuration:\n  - HOST: must be an IP address (e.g. 127.0.0.1, 0.0.0.0, ::) or a host name',
    );
  });

  test('every problem at once, before anything starts', async () => {
    assertOnlySays(
      await runUntilExit('gateway', { ...ports, NODE_ENV: 'production', LOG_LEVEL: 'loud', SSO_ISSUER: 'http://sso.example.com' }),
      [
        'Invalid configuration:',
        '  - SIGNALR_CONNECTION_STRING: required when NODE_ENV=production (the embedded emulator and development SSO are for development only)',
        '  - SSO_AUDIENCE: required when NODE_ENV=production (the embedded emulator and development SSO are for development only)',
        '  - SSO_ISSUER: must be https:// when NODE_ENV=production',
        '  - LOG_LEVEL: must be one of the following values: fatal, error, warn, info, debug, trace, silent',
      ].join('\n'),
    );
  });

  for (const variable of ['PORT', 'EMULATOR_PORT', 'DEV_SSO_PORT'] as const) {
    test(`a taken ${variable} gives one message naming ${variable}`, async () => {
      assertOnlySays(
        await runUntilExit('gateway', { ...ports, [variable]: String(taken) }),
        `Cannot listen on 127.0.0.1:${taken}: the port is in use. Stop what holds it or set ${variable} to a free port.`,
      );
    });
  }

  test('npm run emulator: a taken EMULATOR_PORT gives one message naming EMULATOR_PORT', async () => {
    assertOnlySays(
      await runUntilExit('emulator', { EMULATOR_PORT: String(taken) }),
      `Cannot listen on 127.0.0.1:${taken}: the port is in use. Stop what holds it or set EMULATOR_PORT to a free port.`,
    );
  });
});
