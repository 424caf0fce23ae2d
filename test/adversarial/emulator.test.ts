import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import type { RunningEmulator } from '../../src/emulator/emulator.js';
import { clientToken, rawClient, rest, startTestEmulator, withTimeout } from '../emulator/helpers.js';

// Hardening of the emulator against clients that misbehave on purpose (issue 10).

const HUB = 'chat';
const MAX_HANDSHAKE = 32 * 1024;

async function negotiated(emulator: RunningEmulator, user: string): Promise<{ connectionId: string; connectionToken: string; token: string }> {
  const token = await clientToken(emulator, user, HUB);
  const response = await fetch(`${emulator.url}/client/negotiate?hub=${HUB}&negotiateVersion=1`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
  });
  return { ...((await response.json()) as { connectionId: string; connectionToken: string }), token };
}

const exists = async (emulator: RunningEmulator, connectionId: string): Promise<boolean> =>
  (await rest(emulator, 'HEAD', `/api/hubs/${HUB}/connections/${connectionId}`)).status === 200;

describe('emulator: a handshake that never ends is refused at a bounded size', () => {
  let emulator: RunningEmulator;
  before(async () => {
    emulator = await startTestEmulator({ maxHandshakeBytes: MAX_HANDSHAKE });
  });
  after(() => emulator.close());

  const tooLarge = `{"error":"The handshake request exceeds the maximum size of ${MAX_HANDSHAKE} bytes."}\x1e`;

  async function openSocket(user: string): Promise<{ socket: WebSocket; frames: string[]; closed: Promise<number> }> {
    const { connectionToken, token } = await negotiated(emulator, user);
    const socket = new WebSocket(`${emulator.url.replace('http', 'ws')}/client/?hub=${HUB}&id=${connectionToken}&access_token=${token}`);
    const frames: string[] = [];
    socket.on('message', (data) => frames.push(String(data)));
    const closed = new Promise<number>((resolve) => socket.once('close', resolve));
    await withTimeout(new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject)), 'open');
    return { socket, frames, closed };
  }

  test('WebSockets: frames without a record separator are refused once they pass the bound', async () => {
    const { socket, frames, closed } = await openSocket('endless');
    const frame = '{"protocol":"json","padding":"'.padEnd(4096, 'x');
    // Nine frames of 4 KB pass 32 KB; the socket must be closed then, not keep buffering.
    for (let sent = 0; sent < 9; sent++) socket.send(frame);
    assert.equal(await withTimeout(closed, 'close'), 1000);
    assert.deepEqual(frames, [tooLarge]);
  });

  test('WebSockets: one frame holding a request over the bound is refused', async () => {
    const { socket, frames, closed } = await openSocket('one-big');
    socket.send(`{"protocol":"json","version":1,"padding":"${'x'.repeat(MAX_HANDSHAKE)}"}\x1e`);
    assert.equal(await withTimeout(closed, 'close'), 1000);
    assert.deepEqual(frames, [tooLarge]);
  });

  test('a handshake within the bound still works when it arrives one byte per frame', async () => {
    const { socket, frames } = await openSocket('bytewise');
    try {
      for (const byte of '{"protocol":"json","version":1}\x1e') socket.send(byte);
      await withTimeout(
        (async () => {
          while (frames.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
        })(),
        'handshake response',
      );
      assert.equal(frames[0], '{}\x1e');
    } finally {
      socket.close();
    }
  });

  test('long polling: a handshake POSTed in pieces past the bound is refused', async () => {
    const { connectionToken, token, connectionId } = await negotiated(emulator, 'poll-endless');
    const url = `${emulator.url}/client/?hub=${HUB}&id=${connectionToken}`;
    const headers = { authorization: `Bearer ${token}` };
    assert.equal((await fetch(url, { headers })).status, 200);
    for (let sent = 0; sent < 9; sent++) await fetch(url, { method: 'POST', headers, body: 'x'.repeat(4096) });
    assert.equal(await (await fetch(url, { headers })).text(), tooLarge);
    assert.equal((await fetch(url, { method: 'POST', headers, body: 'x' })).status, 404, 'the connection is gone');
    assert.equal(await exists(emulator, connectionId), false);
  });

  test('long polling: sends piled up ahead of the first poll are bounded the same way', async () => {
    const { connectionToken, token, connectionId } = await negotiated(emulator, 'poll-early');
    const url = `${emulator.url}/client/?hub=${HUB}&id=${connectionToken}`;
    const headers = { authorization: `Bearer ${token}` };
    assert.equal((await fetch(url, { method: 'POST', headers, body: '{"protocol":"json","version":1}\x1e' })).status, 200);
    assert.equal((await fetch(url, { method: 'POST', headers, body: `{"type":6,"padding":"${'x'.repeat(MAX_HANDSHAKE)}"}\x1e` })).status, 200);
    assert.equal((await fetch(url, { headers })).status, 404, 'refused, so there is nothing to poll');
    assert.equal(await exists(emulator, connectionId), false);
  });

  test('the bound must be a positive whole number of bytes', async () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      // Closed if it starts after all, so a failing check cannot leave a server running.
      await assert.rejects(async () => (await startTestEmulator({ maxHandshakeBytes: bad })).close(), /maxHandshakeBytes must be a positive integer/);
    }
  });
});

