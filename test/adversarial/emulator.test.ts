import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { RunningEmulator } from '../../src/emulator/emulator.js';
import { rawClient, rest, startTestEmulator, withTimeout } from '../emulator/helpers.js';

// Hardening of the emulator against clients that misbehave on purpose (issue 10).

const HUB = 'chat';

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
