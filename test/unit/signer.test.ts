import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { parseConnectionString } from '../../src/config/connection-string.js';
import { MAX_SIGNALR_TOKEN_LENGTH, SignalRSigner, TokenTooLongError } from '../../src/signalr/signer.js';

const KEY = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH';
const NOW = 1_700_000_000_000;
const IAT = NOW / 1000;

function signer(connectionString: string, lifetimeSeconds = 3600, clock = () => NOW): SignalRSigner {
  return new SignalRSigner(parseConnectionString(connectionString), lifetimeSeconds, clock);
}

const azure = (lifetime?: number, clock?: () => number) => signer(`Endpoint=https://demo.service.signalr.net;AccessKey=${KEY};Version=1.0;`, lifetime, clock);

// Golden tokens computed independently (node:crypto HMAC-SHA256 over base64url(JSON)), not by the code under test.
const GOLDEN_REST =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJodHRwczovL2RlbW8uc2VydmljZS5zaWduYWxyLm5ldC9hcGkvaHVicy9jaGF0L2dyb3Vwcy9nJTIwMS86c2VuZCIsImlhdCI6MTcwMDAwMDAwMCwibmJmIjoxNzAwMDAwMDAwLCJleHAiOjE3MDAwMDM2MDB9.zkxV4RN-UhnAyl4RxdFKKX9KrjMb-z7SsVduPOy93eM';
const GOLDEN_CLIENT =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJhc3JzLnMudWlkIjoiYWxpY2UiLCJuYW1laWQiOiJhbGljZSIsInJvbGUiOlsiYWRtaW4iLCJvcHMiXSwiYXNycy51LmF1ZCI6InNwb29mIiwiYXNycy51LmFzcnMucy51aWQiOiJtYWxsb3J5IiwiYXNycy51Lm5hbWVpZCI6ImJvYiIsInN1YiI6ImFsaWNlLXN1YiIsImF1ZCI6Imh0dHBzOi8vZGVtby5zZXJ2aWNlLnNpZ25hbHIubmV0L2NsaWVudC8_aHViPWNoYXQiLCJpYXQiOjE3MDAwMDAwMDAsIm5iZiI6MTcwMDAwMDAwMCwiZXhwIjoxNzAwMDAwNjAwfQ.meqwo332qTHjBmPuMnLr3DhKz9QLbzWz2wgHRx6fn_w';

describe('SignalRSigner: REST tokens', () => {
  it('matches the golden token for a fixed key and clock', async () => {
    assert.equal(await azure().restToken('/api/hubs/chat/groups/g%201/:send'), GOLDEN_REST);
  });

  it('has header {alg: HS256, typ: JWT}, aud = scheme://Endpoint host + path, iat = nbf = now, exp = now + lifetime', async () => {
    const token = await azure().restToken('/api/hubs/chat/groups/g%201/:send');
    assert.deepEqual(decodeProtectedHeader(token), { alg: 'HS256', typ: 'JWT' });
    assert.deepEqual(decodeJwt(token), { aud: 'https://demo.service.signalr.net/api/hubs/chat/groups/g%201/:send', iat: IAT, nbf: IAT, exp: IAT + 3600 });
    const { payload } = await jwtVerify(token, new TextEncoder().encode(KEY), {
      currentDate: new Date(NOW),
      audience: 'https://demo.service.signalr.net/api/hubs/chat/groups/g%201/:send',
    });
    assert.equal(payload.exp, IAT + 3600);
  });

  it('uses Endpoint host without port for aud, even with Port or ServerEndpoint', async () => {
    const local = signer(`Endpoint=http://localhost;Port=8888;AccessKey=${KEY};ServerEndpoint=http://127.0.0.1:9999`);
    assert.equal(decodeJwt(await local.restToken('/api/health')).aud, 'http://localhost/api/health');
  });

  it('caps the REST lifetime at one hour', async () => {
    assert.equal(decodeJwt(await azure(86_400).restToken('/api/health')).exp, IAT + 3600);
    assert.equal(decodeJwt(await azure(600).restToken('/api/health')).exp, IAT + 600);
  });

  it(`refuses a token over ${MAX_SIGNALR_TOKEN_LENGTH} characters, which valid but long escaped names make, without the token in the error`, async () => {
    await assert.rejects(azure().restToken(`/api/hubs/chat/users/${'%E2%82%AC'.repeat(1024)}/:send`), (error: unknown) => {
      assert.ok(error instanceof TokenTooLongError);
      assert.ok(error.length > MAX_SIGNALR_TOKEN_LENGTH);
      assert.match(error.message, /escaped request path/);
      assert.doesNotMatch(error.message, /eyJ/);
      return true;
    });
  });

  it('reuses a token per audience until three quarters of its lifetime have passed', async () => {
    let now = NOW;
    const s = azure(3600, () => now);
    const first = await s.restToken('/api/hubs/chat/:send');
    now += 1000;
    assert.equal(await s.restToken('/api/hubs/chat/:send'), first, 'cached');
    assert.notEqual(await s.restToken('/api/hubs/other/:send'), first, 'per audience');
    now = NOW + 2700 * 1000;
    const renewed = await s.restToken('/api/hubs/chat/:send');
    assert.notEqual(renewed, first);
    assert.equal(decodeJwt(renewed).iat, IAT + 2700);
  });
});

