import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { API, CASES, PAYLOAD } from './cases.js';
import { startFullStack, type FullStack } from '../fixtures/stack.js';

describe('every operation, forwarded exactly', () => {
  let stack: FullStack;
  before(async () => {
    stack = await startFullStack({ upstream: 'stand-in', checkUpstreamContract: true });
  });
  after(() => stack.close());

  for (const c of CASES) {
    it(c.name, async () => {
      stack.resetUpstream();
      const reply = await stack.api(c.method, c.path, { body: c.body });
      assert.equal(reply.status, c.status, reply.text);
      const seen = stack.standIn.requests.map(({ method, rawPath, query, body }) => ({
        method,
        rawPath,
        query,
        ...(body === '' ? {} : { body: JSON.parse(body) }),
      }));
      assert.deepEqual(
        seen,
        c.upstream.map(({ query = API, ...rest }) => ({ ...rest, query })),
      );
    });
  }

  it('forwards arguments exactly as sent, keys like toString and valueOf included', async () => {
    stack.resetUpstream();
    const payload = { target: 'newMessage', arguments: [{ toString: 0, valueOf: 'v' }, [{ nested: { hasOwnProperty: true } }], null, 1.5, 'text'] };
    const reply = await stack.api('POST', '/api/hubs/chat/:send', { body: payload });
    assert.equal(reply.status, 202, reply.text);
    assert.deepEqual(JSON.parse(stack.standIn.requests[0].body), payload);
  });

  it('sends one message to several users, in parallel, one result each', async () => {
    stack.resetUpstream();
    stack.standIn.answerWith(({ rawPath }) => (rawPath.includes('/users/bob/') ? { status: 429, headers: { 'retry-after': '7' } } : undefined));
    try {
      const reply = await stack.api('POST', '/api/hubs/Chat/:sendToUsers', { body: { users: ['alice', 'bob', 'c/d'], ...PAYLOAD } });
      assert.equal(reply.status, 207);
      assert.deepEqual(
        reply.json.results.map(({ user, status, problem }: any) => ({ user, status, code: problem?.code })),
        [
          { user: 'alice', status: 202, code: undefined },
          { user: 'bob', status: 429, code: 'upstream-throttled' },
          { user: 'c/d', status: 202, code: undefined },
        ],
      );
      const paths = stack.standIn.requests.map(({ method, rawPath, body }) => `${method} ${rawPath} ${body}`).sort();
      assert.deepEqual(
        paths,
        ['alice', 'bob', 'c%2Fd'].map((user) => `POST /api/hubs/chat/users/${user}/:send ${JSON.stringify(PAYLOAD)}`),
      );
    } finally {
      stack.standIn.answerWith();
    }
  });

  it('sends one message to several groups, one result each', async () => {
    stack.resetUpstream();
    const reply = await stack.api('POST', '/api/hubs/Chat/:sendToGroups?application=App', { body: { groups: ['g1', 'g2'], target: 't' } });
    assert.equal(reply.status, 207);
    assert.deepEqual(reply.json, {
      results: [
        { group: 'g1', status: 202 },
        { group: 'g2', status: 202 },
      ],
    });
    const seen = stack.standIn.requests.map(({ rawPath, query }) => `${rawPath}?${query['application'].join(',')}`).sort();
    assert.deepEqual(seen, ['/api/hubs/chat/groups/g1/:send?app', '/api/hubs/chat/groups/g2/:send?app']);
  });

  it('runs at most 8 upstream sends of one fan-out at once', async () => {
    stack.resetUpstream();
    let inFlight = 0;
    let most = 0;
    stack.standIn.answerWith(() => {
      most = Math.max(most, ++inFlight);
      setTimeout(() => inFlight--, 50);
      return { delayMs: 50 };
    });
    try {
      const users = Array.from({ length: 30 }, (_, i) => `u${i}`);
      const reply = await stack.api('POST', '/api/hubs/Chat/:sendToUsers', { body: { users, target: 't' } });
      assert.equal(reply.status, 207);
      assert.equal(stack.standIn.requests.length, 30);
      assert.ok(most <= 8 && most > 1, `at most 8 at once and some in parallel, saw ${most}`);
    } finally {
      stack.standIn.answerWith();
    }
  });
});
