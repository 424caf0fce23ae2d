import * as signalR from '@microsoft/signalr';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { referenceFile } from '../fixtures/repository.js';
import { clientToken, closedWith, emulatorClients, Inbox, KEY, mintToken, rawClient, rest, restAudienceOf, startTestEmulator } from './helpers.js';

const SWAGGER = referenceFile('azure-signalr-V20220601.json');

describe('REST API', () => {
  const suite = emulatorClients();
  const connect = (user: string): Promise<signalR.HubConnection> => suite.connect(user);

  test('serves every 2022-06-01 operation of the swagger with its documented success status', async (t) => {
    if (!existsSync(SWAGGER)) {
      t.skip(`${SWAGGER} is absent, so the swagger cannot be read (it lives outside the repository)`);
      return;
    }
    const swagger = JSON.parse(readFileSync(SWAGGER, 'utf8')) as {
      paths: Record<string, Record<string, { responses: Record<string, unknown>; operationId: string }>>;
    };
    let served = 0;
    for (const [path, operations] of Object.entries(swagger.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        if (method === 'parameters') continue;
        const success = Number(Object.keys(operation.responses).find((code) => code.startsWith('2')));
        // A fresh connection per operation, in a group and with its user in a group, so each call can succeed.
        const user = `swagger-${served}`;
        const connection = await connect(user);
        const id = connection.connectionId!;
        assert.equal((await rest(suite.emulator, 'PUT', `/api/hubs/chat/groups/g/connections/${id}`)).status, 200);
        assert.equal((await rest(suite.emulator, 'PUT', `/api/hubs/chat/users/${user}/groups/g`)).status, 200);
        const url = path.replace('{hub}', 'chat').replace('{connectionId}', id).replace('{group}', 'g').replace('{user}', user);
        const body = method === 'post' && url.endsWith(':send') ? { target: 'message', arguments: [] } : undefined;
        const response = await rest(suite.emulator, method.toUpperCase(), `${url}?api-version=2022-06-01`, { body });
        assert.equal(response.status, success, `${method.toUpperCase()} ${path} (${operation.operationId})`);
        served++;
      }
    }
    assert.equal(served, 19);
  });

  test('serves the v1 routes', async () => {
    const user = 'v1-user';
    const connection = await connect(user);
    const inbox = new Inbox(connection, ['message']);
    const id = connection.connectionId!;
    const v1 = '/api/v1/hubs/chat';
    const expectations: Array<[string, string, number, unknown?]> = [
      ['HEAD', '/api/v1/health', 200],
      ['POST', v1, 202, { target: 'message', arguments: ['all'] }],
      ['POST', `${v1}/users/${user}`, 202, { target: 'message', arguments: ['user'] }],
      ['POST', `${v1}/connections/${id}`, 202, { target: 'message', arguments: ['connection'] }],
      ['GET', `${v1}/connections/${id}`, 200],
      ['HEAD', `${v1}/users/${user}`, 200],
      ['PUT', `${v1}/groups/v1g/connections/${id}`, 200],
      ['GET', `${v1}/groups/v1g`, 200],
      ['POST', `${v1}/groups/v1g`, 202, { target: 'message', arguments: ['group'] }],
      ['DELETE', `${v1}/groups/v1g/connections/${id}`, 200],
      ['HEAD', `${v1}/groups/v1g`, 404],
      ['PUT', `${v1}/groups/v1u/users/${user}?ttl=60`, 202],
      ['GET', `${v1}/groups/v1u/users/${user}`, 200],
      ['DELETE', `${v1}/groups/v1u/users/${user}`, 202],
      ['HEAD', `${v1}/groups/v1u/users/${user}`, 404],
      ['DELETE', `${v1}/users/${user}/groups`, 200],
      ['DELETE', `${v1}/connections/${id}`, 202],
    ];
    for (const [method, path, status, body] of expectations) {
      assert.equal((await rest(suite.emulator, method, path, { body })).status, status, `${method} ${path}`);
    }
    for (const expected of ['all', 'user', 'connection', 'group']) assert.deepEqual((await inbox.next('message')).args, [expected]);
  });

  test('answers 404 with the x-ms-error-code that Azure’s SDK expects', async () => {
    const cases: Array<[string, string, string]> = [
      ['HEAD', '/api/hubs/chat/connections/nope', 'Warning.Connection.NotExisted'],
      ['GET', '/api/hubs/chat/connections/nope', 'Warning.Connection.NotExisted'],
      ['DELETE', '/api/hubs/chat/connections/nope', 'Warning.Connection.NotExisted'],
      ['HEAD', '/api/hubs/chat/users/nobody', 'Warning.User.NotExisted'],
      ['HEAD', '/api/hubs/chat/groups/empty', 'Warning.Group.NotExisted'],
      ['GET', '/api/hubs/chat/users/nobody/groups/empty', 'Info.User.NotInGroup'],
      ['PUT', '/api/hubs/chat/groups/g/connections/nope', 'Error.Connection.NotExisted'],
      ['DELETE', '/api/hubs/chat/groups/g/connections/nope', 'Error.Connection.NotExisted'],
    ];
    for (const [method, path, code] of cases) {
      const response = await rest(suite.emulator, method, path);
      assert.equal(response.status, 404, `${method} ${path}`);
      assert.equal(response.headers.get('x-ms-error-code'), code, `${method} ${path}`);
    }
  });

  test('rejects bad tokens with 401 and accepts the audience with or without port and query', async () => {
    const path = '/api/hubs/chat/:send?api-version=2022-06-01';
    const url = `${suite.emulator.url}${path}`;
    const aud = restAudienceOf(url);
    const body = { target: 'message', arguments: [] };
    const bad: Record<string, string> = {
      'wrong key': await mintToken({ aud }, { key: 'another-key-another-key-another-key-1234' }),
      'wrong aud': await mintToken({ aud: restAudienceOf(`${suite.emulator.url}/api/hubs/other/:send`) }),
      expired: await mintToken({ aud }, { expiresIn: -3600 }),
      'missing exp': await mintToken({ aud }, { expiresIn: null }),
      'nbf in the future': await mintToken({ aud }, { notBefore: 3600 }),
      'not a JWT': 'garbage',
    };
    for (const [why, token] of Object.entries(bad)) {
      assert.equal((await rest(suite.emulator, 'POST', path, { token, body })).status, 401, why);
    }
    assert.equal((await fetch(url, { method: 'POST' })).status, 401, 'no token');
    const good = [aud, `${suite.emulator.url}/api/hubs/chat/:send`, url, `${aud}?api-version=2022-06-01`];
    for (const audience of good) {
      assert.equal((await rest(suite.emulator, 'POST', path, { token: await mintToken({ aud: audience }), body })).status, 202, audience);
    }
  });

  test('rejects bad client tokens on negotiate with 401', async () => {
    const negotiateUrl = `${suite.emulator.url}/client/negotiate?hub=chat&negotiateVersion=1`;
    const aud = `http://127.0.0.1/client/?hub=chat`;
    const post = (token: string): Promise<Response> => fetch(negotiateUrl, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    assert.equal((await post(await mintToken({ aud }))).status, 200);
    assert.equal((await post(await mintToken({ aud: `${suite.emulator.url}/client/?hub=chat` }))).status, 200, 'with port');
    assert.equal((await post(await mintToken({ aud }, { key: 'wrong-key-wrong-key-wrong-key-wrong-key' }))).status, 401);
    assert.equal((await post(await mintToken({ aud: 'http://127.0.0.1/client/?hub=other' }))).status, 401);
    assert.equal((await post(await mintToken({ aud }, { expiresIn: -3600 }))).status, 401);
    assert.equal((await post(await mintToken({ aud }, { expiresIn: null }))).status, 401);
    assert.equal((await post(await mintToken({ aud }, { notBefore: 3600 }))).status, 401);
    const viaQuery = await fetch(`${negotiateUrl}&access_token=${await mintToken({ aud })}`, { method: 'POST' });
    assert.equal(viaQuery.status, 200, 'browser-style access_token query');
  });

  test('negotiate v1 returns a secret token distinct from the public id; v0 has no token', async () => {
    const token = await clientToken(suite.emulator, 'u');
    const negotiateWith = async (query: string): Promise<Record<string, unknown>> =>
      (await (
        await fetch(`${suite.emulator.url}/client/negotiate?hub=chat${query}`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })
      ).json()) as Record<string, unknown>;
    const v1 = await negotiateWith('&negotiateVersion=1');
    assert.equal(v1['negotiateVersion'], 1);
    assert.ok(v1['connectionToken'] && v1['connectionId'] && v1['connectionToken'] !== v1['connectionId']);
    const v0 = await negotiateWith('');
    assert.equal(v0['negotiateVersion'], 0);
    assert.equal(v0['connectionToken'], undefined);
    assert.ok((await negotiateWith('&negotiateVersion=x'))['error']);
  });

  test('allows browsers on other origins (CORS with credentials)', async () => {
    const response = await fetch(`${suite.emulator.url}/client/negotiate?hub=chat`, {
      method: 'OPTIONS',
      headers: { origin: 'http://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,x-requested-with' },
    });
    assert.ok(response.status < 300);
    assert.equal(response.headers.get('access-control-allow-origin'), 'http://app.example');
    assert.equal(response.headers.get('access-control-allow-credentials'), 'true');
  });

  test('bodies over 1 MB get 413', async () => {
    const body = { target: 'message', arguments: ['x'.repeat(1024 * 1024)] };
    assert.equal((await rest(suite.emulator, 'POST', '/api/hubs/chat/:send', { body })).status, 413);
  });

  test('application scopes the hub as lower(app)_lower(hub)', async () => {
    const { connectionId, socket } = await rawClient(suite.emulator, 'myapp_chat', 'app-user');
    try {
      assert.equal((await rest(suite.emulator, 'HEAD', `/api/hubs/Chat/connections/${connectionId}?application=MyApp`)).status, 200);
      assert.equal((await rest(suite.emulator, 'HEAD', `/api/hubs/chat/connections/${connectionId}`)).status, 404, 'not in the bare hub');
      const received = new Promise((resolve) => socket.once('message', (data) => resolve((data as Buffer).toString())));
      await rest(suite.emulator, 'POST', '/api/hubs/CHAT/users/app-user/:send?application=myApp', { body: { Target: 'hello', Arguments: [1] } });
      assert.equal(await received, '{"type":1,"target":"hello","arguments":[1]}\x1e');
    } finally {
      socket.close();
    }
  });

  test('ttl=0 adds only current connections; without ttl only the 100 most recent groups are kept', async () => {
    const user = 'ttl-user';
    const current = await connect(user);
    assert.equal((await rest(suite.emulator, 'PUT', `/api/hubs/chat/users/${user}/groups/now-only?ttl=0`)).status, 200);
    const later = await connect(user);
    const inbox = new Inbox(later, ['message', 'marker']);
    const currentInbox = new Inbox(current, ['message']);
    await rest(suite.emulator, 'POST', '/api/hubs/chat/groups/now-only/:send', { body: { target: 'message', arguments: ['now'] } });
    assert.deepEqual((await currentInbox.next('message')).args, ['now']);
    await rest(suite.emulator, 'POST', `/api/hubs/chat/connections/${later.connectionId}/:send`, { body: { target: 'marker' } });
    assert.deepEqual((await inbox.next('marker')).before, [], 'the later connection did not join');

    const capped = 'cap-user';
    for (let index = 0; index <= 100; index++) {
      assert.equal((await rest(suite.emulator, 'PUT', `/api/hubs/chat/users/${capped}/groups/g${index}`)).status, 200);
    }
    assert.equal((await rest(suite.emulator, 'HEAD', `/api/hubs/chat/users/${capped}/groups/g0`)).status, 404, 'oldest dropped');
    assert.equal((await rest(suite.emulator, 'HEAD', `/api/hubs/chat/users/${capped}/groups/g1`)).status, 200);
    assert.equal((await rest(suite.emulator, 'HEAD', `/api/hubs/chat/users/${capped}/groups/g100`)).status, 200);
    assert.equal((await rest(suite.emulator, 'PUT', `/api/hubs/chat/users/${capped}/groups/g0?ttl=-1`)).status, 400);
  });

  test('closing a user’s connections delivers the reason to the client', async () => {
    const connection = await connect('closer');
    const closed = closedWith(connection);
    await rest(suite.emulator, 'POST', '/api/hubs/chat/users/closer/:closeConnections?reason=maintenance');
    assert.match(String((await closed)?.message), /maintenance/);
  });
});

