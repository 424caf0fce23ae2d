import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import WebSocket from 'ws';
import { handshakeResponse } from '../../src/emulator/protocol/handshake.js';
import { jsonProtocol, messagePackProtocol } from '../../src/emulator/protocol/hub-protocol.js';
import { clientToken, rest, startTestEmulator, withTimeout } from './helpers.js';

// Expected bytes are written by hand from dotnet/aspnetcore's HubProtocol.md (and what ASP.NET Core's writers
// emit where the spec leaves a choice), never produced by an encoder, so the emulator cannot agree with itself.
const bytes = (...values: Array<number | string>): Buffer =>
  Buffer.concat(values.map((value) => (typeof value === 'number' ? Buffer.from([value]) : Buffer.from(value, 'utf8'))));
const RS = 0x1e;

describe('JSON hub protocol: the exact bytes the emulator writes', () => {
  test('handshake responses', () => {
    assert.deepEqual(handshakeResponse(), bytes('{}', RS));
    assert.deepEqual(handshakeResponse('nope'), bytes('{"error":"nope"}', RS));
  });

  test('Invocation: non-blocking, so no invocationId, and no streamIds', () => {
    assert.deepEqual(jsonProtocol.invocation('method', [42, 'x']), bytes('{"type":1,"target":"method","arguments":[42,"x"]}', RS));
    assert.deepEqual(jsonProtocol.invocation('method', []), bytes('{"type":1,"target":"method","arguments":[]}', RS));
  });

  test('Ping', () => {
    assert.deepEqual(jsonProtocol.ping, bytes('{"type":6}', RS));
  });

  test('Close: error only when there is one, allowReconnect only when true', () => {
    assert.deepEqual(jsonProtocol.close(undefined, false), bytes('{"type":7}', RS));
    assert.deepEqual(jsonProtocol.close('xyz', false), bytes('{"type":7,"error":"xyz"}', RS));
    assert.deepEqual(jsonProtocol.close('xyz', true), bytes('{"type":7,"error":"xyz","allowReconnect":true}', RS));
    assert.deepEqual(jsonProtocol.close(undefined, true), bytes('{"type":7,"allowReconnect":true}', RS));
  });
});

describe('MessagePack hub protocol: the exact bytes the emulator writes', () => {
  test('Invocation: six elements, nil invocationId, empty streamIds (the spec’s non-blocking example)', () => {
    // 0x0e: length prefix 14; 0x96: array of 6; 0x01 type; 0x80 headers {}; 0xc0 nil; 0xa6 "method"; 0x91 0x2a [42]; 0x90 []
    const expected = bytes(0x0e, 0x96, 0x01, 0x80, 0xc0, 0xa6, 'method', 0x91, 0x2a, 0x90);
    assert.deepEqual(messagePackProtocol.invocation('method', [42]), expected);
  });

  test('Invocation arguments: maps, ints, float64, nil, booleans and UTF-8 strings', () => {
    const args = [{ a: 1 }, 2.5, null, true, 'é', -1, 300];
    const body = bytes(
      0x96,
      0x01,
      0x80,
      0xc0,
      0xa1,
      'm',
      0x97, // 7 arguments
      0x81,
      0xa1,
      'a',
      0x01, // {a: 1}
      0xcb,
      0x40,
      0x04,
      0x00,
      0x00,
      0x00,
      0x00,
      0x00,
      0x00, // 2.5 as float64
      0xc0, // null
      0xc3, // true
      0xa2,
      0xc3,
      0xa9, // "é", two UTF-8 bytes
      0xff, // -1, negative fixint
      0xcd,
      0x01,
      0x2c, // 300, uint16
      0x90,
    );
    assert.equal(body.length, 30);
    assert.deepEqual(messagePackProtocol.invocation('m', args), Buffer.concat([bytes(30), body]));
  });

  test('Invocation over 127 bytes: a two-byte VarInt length prefix, least significant group first', () => {
    const text = 'a'.repeat(280);
    // 7 bytes before the argument, str16 header 0xda 0x01 0x18 (280), the text, then 0x90: 291 = 0x123 → 0xa3 0x02.
    const body = bytes(0x96, 0x01, 0x80, 0xc0, 0xa1, 'm', 0x91, 0xda, 0x01, 0x18, text, 0x90);
    assert.equal(body.length, 291);
    assert.deepEqual(messagePackProtocol.invocation('m', [text]), Buffer.concat([bytes(0xa3, 0x02), body]));
  });

  test('Ping is always exactly 0x91 0x06', () => {
    assert.deepEqual(messagePackProtocol.ping, bytes(0x02, 0x91, 0x06));
  });

  test('Close: three elements, [7, error or nil, allowReconnect], as ASP.NET Core writes it', () => {
    assert.deepEqual(messagePackProtocol.close('xyz', true), bytes(0x07, 0x93, 0x07, 0xa3, 'xyz', 0xc3));
    assert.deepEqual(messagePackProtocol.close('xyz', false), bytes(0x07, 0x93, 0x07, 0xa3, 'xyz', 0xc2));
    assert.deepEqual(messagePackProtocol.close(undefined, false), bytes(0x04, 0x93, 0x07, 0xc0, 0xc2));
    assert.deepEqual(messagePackProtocol.close('', true), bytes(0x04, 0x93, 0x07, 0xc0, 0xc3), 'an empty error is nil');
  });

  test('over a real WebSocket: the handshake, a REST push and a REST close arrive as these bytes, in binary frames', async () => {
    const emulator = await startTestEmulator();
    try {
      const token = await clientToken(emulator, 'golden');
      const negotiated = (await (
        await fetch(`${emulator.url}/client/negotiate?hub=chat&negotiateVersion=1`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })
      ).json()) as { connectionId: string; connectionToken: string };
      const socket = new WebSocket(`${emulator.url.replace('http', 'ws')}/client/?hub=chat&id=${negotiated.connectionToken}&access_token=${token}`);
      const frames: Array<{ data: Buffer; binary: boolean }> = [];
      const waiters: Array<() => void> = [];
      socket.on('message', (data, binary) => {
        if ((data as Buffer).equals(bytes(0x02, 0x91, 0x06))) return; // keep-alive pings may come at any time
        frames.push({ data: data as Buffer, binary });
        for (const wake of waiters.splice(0)) wake();
      });
      const frame = async (): Promise<{ data: Buffer; binary: boolean }> => {
        while (frames.length === 0) await withTimeout(new Promise<void>((resolve) => waiters.push(resolve)), 'frame');
        return frames.shift()!;
      };
      await withTimeout(new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject)), 'open');
      socket.send('{"protocol":"messagepack","version":1}\x1e');
      assert.deepEqual(await frame(), { data: bytes('{}', RS), binary: true });

      const sent = await rest(emulator, 'POST', `/api/hubs/chat/connections/${negotiated.connectionId}/:send`, {
        body: { target: 'method', arguments: [42] },
      });
      assert.equal(sent.status, 202);
      assert.deepEqual(await frame(), { data: bytes(0x0e, 0x96, 0x01, 0x80, 0xc0, 0xa6, 'method', 0x91, 0x2a, 0x90), binary: true });

      const closed = new Promise<number>((resolve) => socket.once('close', resolve));
      assert.equal((await rest(emulator, 'DELETE', `/api/hubs/chat/connections/${negotiated.connectionId}?reason=xyz`)).status, 200);
      // The emulator's default, like Azure's emulator: allowReconnect true.
      assert.deepEqual(await frame(), { data: bytes(0x07, 0x93, 0x07, 0xa3, 'xyz', 0xc3), binary: true });
      assert.equal(await withTimeout(closed, 'close'), 1000);
    } finally {
      await emulator.close();
    }
  });
});

