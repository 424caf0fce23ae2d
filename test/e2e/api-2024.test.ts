import * as signalR from '@microsoft/signalr';
import { MessagePackHubProtocol } from '@microsoft/signalr-protocol-msgpack';
import { EventSource } from 'eventsource';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { assertUpstreamContract, contract2024 } from '../contract/azure-contract.js';
import { Inbox, withTimeout } from '../emulator/helpers.js';
import { startFullStack, type FullStack } from '../fixtures/stack.js';

const { WebSockets, ServerSentEvents, LongPolling } = signalR.HttpTransportType;

/** Every transport with every protocol it carries (MessagePack needs binary, which SSE lacks). */
const CLIENTS = [
  { name: 'WebSockets + JSON', transport: WebSockets, protocol: 'json' },
  { name: 'WebSockets + MessagePack', transport: WebSockets, protocol: 'messagepack' },
  { name: 'Server-Sent Events + JSON', transport: ServerSentEvents, protocol: 'json' },
  { name: 'long polling + JSON', transport: LongPolling, protocol: 'json' },
  { name: 'long polling + MessagePack', transport: LongPolling, protocol: 'messagepack' },
] as const;

type ClientKind = (typeof CLIENTS)[number];

/**
 * Azure's 2024-12-01 operations end to end: real `@microsoft/signalr` clients negotiate through the gateway with an
 * SSO user token and connect to the emulator; the API calls go through the real gateway to the emulator, through a
 * recording proxy whose record is checked against Azure's contract at the end.
 */