describe('emulator: ids as long as Azure allows (1,024 characters), escaped in the path', () => {
  let emulator: RunningEmulator;
  before(async () => {
    emulator = await startTestEmulator();
  });
  after(() => emulator.close());

  // Non-ASCII (2- and 3-byte UTF-8, a surrogate pair) and characters that are reserved in a URL path or query.
  const PATTERN = 'aé€😀 /?#%&+=:;@[]!$\'()*,~';
  const longId = (seed: string): string => {
    let id = seed;
    while (id.length < 1024) id += PATTERN;
    id = id.slice(0, 1024);
    // Never end on half a surrogate pair.
    return /[\uD800-\uDBFF]$/.test(id) ? `${id.slice(0, 1023)}b` : id;
  };
  const path = (...parts: string[]): string => `/api/hubs/${HUB}/${parts.map((part) => encodeURIComponent(part)).join('/')}`;
  const status = async (method: string, target: string, body?: unknown): Promise<number> => (await rest(emulator, method, target, { body })).status;

  test('group, user and connection ids of 1,024 characters reach the right connection', async () => {
    const user = longId('user-');
    const group = longId('group-');
    assert.equal(user.length, 1024);
    assert.equal(group.length, 1024);
    const { connectionId, socket } = await rawClient(emulator, HUB, user);
    try {
      const received: string[] = [];
      socket.on('message', (data) => {
        const record = String(data);
        if (record !== '{"type":6}\x1e') received.push(JSON.parse(record.slice(0, -1)).target);
      });
      assert.equal(await status('HEAD', path('users', user)), 200, 'the user id is decoded exactly as the client token carries it');
      assert.equal(await status('PUT', path('groups', group, 'connections', connectionId)), 200);
      assert.equal(await status('HEAD', path('groups', group)), 200);
      assert.equal(await status('PUT', path('users', user, 'groups', group)), 200);
      assert.equal(await status('GET', path('users', user, 'groups', group)), 200);
      assert.equal(await status('POST', `${path('groups', group)}/:send`, { target: 'to-group', arguments: [] }), 202);
      assert.equal(await status('POST', `${path('users', user)}/:send`, { target: 'to-user', arguments: [] }), 202);
      await withTimeout(
        (async () => {
          while (received.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
        })(),
        'messages',
      );
      assert.deepEqual(received, ['to-group', 'to-user']);
      assert.equal(await status('DELETE', path('users', user, 'groups', group)), 204);
      assert.equal(await status('HEAD', path('users', user, 'groups', group)), 404);
    } finally {
      socket.close();
    }

    const absentConnection = longId('connection-');
    const response = await rest(emulator, 'HEAD', path('connections', absentConnection));
    assert.equal(response.status, 404, 'a 1,024-character connection id is looked up, not refused');
    assert.equal(response.headers.get('x-ms-error-code'), 'Warning.Connection.NotExisted');
    assert.equal(await status('PUT', path('groups', group, 'connections', absentConnection)), 404);
  });

  test('ids of 1,025 characters get 400, not 414', async () => {
    const tooLong = `${longId('u')}x`;
    assert.equal(await status('HEAD', path('users', tooLong)), 400);
    assert.equal(await status('HEAD', path('groups', tooLong)), 400);
    assert.equal(await status('HEAD', path('connections', tooLong)), 400);
  });
});
