import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { escapeDataString, restCalls, type RestCall } from '../../src/signalr/urls.js';

const V = 'api-version=2022-06-01';
const V2024 = 'api-version=2024-12-01';
const chat = { hub: 'Chat' };

describe('escapeDataString (Uri.EscapeDataString)', () => {
  it('leaves only RFC 3986 unreserved characters as they are', () => {
    assert.equal(escapeDataString('AZaz09-._~'), 'AZaz09-._~');
  });

  it("escapes !'()* which encodeURIComponent leaves", () => {
    assert.equal(escapeDataString("!'()*"), '%21%27%28%29%2A');
  });

  it('escapes /, space, %, reserved characters and unicode as UTF-8', () => {
    assert.equal(escapeDataString('a/b'), 'a%2Fb');
    assert.equal(escapeDataString('a b'), 'a%20b');
    assert.equal(escapeDataString('100%'), '100%25');
    assert.equal(escapeDataString('?#[]@:&=+$,;'), '%3F%23%5B%5D%40%3A%26%3D%2B%24%2C%3B');
    assert.equal(escapeDataString('é'), '%C3%A9');
    assert.equal(escapeDataString('😀'), '%F0%9F%98%80');
    assert.equal(escapeDataString('群组'), '%E7%BE%A4%E7%BB%84');
  });
});

/** Method, then path and query as they go on the wire. */
const wire = (call: RestCall): string => `${call.method} ${call.path}${call.query}`;

