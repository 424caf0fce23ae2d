import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startStack, type Reply, type Stack } from '../e2e/harness.js';

/**
 * Bodies and parameters an attacker (or an unusual client) sends: each is answered with a 4xx problem and goes nowhere,
 * or is forwarded exactly as sent; never a 5xx, and the gateway keeps answering others meanwhile.
 */
describe('validation under attack', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(() => stack.close());

  const json = { 'content-type': 'application/json' };

  /** Sends a raw JSON body to the broadcast and returns the reply with what went upstream. */
  async function send(body: string, path = '/api/hubs/chat/:send'): Promise<{ reply: Reply; upstream: string[] }> {
    stack.resetUpstream();
    const reply = await stack.call('POST', path, { rawBody: body, headers: json });
    return { reply, upstream: stack.standIn.requests.map((request) => request.body) };
  }

  /** A 400 validation problem with one error, on `field` (with `message`, when given). */
  function assertRefused(reply: Reply, field: string, message?: string): void {
    assert.equal(reply.status, 400, reply.text.slice(0, 300));
    assert.match(String(reply.headers['content-type']), /^application\/problem\+json/);
    assert.equal(reply.json.code, 'validation');
    assert.deepEqual(reply.json.errors.map((error: { field: string }) => error.field), [field]);
    if (message !== undefined) assert.equal(reply.json.errors[0].message, message);
  }

  describe('message arguments', () => {
    it('a prototype key deep inside the arguments is refused by its path', async () => {
      const depth = 10_000;
      const { reply, upstream } = await send(`{"target":"t","arguments":${'['.repeat(depth)}{"__proto__":1}${']'.repeat(depth)}}`);
      assertRefused(reply, `body.arguments${'[0]'.repeat(depth)}.__proto__`, 'must not contain the key "__proto__" (refused as a prototype-pollution guard)');
      assert.deepEqual(upstream, []);
    });
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
          const reply = await stack.call(method, path, { rawBody: '', headers: { 'content-type': type } });
          assert.equal(reply.status, status, `${method} ${path} with an empty ${type} body: ${reply.text}`);
        }
      }
    });

    it('any body that is not JSON gets 415, on every route', async () => {
      const unsupported = ['text/plain', 'application/octet-stream', 'application/x-www-form-urlencoded', 'application/xml', 'multipart/form-data; boundary=x'];
      for (const [method, path] of [['POST', '/api/hubs/chat/:send'], ...bodyless]) {
        for (const type of [...unsupported, undefined]) {
          stack.resetUpstream();
          const reply = await stack.call(method!, path!, { rawBody: '{"target":"t"}', headers: type === undefined ? {} : { 'content-type': type } });
          assert.equal(reply.status, 415, `${method} ${path} with ${type ?? 'no content type'}: ${reply.text}`);
          assert.equal(reply.json.code, 'unsupported-media-type');
          assert.equal(stack.standIn.requests.length, 0);
        }
      }
    });
  });
});
