import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ServerConfig } from '../../src/config/server.config.js';
import { ConfigError } from '../../src/config/validate-env.js';

describe('ServerConfig: timeouts and shutdown', () => {
  it("has the documented defaults: keep-alive longer than a load balancer's 60 s, a drain delay in production only", () => {
    const development = ServerConfig.fromEnv({});
    assert.deepEqual(development.timeouts, { headersMs: 10_000, requestMs: 30_000, keepAliveMs: 75_000, connectionMs: 60_000 });
    assert.deepEqual(development.shutdown, { drainDelayMs: 0, timeoutMs: 25_000 });
    assert.deepEqual(ServerConfig.fromEnv({ NODE_ENV: 'production' }).shutdown, { drainDelayMs: 10_000, timeoutMs: 25_000 });
    assert.equal(ServerConfig.fromEnv({ NODE_ENV: 'production', SHUTDOWN_DRAIN_DELAY_MS: '0' }).shutdown.drainDelayMs, 0);
  });

  it('refuses a headers timeout longer than the request timeout, and values that are not positive integers', () => {
    assert.throws(
      () => ServerConfig.fromEnv({ HTTP_HEADERS_TIMEOUT_MS: '2000', HTTP_REQUEST_TIMEOUT_MS: '1000' }),
      (error: Error) => error instanceof ConfigError && /HTTP_HEADERS_TIMEOUT_MS: must not exceed HTTP_REQUEST_TIMEOUT_MS/.test(error.message),
    );
    for (const [name, value] of [
      ['HTTP_KEEP_ALIVE_TIMEOUT_MS', '0'],
      ['HTTP_REQUEST_TIMEOUT_MS', 'abc'],
      ['SHUTDOWN_TIMEOUT_MS', '1.5'],
      ['SHUTDOWN_DRAIN_DELAY_MS', '-1'],
    ] as const) {
      assert.throws(
        () => ServerConfig.fromEnv({ [name]: value }),
        (error: Error) => error instanceof ConfigError && error.message.includes(name),
        name,
      );
    }
  });
});