describe('client protocol details', () => {
  test('the WebSocket transport refuses unknown ids with 404 and a second socket on one id with 409', async () => {
    const emulator = await startTestEmulator();
    try {
      const { default: WebSocket } = await import('ws');
      const token = await clientToken(emulator, 'raw');
      const negotiated = (await (
        await fetch(`${emulator.url}/client/negotiate?hub=chat&negotiateVersion=1`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })
      ).json()) as { connectionToken: string; connectionId: string };
      const wsUrl = (id: string): string => `${emulator.url.replace('http', 'ws')}/client/?hub=chat&id=${id}&access_token=${token}`;
      const status = (id: string): Promise<number | 'open'> =>
        new Promise((resolve) => {
          const socket = new WebSocket(wsUrl(id));
          socket.on('open', () => resolve('open'));
          socket.on('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
          socket.on('error', () => undefined);
        });
      assert.equal(await status('unknown'), 404);
      assert.equal(await status(negotiated.connectionId), 404, 'the public id is not the token');
      const first = new WebSocket(wsUrl(negotiated.connectionToken));
      await new Promise((resolve) => first.on('open', resolve));
      assert.equal(await status(negotiated.connectionToken), 409);
      // Browser path: token in the query; handshake then a ping from the server arrives in text frames.
      const frames: string[] = [];
      first.on('message', (data, binary) => frames.push(`${binary ? 'binary' : 'text'}:${(data as Buffer).toString()}`));
      first.send('{"protocol":"json","version":1}\x1e');
      await new Promise((resolve) => setTimeout(resolve, 1_200));
      assert.equal(frames[0], 'text:{}\x1e');
      assert.ok(frames.includes('text:{"type":6}\x1e'), 'keep-alive ping');
      first.close();
    } finally {
      await emulator.close();
    }
  });

  test('DELETE on a long-polling connection answers the poll still waiting with 204 at once', async () => {
    // A poll that waited out its full timeout would hold shutdown and the client's stop() for 90 s.
    const emulator = await startTestEmulator({ longPollTimeoutMs: 60_000 });
    try {
      const token = await clientToken(emulator, 'poller');
      const headers = { authorization: `Bearer ${token}` };
      const { connectionToken } = (await (await fetch(`${emulator.url}/client/negotiate?hub=chat&negotiateVersion=1`, { method: 'POST', headers })).json()) as {
        connectionToken: string;
      };
      const pollUrl = `${emulator.url}/client/?hub=chat&id=${connectionToken}`;
      assert.equal((await fetch(pollUrl, { headers })).status, 200, 'the first poll activates the connection');
      const waiting = fetch(pollUrl, { headers, signal: AbortSignal.timeout(10_000) });
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal((await fetch(pollUrl, { method: 'DELETE', headers })).status, 202);
      assert.equal((await waiting).status, 204);
    } finally {
      await emulator.close();
    }
  });

  test('a long-polling send POSTed before the first poll is kept, as in ASP.NET Core', async () => {
    const emulator = await startTestEmulator();
    try {
      const token = await clientToken(emulator, 'early');
      const headers = { authorization: `Bearer ${token}` };
      const { connectionToken, connectionId } = (await (
        await fetch(`${emulator.url}/client/negotiate?hub=chat&negotiateVersion=1`, { method: 'POST', headers })
      ).json()) as { connectionToken: string; connectionId: string };
      const url = `${emulator.url}/client/?hub=chat&id=${connectionToken}`;
      const early = await fetch(url, { method: 'POST', headers: { ...headers, 'content-type': 'text/plain' }, body: '{"protocol":"json","version":1}\x1e' });
      assert.equal(early.status, 200, 'the connection exists from negotiate');
      const first = await fetch(url, { headers });
      assert.equal(first.status, 200);
      assert.equal(await first.text(), '', 'the first poll only activates the connection');
      assert.equal(await (await fetch(url, { headers })).text(), '{}\x1e', 'the handshake sent early was answered');
      assert.equal((await rest(emulator, 'POST', `/api/hubs/chat/connections/${connectionId}/:send`, { body: { target: 'hi', arguments: [1] } })).status, 202);
      assert.equal(await (await fetch(url, { headers })).text(), '{"type":1,"target":"hi","arguments":[1]}\x1e');
    } finally {
      await emulator.close();
    }
  });

  test('the well-known key is the default and appears in the connection string', async () => {
    const emulator = await startTestEmulator();
    try {
      assert.equal(emulator.connectionString, `Endpoint=http://127.0.0.1:${emulator.port};AccessKey=${KEY};Version=1.0;`);
    } finally {
      await emulator.close();
    }
  });
});
