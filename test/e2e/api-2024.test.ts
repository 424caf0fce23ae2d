import * as signalR from '@microsoft/signalr';
import { MessagePackHubProtocol } from '@microsoft/signalr-protocol-msgpack';
import { encode } from '@msgpack/msgpack';
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

/** A MessagePack record as the hub protocol frames it: a VarInt length, then the bytes. */
function lengthPrefixed(payload: Uint8Array): Buffer {
  const prefix: number[] = [];
  let length = payload.length;
  do {
    prefix.push((length & 0x7f) | (length > 0x7f ? 0x80 : 0));
    length >>>= 7;
  } while (length > 0);
  return Buffer.concat([Buffer.from(prefix), payload]);
}

/**
 * The binary body Azure's .NET SDK sends with hub protocols registered (BinaryPayloadMessageContent): a MessagePack map
 * from protocol name to the Invocation serialised in that protocol, framing included.
 */
function sdkBinaryPayload(target: string, entries: { json?: unknown[]; messagepack?: unknown[] }): Buffer {
  const map: Record<string, Uint8Array> = {};
  if (entries.json) map['json'] = Buffer.from(JSON.stringify({ type: 1, target, arguments: entries.json }) + '\x1e');
  if (entries.messagepack) map['messagepack'] = lengthPrefixed(encode([1, {}, null, target, entries.messagepack, []]));
  return Buffer.from(encode(map));
}

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

  describe("binary payloads, as Azure's SDK sends them", () => {
    async function post(path: string, body: Buffer, contentType: string): Promise<{ status: number; json: any }> {
      const response = await fetch(stack.gatewayUrl + path, {
        method: 'POST',
        headers: { authorization: `Bearer ${await stack.serviceToken()}`, 'content-type': contentType },
        body: new Uint8Array(body),
      });
      const text = await response.text();
      return { status: response.status, json: text === '' ? undefined : JSON.parse(text) };
    }

    test('a group send reaches JSON and MessagePack clients on every transport, each with its own serialisation', async () => {
      const inboxes: { kind: ClientKind; inbox: Inbox }[] = [];
      for (const kind of CLIENTS) {
        const connection = await connect(kind, `bin-${kind.protocol}`);
        inboxes.push({ kind, inbox: new Inbox(connection, ['binary']) });
        assert.equal((await stack.api('PUT', `/api/hubs/chat/groups/bin/connections/${encodeURIComponent(connection.connectionId!)}`)).status, 200);
      }
      const before = stack.upstreamRequests.length;
      const body = sdkBinaryPayload('binary', { json: ['bytes', 'AQID', { n: 1 }], messagepack: ['bytes', new Uint8Array([1, 2, 3]), { n: 1 }] });
      const sent = await post('/api/hubs/chat/groups/bin/:send', body, 'application/octet-stream');
      assert.equal(sent.status, 202, JSON.stringify(sent.json));
      // Forwarded untouched: the same bytes and content type upstream.
      const upstream = stack.upstreamRequests.slice(before).find(({ rawPath }) => rawPath === '/api/hubs/chat/groups/bin/:send')!;
      assert.equal(upstream.headers['content-type'], 'application/octet-stream');
      assert.deepEqual(upstream.bodyBytes, body);
      for (const { kind, inbox } of inboxes) {
        const { args } = await inbox.next('binary');
        const bytes = kind.protocol === 'messagepack' ? new Uint8Array([1, 2, 3]) : 'AQID';
        assert.deepEqual(args, ['bytes', bytes, { n: 1 }], kind.name);
      }
    });

    test('a payload with the MessagePack serialisation only reaches a JSON client too (bin as base64)', async () => {
      const connection = await connect(CLIENTS[2], 'bin-sse');
      const inbox = new Inbox(connection, ['only']);
      const body = sdkBinaryPayload('only', { messagepack: [new Uint8Array([255]), 'x'] });
      assert.equal((await post(path(connection, '/:send'), body, 'application/x-msgpack')).status, 202);
      assert.deepEqual((await inbox.next('only')).args, ['/w==', 'x']);
      for (const route of ['/api/hubs/chat/:send', '/api/hubs/chat/users/bin-sse/:send']) {
        assert.equal((await post(route, sdkBinaryPayload('only', { json: ['again'] }), 'application/octet-stream')).status, 202);
        assert.deepEqual((await inbox.next('only')).args, ['again']);
      }
    });

    test(':invoke takes a binary payload too', async () => {
      const connection = await connect(CLIENTS[1], 'bin-invoke');
      connection.on('length', (data: Uint8Array) => data.length);
      const reply = await post(path(connection, '/:invoke'), sdkBinaryPayload('length', { messagepack: [new Uint8Array(5)] }), 'application/octet-stream');
      assert.equal(reply.status, 200, JSON.stringify(reply.json));
      assert.deepEqual(reply.json, { result: 5 });
    });

    test("a binary body that is not the SDK's map is 400, and on any other route 415, before anything goes upstream", async () => {
      const before = stack.upstreamRequests.length;
      const bad = [
        Buffer.from([0xc1]),
        Buffer.from(encode(['json'])),
        Buffer.from(encode({ xml: new Uint8Array([1]) })),
        Buffer.from(encode({ json: 'text' })),
        Buffer.from(encode({})),
      ];
      for (const body of bad) {
        const reply = await post('/api/hubs/chat/:send', body, 'application/octet-stream');
        assert.equal(reply.status, 400, body.toString('hex'));
        assert.equal(reply.json.code, 'validation');
      }
      const payload = sdkBinaryPayload('t', { json: [] });
      for (const route of ['/api/hubs/chat/:sendToUsers', '/api/hubs/chat/:closeConnections', '/api/hubs/chat/groups/g/:closeConnections']) {
        assert.equal((await post(route, payload, 'application/octet-stream')).status, 415, route);
      }
      assert.equal(stack.upstreamRequests.length, before);
    });
  });

  describe('streams: items to a stream the client opened', () => {
    /** What a client's stream subscriber saw: its items, then how it ended. */
    function subscribe(connection: signalR.HubConnection, method: string): { items: unknown[]; ended: Promise<Error | undefined> } {
      const items: unknown[] = [];
      const ended = new Promise<Error | undefined>((resolve) => {
        connection.stream(method, 'AAPL').subscribe({ next: (item) => items.push(item), complete: () => resolve(undefined), error: (error) => resolve(error) });
      });
      return { items, ended };
    }
    // The JavaScript client numbers its invocations from 0 per connection: a fresh connection's first stream is "0".
    const streamPath = (connection: signalR.HubConnection, action: string, id = '0'): string => path(connection, `/streams/${id}/:${action}`);

    for (const kind of CLIENTS) {
      test(`over ${kind.name}: items arrive in order and completed=true ends the stream`, async () => {
        const connection = await connect(kind, 'streamer');
        const { items, ended } = subscribe(connection, 'ticker');
        // The client's StreamInvocation travels on its own; a send before it arrives finds no stream (404), so retry.
        for (let attempt = 0; ; attempt++) {
          const first = await stack.api('POST', streamPath(connection, 'send'), { body: { item: { price: 1 } } });
          if (first.status === 202) break;
          assert.equal(first.status, 404);
          assert.ok(attempt < 50, 'the stream opens');
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        assert.equal((await stack.api('POST', streamPath(connection, 'send'), { body: { item: 'two' } })).status, 202);
        assert.equal((await stack.api('POST', `${streamPath(connection, 'send')}?completed=true`, { body: { item: [3] } })).status, 202);
        assert.equal(await withTimeout(ended, 'stream end'), undefined);
        assert.deepEqual(items, [{ price: 1 }, 'two', [3]]);
        // Ended: the stream is gone.
        const after = await stack.api('POST', streamPath(connection, 'send'), { body: { item: 4 } });
        assert.deepEqual([after.status, after.json.code], [404, 'not-found']);
        await connection.stop();
      });
    }

    test(':complete with a reason fails the stream with it; without one it completes', async () => {
      const connection = await connect(CLIENTS[1], 'streamer2');
      const failing = subscribe(connection, 'a');
      const completing = subscribe(connection, 'b');
      for (let attempt = 0; (await stack.api('POST', `${streamPath(connection, 'complete', '1')}`)).status !== 202; attempt++) {
        assert.ok(attempt < 50, 'the stream opens');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.equal(await withTimeout(completing.ended, 'completion'), undefined);
      assert.equal((await stack.api('POST', `${streamPath(connection, 'complete')}?reason=${encodeURIComponent('market closed')}`)).status, 202);
      assert.match(String(await withTimeout(failing.ended, 'failure')), /market closed/);
    });

    test('a stream id outside the rules is 400, an unknown connection 404, and it needs signalr.send', async () => {
      assert.equal((await stack.api('POST', `/api/hubs/chat/connections/c1/streams/${'s'.repeat(101)}/:send`, { body: { item: 1 } })).status, 400);
      assert.equal((await stack.api('POST', '/api/hubs/chat/connections/c1/streams/%20/:complete')).status, 400);
      assert.equal((await stack.api('POST', '/api/hubs/chat/connections/c1/streams/0/:send?completed=yes', { body: { item: 1 } })).status, 400);
      assert.equal((await stack.api('POST', '/api/hubs/chat/connections/c1/streams/0/:send', { body: {} })).status, 400);
      assert.equal((await stack.api('POST', '/api/hubs/chat/connections/nobody/streams/0/:send', { body: { item: 1 } })).status, 404);
      const token = await stack.serviceToken(['signalr.read']);
      assert.equal((await stack.api('POST', '/api/hubs/chat/connections/c1/streams/0/:complete', { token })).status, 403);
    });
  });

  describe(':execute: commands for every connection a filter matches', () => {
    const run = (filter: string | undefined, body: unknown, token?: string) =>
      stack.api('POST', `/api/hubs/chat/:execute${filter === undefined ? '' : `?filter=${encodeURIComponent(filter)}`}`, { body, token });

    test('each command kind reaches exactly the connections its filter matches, on every transport and protocol', async () => {
      const clients: { connection: signalR.HubConnection; inbox: Inbox; user: string; closed: Promise<Error | undefined> }[] = [];
      for (const [index, kind] of CLIENTS.entries()) {
        const user = `exec${index}`;
        const connection = await connect(kind, user);
        const closed = new Promise<Error | undefined>((resolve) => connection.onclose(resolve));
        clients.push({ connection, inbox: new Inbox(connection, ['notice', 'team']), user, closed });
      }
      const [a, b, c, d, e] = clients;

      // SendMessage to two users by `in`, arguments as given.
      assert.equal(
        (await run("userId in ('exec0', 'exec3')", [{ type: 'SendMessage', message: { target: 'notice', arguments: [1, { x: 'y' }] } }])).status,
        202,
      );
      for (const client of [a, d]) assert.deepEqual((await client.inbox.next('notice')).args, [1, { x: 'y' }]);

      // JoinGroup by `eq`/`or`, then a group-membership filter with `not` and `and`.
      assert.equal(
        (await run("userId eq 'exec1' or connectionId eq '" + c.connection.connectionId + "'", [{ type: 'JoinGroup', group: 'exec-team' }])).status,
        202,
      );
      const members = await stack.api('GET', '/api/hubs/chat/groups/exec-team/connections');
      assert.deepEqual(members.json.value.map((m: { userId: string }) => m.userId).sort(), ['exec1', 'exec2']);
      assert.equal(
        (await run("'exec-team' in groups and not (userId eq 'exec2')", [{ type: 'SendMessage', message: { target: 'team', arguments: ['only b'] } }])).status,
        202,
      );
      assert.deepEqual((await b.inbox.next('team')).args, ['only b']);
      assert.equal((await run("userId ne 'exec1' and 'exec-team' in groups", [{ type: 'LeaveGroup', group: 'exec-team' }])).status, 202);
      const left = await stack.api('GET', '/api/hubs/chat/groups/exec-team/connections');
      assert.deepEqual(
        left.json.value.map((m: { userId: string }) => m.userId),
        ['exec1'],
      );
      // Everyone who was told something else gets the next 'team' message only if in the group: c has left.
      assert.equal((await run("'exec-team' in groups", [{ type: 'SendMessage', message: { target: 'team', arguments: ['b again'] } }])).status, 202);
      assert.deepEqual((await b.inbox.next('team')).args, ['b again']);

      // CloseConnection with its reason, to one connection.
      assert.equal((await run(`connectionId eq '${e.connection.connectionId}'`, [{ type: 'CloseConnection', reason: 'bye' }])).status, 202);
      assert.match(String(await withTimeout(e.closed, 'close')), /bye/);
      // The others are still there: a final message by `ne` reaches them, in order after the earlier ones.
      assert.equal((await run("userId ne 'exec4'", [{ type: 'SendMessage', message: { target: 'notice', arguments: ['last'] } }])).status, 202);
      for (const client of [a, b, c, d]) assert.deepEqual((await client.inbox.next('notice')).args, ['last']);
    });

    test('a filter outside the subset is 400 naming the part, before anything goes upstream', async () => {
      const before = stack.upstreamRequests.length;
      const refused: [string, RegExp][] = [
        ["startswith(userId, 'x')", /function 'startswith'/],
        ["userId gt 'a'", /operator 'gt'/],
        ["name eq 'a'", /'name' at position 0 is not supported/],
        ["userId eq 'a' and", /the end of the filter/],
        ["userId eq 'a", /unterminated string/],
        ['userId eq 1', /unexpected '1' at position 10/],
        ["(userId eq 'a'", /expected \)/],
        ['', /empty/],
      ];
      for (const [filter, message] of refused) {
        const reply = await run(filter, [{ type: 'JoinGroup', group: 'g' }]);
        assert.equal(reply.status, 400, filter);
        assert.match(reply.json.errors[0].message, message, filter);
      }
      assert.equal(stack.upstreamRequests.length, before);
    });

    test('commands are checked one by one, and each kind needs its own permission', async () => {
      const invalid = await run(undefined, [
        { type: 'JoinGroup' },
        { type: 'Shout' },
        { type: 'SendMessage', message: {} },
        { type: 'CloseConnection', group: 'x' },
      ]);
      assert.equal(invalid.status, 400);
      assert.deepEqual(
        invalid.json.errors.map((error: { field: string }) => error.field),
        ['body[0].group', 'body[1].type', 'body[2].message.target', 'body[3].group'],
      );
      assert.equal((await run(undefined, [])).status, 400);
      assert.equal((await run(undefined, { type: 'JoinGroup', group: 'g' })).status, 400);

      const sender = await stack.serviceToken(['signalr.send']);
      assert.equal((await run(undefined, [{ type: 'SendMessage', message: { target: 't' } }], sender)).status, 202);
      const denied = await run(undefined, [{ type: 'SendMessage', message: { target: 't' } }, { type: 'CloseConnection' }], sender);
      assert.equal(denied.status, 403);
      assert.match(denied.json.detail, /signalr\.connections/);
      assert.equal((await run(undefined, [{ type: 'LeaveGroup', group: 'g' }], sender)).status, 403);
      const hubGrant = await stack.forgeToken({ sub: 'ops', scope: 'signalr.groups:chat' });
      assert.equal((await run(undefined, [{ type: 'LeaveGroup', group: 'g' }], hubGrant)).status, 202);
      assert.equal((await stack.api('POST', '/api/hubs/chat/:execute?application=app', { body: [{ type: 'LeaveGroup', group: 'g' }] })).status, 400);
    });
  });

  test(
    "every upstream request the tests made follows Azure's contract of its api-version and 2024-12-01",
    { skip: contract2024 === undefined && 'no reference swagger' },
    () => {
      const paths = new Set(stack.upstreamRequests.map(({ method, rawPath }) => `${method} ${rawPath.replace(/connections\/[^/]+/, 'connections/{id}')}`));
      assert.ok(paths.has('GET /api/hubs/chat/groups/team%20a/connections'));
      assert.ok(paths.has('POST /api/hubs/chat/connections/{id}/:invoke'));
      assert.ok(stack.upstreamRequests.some(({ headers }) => headers['content-type'] === 'application/x-msgpack'));
      assert.ok(paths.has('POST /api/hubs/chat/:execute'));
      assertUpstreamContract(stack.upstreamRequests);
    },
  );
});