describe('SignalRSigner: client tokens (negotiate)', () => {
  it('matches the golden token: user id in asrs.s.uid and nameid, clashing claims prefixed asrs.u.', async () => {
    const token = await azure().signClientToken({
      hub: 'Chat',
      userId: 'alice',
      lifetimeSeconds: 600,
      claims: { role: ['admin', 'ops'], aud: 'spoof', 'asrs.s.uid': 'mallory', nameid: 'bob', sub: 'alice-sub' },
    });
    assert.equal(token, GOLDEN_CLIENT);
    assert.deepEqual(decodeJwt(token), {
      'asrs.s.uid': 'alice',
      nameid: 'alice',
      role: ['admin', 'ops'],
      'asrs.u.aud': 'spoof',
      'asrs.u.asrs.s.uid': 'mallory',
      'asrs.u.nameid': 'bob',
      sub: 'alice-sub',
      aud: 'https://demo.service.signalr.net/client/?hub=chat',
      iat: IAT,
      nbf: IAT,
      exp: IAT + 600,
    });
  });

  it('prefixes every reserved claim name, in any case and in its long ClaimTypes form', async () => {
    const reserved = [
      'aud',
      'exp',
      'iat',
      'nbf',
      'iss',
      'actort',
      'acr',
      'azp',
      'c_hash',
      'jti',
      'nonce',
      'nameid',
      'asrs.s.dc',
      'AUD',
      'Nbf',
      'C_Hash',
      'NameID',
      'Nameid',
      'ASRS.S.UID',
      'Asrs.u.x',
      'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier',
      'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/NameIdentifier',
      'http://schemas.xmlsoap.org/ws/2009/09/identity/claims/actor',
      'http://schemas.microsoft.com/claims/authnclassreference',
    ];
    const claims = Object.fromEntries(reserved.map((name) => [name, 'x']));
    const payload = decodeJwt(await azure().signClientToken({ hub: 'chat', claims }));
    for (const name of reserved) {
      assert.equal(payload[`asrs.u.${name}`], 'x', name);
      if (!['aud', 'exp', 'iat', 'nbf'].includes(name)) assert.equal(payload[name], undefined, `${name} is not kept as is`);
    }
    assert.equal(payload.aud, 'https://demo.service.signalr.net/client/?hub=chat');
    assert.equal(payload.exp, IAT + 3600, 'default lifetime from config');
    assert.equal(payload['asrs.s.uid'], undefined, 'anonymous: no user claims');
  });

  it('builds the client URL from ClientEndpoint or Endpoint with Port, and the aud from Endpoint without port', async () => {
    const local = signer(`Endpoint=http://localhost;Port=8888;AccessKey=${KEY}`);
    assert.equal(local.clientUrl('Chat'), 'http://localhost:8888/client/?hub=chat');
    assert.equal(decodeJwt(await local.signClientToken({ hub: 'Chat' })).aud, 'http://localhost/client/?hub=chat');

    const fronted = signer(`Endpoint=https://foo.service.signalr.net;AccessKey=${KEY};ClientEndpoint=https://chat.example.com/`);
    assert.equal(fronted.clientUrl('Chat', 'MyApp'), 'https://chat.example.com/client/?hub=myapp_chat');
    assert.equal(decodeJwt(await fronted.signClientToken({ hub: 'Chat', application: 'MyApp' })).aud, 'https://foo.service.signalr.net/client/?hub=myapp_chat');
  });

  it(`refuses a token over ${MAX_SIGNALR_TOKEN_LENGTH} characters with a TokenTooLongError that does not carry the token`, async () => {
    await azure().signClientToken({ hub: 'chat', userId: 'u', claims: { pad: 'x'.repeat(2500) } });
    await assert.rejects(azure().signClientToken({ hub: 'chat', userId: 'u', claims: { pad: 'x'.repeat(3500) } }), (error: unknown) => {
      assert.ok(error instanceof TokenTooLongError);
      assert.ok(error.length > MAX_SIGNALR_TOKEN_LENGTH);
      assert.doesNotMatch(error.message, /eyJ/);
      return true;
    });
  });
});
