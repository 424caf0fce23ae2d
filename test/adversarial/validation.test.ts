import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startFullStack, type FullStack, type Reply } from '../fixtures/stack.js';

/**
 * Bodies and parameters an attacker (or an unusual client) sends: each is answered with a 4xx problem and goes nowhere,
 * or is forwarded exactly as sent; never a 5xx, and the gateway keeps answering others meanwhile.
 */
describe('validation under attack', () => {
  let stack: FullStack;
  before(async () => {
    stack = await startFullStack({ upstream: 'stand-in', checkUpstreamContract: true });
  });
  after(() => stack.close());

  const json = { 'content-type': 'application/json' };

  /** Sends a raw JSON body to the broadcast and returns the reply with what went upstream. */
  async function send(body: string, path = '/api/hubs/chat/:send'): Promise<{ reply: Reply; upstream: string[] }> {
    stack.resetUpstream();
    const reply = await stack.api('POST', path, { rawBody: body, headers: json });
    return { reply, upstream: stack.standIn.requests.map((request) => request.body) };
  }

  /** A 400 validation problem with one error, on `field` (with `message`, when given). */
  function assertRefused(reply: Reply, field: string, message?: string): void {
    assert.equal(reply.status, 400, reply.text.slice(0, 300));
    assert.match(String(reply.headers.get('content-type')), /^application\/problem\+json/);
    assert.equal(reply.json.code, 'validation');
    assert.deepEqual(
      reply.json.errors.map((error: { field: string }) => error.field),
      [field],
    );
    if (message !== undefined) assert.equal(reply.json.errors[0].message, message);
  }

  describe('parameters named like Object.prototype members are unknown parameters', () => {
    const names = Object.getOwnPropertyNames(Object.prototype).filter((name) => name !== '__proto__' && name !== 'constructor');

    it('in the query, on every kind of query', async () => {
      assert.ok(names.length >= 10, names.join());
      const paths = ['/api/hubs/chat/:send', '/api/hubs/chat/:closeConnections', '/api/hubs/chat/users/u1/groups/g1', '/api/hubs/chat/:generateToken'];
      for (const name of names) {
        for (const path of paths) {
          stack.resetUpstream();
          const method = path.includes('/groups/') ? 'PUT' : 'POST';
          const reply = await stack.api(method, `${path}?${name}=x`, path.endsWith(':send') ? { body: { target: 't' } } : {});
          assertRefused(reply, `query.${name}`, `property ${name} should not exist`);
          assert.equal(stack.standIn.requests.length, 0, `${method} ${path}?${name}=x went upstream`);
        }
      }
    });

    it('in a body', async () => {
      for (const name of names) {
        for (const path of ['/api/hubs/chat/:send', '/api/hubs/chat/:sendToUsers']) {
          const { reply, upstream } = await send(path.endsWith(':send') ? `{"target":"t","${name}":1}` : `{"target":"t","users":["u1"],"${name}":1}`, path);
          assertRefused(reply, `body.${name}`, `property ${name} should not exist`);
          assert.deepEqual(upstream, []);
        }
      }
    });
  });

  it("a message quotes the caller's text as sent, even what looks like class-validator's message tokens", async () => {
    // class-validator filled `$value`, `$property`, `$target` and `$constraint1` in inside the caller's text too: the
    // first came back as the whole filter, the second as "filter".
    for (const token of ['$value', '$property', '$target', '$constraint1', '$&']) {
      stack.resetUpstream();
      const filter = `userId eq 'a' '${token}'`;
      const reply = await stack.api('POST', `/api/hubs/chat/:execute?filter=${encodeURIComponent(filter)}`, { body: [{ type: 'JoinGroup', group: 'g' }] });
      assertRefused(reply, 'query.filter', `filter: unexpected '${token}' at position 14`);
      assert.equal(stack.standIn.requests.length, 0, filter);
    }
  });

  describe('bodies of any shape: arguments forwarded exactly as sent, anything else refused with a 4xx', () => {
    it('byte for byte: numbers JSON.stringify would round, white space, escapes, the last of duplicate keys', async () => {
      const args = '[12345678901234567890, 0.1000000000000000055511151231257827, 1e400, -0, 1.0, "\\u00e9\\ud83d\\ude00", {"toString" : [ ]}]';
      for (const [body, forwarded] of [
        [`{"target":"t","arguments":${args}}`, args],
        [`{ "argument\\u0073" : ${args} ,"target":"t" }`, args],
        [`{"target":"t","arguments":[1],"arguments":[2]}`, '[2]'],
      ] as const) {
        const { reply, upstream } = await send(body);
        assert.equal(reply.status, 202, reply.text);
        assert.deepEqual(upstream, [`{"target":"t","arguments":${forwarded}}`], body);
      }
    });

    it('nested 10,000 deep, and as deep as a 1 MB body allows', async () => {
      for (const depth of [10_000, 500_000]) {
        const args = `${'['.repeat(depth)}${']'.repeat(depth)}`;
        const { reply, upstream } = await send(`{"target":"t","arguments":${args}}`);
        assert.equal(reply.status, 202, `${depth}: ${reply.text.slice(0, 300)}`);
        assert.deepEqual(upstream, [`{"target":"t","arguments":${args}}`], `${depth} levels`);
      }
    });

    it('deep values elsewhere in a body are refused with a 4xx, never a 5xx', async () => {
      const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
      const wide = `{${Array.from({ length: 80_000 }, (_, i) => `"k${i}":1`).join(',')}}`;
      for (const value of [deep, wide]) {
        assertRefused((await send(`{"target":${value}}`)).reply, 'body.target', 'target must be a non-empty string');
        assertRefused((await send(`{"target":"t","users":${value}}`, '/api/hubs/chat/:sendToUsers')).reply, 'body.users');
        assertRefused((await send(`{"target":"t","extra":${value}}`)).reply, 'body.extra', 'property extra should not exist');
      }
    });

    it('a prototype key deep inside the arguments is refused by its path', async () => {
      const depth = 10_000;
      const { reply, upstream } = await send(`{"target":"t","arguments":${'['.repeat(depth)}{"__proto__":1}${']'.repeat(depth)}}`);
      assertRefused(reply, `body.arguments${'[0]'.repeat(depth)}.__proto__`, 'must not contain the key "__proto__" (refused as a prototype-pollution guard)');
      assert.deepEqual(upstream, []);
    });
  });

  it('bodies with 80,000 keys cost no more than plain bodies of the same size, and a small request is answered meanwhile', async (t) => {
    const wide = `{"target":"t","arguments":[{${Array.from({ length: 80_000 }, (_, i) => `"k${i}":1`).join(',')}}]}`;
    const plain = `{"target":"t","arguments":["${'x'.repeat(wide.length - 30)}"]}`;
    assert.ok(wide.length < 1024 * 1024 && Math.abs(plain.length - wide.length) < 10, `${wide.length} ${plain.length}`);

    /** Four such bodies at once and a small request among them: statuses, bodies forwarded, the longest block of the event loop. */
    const underLoad = async (body: string): Promise<{ statuses: number[]; forwarded: number; blockedMs: number }> => {
      stack.resetUpstream();
      const histogram = monitorEventLoopDelay({ resolution: 5 });
      histogram.enable();
      const big = Array.from({ length: 4 }, () => stack.api('POST', '/api/hubs/chat/:send', { rawBody: body, headers: json }));
      const small = stack.api('POST', '/api/hubs/chat/:send', { body: { target: 't', arguments: ['small'] } });
      const replies = await Promise.all([...big, small]);
      histogram.disable();
      const forwarded = stack.standIn.requests.filter((request) => request.body === body).length;
      return { statuses: replies.map((reply) => reply.status), forwarded, blockedMs: histogram.max / 1e6 };
    };

    const baseline = await underLoad(plain);
    const attack = await underLoad(wide);
    t.diagnostic(
      `event loop blocked at most ${Math.round(attack.blockedMs)} ms by 80,000-key bodies, ${Math.round(baseline.blockedMs)} ms by one-string bodies`,
    );
    // Before: 5 s per body (class-transformer rescanned the keys once per key), 20 s for the four. Now tens of ms, and a
    // small request waits at most that long. The bound is generous, for a machine busy with other work.
    assert.ok(attack.blockedMs < Math.max(1000, 20 * baseline.blockedMs), `blocked ${Math.round(attack.blockedMs)} ms`);
    assert.deepEqual([...baseline.statuses, ...attack.statuses], Array(10).fill(202));
    assert.deepEqual([baseline.forwarded, attack.forwarded], [4, 4], 'each big body forwarded as sent');
  });

  describe('content types', () => {
    const bodyless: [string, string, number][] = [
      ['POST', '/hubs/chat/negotiate', 200],
      ['POST', '/api/hubs/chat/:generateToken', 200],
      ['POST', '/api/hubs/chat/:closeConnections', 204],
      ['POST', '/api/hubs/chat/groups/g1/:closeConnections', 204],
      ['POST', '/api/hubs/chat/users/u1/:closeConnections', 204],
      ['PUT', '/api/hubs/chat/groups/g1/connections/c1', 200],
      ['PUT', '/api/hubs/chat/users/u1/groups/g1', 200],
      ['DELETE', '/api/hubs/chat/connections/c1', 200],
      ['DELETE', '/api/hubs/chat/users/u1/groups/g1', 204],
    ];
    const types = ['application/json', 'application/json; charset=utf-8', 'application/octet-stream', 'text/plain', 'application/x-www-form-urlencoded'];

    it('an empty body where none is expected is no body, whatever its content type (Python SignalR clients send one)', async () => {
      for (const [method, path, status] of bodyless) {
        for (const type of types) {
          const reply = await stack.api(method, path, { rawBody: '', headers: { 'content-type': type } });
          assert.equal(reply.status, status, `${method} ${path} with an empty ${type} body: ${reply.text}`);
        }
      }
    });

    it("any body that is not JSON gets 415, on every route (but the binary forms of Azure's send-like routes)", async () => {
      const unsupported = [
        'text/plain',
        'application/octet-stream',
        'application/x-msgpack',
        'application/x-www-form-urlencoded',
        'application/xml',
        'multipart/form-data; boundary=x',
      ];
      for (const [method, path] of [['POST', '/api/hubs/chat/:send'], ...bodyless]) {
        for (const type of [...unsupported, undefined]) {
          // The binary forms :send takes are covered by test/e2e/api-2024.test.ts.
          if (path.endsWith('/:send') && (type === 'application/octet-stream' || type === 'application/x-msgpack')) continue;
          stack.resetUpstream();
          const reply = await stack.api(method, path, { rawBody: '{"target":"t"}', headers: type === undefined ? {} : { 'content-type': type } });
          assert.equal(reply.status, 415, `${method} ${path} with ${type ?? 'no content type'}: ${reply.text}`);
          assert.equal(reply.json.code, 'unsupported-media-type');
          assert.equal(stack.standIn.requests.length, 0);
        }
      }
    });
  });
});
