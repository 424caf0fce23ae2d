import 'reflect-metadata';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { jwtVerify } from 'jose';
import { SignalRConfig, type RetrySettings } from '../../src/config/signalr.config.js';
import { parseConnectionString } from '../../src/config/connection-string.js';
import { EntraConfig } from '../../src/config/entra.config.js';
import { UpstreamCredentials } from '../../src/signalr/upstream-credentials.js';
import { SignalRClient } from '../../src/signalr/signalr.client.js';
import { UpstreamError } from '../../src/signalr/upstream-error.js';
import { startFaultyUpstream, type FaultyUpstream } from '../fixtures/faulty-upstream.js';

const KEY = 'unit-test-access-key-0123456789abcdef';
const chat = { hub: 'Chat' };

interface Seen {
  method: string;
  url: string;
  authorization?: string;
  contentType?: string;
  body: string;
}

/** A stand-in Azure SignalR on 127.0.0.1: answers by path, records what it received. */
async function upstream(answer: (request: IncomingMessage, response: ServerResponse) => void): Promise<{ server: Server; port: number; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request
      .setEncoding('utf8')
      .on('data', (chunk: string) => (body += chunk))
      .on('end', () => {
        seen.push({
          method: request.method!,
          url: request.url!,
          authorization: request.headers.authorization,
          contentType: request.headers['content-type'],
          body,
        });
        answer(request, response);
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, seen };
}

function clientFor(port: number, timeoutMs = 5000, retry?: Partial<RetrySettings>): SignalRClient {
  const connection = parseConnectionString(`Endpoint=http://127.0.0.1;Port=${port};AccessKey=${KEY};Version=1.0;`);
  const config = new SignalRConfig({
    endpoints: [{ name: 'default', type: 'primary', connection }],
    healthCheckIntervalMs: 10_000,
    timeoutMs,
    tokenLifetimeSeconds: 3600,
    retry: { maxRetries: 0, attemptTimeoutMs: timeoutMs, delayMs: 1, maxDelayMs: 1, ...retry },
  });
  return new SignalRClient(config, accessKeyCredentials(config));
}

/** AccessKey connections need no Entra credential: nothing is fetched. */
function accessKeyCredentials(config: SignalRConfig): UpstreamCredentials {
  return new UpstreamCredentials(config, new EntraConfig({ authorityHost: undefined, disableInstanceDiscovery: false }));
}

async function thrown(promise: Promise<unknown>): Promise<UpstreamError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof UpstreamError, `expected an UpstreamError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the call to fail');
}

describe('SignalRClient against a real HTTP server', () => {
  let stub: Awaited<ReturnType<typeof upstream>>;
  let client: SignalRClient;

  before(async () => {
    stub = await upstream((request, response) => {
      const path = request.url!.split('?')[0];
      if (path.includes('/slow/')) return; // never answers: the client's timeout must fire
      if (path === '/api/hubs/chat/users/nobody') return void response.writeHead(404, { 'x-ms-error-code': 'Warning.User.NotExisted' }).end();
      if (path === '/api/hubs/chat/groups/g1/connections/gone') return void response.writeHead(404, { 'x-ms-error-code': 'Error.Connection.NotExisted' }).end();
      if (path === '/api/hubs/chat/users/busy/:send') return void response.writeHead(429, { 'retry-after': '12' }).end('{"code":"TooMany"}');
      if (path === '/api/hubs/chat/users/locked/:send') return void response.writeHead(401).end();
      if (path === '/api/hubs/chat/users/gone/:send') return void response.writeHead(404).end();
      if (path === '/api/hubs/chat/groups/huge/connections')
        return void response.writeHead(200, { 'content-type': 'application/json' }).end(' '.repeat(5 * 1024 * 1024));
      response
        .writeHead(request.method === 'POST' ? 202 : 200, { 'content-type': 'application/json' })
        .end(request.method === 'HEAD' ? undefined : '{"code":"Success"}');
    });
    client = clientFor(stub.port, 300);
  });

  after(async () => {
    await client.onApplicationShutdown();
    stub.server.closeAllConnections();
    await new Promise((resolve) => stub.server.close(resolve));
  });

  it('sends {target, arguments} as JSON with a bearer token whose aud is the Endpoint host (no port) + path', async () => {
    const result = await client.sendToGroup(chat, 'g 1', { target: 'newMessage', argumentsJson: '["hi", {"n": 1}]' }, { excluded: ['c1', 'c2'] });
    assert.deepEqual(result, { status: 202 });
    const request = stub.seen.at(-1)!;
    assert.equal(request.method, 'POST');
    assert.equal(request.url, '/api/hubs/chat/groups/g%201/:send?api-version=2022-06-01&excluded=c1&excluded=c2');
    assert.equal(request.contentType, 'application/json; charset=utf-8');
    assert.equal(request.body, '{"target":"newMessage","arguments":["hi", {"n": 1}]}', 'the arguments as given, byte for byte');
    const token = request.authorization!.replace(/^Bearer /, '');
    const { payload } = await jwtVerify(token, new TextEncoder().encode(KEY), {
      audience: 'http://127.0.0.1/api/hubs/chat/groups/g%201/:send',
      algorithms: ['HS256'],
    });
    assert.ok(payload.exp! > payload.iat!);
  });

  it('answers an existence check with 200, and a 404 with its x-ms-error-code, without throwing', async () => {
    assert.deepEqual(await client.userExists(chat, 'alice'), { status: 200 });
    assert.deepEqual(await client.userExists(chat, 'nobody'), { status: 404, errorCode: 'Warning.User.NotExisted' });
    assert.equal(stub.seen.at(-1)!.method, 'HEAD');
  });

  it('returns a 404 from add-connection-to-group', async () => {
    assert.deepEqual(await client.addConnectionToGroup(chat, 'g1', 'gone'), { status: 404, errorCode: 'Error.Connection.NotExisted' });
    assert.equal(stub.seen.at(-1)!.method, 'PUT');
  });

  it('throws a 404 on operations where it is not an answer', async () => {
    const error = await thrown(client.sendToUser(chat, 'gone', { target: 't', argumentsJson: '[]' }));
    assert.equal(error.failure, 'status');
    assert.equal(error.status, 404);
  });

  it('refuses an answer whose body passes 4 MB as malformed, and keeps working', async () => {
    const error = await thrown(client.listGroupConnections(chat, 'huge'));
    assert.equal(error.failure, 'malformed');
    assert.equal(error.status, 200);
    assert.match(error.upstreamMessage ?? '', /response body exceeds 4194304 bytes/);
    assert.equal((await client.userExists(chat, 'nobody')).status, 404);
  });

  it('throws 429 with Retry-After', async () => {
    const error = await thrown(client.sendToUser(chat, 'busy', { target: 't', argumentsJson: '[]' }));
    assert.equal(error.status, 429);
    assert.equal(error.retryAfter, '12');
  });

  it('throws 401 as an UpstreamError whose message has no token or query', async () => {
    const error = await thrown(client.sendToUser(chat, 'locked', { target: 't', argumentsJson: '[]' }));
    assert.equal(error.status, 401);
    assert.equal(error.operation, 'POST /api/hubs/chat/users/locked/:send');
    assert.doesNotMatch(error.message, /eyJ|api-version/);
  });

  it('times out after UPSTREAM_TIMEOUT_MS', async () => {
    const error = await thrown(client.sendToUser(chat, 'slow', { target: 't', argumentsJson: '[]' }));
    assert.equal(error.failure, 'timeout');
    assert.equal(error.status, undefined);
  });

  it('keeps working after failures (the pool recovers)', async () => {
    assert.deepEqual(await client.health(), { status: 200 });
    assert.equal(stub.seen.at(-1)!.url, '/api/health?api-version=2022-06-01');
  });
});

describe('SignalRClient when nothing listens', () => {
  it('throws unreachable for a refused connection', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const client = clientFor(port);
    try {
      const error = await thrown(client.broadcast(chat, { target: 't', argumentsJson: '[]' }));
      assert.equal(error.failure, 'unreachable');
      assert.equal(error.operation, 'POST /api/hubs/chat/:send');
    } finally {
      await client.onApplicationShutdown();
    }
  });
});

describe('SignalRClient: one deadline per call, answered at the status', () => {
  let faulty: FaultyUpstream;
  before(async () => {
    faulty = await startFaultyUpstream();
  });
  after(() => faulty.close());

  it('answers as soon as the status is known while the body trickles, and cuts that connection at the deadline', { timeout: 10_000 }, async () => {
    const client = clientFor(faulty.port, 300);
    try {
      faulty.plan('trickle');
      assert.deepEqual(await client.broadcast(chat, { target: 't', argumentsJson: '[]' }), { status: 202 });
      await faulty.trickleClosed(); // never, if every byte restarted the clock
    } finally {
      await client.onApplicationShutdown();
    }
  });

  it('reads and drops a response body, so its connection serves the next call', async () => {
    const client = clientFor(faulty.port);
    try {
      faulty.plan('success');
      const before = faulty.connectionsAccepted;
      assert.deepEqual(await client.sendToUser(chat, 'u1', { target: 't', argumentsJson: '[]' }), { status: 202 });
      assert.deepEqual(await client.sendToUser(chat, 'u2', { target: 't', argumentsJson: '[]' }), { status: 202 });
      assert.equal(faulty.connectionsAccepted - before, 1);
      assert.equal(faulty.attempts.length, 2);
    } finally {
      await client.onApplicationShutdown();
    }
  });

  it('spends one deadline on all attempts: no retry starts after UPSTREAM_TIMEOUT_MS', async () => {
    // Attempts of 300 ms within 500 ms: the second is cut short by the deadline and a third never starts.
    const client = clientFor(faulty.port, 500, { maxRetries: 5, attemptTimeoutMs: 300 });
    try {
      faulty.plan('silent');
      const error = await thrown(client.removeUserFromAllGroups(chat, 'u1'));
      assert.equal(error.failure, 'timeout');
      assert.ok(faulty.attempts.length >= 1 && faulty.attempts.length <= 2, `attempts: ${faulty.attempts.length}`);
    } finally {
      await client.onApplicationShutdown();
    }
  });

  it('signs each attempt, so a retry never carries a token that expired while retrying', async () => {
    let answered = 0;
    const flaky = await upstream((_request, response) => void response.writeHead(answered++ === 0 ? 503 : 202).end());
    const config = new SignalRConfig({
      endpoints: [
        { name: 'default', type: 'primary', connection: parseConnectionString(`Endpoint=http://127.0.0.1;Port=${flaky.port};AccessKey=${KEY};Version=1.0;`) },
      ],
      healthCheckIntervalMs: 10_000,
      timeoutMs: 5000,
      tokenLifetimeSeconds: 60,
      retry: { maxRetries: 1, attemptTimeoutMs: 5000, delayMs: 1, maxDelayMs: 1 },
    });
    let now = Date.now();
    const client = new SignalRClient(config, accessKeyCredentials(config), undefined, () => (now += 50_000)); // each token is stale at the next call
    try {
      assert.deepEqual(await client.sendToUser(chat, 'u1', { target: 't', argumentsJson: '[]' }), { status: 202 });
      const [first, second] = flaky.seen.map((request) => request.authorization);
      assert.equal(flaky.seen.length, 2);
      assert.notEqual(first, second);
    } finally {
      await client.onApplicationShutdown();
      flaky.server.closeAllConnections();
      await new Promise((resolve) => flaky.server.close(resolve));
    }
  });

  it('tells a request that was written (reset after it arrived) from one that never was (refused)', async () => {
    const client = clientFor(faulty.port);
    try {
      faulty.plan('reset');
      const reset = await thrown(client.broadcast(chat, { target: 't', argumentsJson: '[]' }));
      assert.deepEqual([reset.failure, reset.requestWritten, faulty.attempts.length], ['transport', true, 1]);
    } finally {
      await client.onApplicationShutdown();
    }
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const refusedClient = clientFor(port);
    try {
      const refused = await thrown(refusedClient.broadcast(chat, { target: 't', argumentsJson: '[]' }));
      assert.deepEqual([refused.failure, refused.requestWritten], ['unreachable', false]);
    } finally {
      await refusedClient.onApplicationShutdown();
    }
  });
});

