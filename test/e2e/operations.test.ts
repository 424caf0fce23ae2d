import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startStack, type Stack } from './harness.js';

/**
 * Each of Azure's 19 operations (and the two fan-outs) through the gateway: the status the caller gets, and the exact
 * request the upstream receives (method, raw escaped path, query, body).
 */
interface Case {
  name: string;
  method: string;
  path: string;
  body?: unknown;
  status: number;
  upstream: { method: string; rawPath: string; query?: Record<string, string[]>; body?: unknown }[];
}

const API = { 'api-version': ['2022-06-01'] };
const PAYLOAD = { target: 'newMessage', arguments: ['hi', { n: 1 }, [true, null]] };

// Hub "Chat" is lowercased upstream; names keep their case and every reserved character is escaped as .NET does.
const CASES: Case[] = [
  { name: 'broadcast', method: 'POST', path: '/api/hubs/Chat/:send?excluded=c1&excluded=c%202', body: PAYLOAD, status: 202,
    upstream: [{ method: 'POST', rawPath: '/api/hubs/chat/:send', query: { ...API, excluded: ['c1', 'c 2'] }, body: PAYLOAD }] },
  { name: 'close all connections', method: 'POST', path: '/api/hubs/Chat/:closeConnections?excluded=c1&reason=bye%20now', status: 204,
    upstream: [{ method: 'POST', rawPath: '/api/hubs/chat/:closeConnections', query: { ...API, excluded: ['c1'], reason: ['bye now'] } }] },
  { name: 'send to group', method: 'POST', path: '/api/hubs/Chat/groups/G%201%2F%C3%A4/:send?application=MyApp', body: PAYLOAD, status: 202,
    upstream: [{ method: 'POST', rawPath: '/api/hubs/chat/groups/G%201%2F%C3%A4/:send', query: { application: ['myapp'], ...API }, body: PAYLOAD }] },
  { name: 'close group connections', method: 'POST', path: "/api/hubs/Chat/groups/g!'()*/:closeConnections?reason=x", status: 204,
    upstream: [{ method: 'POST', rawPath: '/api/hubs/chat/groups/g%21%27%28%29%2A/:closeConnections', query: { ...API, reason: ['x'] } }] },
  { name: 'check group (HEAD)', method: 'HEAD', path: '/api/hubs/Chat/groups/g1', status: 200,
    upstream: [{ method: 'HEAD', rawPath: '/api/hubs/chat/groups/g1', query: API }] },
  { name: 'check group (GET)', method: 'GET', path: '/api/hubs/Chat/groups/g1', status: 200,
    upstream: [{ method: 'HEAD', rawPath: '/api/hubs/chat/groups/g1', query: API }] },
  { name: 'add connection to group', method: 'PUT', path: '/api/hubs/Chat/groups/g1/connections/c%2B1', status: 200,
    upstream: [{ method: 'PUT', rawPath: '/api/hubs/chat/groups/g1/connections/c%2B1', query: API }] },
  { name: 'remove connection from group', method: 'DELETE', path: '/api/hubs/Chat/groups/g1/connections/c1', status: 200,
    upstream: [{ method: 'DELETE', rawPath: '/api/hubs/chat/groups/g1/connections/c1', query: API }] },
  { name: 'send to user', method: 'POST', path: '/api/hubs/Chat/users/Alice%40example.com/:send', body: PAYLOAD, status: 202,
    upstream: [{ method: 'POST', rawPath: '/api/hubs/chat/users/Alice%40example.com/:send', query: API, body: PAYLOAD }] },
  { name: 'close user connections', method: 'POST', path: '/api/hubs/Chat/users/u1/:closeConnections?excluded=c9', status: 204,
    upstream: [{ method: 'POST', rawPath: '/api/hubs/chat/users/u1/:closeConnections', query: { ...API, excluded: ['c9'] } }] },
  { name: 'check user (HEAD)', method: 'HEAD', path: '/api/hubs/Chat/users/u1', status: 200,
    upstream: [{ method: 'HEAD', rawPath: '/api/hubs/chat/users/u1', query: API }] },
  { name: 'check user (GET)', method: 'GET', path: '/api/hubs/Chat/users/u1', status: 200,
    upstream: [{ method: 'HEAD', rawPath: '/api/hubs/chat/users/u1', query: API }] },
  { name: 'check user in group (HEAD)', method: 'HEAD', path: '/api/hubs/Chat/users/u1/groups/g1', status: 200,
    upstream: [{ method: 'HEAD', rawPath: '/api/hubs/chat/users/u1/groups/g1', query: API }] },
  { name: 'check user in group (GET)', method: 'GET', path: '/api/hubs/Chat/users/u1/groups/g1', status: 200,
    upstream: [{ method: 'HEAD', rawPath: '/api/hubs/chat/users/u1/groups/g1', query: API }] },
  { name: 'add user to group with ttl', method: 'PUT', path: '/api/hubs/Chat/users/u1/groups/g1?ttl=3600', status: 200,
    upstream: [{ method: 'PUT', rawPath: '/api/hubs/chat/users/u1/groups/g1', query: { ...API, ttl: ['3600'] } }] },
  { name: 'add user to group without ttl', method: 'PUT', path: '/api/hubs/Chat/users/u1/groups/g1', status: 200,
    upstream: [{ method: 'PUT', rawPath: '/api/hubs/chat/users/u1/groups/g1', query: API }] },
  { name: 'remove user from group', method: 'DELETE', path: '/api/hubs/Chat/users/u1/groups/g1', status: 204,
    upstream: [{ method: 'DELETE', rawPath: '/api/hubs/chat/users/u1/groups/g1', query: API }] },
  { name: 'remove user from all groups', method: 'DELETE', path: '/api/hubs/Chat/users/u1/groups', status: 204,
    upstream: [{ method: 'DELETE', rawPath: '/api/hubs/chat/users/u1/groups', query: API }] },
  { name: 'send to connection', method: 'POST', path: '/api/hubs/Chat/connections/c1/:send', body: { target: 't' }, status: 202,
    upstream: [{ method: 'POST', rawPath: '/api/hubs/chat/connections/c1/:send', query: API, body: { target: 't', arguments: [] } }] },
  { name: 'close connection', method: 'DELETE', path: '/api/hubs/Chat/connections/c1?reason=r%26d', status: 200,
    upstream: [{ method: 'DELETE', rawPath: '/api/hubs/chat/connections/c1', query: { ...API, reason: ['r&d'] } }] },
  { name: 'check connection (HEAD)', method: 'HEAD', path: '/api/hubs/Chat/connections/c1', status: 200,
    upstream: [{ method: 'HEAD', rawPath: '/api/hubs/chat/connections/c1', query: API }] },
  { name: 'check connection (GET)', method: 'GET', path: '/api/hubs/Chat/connections/c1', status: 200,
    upstream: [{ method: 'HEAD', rawPath: '/api/hubs/chat/connections/c1', query: API }] },
  { name: 'remove connection from all groups', method: 'DELETE', path: '/api/hubs/Chat/connections/c1/groups', status: 200,
    upstream: [{ method: 'DELETE', rawPath: '/api/hubs/chat/connections/c1/groups', query: API }] },
  { name: 'upstream health (HEAD)', method: 'HEAD', path: '/api/health', status: 200,
    upstream: [{ method: 'HEAD', rawPath: '/api/health', query: API }] },
  { name: 'upstream health (GET)', method: 'GET', path: '/api/health', status: 200,
    upstream: [{ method: 'HEAD', rawPath: '/api/health', query: API }] },
];

