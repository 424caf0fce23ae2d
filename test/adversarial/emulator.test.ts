import assert from 'node:assert/strict';
import { request, type IncomingMessage } from 'node:http';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import type { RunningEmulator } from '../../src/emulator/emulator.js';
import { eventually } from '../fixtures/stack.js';
import { negotiated, rawClient, rest, startTestEmulator, withTimeout } from '../emulator/helpers.js';

// Hardening of the emulator against clients that misbehave on purpose (issue 10, items 12 to 14).

const HUB = 'chat';
const MAX_OUTBOUND = 64 * 1024;
const MAX_HANDSHAKE = 32 * 1024;
const BIG_ARGUMENT = 'x'.repeat(256 * 1024);
// Kernel socket buffers take a few MB before anything waits in the emulator; 200 sends of 256 KB is far more.
const MAX_SENDS = 200;
const DISCONNECT_TIMEOUT_MS = 3_000;

const exists = async (emulator: RunningEmulator, connectionId: string): Promise<boolean> =>
  (await rest(emulator, 'HEAD', `/api/hubs/${HUB}/connections/${connectionId}`)).status === 200;

/** Sends big messages to one connection until the emulator drops it; returns how many it took. */
async function sendUntilClosed(emulator: RunningEmulator, connectionId: string): Promise<number> {
  for (let sent = 1; sent <= MAX_SENDS; sent++) {
    const response = await rest(emulator, 'POST', `/api/hubs/${HUB}/connections/${connectionId}/:send`, {
      body: { target: 'flood', arguments: [BIG_ARGUMENT] },
    });
    assert.equal(response.status, 202);
    if (!(await exists(emulator, connectionId))) return sent;
  }
  assert.fail(`the connection was still open after ${MAX_SENDS} unread messages of 256 KB`);
}

const slowConsumerClose = `{"type":7,"error":"Connection closed because the client did not read its messages: more than ${MAX_OUTBOUND} bytes were waiting."}\x1e`;

describe('emulator: a client that stops reading is closed, and what waits for it stays bounded', () => {
  let emulator: RunningEmulator;
  before(async () => {
    emulator = await startTestEmulator({ maxOutboundBufferBytes: MAX_OUTBOUND, disconnectTimeoutMs: DISCONNECT_TIMEOUT_MS });
  });
  after(() => emulator.close());

  test('WebSockets: a paused socket is closed with a reason it reads once it resumes', async () => {
    const { connectionId, socket } = await rawClient(emulator, HUB, 'ws-slow');
    socket.pause(); // stops reading the TCP socket: the emulator's writes pile up
    await sendUntilClosed(emulator, connectionId);

    const records: string[] = [];
    socket.on('message', (data) => records.push(...(data as Buffer).toString().split('\x1e').filter(Boolean)));
    const closed = new Promise<number>((resolve) => socket.once('close', resolve));
    socket.resume();
    assert.equal(await withTimeout(closed, 'close'), 1000);
    assert.equal(`${records.at(-1)}\x1e`, slowConsumerClose);
  });

  /** A JSON connection over Server-Sent Events, handshake done, its response paused: nothing more is read. */
  async function pausedEventStream(user: string): Promise<{ connectionId: string; response: IncomingMessage; text: () => string }> {
    const { connectionId, connectionToken, token } = await negotiated(emulator, HUB, user);
    const url = `${emulator.url}/client/?hub=${HUB}&id=${connectionToken}&access_token=${token}`;
    const response = await new Promise<IncomingMessage>((resolve, reject) =>
      request(url, { headers: { accept: 'text/event-stream' } }, resolve)
        .on('error', reject)
        .end(),
    );
    let text = '';
    const handshakeDone = new Promise<void>((resolve) =>
      response.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        if (text.includes('{}\x1e')) resolve();
      }),
    );
    await fetch(url, { method: 'POST', body: '{"protocol":"json","version":1}\x1e' });
    await withTimeout(handshakeDone, 'handshake');
    response.pause();
    return { connectionId, response, text: () => text };
  }

  test('Server-Sent Events: a paused response is closed with a reason it reads once it resumes', async () => {
    const { connectionId, response, text } = await pausedEventStream('sse-slow');
    await sendUntilClosed(emulator, connectionId);

    const ended = new Promise((resolve) => response.once('end', resolve));
    response.resume();
    await withTimeout(ended, 'end of the event stream');
    const events = text().split('\r\n\r\n').filter(Boolean);
    assert.equal(events.at(-1), `data: ${slowConsumerClose}`);
  });

  test('Server-Sent Events: a response that is never read again is cut after the disconnect timeout', async () => {
    const { connectionId, response } = await pausedEventStream('sse-gone');
    await sendUntilClosed(emulator, connectionId);
    // The emulator runs in this process and armed its timer first, so it has fired when this one does.
    await new Promise((resolve) => setTimeout(resolve, DISCONNECT_TIMEOUT_MS + 100));
    const outcome = new Promise((resolve) => {
      response.once('end', () => resolve('finished'));
      response.once('error', () => resolve('cut'));
    });
    response.resume();
    assert.equal(await withTimeout(outcome, 'the end of the response'), 'cut', 'the response was destroyed, not left to finish');
  });

  test('long polling: what waits for the next poll never exceeds the bound by more than one message', async () => {
    const { connectionId, connectionToken, token } = await negotiated(emulator, HUB, 'poll-slow');
    const url = `${emulator.url}/client/?hub=${HUB}&id=${connectionToken}`;
    const headers = { authorization: `Bearer ${token}` };
    assert.equal((await fetch(url, { headers })).status, 200);
    await fetch(url, { method: 'POST', headers, body: '{"protocol":"json","version":1}\x1e' });
    assert.equal(await (await fetch(url, { headers })).text(), '{}\x1e');

    const sends = await sendUntilClosed(emulator, connectionId);
    const message = `{"type":1,"target":"flood","arguments":["${BIG_ARGUMENT}"]}\x1e`;
    // Closed at the first send that found more than the bound waiting: that send was refused, not queued.
    assert.equal(sends, Math.floor(MAX_OUTBOUND / message.length) + 2);
    const body = await (await fetch(url, { headers })).text();
    assert.equal(body, message.repeat(sends - 1) + slowConsumerClose);
    assert.ok(body.length <= MAX_OUTBOUND + message.length + slowConsumerClose.length);
    assert.equal((await fetch(url, { headers })).status, 204, 'then the connection has ended');
  });

  test('a client that keeps reading is not affected by the bound', async () => {
    const { connectionId, socket } = await rawClient(emulator, HUB, 'ws-fast');
    try {
      let received = 0;
      socket.on('message', (data) => (received += (data as Buffer).toString().includes('flood') ? 1 : 0));
      for (let sent = 1; sent <= 40; sent++) {
        await rest(emulator, 'POST', `/api/hubs/${HUB}/connections/${connectionId}/:send`, { body: { target: 'flood', arguments: [BIG_ARGUMENT] } });
        // Wait for each message, as a client that keeps up does: nothing piles up.
        await eventually(() => received >= sent, 'delivery', 10_000, 5);
      }
      assert.ok(await exists(emulator, connectionId));
    } finally {
      socket.close();
    }
  });

  test('the bound must be a positive whole number of bytes', async () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      // Closed if it starts after all, so a failing check cannot leave a server running.
      await assert.rejects(async () => (await startTestEmulator({ maxOutboundBufferBytes: bad })).close(), /maxOutboundBufferBytes must be a positive integer/);
    }
  });
});