describe("SignalRClient: each attempt's outcome goes to the scope's attempts (the audit record's upstream)", () => {
  const stubs: Awaited<ReturnType<typeof upstream>>[] = [];
  const clients: SignalRClient[] = [];
  after(async () => {
    await Promise.all(clients.map((client) => client.onApplicationShutdown()));
    for (const { server } of stubs) server.closeAllConnections();
    await Promise.all(stubs.map(({ server }) => new Promise((resolve) => server.close(resolve))));
  });

  /** A stand-in answering each request with the next of `statuses`, then the last one again. */
  async function answering(...statuses: number[]): Promise<number> {
    let answered = 0;
    const stub = await upstream((_request, response) => void response.writeHead(statuses[Math.min(answered++, statuses.length - 1)]).end());
    stubs.push(stub);
    return stub.port;
  }

  function clientOf(ports: Record<string, number>, retry: Partial<RetrySettings> = {}): SignalRClient {
    const config = new SignalRConfig({
      endpoints: Object.entries(ports).map(([name, port]) => ({
        name,
        type: 'primary' as const,
        connection: parseConnectionString(`Endpoint=http://127.0.0.1;Port=${port};AccessKey=${KEY};Version=1.0;`),
      })),
      healthCheckIntervalMs: 10_000,
      timeoutMs: 5000,
      tokenLifetimeSeconds: 3600,
      retry: { maxRetries: 0, attemptTimeoutMs: 5000, delayMs: 1, maxDelayMs: 1, ...retry },
    });
    const client = new SignalRClient(config, accessKeyCredentials(config));
    clients.push(client);
    return client;
  }

  it('lists a retried call’s attempts in order: [503, 202]', async () => {
    const client = clientOf({ default: await answering(503, 202) }, { maxRetries: 2 });
    const attempts: (number | string)[] = [];
    assert.deepEqual(await client.sendToUser({ hub: 'Chat', attempts }, 'u1', { target: 't', argumentsJson: '[]' }), { status: 202 });
    assert.deepEqual(attempts, [503, 202]);
  });

  it('lists a failed call’s attempts, and how one failed without a status', async () => {
    const client = clientOf({ default: await answering(503) }, { maxRetries: 1 });
    const attempts: (number | string)[] = [];
    assert.equal((await thrown(client.removeUserFromAllGroups({ hub: 'Chat', attempts }, 'u1'))).status, 503);
    assert.deepEqual(attempts, [503, 503]);

    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const unreachable: (number | string)[] = [];
    await thrown(clientOf({ default: port }).execute({ hub: 'Chat', attempts: unreachable }, '[]'));
    assert.deepEqual(unreachable, ['unreachable']);
  });

  it('lists every endpoint’s attempts with several endpoints, a retry included', async () => {
    const client = clientOf({ east: await answering(503, 202), west: await answering(202) }, { maxRetries: 1 });
    const attempts: (number | string)[] = [];
    await client.closeAllConnections({ hub: 'Chat', attempts });
    // In completion order, which between the endpoints is the network's: compared as a multiset.
    assert.deepEqual([...attempts].sort(), [202, 202, 503]);
  });
});