describe('every operation, forwarded exactly', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(() => stack.close());

  for (const c of CASES) {
    it(c.name, async () => {
      stack.resetUpstream();
      const reply = await stack.call(c.method, c.path, { body: c.body });
      assert.equal(reply.status, c.status, reply.text);
      const seen = stack.standIn.requests.map(({ method, rawPath, query, body }) => ({ method, rawPath, query, ...(body === '' ? {} : { body: JSON.parse(body) }) }));
      assert.deepEqual(seen, c.upstream.map(({ query = API, ...rest }) => ({ ...rest, query })));
    });
  }

  it('sends one message to several users, in parallel, one result each', async () => {
    stack.resetUpstream();
    stack.standIn.answerWith(({ rawPath }) => (rawPath.includes('/users/bob/') ? { status: 429, headers: { 'retry-after': '7' } } : undefined));
    try {
      const reply = await stack.call('POST', '/api/hubs/Chat/:sendToUsers', { body: { users: ['alice', 'bob', 'c/d'], ...PAYLOAD } });
      assert.equal(reply.status, 207);
      assert.deepEqual(reply.json.results.map(({ user, status, problem }: any) => ({ user, status, code: problem?.code })), [
        { user: 'alice', status: 202, code: undefined },
        { user: 'bob', status: 429, code: 'upstream-throttled' },
        { user: 'c/d', status: 202, code: undefined },
      ]);
      const paths = stack.standIn.requests.map(({ method, rawPath, body }) => `${method} ${rawPath} ${body}`).sort();
      assert.deepEqual(paths, ['alice', 'bob', 'c%2Fd'].map((user) => `POST /api/hubs/chat/users/${user}/:send ${JSON.stringify(PAYLOAD)}`));
    } finally {
      stack.standIn.answerWith();
    }
  });

  it('sends one message to several groups, one result each', async () => {
    stack.resetUpstream();
    const reply = await stack.call('POST', '/api/hubs/Chat/:sendToGroups?application=App', { body: { groups: ['g1', 'g2'], target: 't' } });
    assert.equal(reply.status, 207);
    assert.deepEqual(reply.json, { results: [{ group: 'g1', status: 202 }, { group: 'g2', status: 202 }] });
    const seen = stack.standIn.requests.map(({ rawPath, query }) => `${rawPath}?${query['application']}`).sort();
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
      const reply = await stack.call('POST', '/api/hubs/Chat/:sendToUsers', { body: { users, target: 't' } });
      assert.equal(reply.status, 207);
      assert.equal(stack.standIn.requests.length, 30);
      assert.ok(most <= 8 && most > 1, `at most 8 at once and some in parallel, saw ${most}`);
    } finally {
      stack.standIn.answerWith();
    }
  });
});
