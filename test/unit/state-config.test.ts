import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StateConfig } from '../../src/config/state.config.js';
import { ConfigError } from '../../src/config/validate-env.js';

describe('StateConfig: shared state, idempotency and rate limits', () => {
  it('has the documented defaults: memory, 24 h records, no limit', () => {
    const config = StateConfig.fromEnv({});
    assert.equal(config.redisUrl, undefined);
    assert.equal(config.idempotencyTtlSeconds, 86_400);
    assert.equal(config.memoryMaxEntries, 100_000);
    assert.equal(config.rateOf('anyone'), undefined);
  });

  it('reads RATE_LIMIT for every caller and RATE_LIMIT_OVERRIDES for named ones', () => {
    const config = StateConfig.fromEnv({ RATE_LIMIT: '200/1', RATE_LIMIT_OVERRIDES: 'client-a=1000/1, client-b=10/60', REDIS_URL: 'redis://cache:6379/2' });
    assert.deepEqual(config.rateOf('anyone'), { count: 200, seconds: 1 });
    assert.deepEqual(config.rateOf('client-a'), { count: 1000, seconds: 1 });
    assert.deepEqual(config.rateOf('client-b'), { count: 10, seconds: 60 });
    assert.equal(config.redisUrl, 'redis://cache:6379/2');
    assert.deepEqual(StateConfig.fromEnv({ RATE_LIMIT_OVERRIDES: 'only=5/1' }).rateOf('other'), undefined);
  });

  it('refuses malformed budgets, URLs and a client named twice, naming the variable', () => {
    for (const [name, value] of [
      ['RATE_LIMIT', '200'],
      ['RATE_LIMIT', '0/1'],
      ['RATE_LIMIT', '10/0'],
      ['RATE_LIMIT', '1.5/1'],
      ['RATE_LIMIT_OVERRIDES', 'client-a'],
      ['RATE_LIMIT_OVERRIDES', 'client-a=10/1,client-a=20/1'],
      ['REDIS_URL', 'http://cache:6379'],
      ['IDEMPOTENCY_TTL_S', '0'],
      ['STATE_MEMORY_MAX_ENTRIES', '10'],
    ] as const) {
      assert.throws(
        () => StateConfig.fromEnv({ [name]: value }),
        (error: Error) => error instanceof ConfigError && error.message.includes(name),
        `${name}=${value}`,
      );
    }
  });
});
