import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Answer } from '../fixtures/upstream-stand-in.js';
import { startFullStack, type FullStack } from '../fixtures/stack.js';

const SEND = ['POST', '/api/hubs/chat/:send', { body: { target: 't', arguments: [] } }] as const;

describe('upstream outcomes, as the caller sees them', () => {
  let stack: FullStack;
  before(async () => {
    stack = await startFullStack({ upstream: 'stand-in', checkUpstreamContract: true });
  });
  after(() => stack.close());

  /** Calls with the stand-in answering `answer` once, and checks that exactly one upstream request was made. */
  async function through(answer: Answer, method: string, path: string, options = {}) {
    stack.resetUpstream();
    stack.standIn.answerWith(() => answer);
    try {
      const reply = await stack.api(method, path, options);
      assert.equal(stack.standIn.requests.length, 1);
      return reply;
    } finally {
      stack.standIn.answerWith();
    }
  }

  const cases: { name: string; answer: Answer; status: number; code: string }[] = [
    { name: "401 is the gateway's credentials: 502", answer: { status: 401 }, status: 502, code: 'upstream-auth-failed' },
    { name: '403 likewise: 502', answer: { status: 403 }, status: 502, code: 'upstream-auth-failed' },
    { name: '404 without an error code on a send: 502', answer: { status: 404 }, status: 502, code: 'upstream-rejected-request' },
    {
      name: '404 naming a missing user: 404',
      answer: { status: 404, headers: { 'x-ms-error-code': 'Warning.User.NotExisted' } },
      status: 404,
      code: 'not-found',
    },
    { name: '413: 413', answer: { status: 413 }, status: 413, code: 'payload-too-large' },
    { name: '500: 502', answer: { status: 500 }, status: 502, code: 'upstream-error' },
    { name: '503: 502', answer: { status: 503 }, status: 502, code: 'upstream-error' },
    { name: 'a broken connection: 502', answer: { destroy: true }, status: 502, code: 'upstream-connection-failed' },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const reply = await through(c.answer, ...SEND);
      assert.equal(reply.status, c.status);
      assert.match(String(reply.headers.get('content-type')), /^application\/problem\+json/);
      assert.equal(reply.json.code, c.code);
      assert.equal(reply.json.status, c.status);
    });
  }

  it('429 passes Retry-After on', async () => {
    const reply = await through({ status: 429, headers: { 'retry-after': '7' } }, ...SEND);
    assert.equal(reply.status, 429);
    assert.equal(reply.headers.get('retry-after'), '7');
    assert.equal(reply.json.code, 'upstream-throttled');
  });

  describe('the 2024-12-01 operations that answer with a body', () => {
    const LIST = ['GET', '/api/hubs/chat/groups/g1/connections?maxpagesize=2'] as const;
    const INVOKE = ['POST', '/api/hubs/chat/connections/c1/:invoke', { body: { target: 'm', arguments: [1] } }] as const;
    const json = (body: unknown): Answer => ({ status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

    it("a page passes on; the service's nextLink becomes the gateway's, keeping only the opaque token", async () => {
      const nextLink = 'https://x.service.signalr.net/api/hubs/chat/groups/g1/connections?maxpagesize=2&continuationToken=t%2B1&api-version=2024-12-01';
      const reply = await through(json({ value: [{ connectionId: 'c1', userId: 'u1' }, { connectionId: 'c2' }], nextLink }), ...LIST);
      assert.equal(reply.status, 200, reply.text);
      assert.deepEqual(reply.json, {
        value: [{ connectionId: 'c1', userId: 'u1' }, { connectionId: 'c2' }],
        nextLink: '/api/hubs/chat/groups/g1/connections?maxpagesize=2&continuationToken=t%2B1',
      });
    });

    const malformed: [string, Answer][] = [
      ['not JSON', { status: 200, body: 'hello' }],
      ['no value array', json({ values: [] })],
      ['a member without a connection id', json({ value: [{ userId: 'u1' }] })],
      ['a nextLink without a continuation token', json({ value: [], nextLink: 'https://x/api/hubs/chat/groups/g1/connections' })],
    ];
    for (const [name, answer] of malformed) {
      it(`a page with ${name}: 502 upstream-malformed-response`, async () => {
        const reply = await through(answer, ...LIST);
        assert.equal(reply.status, 502);
        assert.equal(reply.json.code, 'upstream-malformed-response');
      });
    }

    it("a result passes on; the client's error and no result map by Azure's error code", async () => {
      assert.deepEqual((await through(json({ result: { deep: [1, 'x', null] } }), ...INVOKE)).json, { result: { deep: [1, 'x', null] } });
      const failed = await through(
        { status: 400, headers: { 'x-ms-error-code': 'Error.ClientInvocation.Failed' }, body: JSON.stringify({ code: 'x', message: 'Error: boom' }) },
        ...INVOKE,
      );
      assert.deepEqual([failed.status, failed.json.code], [502, 'client-invocation-failed']);
      assert.match(failed.json.detail, /Error: boom/);
      const other = await through({ status: 400, body: JSON.stringify({ message: 'no' }) }, ...INVOKE);
      assert.deepEqual([other.status, other.json.code], [502, 'upstream-rejected-request']);
    });

    it('a body over 4 MB is not read to its end: 502', async () => {
      const reply = await through({ status: 200, body: `{"result":"${'x'.repeat(5 * 1024 * 1024)}"}` }, ...INVOKE);
      assert.equal(reply.status, 502);
      assert.equal(reply.json.code, 'upstream-malformed-response');
      assert.match(reply.json.detail, /exceeds 4194304 bytes/);
    });
  });

  for (const errorCode of [undefined, 'Warning.Group.NotExisted']) {
    const headers = errorCode ? { 'x-ms-error-code': errorCode } : undefined;
    it(`existence check answered 404 ${errorCode ?? 'without a code'}: GET gets a problem, HEAD an empty 404`, async () => {
      const get = await through({ status: 404, headers }, 'GET', '/api/hubs/chat/groups/g1');
      assert.equal(get.status, 404);
      assert.deepEqual({ code: get.json.code, detail: get.json.detail }, { code: 'not-found', detail: "Group 'g1' has no connections." });
      const head = await through({ status: 404, headers }, 'HEAD', '/api/hubs/chat/groups/g1');
      assert.equal(head.status, 404);
      assert.equal(head.text, '');
    });
  }

  it('add connection to group answered 404: 404', async () => {
    const reply = await through(
      { status: 404, headers: { 'x-ms-error-code': 'Error.Connection.NotExisted' } },
      'PUT',
      '/api/hubs/chat/groups/g1/connections/c1',
    );
    assert.equal(reply.status, 404);
    assert.equal(reply.json.detail, "Connection 'c1' does not exist.");
  });

  for (const errorCode of [undefined, 'Error.Connection.NotExisted']) {
    const headers = errorCode ? { 'x-ms-error-code': errorCode } : undefined;
    it(`remove connection from group answered 404 ${errorCode ?? 'without a code'}: 404, as API 2022-06-01 lists it`, async () => {
      const reply = await through({ status: 404, headers }, 'DELETE', '/api/hubs/chat/groups/g1/connections/c1');
      assert.equal(reply.status, 404);
      assert.deepEqual({ code: reply.json.code, detail: reply.json.detail }, { code: 'not-found', detail: "Connection 'c1' is not in group 'g1'." });
    });
  }

  it('an upstream success with an unexpected 2xx is still a success', async () => {
    const reply = await through({ status: 200 }, ...SEND);
    assert.equal(reply.status, 202);
  });

  it('upstream health failing: /api/health 502 and /readyz 503, /healthz still 200', async () => {
    stack.standIn.answerWith(() => ({ status: 500 }));
    try {
      assert.equal((await stack.api('GET', '/api/health', { anonymous: true })).status, 502);
      const ready = await stack.api('GET', '/readyz', { anonymous: true });
      assert.equal(ready.status, 503);
      assert.equal(ready.json.code, 'not-ready');
      assert.match(ready.json.detail, /^Not ready: signalr \(/);
      assert.equal((await stack.api('GET', '/healthz', { anonymous: true })).status, 200);
    } finally {
      stack.standIn.answerWith();
    }
    const ready = await stack.api('GET', '/readyz', { anonymous: true });
    assert.equal(ready.status, 200);
    assert.equal(ready.json.details.signalr.status, 'up');
  });
});

describe('upstream too slow', () => {
  let stack: FullStack;
  before(async () => {
    stack = await startFullStack({ upstream: 'stand-in', checkUpstreamContract: true, env: { UPSTREAM_TIMEOUT_MS: '200' } });
  });
  after(() => stack.close());

  it('answers 504 when the upstream does not answer within UPSTREAM_TIMEOUT_MS', async () => {
    stack.standIn.answerWith(() => ({ delayMs: 5_000 }));
    const reply = await stack.api(...SEND);
    assert.equal(reply.status, 504);
    assert.equal(reply.json.code, 'upstream-timeout');
  });
});

describe('upstream gone', () => {
  let stack: FullStack;
  before(async () => {
    stack = await startFullStack({ upstream: 'stand-in', checkUpstreamContract: true });
    await stack.standIn.close();
  });
  after(() => stack.close());

  it('answers 503 when the upstream refuses connections', async () => {
    const reply = await stack.api(...SEND);
    assert.equal(reply.status, 503);
    assert.equal(reply.json.code, 'upstream-unavailable');
  });
});