describe('Azure 2024-12-01 operations through the gateway, with real clients', () => {
  let stack: FullStack;
  const tokens = new Map<string, string>();
  const connections: signalR.HubConnection[] = [];

  before(async () => {
    // A short invocation timeout, so the "client does not answer" case ends quickly.
    stack = await startFullStack({ emulator: { invocationTimeoutMs: 300 } });
  });

  after(async () => {
    await Promise.all(connections.map((connection) => connection.stop()));
    await stack?.close();
  });

  async function connect({ transport, protocol }: Pick<ClientKind, 'transport' | 'protocol'>, user: string): Promise<signalR.HubConnection> {
    if (!tokens.has(user)) tokens.set(user, await stack.userToken(user));
    const options = { transport, accessTokenFactory: () => tokens.get(user)!, WebSocket, EventSource };
    let builder = new signalR.HubConnectionBuilder().withUrl(`${stack.gatewayUrl}/hubs/chat`, options).configureLogging(signalR.LogLevel.None);
    if (protocol === 'messagepack') builder = builder.withHubProtocol(new MessagePackHubProtocol());
    const connection = builder.build();
    connections.push(connection);
    await withTimeout(connection.start(), 'start');
    return connection;
  }

  const path = (connection: signalR.HubConnection, rest = ''): string => `/api/hubs/chat/connections/${encodeURIComponent(connection.connectionId!)}${rest}`;

  describe("listing a group's connections", () => {
    const members: { connectionId: string; userId: string }[] = [];

    before(async () => {
      for (const [index, kind] of CLIENTS.entries()) {
        const connection = await connect(kind, `member${index}`);
        const added = await stack.api(
          'PUT',
          `/api/hubs/chat/groups/${encodeURIComponent('team a')}/connections/${encodeURIComponent(connection.connectionId!)}`,
        );
        assert.equal(added.status, 200);
        members.push({ connectionId: connection.connectionId!, userId: `member${index}` });
      }
      members.sort((a, b) => (a.connectionId < b.connectionId ? -1 : 1));
    });

    test('one page holds every member, with its user', async () => {
      const page = await stack.api('GET', '/api/hubs/chat/groups/team%20a/connections');
      assert.equal(page.status, 200);
      assert.deepEqual(page.json, { value: members });
    });

    test("pages follow the gateway's nextLink, whose continuation token is the service's", async () => {
      const seen: unknown[] = [];
      let link: string | undefined = '/api/hubs/Chat/groups/team%20a/connections?maxpagesize=2';
      for (let pages = 0; link !== undefined; pages++) {
        assert.ok(pages < CLIENTS.length, 'the pages end');
        const page = await stack.api('GET', link);
        assert.equal(page.status, 200, JSON.stringify(page.json));
        assert.ok(page.json.value.length <= 2);
        seen.push(...page.json.value);
        link = page.json.nextLink;
        if (link !== undefined) {
          // Relative to the gateway, keeping the caller's hub spelling and page size; the token is opaque.
          assert.match(link, /^\/api\/hubs\/Chat\/groups\/team%20a\/connections\?maxpagesize=2&continuationToken=[^&]+$/);
          const upstreamLink = stack.upstreamRequests.at(-1)!;
          assert.equal(upstreamLink.query['api-version']?.[0], '2024-12-01');
        }
      }
      assert.deepEqual(seen, members);
    });

    test('top bounds all pages together', async () => {
      const first = await stack.api('GET', '/api/hubs/chat/groups/team%20a/connections?maxpagesize=2&top=3');
      assert.deepEqual(first.json.value, members.slice(0, 2));
      const second = await stack.api('GET', first.json.nextLink);
      assert.deepEqual(second.json, { value: members.slice(2, 3) });
    });

    test('an empty group is an empty page', async () => {
      const page = await stack.api('GET', '/api/hubs/chat/groups/nobody/connections');
      assert.equal(page.status, 200);
      assert.deepEqual(page.json, { value: [] });
    });

    test('page sizes and tokens outside the rules are refused before anything goes upstream', async () => {
      const before = stack.upstreamRequests.length;
      for (const query of ['maxpagesize=0', 'maxpagesize=201', 'maxpagesize=1e2', 'top=0', 'top=2147483648', 'continuationToken=', 'continuationToken=a%00b']) {
        const reply = await stack.api('GET', `/api/hubs/chat/groups/g/connections?${query}`);
        assert.equal(reply.status, 400, query);
      }
      assert.equal(stack.upstreamRequests.length, before);
    });

    test('needs signalr.read', async () => {
      const token = await stack.serviceToken(['signalr.send', 'signalr.groups']);
      assert.equal((await stack.api('GET', '/api/hubs/chat/groups/g/connections', { token })).status, 403);
      const hubToken = await stack.forgeToken({ sub: 'reader', scope: 'signalr.read:chat' });
      assert.equal((await stack.api('GET', '/api/hubs/chat/groups/g/connections', { token: hubToken })).status, 200);
    });
  });

  describe('invoking a client and getting its result', () => {
    for (const kind of CLIENTS) {
      test(`over ${kind.name}: the handler's return value is the answer, and the client stays connected`, async () => {
        const connection = await connect(kind, 'invoked');
        connection.on('add', (a: number, b: number, tag: string) => ({ sum: a + b, tag, list: [1, 'two', null] }));
        const inbox = new Inbox(connection, ['after']);
        const reply = await stack.api('POST', path(connection, '/:invoke'), { body: { target: 'add', arguments: [1, 2, kind.name] } });
        assert.equal(reply.status, 200, JSON.stringify(reply.json));
        assert.deepEqual(reply.json, { result: { sum: 3, tag: kind.name, list: [1, 'two', null] } });
        // An async handler answers too.
        connection.on('later', async () => Promise.resolve('done'));
        assert.deepEqual((await stack.api('POST', path(connection, '/:invoke'), { body: { target: 'later' } })).json, { result: 'done' });
        // Answering is allowed in serverless mode: the client is still there.
        assert.equal((await stack.api('POST', path(connection, '/:send'), { body: { target: 'after', arguments: [1] } })).status, 202);
        assert.deepEqual((await inbox.next('after')).args, [1]);
        await connection.stop();
      });
    }

    test("a handler that throws is a 502 client-invocation-failed with the client's message", async () => {
      const connection = await connect(CLIENTS[0], 'thrower');
      connection.on('explode', () => {
        throw new Error('out of coffee');
      });
      const reply = await stack.api('POST', path(connection, '/:invoke'), { body: { target: 'explode' } });
      assert.equal(reply.status, 502);
      assert.equal(reply.json.code, 'client-invocation-failed');
      assert.match(reply.json.detail, /out of coffee/);
    });

    test('a method the client does not implement is a 502 client-no-result', async () => {
      for (const kind of [CLIENTS[1], CLIENTS[2]]) {
        const connection = await connect(kind, 'lazy');
        const reply = await stack.api('POST', path(connection, '/:invoke'), { body: { target: 'unknownMethod' } });
        assert.equal(reply.status, 502, kind.name);
        assert.equal(reply.json.code, 'client-no-result');
      }
    });

    test('a client that never answers is a 504 client-invocation-timeout', async () => {
      const connection = await connect(CLIENTS[0], 'sleeper');
      connection.on('never', () => new Promise(() => {}));
      const reply = await stack.api('POST', path(connection, '/:invoke'), { body: { target: 'never' } });
      assert.equal(reply.status, 504);
      assert.equal(reply.json.code, 'client-invocation-timeout');
    });

    test('a connection that does not exist is a 404', async () => {
      const reply = await stack.api('POST', '/api/hubs/chat/connections/nobody/:invoke', { body: { target: 'add' } });
      assert.equal(reply.status, 404);
      assert.equal(reply.json.code, 'not-found');
    });

    test('needs signalr.send, and a valid payload', async () => {
      const token = await stack.serviceToken(['signalr.read']);
      assert.equal((await stack.api('POST', '/api/hubs/chat/connections/c1/:invoke', { body: { target: 'add' }, token })).status, 403);
      assert.equal((await stack.api('POST', '/api/hubs/chat/connections/c1/:invoke', { body: { arguments: [] } })).status, 400);
    });
  });

  test(
    "every upstream request the tests made follows Azure's contract of its api-version and 2024-12-01",
    { skip: contract2024 === undefined && 'no reference swagger' },
    () => {
      const paths = new Set(stack.upstreamRequests.map(({ method, rawPath }) => `${method} ${rawPath.replace(/connections\/[^/]+/, 'connections/{id}')}`));
      assert.ok(paths.has('GET /api/hubs/chat/groups/team%20a/connections'));
      assert.ok(paths.has('POST /api/hubs/chat/connections/{id}/:invoke'));
      assertUpstreamContract(stack.upstreamRequests);
    },
  );
});