describe('restCalls: the 19 operations of API 2022-06-01 and the five of 2024-12-01', () => {
  const table: [string, RestCall, string, boolean?][] = [
    ['health', restCalls.health(), `HEAD /api/health?${V}`],
    ['broadcast', restCalls.broadcast(chat), `POST /api/hubs/chat/:send?${V}`],
    ['broadcast excluding', restCalls.broadcast(chat, { excluded: ['c1', 'c/2'] }), `POST /api/hubs/chat/:send?${V}&excluded=c1&excluded=c%2F2`],
    [
      'closeAllConnections',
      restCalls.closeAllConnections(chat, { excluded: ['c1'], reason: 'maintenance (planned)' }),
      `POST /api/hubs/chat/:closeConnections?${V}&excluded=c1&reason=maintenance%20%28planned%29`,
    ],
    ['sendToGroup', restCalls.sendToGroup(chat, 'Group A', { excluded: ['x'] }), `POST /api/hubs/chat/groups/Group%20A/:send?${V}&excluded=x`],
    [
      'closeGroupConnections',
      restCalls.closeGroupConnections(chat, 'g1', { reason: 'bye' }),
      `POST /api/hubs/chat/groups/g1/:closeConnections?${V}&reason=bye`,
    ],
    ['groupExists', restCalls.groupExists(chat, 'g1'), `HEAD /api/hubs/chat/groups/g1?${V}`, true],
    ['addConnectionToGroup', restCalls.addConnectionToGroup(chat, 'g1', 'conn-1'), `PUT /api/hubs/chat/groups/g1/connections/conn-1?${V}`, true],
    ['removeConnectionFromGroup', restCalls.removeConnectionFromGroup(chat, 'g1', 'conn-1'), `DELETE /api/hubs/chat/groups/g1/connections/conn-1?${V}`, true],
    ['sendToUser', restCalls.sendToUser(chat, 'Alice'), `POST /api/hubs/chat/users/Alice/:send?${V}`],
    [
      'closeUserConnections',
      restCalls.closeUserConnections(chat, 'Alice', { excluded: ['a', 'b'], reason: 'r' }),
      `POST /api/hubs/chat/users/Alice/:closeConnections?${V}&excluded=a&excluded=b&reason=r`,
    ],
    ['userExists', restCalls.userExists(chat, 'alice@example.com'), `HEAD /api/hubs/chat/users/alice%40example.com?${V}`, true],
    ['userInGroup', restCalls.userInGroup(chat, 'Alice', 'g1'), `HEAD /api/hubs/chat/users/Alice/groups/g1?${V}`, true],
    ['addUserToGroup', restCalls.addUserToGroup(chat, 'Alice', 'g1'), `PUT /api/hubs/chat/users/Alice/groups/g1?${V}`],
    ['addUserToGroup with ttl', restCalls.addUserToGroup(chat, 'Alice', 'g1', 0), `PUT /api/hubs/chat/users/Alice/groups/g1?${V}&ttl=0`],
    ['removeUserFromGroup', restCalls.removeUserFromGroup(chat, 'Alice', 'g1'), `DELETE /api/hubs/chat/users/Alice/groups/g1?${V}`],
    ['removeUserFromAllGroups', restCalls.removeUserFromAllGroups(chat, 'Alice'), `DELETE /api/hubs/chat/users/Alice/groups?${V}`],
    ['sendToConnection', restCalls.sendToConnection(chat, 'Ab_c-1'), `POST /api/hubs/chat/connections/Ab_c-1/:send?${V}`],
    ['closeConnection', restCalls.closeConnection(chat, 'c1'), `DELETE /api/hubs/chat/connections/c1?${V}`],
    ['closeConnection with reason', restCalls.closeConnection(chat, 'c1', 'idle'), `DELETE /api/hubs/chat/connections/c1?${V}&reason=idle`],
    ['connectionExists', restCalls.connectionExists(chat, 'c1'), `HEAD /api/hubs/chat/connections/c1?${V}`, true],
    ['removeConnectionFromAllGroups', restCalls.removeConnectionFromAllGroups(chat, 'c1'), `DELETE /api/hubs/chat/connections/c1/groups?${V}`],
    ['listGroupConnections', restCalls.listGroupConnections(chat, 'g 1'), `GET /api/hubs/chat/groups/g%201/connections?${V2024}`],
    [
      'listGroupConnections with paging',
      restCalls.listGroupConnections({ hub: 'Chat', application: 'App' }, 'g1', { maxPageSize: 10, top: 5, continuationToken: 'a/b=' }),
      `GET /api/hubs/chat/groups/g1/connections?application=app&${V2024}&maxpagesize=10&top=5&continuationToken=a%2Fb%3D`,
    ],
    ['invokeConnection', restCalls.invokeConnection(chat, 'c1'), `POST /api/hubs/chat/connections/c1/:invoke?${V2024}`],
    ['sendToStream', restCalls.sendToStream(chat, 'c1', 's 1'), `POST /api/hubs/chat/connections/c1/streams/s%201/:send?${V2024}`],
    ['sendToStream completed', restCalls.sendToStream(chat, 'c1', '0', true), `POST /api/hubs/chat/connections/c1/streams/0/:send?${V2024}&completed=true`],
    ['completeStream', restCalls.completeStream(chat, 'c1', '0', 'done'), `POST /api/hubs/chat/connections/c1/streams/0/:complete?${V2024}&reason=done`],
    ['execute', restCalls.execute({ hub: 'Chat' }), `POST /api/hubs/chat/:execute?${V2024}`],
    ['execute with filter', restCalls.execute({ hub: 'Chat' }, "userId eq 'a b'"), `POST /api/hubs/chat/:execute?${V2024}&filter=userId%20eq%20%27a%20b%27`],
  ];

  for (const [name, call, expected, notFoundIsAnswer] of table) {
    it(name, () => {
      assert.equal(wire(call), expected);
      assert.equal(call.notFoundIsAnswer ?? false, notFoundIsAnswer ?? false);
    });
  }

  it('covers every operation', () => {
    const covered = new Set(table.map(([name]) => name.split(' ')[0]));
    assert.deepEqual([...covered].sort(), Object.keys(restCalls).sort());
    assert.equal(covered.size, 24, "the 19 operations of 2022-06-01 and 2024-12-01's list, invoke, two stream operations and :execute");
  });

  it('reads the body of exactly the operations that answer with one', () => {
    const reading = table.filter(([, call]) => call.responseBody).map(([name]) => name.split(' ')[0]);
    assert.deepEqual([...new Set(reading)].sort(), ['invokeConnection', 'listGroupConnections']);
  });

  it('marks the four :send operations, :invoke, stream items and :execute, and only those, as messages (retried only when provably undelivered)', () => {
    const messages = table.filter(([, call]) => call.message).map(([, call]) => call.path);
    assert.deepEqual(
      [...new Set(messages)],
      [
        '/api/hubs/chat/:send',
        '/api/hubs/chat/groups/Group%20A/:send',
        '/api/hubs/chat/users/Alice/:send',
        '/api/hubs/chat/connections/Ab_c-1/:send',
        '/api/hubs/chat/connections/c1/:invoke',
        '/api/hubs/chat/connections/c1/streams/s%201/:send',
        '/api/hubs/chat/connections/c1/streams/0/:send',
        '/api/hubs/chat/:execute',
      ],
    );
    assert.ok(table.every(([, call]) => call.message === (/\/:(send|invoke|execute)$/.test(call.path) || undefined)));
  });

  it('lowercases hub and application, puts application before api-version, keeps ids in their case', () => {
    const call = restCalls.sendToGroup({ hub: 'ChatRoom', application: 'MyApp' }, 'GroupX', { excluded: ['ConnA'] });
    assert.equal(wire(call), `POST /api/hubs/chatroom/groups/GroupX/:send?application=myapp&${V}&excluded=ConnA`);
  });

  it('escapes every variable segment, so an id cannot add path segments', () => {
    const call = restCalls.removeConnectionFromGroup({ hub: 'h' }, "a/../b !'()*%", 'c?d#e');
    assert.equal(call.path, '/api/hubs/h/groups/a%2F..%2Fb%20%21%27%28%29%2A%25/connections/c%3Fd%23e');
    assert.equal(restCalls.userExists({ hub: 'Hub`[1]' }, 'ü').path, '/api/hubs/hub%60%5B1%5D/users/%C3%BC');
  });

  it('escapes query values, reason included', () => {
    assert.equal(restCalls.closeConnection(chat, 'c1', 'a&b=c é').query, `?${V}&reason=a%26b%3Dc%20%C3%A9`);
  });
});
