import * as signalR from '@microsoft/signalr';
import { EventSource } from 'eventsource';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { startFullStack, type FullStack } from '../fixtures/stack.js';
import { Inbox, withTimeout } from '../emulator/helpers.js';

const TRANSPORTS = {
  WebSockets: signalR.HttpTransportType.WebSockets,
  ServerSentEvents: signalR.HttpTransportType.ServerSentEvents,
  LongPolling: signalR.HttpTransportType.LongPolling,
};

/**
 * The whole path a frontend takes, in Node: the standard client at `<gateway>/hubs/chat` with an SSO token,
 * redirected by the gateway's negotiate to the SignalR service (the emulator); messages sent through the gateway's
 * API with a service token arrive.
 */
describe('end to end: SSO user -> gateway negotiate -> SignalR service <- gateway API', () => {
  let stack: FullStack;
  let token: string;
  const connections: signalR.HubConnection[] = [];

  before(async () => {
    stack = await startFullStack();
    token = await stack.userToken('dora');
  });

  after(async () => {
    await Promise.all(connections.map((connection) => connection.stop()));
    await stack?.close();
  });

  function connect(transport: signalR.HttpTransportType, accessTokenFactory: () => string): signalR.HubConnection {
    // WebSocket and EventSource are honoured by the client but left out of its published typings.
    const options = { transport, accessTokenFactory, WebSocket, EventSource };
    const connection = new signalR.HubConnectionBuilder()
      .withUrl(`${stack.gatewayUrl}/hubs/chat`, options)
      .withAutomaticReconnect([0, 100, 500, 1000])
      .configureLogging(signalR.LogLevel.None)
      .build();
    connections.push(connection);
    return connection;
  }

  for (const [name, transport] of Object.entries(TRANSPORTS)) {
    test(`over ${name}: a send to the user through the API reaches the client`, async () => {
      const connection = connect(transport, () => token);
      const inbox = new Inbox(connection, ['broadcastMessage']);
      await withTimeout(connection.start(), 'start');
      const sent = await stack.api('POST', '/api/hubs/chat/users/dora/:send', { body: { target: 'broadcastMessage', arguments: ['api', name] } });
      assert.equal(sent.status, 202);
      assert.deepEqual((await inbox.next('broadcastMessage')).args, ['api', name]);
      await connection.stop();
    });
  }

  test('a reconnect negotiates again through the same accessTokenFactory', async () => {
    let calls = 0;
    const connection = connect(TRANSPORTS.WebSockets, () => {
      calls += 1;
      return token;
    });
    await withTimeout(connection.start(), 'start');
    const first = connection.connectionId;
    assert.equal(calls, 1);

    const reconnected = new Promise<string | undefined>((resolve) => connection.onreconnected(resolve));
    assert.equal((await stack.api('POST', '/api/hubs/chat/users/dora/:closeConnections')).status, 204);
    const second = await withTimeout(reconnected, 'reconnect');
    assert.notEqual(second, first);
    assert.equal(calls, 2);
  });

  test("without a valid SSO token the client fails to start with the gateway's 401", async () => {
    const connection = connect(TRANSPORTS.WebSockets, () => 'not-a-token');
    await assert.rejects(withTimeout(connection.start(), 'start'), /401/);
  });
});
