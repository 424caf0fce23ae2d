import assert from 'node:assert/strict';
import * as signalR from '@microsoft/signalr';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { entraToken, startEntraAuthority, startEntraEmulator, type EntraAuthority } from '../fixtures/entra-authority.js';
import { runUntilExit, type EmulatorProcess } from '../fixtures/development-process.js';
import { bearer, eventually, forgeJwt, http } from '../fixtures/stack.js';
import { HUB, Inbox, rest, startTestEmulator, withTimeout } from './helpers.js';

interface AccessKey {
  KeyId: string;
  AccessKey: string;
}

async function fetchAccessKey(emulator: EmulatorProcess, token: string, path = '/api/v1/auth/accessKey'): Promise<AccessKey> {
  const reply = await http('GET', `${emulator.url}${path}`, { headers: bearer(token) });
  assert.equal(reply.status, 200, reply.text);
  const key = reply.json as AccessKey;
  assert.equal(typeof key.KeyId, 'string');
  assert.equal(typeof key.AccessKey, 'string');
  return key;
}

/** A client token as Azure's SDK signs it in Entra mode: HS256 with the temporary key, `kid` = its KeyId. */
function clientTokenWith(key: AccessKey, userId: string, kid: string | null = key.KeyId): string {
  const now = Math.floor(Date.now() / 1000);
  const aud = `http://127.0.0.1/client/?hub=${HUB}`;
  return forgeJwt({ aud, nameid: userId, iat: now, exp: now + 3600 }, { key: key.AccessKey, header: kid === null ? {} : { kid } });
}

const negotiate = (emulator: EmulatorProcess, token: string) =>
  http('POST', `${emulator.url}/client/negotiate?hub=${HUB}&negotiateVersion=1`, { headers: bearer(token) });

async function connect(emulator: EmulatorProcess, token: string): Promise<signalR.HubConnection> {
  const connection = new signalR.HubConnectionBuilder()
    .withUrl(`${emulator.url}/client/?hub=${HUB}`, {
      transport: signalR.HttpTransportType.WebSockets,
      WebSocket,
      accessTokenFactory: () => token,
    } as signalR.IHttpConnectionOptions)
    .configureLogging(signalR.LogLevel.None)
    .build();
  await withTimeout(connection.start(), 'start');
  return connection;
}

describe('the emulator in Entra mode', () => {
  let authority: EntraAuthority;
  let emulator: EmulatorProcess;
  let token: string;
  before(async () => {
    authority = await startEntraAuthority();
    emulator = await startEntraEmulator(authority);
    token = await entraToken(authority);
  });
  after(async () => {
    await emulator?.close();
    await authority?.close();
  });

  it('prints a connection string without a key', () => {
    assert.equal(emulator.connectionString, `Endpoint=${emulator.url};AuthType=azure;Version=1.0;`);
  });

  it('accepts a REST call with a token the authority issued to a real credential', async () => {
    const reply = await rest(emulator, 'POST', `/api/hubs/${HUB}/:send`, { token, body: { target: 'hello', arguments: [] } });
    assert.equal(reply.status, 202, reply.text);
  });

  it('serves a temporary key on both paths, which signs client tokens a real @microsoft/signalr client connects with', async () => {
    const key = await fetchAccessKey(emulator, token);
    assert.deepEqual(await fetchAccessKey(emulator, token, '/api/auth/accessKey?api-version=2024-12-01'), key, 'one key until it rotates');
    const connection = await connect(emulator, clientTokenWith(key, 'alice'));
    try {
      const inbox = new Inbox(connection, ['hello']);
      const sent = await rest(emulator, 'POST', `/api/v1/hubs/${HUB}/users/alice`, { token, body: { target: 'hello', arguments: ['entra'] } });
      assert.equal(sent.status, 202, sent.text);
      assert.deepEqual((await inbox.next('hello')).args, ['entra']);
    } finally {
      await connection.stop();
    }
  });

  it('counts the keys it hands out', async () => {
    await fetchAccessKey(emulator, token);
    const metrics = await http('GET', `${emulator.url}/metrics`);
    const issued = /^signalr_emulator_access_keys_issued_total (\d+)$/m.exec(metrics.text)?.[1];
    assert.ok(Number(issued) >= 1, metrics.text);
  });

  it('refuses client tokens signed with an unknown kid, no kid, or the well-known AccessKey', async () => {
    const key = await fetchAccessKey(emulator, token);
    assert.equal((await negotiate(emulator, clientTokenWith(key, 'bob'))).status, 200);
    assert.equal((await negotiate(emulator, clientTokenWith(key, 'bob', 'no-such-key'))).status, 401);
    assert.equal((await negotiate(emulator, clientTokenWith(key, 'bob', null))).status, 401);
    const wellKnown = { KeyId: key.KeyId, AccessKey: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH' };
    assert.equal((await negotiate(emulator, clientTokenWith(wellKnown, 'bob'))).status, 401);
  });

  it('needs an Entra token for the key API', async () => {
    const reply = await http('GET', `${emulator.url}/api/v1/auth/accessKey`);
    assert.equal(reply.status, 401);
    assert.equal(reply.headers.get('www-authenticate'), 'Bearer');
  });
});

describe('temporary keys rotate', () => {
  let authority: EntraAuthority;
  let emulator: EmulatorProcess;
  let token: string;
  before(async () => {
    authority = await startEntraAuthority();
    emulator = await startEntraEmulator(authority, { EMULATOR_ENTRA_KEY_ROTATION_SECONDS: '1', EMULATOR_ENTRA_KEY_OVERLAP_SECONDS: '1' });
    token = await entraToken(authority);
  });
  after(async () => {
    await emulator?.close();
    await authority?.close();
  });

  it('a new key comes after the interval, and a rotated-out key is refused after the overlap while the new one works', async () => {
    const first = await fetchAccessKey(emulator, token);
    const next = await eventually(async () => {
      const key = await fetchAccessKey(emulator, token);
      return key.KeyId !== first.KeyId && key;
    }, 'a new key');
    assert.notEqual(next.AccessKey, first.AccessKey);
    await eventually(async () => (await negotiate(emulator, clientTokenWith(first, 'carol'))).status === 401, 'the first key refused');
    const latest = await fetchAccessKey(emulator, token);
    assert.equal((await negotiate(emulator, clientTokenWith(latest, 'carol'))).status, 200);
  });
});

describe('Entra mode and local auth', () => {
  it('the key API refuses a local-auth caller: it serves Entra identities', async () => {
    const emulator = await startTestEmulator();
    try {
      const reply = await rest(emulator, 'GET', '/api/auth/accessKey?api-version=2024-12-01');
      assert.equal(reply.status, 403);
      assert.equal(reply.headers.get('x-ms-error-code'), 'Error.Auth.EntraIdRequired');
    } finally {
      await emulator.close();
    }
  });

  it('EMULATOR_ACCESS_KEY with EMULATOR_ENTRA_ISSUER is refused at start', async () => {
    const exited = await runUntilExit('emulator', {
      EMULATOR_PORT: '0',
      EMULATOR_ENTRA_ISSUER: 'https://127.0.0.1:1/tenant/v2.0',
      EMULATOR_ACCESS_KEY: 'a-key-of-my-own-0123456789',
    });
    assert.equal(exited.code, 1);
    assert.match(exited.stderr, /EMULATOR_ACCESS_KEY and EMULATOR_ENTRA_ISSUER exclude each other/);
    assert.doesNotMatch(exited.stderr + exited.stdout, /a-key-of-my-own/);
  });
});
