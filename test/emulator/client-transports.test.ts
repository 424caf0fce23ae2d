import * as signalR from '@microsoft/signalr';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { eventually, type Reply } from '../fixtures/stack.js';
import { closedWith, connectClient, emulatorClients, Inbox, rest, startNegotiateServer, startTestEmulator, withTimeout, type ProtocolName } from './helpers.js';

const { WebSockets, ServerSentEvents, LongPolling } = signalR.HttpTransportType;

// SSE is text-only, so MessagePack cannot run over it (checked separately below).
const cells: Array<[string, signalR.HttpTransportType, ProtocolName]> = [
  ['WebSockets', WebSockets, 'json'],
  ['WebSockets', WebSockets, 'messagepack'],
  ['ServerSentEvents', ServerSentEvents, 'json'],
  ['LongPolling', LongPolling, 'json'],
  ['LongPolling', LongPolling, 'messagepack'],
];

const TARGETS = ['message', 'marker'];

for (const [name, transport, protocol] of cells) {
  describe(`${name} with ${protocol}, through a negotiate redirect`, () => {
    const suite = emulatorClients();
    let userCount = 0;

    const connect = async (user: string): Promise<{ connection: signalR.HubConnection; inbox: Inbox }> => {
      const connection = await suite.connect(user, transport, protocol);
      return { connection, inbox: new Inbox(connection, TARGETS) };
    };
    const freshUser = (): string => `user-${++userCount}`;
    const send = (path: string, body: object): Promise<Reply> => rest(suite.emulator, 'POST', `/api/hubs/chat${path}`, { body });
    const status = async (method: string, path: string): Promise<number> => (await rest(suite.emulator, method, `/api/hubs/chat${path}`)).status;

    test('connects with a public id that exists for the REST API, then stops and no longer exists', async () => {
      const user = freshUser();
      assert.equal(await status('HEAD', `/users/${user}`), 404);
      const { connection } = await connect(user);
      assert.equal(connection.state, signalR.HubConnectionState.Connected);
      assert.ok(connection.connectionId);
      assert.equal(await status('HEAD', `/connections/${connection.connectionId}`), 200);
      assert.equal(await status('GET', `/connections/${connection.connectionId}`), 200);
      assert.equal(await status('HEAD', `/users/${user}`), 200);
      await connection.stop();
      await eventually(async () => (await status('HEAD', `/connections/${connection.connectionId}`)) === 404, 'connection removal');
      assert.equal(await status('HEAD', `/users/${user}`), 404);
    });

    test('receives broadcast, user, group and connection sends, with arguments intact and excluded respected', async () => {
      const alice = freshUser();
      const a = await connect(alice);
      const b = await connect(freshUser());
      const args = ['héllo ✓', { nested: { list: [1, 2.5, null] } }, 42, null];

      assert.equal((await send('/:send', { Target: 'MESSAGE', Arguments: args })).status, 202);
      assert.deepEqual((await a.inbox.next('message')).args, args);
      assert.deepEqual((await b.inbox.next('message')).args, args);

      await send(`/:send?excluded=${b.connection.connectionId}`, { target: 'message', arguments: ['not for b'] });
      await send(`/connections/${b.connection.connectionId}/:send`, { target: 'marker' });
      assert.deepEqual((await b.inbox.next('marker')).before, [], 'b was excluded from the broadcast');
      assert.deepEqual((await a.inbox.next('message')).args, ['not for b']);

      await send(`/users/${alice}/:send`, { target: 'message', arguments: ['to alice'] });
      assert.deepEqual((await a.inbox.next('message')).args, ['to alice']);

      assert.equal(await status('PUT', `/groups/team/connections/${a.connection.connectionId}`), 200);
      assert.equal(await status('PUT', `/groups/team/connections/${b.connection.connectionId}`), 200);
      await send(`/groups/team/:send?excluded=${a.connection.connectionId}`, { target: 'message', arguments: ['team'] });
      assert.deepEqual((await b.inbox.next('message')).args, ['team']);
      await send(`/connections/${a.connection.connectionId}/:send`, { target: 'marker' });
      assert.deepEqual((await a.inbox.next('marker')).before, [], 'a was excluded from the group send');

      const burst = Array.from({ length: 50 }, (_, index) => index);
      for (const index of burst) await send(`/connections/${a.connection.connectionId}/:send`, { target: 'message', arguments: [index] });
      for (const index of burst) assert.deepEqual((await a.inbox.next('message')).args, [index]);
    });

    test('a broadcast of any size reaches every client whole (a message is framed once for all its recipients)', async () => {
      const clients = [await connect(freshUser()), await connect(freshUser())];
      // WebSocket frame lengths: 7 bits up to 125 bytes, 16 bits up to 65,535, 64 bits beyond.
      for (const length of [10, 200, 70_000]) {
        const args = ['y'.repeat(length)];
        assert.equal((await send('/:send', { target: 'message', arguments: args })).status, 202);
        for (const { inbox } of clients) assert.deepEqual((await inbox.next('message')).args, args, `${length} characters`);
      }
    });

    test('group membership by connection and by user, with TTL expiry and later connections joining', async () => {
      const user = freshUser();
      const first = await connect(user);
      const id = first.connection.connectionId!;

      assert.equal(await status('HEAD', '/groups/by-connection'), 404);
      assert.equal(await status('PUT', `/groups/by-connection/connections/${id}`), 200);
      assert.equal(await status('HEAD', '/groups/by-connection'), 200);
      await send('/groups/by-connection/:send', { target: 'message', arguments: ['g1'] });
      assert.deepEqual((await first.inbox.next('message')).args, ['g1']);
      assert.equal(await status('DELETE', `/groups/by-connection/connections/${id}`), 200);
      assert.equal(await status('HEAD', '/groups/by-connection'), 404);

      assert.equal(await status('PUT', `/users/${user}/groups/short?ttl=1`), 200);
      assert.equal(await status('HEAD', `/users/${user}/groups/short`), 200);
      await send('/groups/short/:send', { target: 'message', arguments: ['short'] });
      assert.deepEqual((await first.inbox.next('message')).args, ['short']);
      await eventually(async () => (await status('HEAD', `/users/${user}/groups/short`)) === 404, 'ttl expiry');
      assert.equal(await status('HEAD', '/groups/short'), 404, 'expiry took the user’s connection out of the group');

      assert.equal(await status('PUT', `/users/${user}/groups/lasting`), 200);
      const later = await connect(user);
      await send('/groups/lasting/:send', { target: 'message', arguments: ['lasting'] });
      assert.deepEqual((await later.inbox.next('message')).args, ['lasting']);
      assert.deepEqual((await first.inbox.next('message')).args, ['lasting']);

      assert.equal(await status('DELETE', `/users/${user}/groups/lasting`), 204);
      assert.equal(await status('HEAD', `/users/${user}/groups/lasting`), 404);
      assert.equal(await status('HEAD', '/groups/lasting'), 404);
    });

    test('closing one connection delivers the reason; :closeConnections on group, user and hub honour excluded', async () => {
      const single = await connect(freshUser());
      const singleClosed = closedWith(single.connection);
      assert.equal(await status('DELETE', `/connections/${single.connection.connectionId}?reason=${encodeURIComponent('bye now')}`), 200);
      assert.match(String((await singleClosed)?.message), /bye now/);
      assert.equal(await status('HEAD', `/connections/${single.connection.connectionId}`), 404);

      const user = freshUser();
      const [u1, u2, grouped, other] = await Promise.all([connect(user), connect(user), connect(freshUser()), connect(freshUser())]);
      assert.equal(await status('PUT', `/groups/doomed/connections/${grouped.connection.connectionId}`), 200);

      const groupClosed = closedWith(grouped.connection);
      assert.equal(await status('POST', '/groups/doomed/:closeConnections?reason=group'), 204);
      assert.match(String((await groupClosed)?.message), /group/);

      const u1Closed = closedWith(u1.connection);
      assert.equal(await status('POST', `/users/${user}/:closeConnections?reason=user&excluded=${u2.connection.connectionId}`), 204);
      assert.match(String((await u1Closed)?.message), /user/);
      assert.equal(await status('HEAD', `/connections/${u2.connection.connectionId}`), 200);

      const rest = [u2, other].map((client) => closedWith(client.connection));
      const survivor = await connect(freshUser());
      assert.equal(await status('POST', `/:closeConnections?reason=hub&excluded=${survivor.connection.connectionId}`), 204);
      for (const closed of await Promise.all(rest)) assert.match(String(closed?.message), /hub/);
      assert.equal(await status('HEAD', `/connections/${survivor.connection.connectionId}`), 200);
    });

    test('a client that invokes a hub method is disconnected, as in serverless mode', async () => {
      const client = await connect(freshUser());
      const closed = closedWith(client.connection);
      await client.connection.send('echo', 'hello');
      assert.match(String((await closed)?.message), /No server available/);
      await eventually(async () => (await status('HEAD', `/connections/${client.connection.connectionId}`)) === 404, 'removal');
    });

    test('stays connected across several keep-alive intervals', async () => {
      const client = await connect(freshUser());
      await new Promise((resolve) => setTimeout(resolve, 1_500)); // three keep-alive intervals of the test emulator
      await send(`/connections/${client.connection.connectionId}/:send`, { target: 'message', arguments: ['still here'] });
      assert.deepEqual((await client.inbox.next('message')).args, ['still here']);
    });
  });
}

describe('MessagePack over Server-Sent Events', () => {
  test('is refused, because SSE carries text only', async () => {
    const emulator = await startTestEmulator();
    const negotiate = await startNegotiateServer(emulator);
    try {
      await assert.rejects(withTimeout(connectClient(negotiate.url, ServerSentEvents, 'messagepack', 'u'), 'start'));
    } finally {
      await negotiate.close();
      await emulator.close();
    }
  });
});
