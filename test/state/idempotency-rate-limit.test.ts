import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MemoryState } from '../../src/state/memory-state.js';
import { SharedState } from '../../src/state/shared-state.js';
import { startFullStack, type FullStack } from '../fixtures/stack.js';
import { startUpstreamStandIn, type UpstreamStandIn } from '../fixtures/upstream-stand-in.js';
import { listen, parseRateLimit, rawStatus, type Listener } from './helpers.js';

/**
 * One gateway, state in memory: Idempotency-Key and per-caller limits through HTTP, with a real SignalR client of
 * the emulator counting deliveries. The service token (the development service client) has no limit; tokens of
 * caller `limited` have 5 upstream calls per minute.
 */
describe('idempotency and rate limits, one gateway, in memory', () => {
  let stack: FullStack;
  let dora: Listener;
  let limited: string;
  let n = 0;
  const key = (): string => `key-${++n}`;
  const send = (text: string, headers: Record<string, string> = {}, token?: string) =>
    stack.api('POST', '/api/hubs/chat/users/dora/:send', { body: { target: 'note', arguments: [text] }, headers, token });

  before(async () => {
    stack = await startFullStack({ env: { RATE_LIMIT_OVERRIDES: 'limited=5/60', STATE_MEMORY_MAX_ENTRIES: '200' } });
    dora = await listen(stack.emulator, 'dora');
    limited = await stack.forgeToken({ azp: 'limited', scope: 'signalr.send signalr.connections' });
  });

  after(async () => {
    await dora?.close();
    await stack?.close();
  });

  test('the same key twice: one delivery, the second answer replayed with Idempotency-Replayed', async () => {
    const k = key();
    const first = await send('once', { 'idempotency-key': k });
    const second = await send('once', { 'idempotency-key': k });
    assert.equal(first.status, 202);
    assert.equal(first.headers.get('idempotency-replayed'), null);
    assert.equal(second.status, 202);
    assert.equal(second.headers.get('idempotency-replayed'), 'true');
    await send('marker-1');
    await dora.settled('marker-1');
    assert.equal(dora.count('once'), 1);
  });

  test('a quoted structured-field key is the same key as the bare one', async () => {
    const first = await send('quoted', { 'idempotency-key': 'abc-quoted' });
    const second = await send('quoted', { 'idempotency-key': '"abc-quoted"' });
    assert.equal(first.status, 202);
    assert.equal(second.headers.get('idempotency-replayed'), 'true');
  });

  test('the same key with another body, path or query: 422, nothing sent', async () => {
    const k = key();
    assert.equal((await send('a', { 'idempotency-key': k })).status, 202);
    const other = await send('b', { 'idempotency-key': k });
    assert.equal(other.status, 422);
    assert.equal(other.json.code, 'idempotency-key-reused');
    assert.match(other.headers.get('content-type') ?? '', /^application\/problem\+json/);
    const otherUser = await stack.api('POST', '/api/hubs/chat/users/eve/:send', {
      body: { target: 'note', arguments: ['a'] },
      headers: { 'idempotency-key': k },
    });
    assert.equal(otherUser.status, 422);
    await send('marker-2');
    await dora.settled('marker-2');
    assert.equal(dora.count('b'), 0);
  });

  test('keys are per caller and per operation: the same key elsewhere is a new request', async () => {
    const k = key();
    assert.equal((await send('per-caller', { 'idempotency-key': k })).status, 202);
    const byOther = await send('per-caller', { 'idempotency-key': k }, await stack.forgeToken({ azp: 'someone-else', scope: 'signalr.send' }));
    assert.equal(byOther.status, 202);
    assert.equal(byOther.headers.get('idempotency-replayed'), null);
    const close = await stack.api('POST', '/api/hubs/chat/users/nobody/:closeConnections', { headers: { 'idempotency-key': k } });
    assert.equal(close.status, 204);
    await send('marker-3');
    await dora.settled('marker-3');
    assert.equal(dora.count('per-caller'), 2);
  });

  test('a 4xx outcome is kept and replayed as the same problem, with its own request id', async () => {
    const k = key();
    const bad = { target: '', arguments: [] };
    const first = await stack.api('POST', '/api/hubs/chat/users/dora/:send', { body: bad, headers: { 'idempotency-key': k } });
    const second = await stack.api('POST', '/api/hubs/chat/users/dora/:send', { body: bad, headers: { 'idempotency-key': k } });
    assert.equal(first.status, 400);
    assert.equal(second.status, 400);
    assert.equal(second.headers.get('idempotency-replayed'), 'true');
    assert.deepEqual({ ...second.json, requestId: undefined }, { ...first.json, requestId: undefined });
    assert.notEqual(second.json.requestId, first.json.requestId);
  });

  test('fan-outs and :generateToken replay their bodies', async () => {
    const k = key();
    const body = { users: ['dora', 'eve'], target: 'note', arguments: ['fan'] };
    const first = await stack.api('POST', '/api/hubs/chat/:sendToUsers', { body, headers: { 'idempotency-key': k } });
    const second = await stack.api('POST', '/api/hubs/chat/:sendToUsers', { body, headers: { 'idempotency-key': k } });
    assert.equal(first.status, 207);
    assert.equal(second.status, 207);
    assert.deepEqual(second.json, first.json);
    const token = await stack.api('POST', '/api/hubs/chat/:generateToken?userId=dora', { headers: { 'idempotency-key': k } });
    const again = await stack.api('POST', '/api/hubs/chat/:generateToken?userId=dora', { headers: { 'idempotency-key': k } });
    assert.equal(token.status, 200);
    assert.deepEqual(again.json, token.json);
    await send('marker-4');
    await dora.settled('marker-4');
    assert.equal(dora.count('fan'), 1);
  });

  describe('adversarial keys', () => {
    for (const [name, value] of [
      ['empty', ''],
      ['256 characters', 'k'.repeat(256)],
      ['a quoted empty string', '""'],
    ] as const) {
      test(`${name}: 400, nothing sent`, async () => {
        const reply = await send('bad-key', { 'idempotency-key': value });
        assert.equal(reply.status, 400);
        assert.equal(reply.json.code, 'invalid-idempotency-key');
      });
    }

    test('255 printable characters are a key', async () => {
      assert.equal((await send('long-key', { 'idempotency-key': '~'.repeat(255) })).status, 202);
    });

    test('control characters, non-ASCII bytes, two headers: 400', async () => {
      const token = await stack.serviceToken();
      const body = JSON.stringify({ target: 'note', arguments: ['raw'] });
      const head = (...keys: string[]) => [
        'POST /api/hubs/chat/users/dora/:send HTTP/1.1',
        'host: 127.0.0.1',
        `authorization: Bearer ${token}`,
        'content-type: application/json',
        ...keys.map((value) => `idempotency-key: ${value}`),
      ];
      assert.equal(await rawStatus(stack.gatewayUrl, head('a\x01b'), body), 400);
      assert.equal(await rawStatus(stack.gatewayUrl, head('caf\xe9'), body), 400);
      assert.equal(await rawStatus(stack.gatewayUrl, head('one', 'two'), body), 400);
      assert.equal(await rawStatus(stack.gatewayUrl, head('fine-raw-key'), body), 202);
      await send('marker-5');
      await dora.settled('marker-5');
      assert.equal(dora.count('raw'), 1);
    });

    test('keys are read after the SSO check: 401 without a token and 403 without the permission, the key left free', async () => {
      const k = key();
      const anonymous = await stack.api('POST', '/api/hubs/chat/users/dora/:send', {
        body: { target: 'note', arguments: ['anonymous'] },
        headers: { 'idempotency-key': '' },
        anonymous: true,
      });
      assert.equal(anonymous.status, 401);
      const unpermitted = await send('unpermitted', { 'idempotency-key': k }, await stack.forgeToken({ azp: 'reader', scope: 'signalr.read' }));
      assert.equal(unpermitted.status, 403);
      const permitted = await send('unpermitted', { 'idempotency-key': k }, await stack.forgeToken({ azp: 'reader', scope: 'signalr.send' }));
      assert.equal(permitted.status, 202);
      assert.equal(permitted.headers.get('idempotency-replayed'), null);
    });

    test('a body over the limit with a key is refused (413) and does not take the key', async () => {
      const k = key();
      const huge = await stack.api('POST', '/api/hubs/chat/users/dora/:send', {
        body: { target: 'note', arguments: ['x'.repeat(1_100_000)] },
        headers: { 'idempotency-key': k },
      });
      assert.equal(huge.status, 413);
      assert.equal((await send('after-huge', { 'idempotency-key': k })).status, 202);
    });

    test('a body near the limit with a key is kept by its fingerprint only', async () => {
      const k = key();
      const big = { target: 'note', arguments: ['y'.repeat(900_000)] };
      assert.equal((await stack.api('POST', '/api/hubs/chat/users/nobody/:send', { body: big, headers: { 'idempotency-key': k } })).status, 202);
      const again = await stack.api('POST', '/api/hubs/chat/users/nobody/:send', { body: big, headers: { 'idempotency-key': k } });
      assert.equal(again.headers.get('idempotency-replayed'), 'true');
    });

    test('many distinct keys: the memory store stays within STATE_MEMORY_MAX_ENTRIES', async () => {
      const state = stack.app.get(SharedState);
      assert.ok(state instanceof MemoryState);
      for (let i = 0; i < 300; i += 1) {
        const reply = await stack.api('POST', '/api/hubs/chat/users/nobody/:send', {
          body: { target: 'note', arguments: [i] },
          headers: { 'idempotency-key': `many-${i}` },
        });
        assert.equal(reply.status, 202);
        assert.ok(state.size <= 200, `${state.size} entries`);
      }
    });
  });

  describe('rate limits', () => {
    test('every answer to a limited caller carries RateLimit-Policy and RateLimit; others carry none', async () => {
      const reply = await send('limited-1', {}, limited);
      assert.equal(reply.status, 202);
      const fields = parseRateLimit(reply.headers);
      assert.deepEqual({ q: fields.q, w: fields.w, r: fields.r }, { q: 5, w: 60, r: 4 });
      assert.ok(fields.t >= 1 && fields.t <= 60);
      const unlimited = await send('unlimited');
      assert.equal(unlimited.headers.get('ratelimit'), null);
      assert.equal(unlimited.headers.get('ratelimit-policy'), null);
    });

    test('a fan-out costs one per recipient and is refused whole, before any upstream call, when it does not fit', async () => {
      const fan = (users: string[], text: string) =>
        stack.api('POST', '/api/hubs/chat/:sendToUsers', { body: { users, target: 'note', arguments: [text] }, token: limited });
      const tooBig = await fan(['dora', 'a', 'b', 'c', 'd', 'e'], 'six');
      assert.equal(tooBig.status, 429);
      assert.equal(tooBig.json.code, 'rate-limit-exceeded');
      assert.equal(parseRateLimit(tooBig.headers).q, 5);
      const three = await fan(['dora', 'x', 'y'], 'three');
      assert.equal(three.status, 207);
      assert.equal(parseRateLimit(three.headers).r, 1);
      const refused = await fan(['dora', 'z'], 'refused');
      assert.equal(refused.status, 429);
      assert.equal(refused.json.code, 'rate-limited');
      const retryAfter = Number(refused.headers.get('retry-after'));
      assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
      assert.equal(parseRateLimit(refused.headers).r, 1);
      await send('marker-6');
      await dora.settled('marker-6');
      assert.equal(dora.count('six'), 0);
      assert.equal(dora.count('three'), 1);
      assert.equal(dora.count('refused'), 0);
    });

    test('health and negotiate are not counted', async () => {
      for (let i = 0; i < 10; i += 1) {
        const health = await stack.api('GET', '/api/health', { token: limited });
        assert.equal(health.headers.get('ratelimit'), null);
      }
      const userToken = await stack.forgeToken({ azp: 'limited', sub: 'dora' });
      for (let i = 0; i < 10; i += 1) assert.equal((await stack.api('POST', '/hubs/chat/negotiate?negotiateVersion=1', { token: userToken })).status, 200);
    });

    test('a replayed outcome costs nothing; a refused request does not take its key', async () => {
      // 4 of the 5 are spent by the tests above: this send takes the last one.
      const last = await send('keyed', { 'idempotency-key': 'limited-key' }, limited);
      assert.equal(last.status, 202);
      assert.equal(parseRateLimit(last.headers).r, 0);
      const replay = await send('keyed', { 'idempotency-key': 'limited-key' }, limited);
      assert.equal(replay.status, 202);
      assert.equal(replay.headers.get('idempotency-replayed'), 'true');
      for (let attempt = 0; attempt < 2; attempt += 1) {
        const refused = await send('refused-keyed', { 'idempotency-key': 'refused-key' }, limited);
        assert.equal(refused.status, 429);
        assert.equal(refused.json.code, 'rate-limited');
        assert.equal(refused.headers.get('idempotency-replayed'), null);
      }
    });
  });
});

