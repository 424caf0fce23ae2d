import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startFullStack, type FullStack } from '../fixtures/stack.js';

/** Representative bad requests: the exact problem each gets, and that nothing went upstream. */
describe('validation, before anything goes upstream', () => {
  let stack: FullStack;
  before(async () => {
    stack = await startFullStack({ upstream: 'stand-in', checkUpstreamContract: true });
  });
  after(() => stack.close());

  async function rejected(method: string, path: string, options = {}) {
    stack.resetUpstream();
    const reply = await stack.api(method, path, options);
    assert.equal(stack.standIn.requests.length, 0, 'nothing went upstream');
    assert.match(String(reply.headers.get('content-type')), /^application\/problem\+json/);
    const { requestId, ...problem } = reply.json;
    assert.equal(requestId, reply.headers.get('x-request-id'));
    return { status: reply.status, problem };
  }

  const invalid = (detail: string, errors: { field: string; message: string }[]) => ({
    status: 400,
    problem: { type: 'urn:signalr-gateway:problem:validation', title: 'Bad Request', status: 400, code: 'validation', detail, errors },
  });

  it('a hub that does not start with a letter', async () => {
    const message = 'hub must start with a letter and contain only letters, digits and _ ` , . [ ] (1-128 characters)';
    assert.deepEqual(
      await rejected('POST', '/api/hubs/1chat/:send', { body: { target: 't' } }),
      invalid(`path.hub: ${message}`, [{ field: 'path.hub', message }]),
    );
  });

  it('a group of white space only', async () => {
    const message = 'group must be 1-1024 characters, not only white space, without control characters, and not . or ..';
    stack.resetUpstream();
    const head = await stack.api('HEAD', '/api/hubs/chat/groups/%20%20');
    assert.deepEqual({ status: head.status, text: head.text, upstream: stack.standIn.requests.length }, { status: 400, text: '', upstream: 0 });
    assert.deepEqual(await rejected('GET', '/api/hubs/chat/groups/%20%09'), invalid(`path.group: ${message}`, [{ field: 'path.group', message }]));
  });

  it('a group named .. (a dot-segment upstream)', async () => {
    const reply = await rejected('POST', '/api/hubs/chat/groups/%2E%2E/:send', { body: { target: 't' } });
    assert.equal(reply.status, 400);
    assert.equal(reply.problem.errors[0].field, 'path.group');
  });

  it('a ttl out of range, and one that is not a plain integer', async () => {
    const message = 'ttl must be an integer from 0 to 31536000';
    for (const ttl of ['31536001', '-1', '1.5', '1e3', '', 'abc']) {
      assert.deepEqual(
        await rejected('PUT', `/api/hubs/chat/users/u1/groups/g1?ttl=${ttl}`),
        invalid(`query.ttl: ${message}`, [{ field: 'query.ttl', message }]),
        `ttl=${ttl}`,
      );
    }
  });

  it('an unknown body property, named', async () => {
    const message = 'property extra should not exist';
    assert.deepEqual(
      await rejected('POST', '/api/hubs/chat/users/u1/:send', { body: { target: 't', arguments: [], extra: 1 } }),
      invalid(`body.extra: ${message}`, [{ field: 'body.extra', message }]),
    );
  });

  it('a prototype key anywhere in a body or query: refused by its path, never silently dropped', async () => {
    const refusals = [
      ['{"target":"t","arguments":[1,{"nested":{"prototype":[]}}]}', 'body.arguments[1].nested.prototype', 'prototype'],
      ['{"target":"t","arguments":[{"a":{"__proto__":{"polluted":true}}}]}', 'body.arguments[0].a.__proto__', '__proto__'],
      ['{"target":"t","arguments":[{"constructor":{"prototype":{"polluted":true}}}]}', 'body.arguments[0].constructor', 'constructor'],
      ['{"__proto__":{"polluted":true},"target":"t"}', 'body.__proto__', '__proto__'],
    ];
    for (const [rawBody, field, key] of refusals) {
      const message = `must not contain the key "${key}" (refused as a prototype-pollution guard)`;
      const reply = await rejected('POST', '/api/hubs/chat/:send', { rawBody, headers: { 'content-type': 'application/json' } });
      assert.deepEqual(reply, invalid(`${field}: ${message}`, [{ field, message }]), rawBody);
    }
    const message = 'must not contain the key "__proto__" (refused as a prototype-pollution guard)';
    assert.deepEqual(
      await rejected('DELETE', '/api/hubs/chat/users/u1/groups?__proto__=x'),
      invalid(`query.__proto__: ${message}`, [{ field: 'query.__proto__', message }]),
    );
  });

  it('unknown names that Object.prototype has are unknown all the same', async () => {
    const query = 'property toString should not exist';
    assert.deepEqual(
      await rejected('POST', '/api/hubs/chat/:send?toString=x', { body: { target: 't' } }),
      invalid(`query.toString: ${query}`, [{ field: 'query.toString', message: query }]),
    );
    const body = 'property valueOf should not exist';
    assert.deepEqual(
      await rejected('POST', '/api/hubs/chat/:send', { body: { target: 't', valueOf: 1 } }),
      invalid(`body.valueOf: ${body}`, [{ field: 'body.valueOf', message: body }]),
    );
  });

  it('an unknown query parameter, named', async () => {
    const message = 'property api-version should not exist';
    assert.deepEqual(
      await rejected('DELETE', '/api/hubs/chat/users/u1/groups?api-version=2022-06-01'),
      invalid(`query.api-version: ${message}`, [{ field: 'query.api-version', message }]),
    );
  });

  it('every bad field at once', async () => {
    const query = await rejected('POST', '/api/hubs/chat/:send?excluded=ok&excluded=%01&application=a-b', { body: { target: 't' } });
    assert.deepEqual(query.problem.errors, [
      { field: 'query.excluded', message: 'excluded items must be 1-1024 characters without control characters, and not . or ..' },
      { field: 'query.application', message: 'application must start with a letter and contain only letters, digits and _ ` , . [ ] (1-128 characters)' },
    ]);
    const body = await rejected('POST', '/api/hubs/chat/:send', { body: { target: '', arguments: 'x' } });
    assert.deepEqual(body.problem.errors, [
      { field: 'body.target', message: 'target must be a non-empty string' },
      { field: 'body.arguments', message: 'arguments must be an array' },
    ]);
    assert.equal(body.problem.detail, '2 fields are invalid; see errors.');
  });

  it('a fan-out list that is too long or repeats itself', async () => {
    const users = Array.from({ length: 101 }, (_, i) => `u${i}`);
    const long = await rejected('POST', '/api/hubs/chat/:sendToUsers', { body: { users, target: 't' } });
    assert.deepEqual(long.problem.errors, [{ field: 'body.users', message: 'users must list 1-100 items (got 101)' }]);
    const twice = await rejected('POST', '/api/hubs/chat/:sendToGroups', { body: { groups: ['a', 'a'], target: 't' } });
    assert.deepEqual(twice.problem.errors, [{ field: 'body.groups', message: 'groups must not list an item twice' }]);
  });

  it('a body over 1 MB: 413', async () => {
    const reply = await rejected('POST', '/api/hubs/chat/:send', {
      rawBody: `{"target":"t","arguments":["${'x'.repeat(1024 * 1024)}"]}`,
      headers: { 'content-type': 'application/json' },
    });
    assert.deepEqual(reply, {
      status: 413,
      problem: {
        type: 'urn:signalr-gateway:problem:payload-too-large',
        title: 'Payload Too Large',
        status: 413,
        code: 'payload-too-large',
        detail: 'The request body exceeds the 1 MB limit of the SignalR REST API.',
      },
    });
  });

  it('malformed JSON: 400', async () => {
    const reply = await rejected('POST', '/api/hubs/chat/:send', { rawBody: '{"target":', headers: { 'content-type': 'application/json' } });
    assert.equal(reply.status, 400);
    assert.equal(reply.problem.code, 'bad-request');
  });

  it('a form body, however valid its fields: 415', async () => {
    const reply = await rejected('POST', '/api/hubs/chat/:send', { rawBody: 'target=t', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(reply.status, 415);
    assert.equal(reply.problem.code, 'unsupported-media-type');
  });

  it("a body of any content type but JSON: 415, on every route but the send-like ones' binary forms", async () => {
    const unsupported = {
      status: 415,
      problem: {
        type: 'urn:signalr-gateway:problem:unsupported-media-type',
        title: 'Unsupported Media Type',
        status: 415,
        code: 'unsupported-media-type',
        detail: 'Unsupported content type: send application/json.',
      },
    };
    for (const type of ['text/plain', 'application/octet-stream', 'application/x-msgpack']) {
      for (const path of ['/api/hubs/chat/:send', '/api/hubs/chat/:closeConnections', '/api/hubs/chat/:sendToUsers']) {
        // :send takes Azure's binary forms (test/e2e/api-2024.test.ts); JSON text is not one: 400, not 415.
        const expected = path.endsWith('/:send') && type !== 'text/plain' ? 400 : 415;
        const reply = await rejected('POST', path, { rawBody: '{"target":"t"}', headers: { 'content-type': type } });
        if (expected === 415) assert.deepEqual(reply, unsupported, `${type} to ${path}`);
        else assert.equal(reply.problem.code, 'validation', `${type} to ${path}`);
      }
    }
  });

  it('a JSON array instead of an object: 400', async () => {
    const reply = await rejected('POST', '/api/hubs/chat/:send', { body: [1, 2] });
    assert.equal(reply.status, 400);
    assert.equal(reply.problem.code, 'validation');
  });
});

describe('an empty body is no body, whatever its content type', () => {
  let stack: FullStack;
  before(async () => {
    stack = await startFullStack({ upstream: 'stand-in', checkUpstreamContract: true });
  });
  after(() => stack.close());

  it('on negotiate and on operations without a body, as Python SignalR clients send them', async () => {
    for (const type of ['application/json', 'application/octet-stream']) {
      const negotiate = await stack.api('POST', '/hubs/chat/negotiate?negotiateVersion=1', { rawBody: '', headers: { 'content-type': type } });
      assert.equal(negotiate.status, 200, negotiate.text);
      const close = await stack.api('POST', '/api/hubs/chat/:closeConnections', { rawBody: '', headers: { 'content-type': type } });
      assert.equal(close.status, 204, close.text);
    }
  });

  it('on a send, where the body is required: the missing target is named', async () => {
    stack.resetUpstream();
    const reply = await stack.api('POST', '/api/hubs/chat/:send', { rawBody: '', headers: { 'content-type': 'application/json' } });
    assert.equal(reply.status, 400);
    assert.deepEqual(reply.json.errors, [{ field: 'body.target', message: 'target must be a non-empty string' }]);
    assert.equal(stack.standIn.requests.length, 0);
  });
});

describe('oversized headers', () => {
  let stack: FullStack;
  before(async () => {
    stack = await startFullStack({ upstream: 'stand-in', checkUpstreamContract: true });
  });
  after(() => stack.close());

  it('17 KB of headers: 431 problem', async () => {
    const reply = await stack.api('GET', '/api/hubs/chat/users/u1', { headers: { 'x-padding': 'x'.repeat(17 * 1024) } }).catch((error: Error) => error);
    assert.ok(!(reply instanceof Error), `the gateway answered: ${reply instanceof Error ? reply.message : ''}`);
    assert.equal(reply.status, 431);
    assert.equal(reply.json.code, 'headers-too-large');
    assert.match(String(reply.headers.get('content-type')), /^application\/problem\+json/);
    assert.match(reply.json.requestId, /^[\w-]{36}$/, 'a request id, like every problem');
    assert.equal(reply.headers.get('x-request-id'), reply.json.requestId);
    assert.equal(stack.standIn.requests.length, 0);
  });
});
