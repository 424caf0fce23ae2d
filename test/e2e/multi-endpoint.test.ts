import * as signalR from '@microsoft/signalr';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { startEmulator, type RunningEmulator } from '../../src/emulator/emulator.js';
import { GatewayMetrics } from '../../src/observability/metrics.js';
import { mintToken, rest, restAudienceOf, withTimeout } from '../emulator/helpers.js';
import { eventually, startFullStack, type FullStack, type Reply } from '../fixtures/stack.js';

/** Two different keys: a token signed for one instance is refused by the other. */
const KEYS = { east: 'east-access-key-0123456789abcdefghijklmnop', west: 'west-access-key-0123456789abcdefghijklmnop' };
const PROBE_INTERVAL_MS = 200;

/** A client of the test and every message it received, by target. */
interface Client {
  user: string;
  connection: signalR.HubConnection;
  received: Map<string, number>;
  /** The instance that has its connection (where negotiate sent it). */
  endpoint: 'east' | 'west';
}

/**
 * Two real SignalR emulators behind one gateway (SIGNALR_ENDPOINTS=east,west): real clients negotiated through the
 * gateway spread over both, every send reaches every client exactly once, one instance closed is avoided and reported,
 * and used again once it is back on the same port.
 */
describe('several SignalR instances behind one gateway', () => {
  const emulators: Record<'east' | 'west', RunningEmulator | undefined> = { east: undefined, west: undefined };
  let stack: FullStack;
  const clients: Client[] = [];
  const tokens = new Map<string, string>();
  const auditDir = mkdtempSync(join(tmpdir(), 'gateway-audit-'));
  const auditFile = join(auditDir, 'audit.jsonl');

  const start = (name: 'east' | 'west', port = 0): Promise<RunningEmulator> => startEmulator({ host: '127.0.0.1', port, accessKey: KEYS[name] });

  before(async () => {
    emulators.east = await start('east');
    emulators.west = await start('west');
    stack = await startFullStack({
      upstream: { endpoints: { east: emulators.east.connectionString, west: emulators.west.connectionString } },
      env: { SIGNALR_HEALTH_CHECK_INTERVAL_MS: String(PROBE_INTERVAL_MS), AUDIT_LOG: auditFile },
    });
    for (const user of ['ann', 'bob']) tokens.set(user, await stack.userToken(user));
  });

  after(async () => {
    await Promise.all(clients.map(({ connection }) => connection.stop()));
    await stack?.close();
    await Promise.all(Object.values(emulators).flatMap((emulator) => (emulator ? [emulator.close()] : [])));
    rmSync(auditDir, { recursive: true, force: true });
  });

  const endpointOf = (url: string): 'east' | 'west' => {
    const origin = new URL(url).origin;
    if (origin === emulators.east?.url) return 'east';
    if (origin === emulators.west?.url) return 'west';
    assert.fail(`negotiate sent the client to ${origin}, neither instance`);
  };

  async function connect(user: string): Promise<Client> {
    // WebSocket is honoured by the client but left out of its published typings.
    const options = { transport: signalR.HttpTransportType.WebSockets, accessTokenFactory: () => tokens.get(user)!, WebSocket };
    const connection = new signalR.HubConnectionBuilder().withUrl(`${stack.gatewayUrl}/hubs/chat`, options).configureLogging(signalR.LogLevel.None).build();
    const received = new Map<string, number>();
    for (const target of ['broadcast', 'toUser', 'toGroup', 'fence']) connection.on(target, () => void received.set(target, (received.get(target) ?? 0) + 1));
    await withTimeout(connection.start(), `${user} connects`);
    const client = { user, connection, received, endpoint: await instanceWith(connection.connectionId!) };
    clients.push(client);
    return client;
  }

  /** Asks each instance itself, over its own REST API with its own key, which one has the connection. */
  async function instanceWith(connectionId: string): Promise<'east' | 'west'> {
    const found: ('east' | 'west')[] = [];
    for (const name of ['east', 'west'] as const) {
      const path = `/api/hubs/chat/connections/${connectionId}?api-version=2022-06-01`;
      const token = await mintToken({ aud: restAudienceOf(`${emulators[name]!.url}${path}`) }, { key: KEYS[name] });
      if ((await rest(emulators[name]!, 'HEAD', path, { token })).status === 200) found.push(name);
    }
    assert.equal(found.length, 1, `connection ${connectionId} is on exactly one instance`);
    return found[0];
  }

  const send = (path: string, target: string, requestId?: string): Promise<Reply> =>
    stack.api('POST', path, { body: { target, arguments: [target] }, headers: requestId === undefined ? {} : { 'x-request-id': requestId } });

  /** The upstream attempts the audit record of this request lists, in completion order (between endpoints, the network's). */
  const auditedAttempts = (requestId: string): Promise<(number | string)[]> =>
    eventually(() => {
      const line = readFileSync(auditFile, 'utf8')
        .split('\n')
        .find((candidate) => candidate.includes(`"requestId":"${requestId}"`));
      return line === undefined ? undefined : (JSON.parse(line) as { outcome: { upstream: (number | string)[] } }).outcome.upstream;
    }, `the audit record of ${requestId}`);

  /** Every client has received the fence; sends to a connection arrive in order, so whatever came before has arrived too. */
  async function fenced(among: readonly Client[], fenceCount: number, status = 202): Promise<void> {
    assert.equal((await send('/api/hubs/chat/:send', 'fence')).status, status);
    await eventually(() => among.every(({ received }) => received.get('fence') === fenceCount), 'every client received the fence');
  }

  const negotiatedEndpoint = async (): Promise<'east' | 'west'> => {
    const reply = await stack.api('POST', '/hubs/chat/negotiate?negotiateVersion=1', { token: tokens.get('ann') });
    assert.equal(reply.status, 200, reply.text);
    return endpointOf(reply.json.url as string);
  };

  const metricLine = async (name: 'east' | 'west'): Promise<string | undefined> =>
    (await stack.app.get(GatewayMetrics).scrape())
      .split('\n')
      .find((line) => line.startsWith(`signalr_gateway_upstream_endpoint_up{endpoint="${name}",type="primary"}`));

  test('clients spread over both instances; every broadcast, user and group send reaches each of them exactly once', async () => {
    const [ann1, ann2] = [await connect('ann'), await connect('ann')];
    await connect('bob');
    await connect('bob');
    assert.deepEqual(
      clients.map(({ endpoint }) => endpoint),
      ['east', 'west', 'east', 'west'],
      'round robin over the two primaries',
    );

    // Connection operations reach the one instance that has the connection; the other's "no such connection" is not an error.
    for (const { connection } of [ann1, ann2]) {
      assert.equal((await stack.api('HEAD', `/api/hubs/chat/connections/${connection.connectionId}`)).status, 200);
      assert.equal((await stack.api('PUT', `/api/hubs/chat/groups/anns/connections/${connection.connectionId}`)).status, 200);
    }
    assert.equal((await stack.api('HEAD', '/api/hubs/chat/connections/nobody')).status, 404);
    assert.equal((await stack.api('PUT', '/api/hubs/chat/users/bob/groups/bobs')).status, 200);
    assert.equal((await stack.api('HEAD', '/api/hubs/chat/users/bob/groups/bobs')).status, 200);
    assert.equal((await stack.api('HEAD', '/api/hubs/chat/groups/anns')).status, 200);

    assert.equal((await send('/api/hubs/chat/:send', 'broadcast', 'broadcast-both')).status, 202);
    assert.deepEqual(await auditedAttempts('broadcast-both'), [202, 202], "the audit record lists both endpoints' attempts");
    assert.equal((await send('/api/hubs/chat/users/bob/:send', 'toUser')).status, 202);
    assert.equal((await send('/api/hubs/chat/groups/anns/:send', 'toGroup')).status, 202);
    assert.equal((await send('/api/hubs/chat/groups/bobs/:send', 'toGroup')).status, 202);
    await fenced(clients, 1);

    for (const { user, endpoint, received } of clients) {
      const counts = Object.fromEntries(received);
      assert.deepEqual(
        counts,
        user === 'bob' ? { broadcast: 1, toUser: 1, toGroup: 1, fence: 1 } : { broadcast: 1, toGroup: 1, fence: 1 },
        `${user} at ${endpoint}`,
      );
    }

    // A group's members are listed across both instances, one page per instance under the gateway's own token.
    const first = await stack.api('GET', '/api/hubs/chat/groups/anns/connections');
    assert.equal(first.status, 200, first.text);
    assert.deepEqual(
      first.json.value.map(({ connectionId }: { connectionId: string }) => connectionId),
      [ann1.connection.connectionId],
    );
    const second = await stack.api('GET', first.json.nextLink as string);
    assert.deepEqual(
      second.json.value.map(({ connectionId }: { connectionId: string }) => connectionId),
      [ann2.connection.connectionId],
    );
    assert.equal(second.json.nextLink, undefined);
    // `top` counts over every endpoint: one member in all, so no page of west's.
    const topped = await stack.api('GET', '/api/hubs/chat/groups/anns/connections?top=1');
    assert.deepEqual(
      topped.json.value.map(({ connectionId }: { connectionId: string }) => connectionId),
      [ann1.connection.connectionId],
    );
    assert.equal(topped.json.nextLink, undefined);
    const forged = await stack.api('GET', '/api/hubs/chat/groups/anns/connections?continuationToken=abc');
    assert.equal(forged.status, 400);
    assert.equal(forged.json.code, 'validation');
  });

  test('one instance down: negotiate avoids it, sends report it as a partial failure, /readyz and the metric show it', async () => {
    const eastPort = emulators.east!.port;
    const westClients = clients.filter(({ endpoint }) => endpoint === 'west');
    await emulators.east!.close();
    emulators.east = undefined;

    const reply = await send('/api/hubs/chat/:send', 'broadcast', 'broadcast-east-down');
    assert.equal(reply.status, 502);
    assert.deepEqual((await auditedAttempts('broadcast-east-down')).map(String).sort(), ['202', 'unreachable']);
    assert.equal(reply.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    assert.equal(reply.json.code, 'partial-failure');
    assert.match(reply.json.detail, /took effect at SignalR endpoint\(s\) west but failed at east \(upstream-unavailable\)/);
    assert.deepEqual(
      reply.json.endpoints.map(({ endpoint, status, problem }: { endpoint: string; status: number; problem?: { code: string } }) => [
        endpoint,
        status,
        problem?.code,
      ]),
      [
        ['east', 503, 'upstream-unavailable'],
        ['west', 202, undefined],
      ],
    );
    // It did reach the clients of west.
    await fenced(westClients, 2, 502);
    assert.ok(westClients.every(({ received }) => received.get('broadcast') === 2));

    const ready = await eventually(async () => {
      const readyz = await stack.api('GET', '/readyz', { anonymous: true });
      return readyz.json?.status === 'degraded' && readyz;
    }, '/readyz reports east down');
    assert.equal(ready.status, 200, 'still ready: west takes clients');
    assert.deepEqual(
      ready.json.details.signalr.endpoints.map(({ endpoint, status }: { endpoint: string; status: string }) => [endpoint, status]),
      [
        ['east', 'down'],
        ['west', 'up'],
      ],
    );
    assert.match(ready.json.details.signalr.message, /^some endpoints are down: east \(/);
    assert.equal(await metricLine('east'), 'signalr_gateway_upstream_endpoint_up{endpoint="east",type="primary"} 0');
    assert.equal(await metricLine('west'), 'signalr_gateway_upstream_endpoint_up{endpoint="west",type="primary"} 1');
    assert.deepEqual([await negotiatedEndpoint(), await negotiatedEndpoint(), await negotiatedEndpoint()], ['west', 'west', 'west']);

    // Back on the same port: used again after the next good probe.
    emulators.east = await start('east', eastPort);
    await eventually(async () => (await metricLine('east'))?.endsWith(' 1'), 'east is up again');
    const readyz = await stack.api('GET', '/readyz', { anonymous: true });
    assert.equal(readyz.json.status, 'ok');
    const picks = [await negotiatedEndpoint(), await negotiatedEndpoint()];
    assert.deepEqual([...picks].sort(), ['east', 'west']);
    assert.equal((await send('/api/hubs/chat/:send', 'broadcast')).status, 202);
  });

  test('no instance up: negotiate answers 503 no-healthy-endpoint and /readyz is not ready', async () => {
    await Promise.all(Object.values(emulators).flatMap((emulator) => (emulator ? [emulator.close()] : [])));
    emulators.east = emulators.west = undefined;
    await eventually(async () => (await stack.api('GET', '/readyz', { anonymous: true })).status === 503, '/readyz says not ready');
    const reply = await stack.api('POST', '/hubs/chat/negotiate?negotiateVersion=1', { token: tokens.get('ann') });
    assert.equal(reply.status, 503);
    assert.equal(reply.json.code, 'no-healthy-endpoint');
    assert.match(reply.json.detail, /^No SignalR endpoint is healthy: east \(.+\), west \(.+\)\.$/);
    const sent = await send('/api/hubs/chat/:send', 'broadcast');
    assert.equal(sent.status, 503, 'nowhere reached: the first failure, as one endpoint would answer');
    assert.equal(sent.json.code, 'upstream-unavailable');
    assert.equal(sent.json.endpoints.length, 2);
  });
});