describe('idempotency in front of several SignalR endpoints', () => {
  let east: UpstreamStandIn;
  let west: UpstreamStandIn;
  let stack: FullStack;

  before(async () => {
    [east, west] = await Promise.all([startUpstreamStandIn(), startUpstreamStandIn()]);
    stack = await startFullStack({ upstream: { endpoints: { east: east.connectionString, west: west.connectionString } } });
  });

  after(async () => {
    await stack?.close();
    await Promise.all([east?.close(), west?.close()]);
  });

  test("a kept 4xx is replayed with each endpoint's outcome", async () => {
    // Azure refuses the message as too large at both: a 4xx the gateway keeps under the key.
    for (const standIn of [east, west]) standIn.answerWith(() => ({ status: 413 }));
    const send = () => stack.api('POST', '/api/hubs/chat/:send', { body: { target: 't', arguments: [] }, headers: { 'idempotency-key': 'key-endpoints' } });
    const first = await send();
    const replay = await send();
    assert.equal(first.status, 413);
    assert.deepEqual(
      first.json.endpoints.map(({ endpoint, status }: { endpoint: string; status: number }) => [endpoint, status]),
      [
        ['east', 413],
        ['west', 413],
      ],
    );
    assert.equal(replay.status, 413);
    assert.equal(replay.headers.get('idempotency-replayed'), 'true');
    assert.deepEqual(replay.json.endpoints, first.json.endpoints);
    assert.equal(east.requests.length + west.requests.length, 2, 'the replay sent nothing');
  });
});
