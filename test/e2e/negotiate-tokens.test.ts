import assert from 'node:assert/strict';
import { decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { after, before, describe, test } from 'node:test';
import { WELL_KNOWN_ACCESS_KEY } from '../../src/emulator/emulator.js';
import { http, startFullStack, type FullStack } from '../fixtures/stack.js';

const SSO_TTL_S = 600;
const key = new TextEncoder().encode(WELL_KNOWN_ACCESS_KEY);

/** The emulator's endpoint without its port: Azure's client `aud` never carries one (docs/azure-compatibility.md#client-tokens). */
const audienceOf = (hub: string) => `http://127.0.0.1/client/?hub=${hub}`;

async function negotiate(url: string, token: string, hub = 'chat', query = '') {
  return http('POST', `${url}/hubs/${hub}/negotiate?negotiateVersion=1${query}`, {
    headers: { authorization: `Bearer ${token}`, 'x-requested-with': 'XMLHttpRequest' },
  });
}

describe('negotiate and :generateToken tokens', () => {
  let stack: FullStack;
  let shortLived: FullStack;
  let alice: string;

  before(async () => {
    stack = await startFullStack({ ssoTokenTtlSeconds: SSO_TTL_S, env: { NEGOTIATE_FORWARD_CLAIMS: 'client_id,iss,not_in_token' } });
    // The same SSO and SignalR service behind a gateway whose client tokens live shorter than the SSO's.
    shortLived = await startFullStack({
      upstream: { connectionString: stack.emulator.connectionString },
      env: { SSO_ISSUER: stack.sso.issuer, SSO_AUDIENCE: stack.sso.audience, SIGNALR_TOKEN_LIFETIME_S: '120' },
    });
    alice = await stack.userToken('alice');
  });

  after(async () => {
    await shortLived?.close();
    await stack?.close();
  });

  test('answers 200 with the redirect: url, accessToken, tokenLifetimeSeconds', async () => {
    const { status, json } = await negotiate(stack.gatewayUrl, alice, 'Chat');
    assert.equal(status, 200);
    assert.deepEqual(Object.keys(json).sort(), ['accessToken', 'tokenLifetimeSeconds', 'url']);
    assert.equal(json.url, `${stack.emulator.url}/client/?hub=chat`);
  });

  test('the client token is HS256 with the AccessKey and carries the documented claims (golden)', async () => {
    const { json } = await negotiate(stack.gatewayUrl, alice, 'Chat');
    assert.deepEqual(decodeProtectedHeader(json.accessToken), { alg: 'HS256', typ: 'JWT' });
    const { payload } = await jwtVerify(json.accessToken, key, { algorithms: ['HS256'] });
    const sso = decodeJwt(alice);
    assert.deepEqual(payload, {
      'asrs.s.uid': 'alice',
      nameid: 'alice',
      // Forwarded claims; `iss` is a system claim, so it is renamed as Azure does.
      client_id: stack.sso.frontend.clientId,
      'asrs.u.iss': stack.sso.issuer,
      aud: audienceOf('chat'),
      iat: payload.iat,
      nbf: payload.iat,
      exp: payload.exp,
    });
    assert.equal(payload.exp! - payload.iat!, json.tokenLifetimeSeconds);
    assert.ok(payload.exp! <= sso.exp! && payload.exp! >= sso.exp! - 2, 'the client token expires with the SSO token');
  });

  test('an application prefixes the client hub, in url and aud alike', async () => {
    const { json } = await negotiate(stack.gatewayUrl, alice, 'Chat', '&application=Shop');
    assert.equal(json.url, `${stack.emulator.url}/client/?hub=shop_chat`);
    assert.equal(decodeJwt(json.accessToken).aud, audienceOf('shop_chat'));
  });

  test('the lifetime is SIGNALR_TOKEN_LIFETIME_S when the SSO token lives longer, and capped by the SSO token otherwise', async () => {
    const short = await negotiate(shortLived.gatewayUrl, alice);
    assert.equal(short.json.tokenLifetimeSeconds, 120);
    const claims = decodeJwt(short.json.accessToken);
    assert.equal(claims.exp! - claims.iat!, 120);

    const capped = await negotiate(stack.gatewayUrl, alice);
    assert.ok(capped.json.tokenLifetimeSeconds <= SSO_TTL_S && capped.json.tokenLifetimeSeconds > SSO_TTL_S - 60);
  });

  test('a user id too long for a 4 KB token is refused with a clear 413, not a token Azure would reject', async () => {
    // A user id the API accepts (1,024 characters), but twice 2 KB of UTF-8 in the token.
    const longUser = 'ü'.repeat(1024);
    const { status, json, headers } = await negotiate(stack.gatewayUrl, await stack.userToken(longUser));
    assert.equal(status, 413);
    assert.match(headers.get('content-type')!, /^application\/problem\+json/);
    assert.equal(json.code, 'token-too-long');
    assert.match(json.detail, /4096-character limit/);
    assert.doesNotMatch(JSON.stringify(json), /eyJ/, 'no token in the error');
  });

  test('needs an SSO token: none or a bad one is 401', async () => {
    const anonymous = await stack.api('POST', '/hubs/chat/negotiate', { anonymous: true });
    assert.equal(anonymous.status, 401);
    assert.equal((await negotiate(stack.gatewayUrl, `${alice.slice(0, -4)}AAAA`)).status, 401);
  });

  test('a token that names no user (no SSO_USER_CLAIM) is refused with 403', async () => {
    const { status, json } = await negotiate(stack.gatewayUrl, await stack.forgeToken({ client_id: 'batch-job' }));
    assert.equal(status, 403);
    assert.equal(json.code, 'no-user');
  });

  test('an invalid hub name is a 400 validation problem', async () => {
    const { status, json } = await negotiate(stack.gatewayUrl, alice, '1nvalid');
    assert.equal(status, 400);
    assert.equal(json.errors[0].field, 'path.hub');
  });

  describe(':generateToken', () => {
    test('mints a token for the named user, valid minutesToExpire, with the client url', async () => {
      const { status, json } = await stack.api('POST', '/api/hubs/Chat/:generateToken?userId=bob&minutesToExpire=5');
      assert.equal(status, 200);
      assert.equal(json.url, `${stack.emulator.url}/client/?hub=chat`);
      const { payload } = await jwtVerify(json.token, key, { algorithms: ['HS256'] });
      assert.deepEqual(payload, { 'asrs.s.uid': 'bob', nameid: 'bob', aud: audienceOf('chat'), iat: payload.iat, nbf: payload.iat, exp: payload.iat! + 300 });
    });

    test('defaults to 60 minutes and to an anonymous connection', async () => {
      const { json } = await stack.api('POST', '/api/hubs/chat/:generateToken');
      const claims = decodeJwt(json.token);
      assert.equal(claims.exp! - claims.iat!, 3600);
      assert.equal(claims['asrs.s.uid'], undefined);
    });

    test('needs signalr.negotiate, or signalr.negotiate on that hub', async () => {
      const other = await stack.serviceToken(['signalr.send']);
      assert.equal((await stack.api('POST', '/api/hubs/chat/:generateToken?userId=bob', { token: other })).status, 403);
      const chatOnly = await stack.forgeToken({ sub: 'orders-service', scope: 'signalr.negotiate:chat' });
      assert.equal((await stack.api('POST', '/api/hubs/Chat/:generateToken?userId=bob', { token: chatOnly })).status, 200);
      assert.equal((await stack.api('POST', '/api/hubs/news/:generateToken?userId=bob', { token: chatOnly })).status, 403);
    });

    test('minutesToExpire must be 1 to 1440', async () => {
      for (const value of ['0', '1441', '1e3', 'soon']) {
        const { status, json } = await stack.api('POST', `/api/hubs/chat/:generateToken?minutesToExpire=${value}`);
        assert.equal(status, 400, value);
        assert.equal(json.errors[0].field, 'query.minutesToExpire');
      }
    });
  });

  describe('CORS', () => {
    const preflight = (origin: string) =>
      stack.api('OPTIONS', '/hubs/chat/negotiate', {
        anonymous: true,
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization,x-requested-with,x-signalr-user-agent',
        },
      });

    test('the preflight of negotiate from an allowed origin allows what the SignalR browser client sends', async () => {
      const response = await preflight(stack.secondOrigin);
      assert.equal(response.status, 204);
      assert.equal(response.headers.get('access-control-allow-origin'), stack.secondOrigin);
      assert.equal(response.headers.get('access-control-allow-credentials'), 'true');
      assert.match(response.headers.get('access-control-allow-methods')!, /\bPOST\b/);
      const allowed = response.headers.get('access-control-allow-headers')!.toLowerCase().split(/,\s*/);
      for (const header of ['authorization', 'x-requested-with', 'x-signalr-user-agent']) assert.ok(allowed.includes(header), header);
    });

    test('other origins get no CORS permission, and never a wildcard', async () => {
      for (const origin of ['http://evil.example', `${stack.secondOrigin}.evil.example`, 'null']) {
        const response = await preflight(origin);
        assert.equal(response.headers.get('access-control-allow-origin'), null, origin);
      }
    });

    test('the negotiate answer itself echoes the allowed origin, with credentials', async () => {
      const response = await stack.api('POST', '/hubs/chat/negotiate', { token: alice, headers: { origin: stack.secondOrigin } });
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('access-control-allow-origin'), stack.secondOrigin);
      assert.equal(response.headers.get('access-control-allow-credentials'), 'true');
      assert.match(response.headers.get('vary')!, /Origin/);
    });
  });
});
