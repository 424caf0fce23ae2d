import assert from 'node:assert/strict';
import { eventually } from '../fixtures/stack.js';
import { after, before, describe, test } from 'node:test';
import { MemoryState } from '../../src/state/memory-state.js';
import { RedisState } from '../../src/state/redis-state.js';
import { StateUnavailable, type SharedState } from '../../src/state/shared-state.js';
import { SKIP_WITHOUT_REDIS, startRedis, type RunningRedis } from '../fixtures/redis-server.js';

const MINUTE = { count: 5, seconds: 60 };
let unique = 0;
const keyOf = (name: string): string => `${name}-${++unique}-${Date.now()}`;

/** Polls `check` (bounded) until it holds: for expiry, without asserting on a duration. */
/** The one behaviour both stores must have: the idempotency and rate-limit pieces rely on nothing else. */
function behaviour(name: string, state: () => SharedState): void {
  describe(`${name}: shared state behaviour`, () => {
    test('putIfAbsent stores once and answers the value held', async () => {
      const key = keyOf('put');
      assert.equal(await state().putIfAbsent(key, 'first', 60_000), undefined);
      assert.equal(await state().putIfAbsent(key, 'second', 60_000), 'first');
    });

    test('of 50 concurrent putIfAbsent, exactly one stores', async () => {
      const key = keyOf('race');
      const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => state().putIfAbsent(key, `v${i}`, 60_000)));
      const winners = answers.filter((answer) => answer === undefined);
      assert.equal(winners.length, 1);
      const held = answers.find((answer) => answer !== undefined);
      assert.ok(answers.every((answer) => answer === undefined || answer === held));
    });

    test('replaceIf and deleteIf act only on the expected value', async () => {
      const key = keyOf('cas');
      await state().putIfAbsent(key, 'pending', 60_000);
      assert.equal(await state().replaceIf(key, 'other', 'done', 60_000), false);
      assert.equal(await state().deleteIf(key, 'other'), false);
      assert.equal(await state().replaceIf(key, 'pending', 'done', 60_000), true);
      assert.equal(await state().putIfAbsent(key, 'x', 60_000), 'done');
      assert.equal(await state().deleteIf(key, 'pending'), false);
      assert.equal(await state().deleteIf(key, 'done'), true);
      assert.equal(await state().putIfAbsent(key, 'again', 60_000), undefined);
      assert.equal(await state().replaceIf(keyOf('missing'), 'pending', 'done', 60_000), false);
    });

    test('values expire after their time to live', async () => {
      const key = keyOf('ttl');
      await state().putIfAbsent(key, 'short', 30);
      await eventually(async () => (await state().putIfAbsent(key, 'later', 60_000)) === undefined, 'the value expired');
    });

    test('consume spends a budget whole or not at all (GCRA: the whole count at once, then count per seconds)', async () => {
      const key = keyOf('rate');
      const first = await state().consume(key, 3, MINUTE);
      assert.deepEqual({ ...first }, { allowed: true, remaining: 2, resetSeconds: 36, retryAfterSeconds: 0 });
      const refused = await state().consume(key, 3, MINUTE);
      assert.equal(refused.allowed, false);
      assert.equal(refused.remaining, 2);
      assert.ok(refused.retryAfterSeconds >= 1 && refused.retryAfterSeconds <= 12, `retry after ${refused.retryAfterSeconds}`);
      const rest = await state().consume(key, 2, MINUTE);
      assert.equal(rest.allowed, true);
      assert.equal(rest.remaining, 0);
      assert.equal(rest.resetSeconds, 60);
      assert.equal((await state().consume(key, 1, MINUTE)).allowed, false);
      assert.equal((await state().consume(keyOf('other-caller'), 5, MINUTE)).allowed, true);
      const fresh = await state().consume(keyOf('read-only'), 0, MINUTE);
      assert.deepEqual({ ...fresh }, { allowed: true, remaining: 5, resetSeconds: 0, retryAfterSeconds: 0 });
      const read = await state().consume(key, 0, MINUTE);
      assert.equal(read.remaining, 0);
    });

    test('of 40 concurrent unit requests on a budget of 10, exactly 10 pass', async () => {
      const key = keyOf('rate-race');
      const decisions = await Promise.all(Array.from({ length: 40 }, () => state().consume(key, 1, { count: 10, seconds: 3600 })));
      assert.equal(decisions.filter((decision) => decision.allowed).length, 10);
    });

    test('a spent budget comes back with time', async () => {
      const key = keyOf('refill');
      const rate = { count: 20, seconds: 1 };
      assert.equal((await state().consume(key, 20, rate)).allowed, true);
      assert.equal((await state().consume(key, 1, rate)).allowed, false);
      await eventually(async () => (await state().consume(key, 1, rate)).allowed, 'one unit came back');
    });
  });
}

const memory = new MemoryState(10_000);
behaviour('memory', () => memory);

describe('memory: bounded', () => {
  test('holds at most maxEntries, expired ones evicted first, then the oldest', async () => {
    let now = 1_000_000;
    const state = new MemoryState(100, () => now);
    await state.putIfAbsent('keep-young', 'v', 3_600_000);
    for (let i = 0; i < 50; i += 1) await state.putIfAbsent(`short-${i}`, 'v', 10);
    now += 100;
    for (let i = 0; i < 5_000; i += 1) {
      await state.putIfAbsent(`key-${i}`, 'v', 3_600_000);
      assert.ok(state.size <= 100, `size ${state.size}`);
    }
    // The newest survive, the oldest went.
    assert.equal(await state.putIfAbsent('key-4999', 'x', 1), 'v');
    assert.equal(await state.putIfAbsent('key-0', 'x', 1), undefined);
  });
});

describe('redis', { skip: SKIP_WITHOUT_REDIS }, () => {
  let redis: RunningRedis;
  let state: RedisState;

  before(async () => {
    redis = await startRedis();
    state = new RedisState({ url: redis.url, timeoutMs: 300, keyPrefix: 'test:' });
    await state.ping();
  });

  after(async () => {
    await state?.close();
    await redis?.kill();
  });

  behaviour('redis', () => state);

  test('redis: unreachable, every operation rejects with StateUnavailable (bounded by the timeout); back, it works again', async () => {
    await redis.kill();
    await assert.rejects(state.putIfAbsent(keyOf('down'), 'v', 1000), StateUnavailable);
    await assert.rejects(state.consume(keyOf('down'), 1, MINUTE), StateUnavailable);
    await assert.rejects(state.ping(), StateUnavailable);
    await redis.restart();
    await eventually(
      () =>
        state.ping().then(
          () => true,
          () => false,
        ),
      'reconnected',
    );
    assert.equal(await state.putIfAbsent(keyOf('up'), 'v', 1000), undefined);
  });
});