describe('client results and streams (2024-12-01): the exact bytes, and the Completions read back', () => {
  test('JSON: an Invocation with an invocationId, a StreamItem, Completions with and without an error', () => {
    assert.deepEqual(jsonProtocol.invocation('m', [1], '7'), bytes('{"type":1,"invocationId":"7","target":"m","arguments":[1]}', RS));
    assert.deepEqual(jsonProtocol.streamItem('0', { a: 1 }), bytes('{"type":2,"invocationId":"0","item":{"a":1}}', RS));
    assert.deepEqual(jsonProtocol.completion('0'), bytes('{"type":3,"invocationId":"0"}', RS));
    assert.deepEqual(jsonProtocol.completion('0', 'no'), bytes('{"type":3,"invocationId":"0","error":"no"}', RS));
  });

  test('MessagePack: the same, as the spec lays them out', () => {
    // [1, {}, "7", "m", [1], []]
    assert.deepEqual(messagePackProtocol.invocation('m', [1], '7'), bytes(0x0a, 0x96, 0x01, 0x80, 0xa1, '7', 0xa1, 'm', 0x91, 0x01, 0x90));
    // [2, {}, "0", 5]
    assert.deepEqual(messagePackProtocol.streamItem('0', 5), bytes(0x06, 0x94, 0x02, 0x80, 0xa1, '0', 0x05));
    // [3, {}, "0", 2]: void completion; [3, {}, "0", 1, "no"]: error
    assert.deepEqual(messagePackProtocol.completion('0'), bytes(0x06, 0x94, 0x03, 0x80, 0xa1, '0', 0x02));
    assert.deepEqual(messagePackProtocol.completion('0', 'no'), bytes(0x09, 0x95, 0x03, 0x80, 0xa1, '0', 0x01, 0xa2, 'no'));
  });

  test('Completions and stream messages from clients are read with what the server needs of them', () => {
    const json = Buffer.concat([
      bytes('{"type":3,"invocationId":"1","result":{"x":1}}', RS),
      bytes('{"type":3,"invocationId":"2","error":"boom"}', RS),
      bytes('{"type":3,"invocationId":"3"}', RS),
      bytes('{"type":4,"invocationId":"4","target":"t","arguments":[]}', RS),
      bytes('{"type":5,"invocationId":"4"}', RS),
    ]);
    assert.deepEqual(jsonProtocol.messages(json), [
      { type: 3, invocationId: '1', hasResult: true, result: { x: 1 } },
      { type: 3, invocationId: '2', error: 'boom' },
      { type: 3, invocationId: '3', hasResult: false },
      { type: 4, invocationId: '4' },
      { type: 5, invocationId: '4' },
    ]);
    // [3, {}, "1", 3, 42], [3, {}, "2", 1, "e"], [3, {}, "3", 2]
    const msgpack = Buffer.concat([
      bytes(0x07, 0x95, 0x03, 0x80, 0xa1, '1', 0x03, 0x2a),
      bytes(0x08, 0x95, 0x03, 0x80, 0xa1, '2', 0x01, 0xa1, 'e'),
      bytes(0x06, 0x94, 0x03, 0x80, 0xa1, '3', 0x02),
    ]);
    assert.deepEqual(messagePackProtocol.messages(msgpack), [
      { type: 3, invocationId: '1', hasResult: true, result: 42 },
      { type: 3, invocationId: '2', error: 'e' },
      { type: 3, invocationId: '3', hasResult: false },
    ]);
    assert.throws(() => jsonProtocol.messages(bytes('{"type":3,"invocationId":"1","error":"e","result":1}', RS)));
    assert.throws(() => messagePackProtocol.messages(bytes(0x06, 0x94, 0x03, 0x80, 0xa1, '1', 0x09)));
  });
});