describe('emulator: a handshake that never ends is refused at a bounded size', () => {
  let emulator: RunningEmulator;
  before(async () => {
    emulator = await startTestEmulator({ maxHandshakeBytes: MAX_HANDSHAKE });
  });
  after(() => emulator.close());

  const tooLarge = `{"error":"The handshake request exceeds the maximum size of ${MAX_HANDSHAKE} bytes."}\x1e`;

  async function openSocket(user: string): Promise<{ socket: WebSocket; frames: string[]; closed: Promise<number> }> {
    const { connectionToken, token } = await negotiated(emulator, HUB, user);
    const socket = new WebSocket(`${emulator.url.replace('http', 'ws')}/client/?hub=${HUB}&id=${connectionToken}&access_token=${token}`);
    const frames: string[] = [];
    socket.on('message', (data) => frames.push((data as Buffer).toString()));
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
      await eventually(() => frames.length > 0, 'handshake response', 10_000, 5);
      assert.equal(frames[0], '{}\x1e');
    } finally {
      socket.close();
    }
  });

  test('long polling: a handshake POSTed in pieces past the bound is refused', async () => {
    const { connectionToken, token, connectionId } = await negotiated(emulator, HUB, 'poll-endless');
    const url = `${emulator.url}/client/?hub=${HUB}&id=${connectionToken}`;
    const headers = { authorization: `Bearer ${token}` };
    assert.equal((await fetch(url, { headers })).status, 200);
    for (let sent = 0; sent < 9; sent++) await fetch(url, { method: 'POST', headers, body: 'x'.repeat(4096) });
    assert.equal(await (await fetch(url, { headers })).text(), tooLarge);
    assert.equal((await fetch(url, { method: 'POST', headers, body: 'x' })).status, 404, 'the connection is gone');
    assert.equal(await exists(emulator, connectionId), false);
  });

  test('long polling: sends piled up ahead of the first poll are bounded the same way', async () => {
    const { connectionToken, token, connectionId } = await negotiated(emulator, HUB, 'poll-early');
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
  const PATTERN = "aé€😀 /?#%&+=:;@[]!$'()*,~";
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
        const record = (data as Buffer).toString();
        if (record !== '{"type":6}\x1e') received.push(JSON.parse(record.slice(0, -1)).target);
      });
      assert.equal(await status('HEAD', path('users', user)), 200, 'the user id is decoded exactly as the client token carries it');
      assert.equal(await status('PUT', path('groups', group, 'connections', connectionId)), 200);
      assert.equal(await status('HEAD', path('groups', group)), 200);
      assert.equal(await status('PUT', path('users', user, 'groups', group)), 200);
      assert.equal(await status('GET', path('users', user, 'groups', group)), 200);
      assert.equal(await status('POST', `${path('groups', group)}/:send`, { target: 'to-group', arguments: [] }), 202);
      assert.equal(await status('POST', `${path('users', user)}/:send`, { target: 'to-user', arguments: [] }), 202);
      await eventually(() => received.length >= 2, 'messages', 10_000, 5);
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
