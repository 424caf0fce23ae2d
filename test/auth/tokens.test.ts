import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { type JWK, type JWTPayload } from 'jose';
import { newSigningKey } from '../../src/dev/dev-issuer.js';
import { bearer, forgeJwt, http, startFullStack, type FullStack, type Reply } from '../fixtures/stack.js';
import { ACCESS_KEY, capturedLogger, logLines, NO_UPSTREAM, ProbeModule } from './probe.js';

const now = () => Math.floor(Date.now() / 1000);

/** The public half of a private JWK, as PEM: what anyone can read from the JWKS. */
const publicPem = (privateJwk: JWK): string =>
  createPublicKey({ key: privateJwk as never, format: 'jwk' })
    .export({ type: 'spki', format: 'pem' })
    .toString();

/** Signs `claims` with a private JWK, as an issuer holding it would; any header goes. */
const sign = (privateJwk: JWK, claims: JWTPayload, header: Record<string, unknown> = {}): string => forgeJwt(claims, { key: privateJwk, header });

describe('SSO tokens at the gateway (real issuer, real guard)', () => {
  let stack: FullStack;
  let trusted: JWK;
  let url: string;
  let token: string;
  const issuedTokens: string[] = [];

  /** Claims as the issuer would sign them for a service client. */
  const claims = (overrides: JWTPayload = {}): JWTPayload => ({
    iss: stack.sso.issuer,
    aud: stack.sso.audience,
    client_id: 'forger',
    scope: 'signalr.send signalr.read',
    iat: now(),
    exp: now() + 300,
    ...overrides,
  });
  const send = (headers: Record<string, string | string[]>, path = '/probe/hubs/chat/:send') => http('POST', `${url}${path}`, { headers, body: {} });

  before(async () => {
    trusted = await newSigningKey();
    stack = await startFullStack({
      sso: { signingKeys: [trusted] },
      env: { SSO_TOKEN_TYPE: 'at+jwt' },
      upstream: NO_UPSTREAM,
      logger: capturedLogger(),
      modules: [ProbeModule],
    });
    url = stack.gatewayUrl;
    token = await stack.serviceToken();
    issuedTokens.push(token);
  });
  after(async () => {
    await stack.close();
  });

  it('accepts a valid service token from the issuer (2xx), and again from its cache', async () => {
    for (let i = 0; i < 2; i++) {
      const answer = await send(bearer(token));
      assert.equal(answer.status, 202, answer.text);
      assert.deepEqual(answer.json, { hub: 'chat' });
    }
  });

  it('accepts the scheme name in any case (RFC 7235)', async () => {
    assert.equal((await send({ authorization: `bearer ${token}` })).status, 202);
  });

  it('answers a request without a token with 401 and a bare Bearer challenge (RFC 6750 §3.1)', async () => {
    const answer = await send({});
    assert.equal(answer.status, 401);
    assert.equal(answer.headers.get('www-authenticate'), 'Bearer realm="signalr-gateway"');
    assert.match(String(answer.headers.get('content-type')), /^application\/problem\+json/);
    assert.equal(answer.json.code, 'unauthenticated');
  });

  const forgeries: Array<[string, () => Promise<Record<string, string | string[]>>, string?]> = [
    ['alg none', async () => bearer(forgeJwt(claims(), { header: { alg: 'none', typ: 'at+jwt' } }))],
    ['alg none with the trusted kid', async () => bearer(forgeJwt(claims(), { header: { alg: 'none', typ: 'at+jwt', kid: trusted.kid } }))],
    [
      "HS256 signed with the issuer's public key",
      async () => bearer(forgeJwt(claims(), { key: publicPem(trusted), header: { alg: 'HS256', typ: 'at+jwt', kid: trusted.kid } })),
    ],
    ['wrong issuer', async () => bearer(sign(trusted, claims({ iss: 'https://evil.example' })))],
    ['wrong audience', async () => bearer(sign(trusted, claims({ aud: 'api://another-api' })))],
    ['expired beyond the clock tolerance', async () => bearer(sign(trusted, claims({ iat: now() - 3600, exp: now() - 120 })))],
    ['nbf in the future', async () => bearer(sign(trusted, claims({ nbf: now() + 600 })))],
    [
      'missing exp',
      async () => {
        const { exp: _exp, ...rest } = claims();
        return bearer(sign(trusted, rest));
      },
    ],
    ['unknown kid', async () => bearer(sign(trusted, claims(), { kid: 'no-such-key' }))],
    [
      'tampered payload (scope added)',
      async () => {
        const [header, , signature] = sign(trusted, claims({ scope: 'signalr.read' })).split('.');
        return bearer(`${header}.${Buffer.from(JSON.stringify(claims())).toString('base64url')}.${signature}`);
      },
    ],
    [
      'tampered signature',
      async () => {
        const signed = sign(trusted, claims());
        const flipped = signed.at(-5) === 'A' ? 'B' : 'A';
        return bearer(`${signed.slice(0, -5)}${flipped}${signed.slice(-4)}`);
      },
    ],
    ['stripped signature', async () => bearer(`${sign(trusted, claims()).split('.').slice(0, 2).join('.')}.`)],
    ['truncated', async () => bearer(token.slice(0, -20))],
    ['not a JWT', async () => bearer('not-a-jwt')],
    ['only two segments', async () => bearer(token.split('.').slice(0, 2).join('.'))],
    ["another issuer's key with the same kid", async () => bearer(sign({ ...(await newSigningKey()), kid: trusted.kid }, claims()))],
    [
      'attacker key announced in a jwk header',
      async () => {
        const attacker = await newSigningKey();
        const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk } = attacker;
        return bearer(sign(attacker, claims(), { jwk: publicJwk, kid: undefined }));
      },
    ],
    ['attacker key set announced in a jku header', async () => bearer(sign(await newSigningKey(), claims(), { jku: 'http://127.0.0.1:1/jwks' }))],
    ['wrong typ (SSO_TOKEN_TYPE=at+jwt)', async () => bearer(sign(trusted, claims(), { typ: 'JWT' }))],
    ['an unknown critical header', async () => bearer(sign(trusted, claims(), { crit: ['x-must-understand'], 'x-must-understand': 1 }))],
    ['oversized token (10 KB)', async () => bearer(sign(trusted, claims({ padding: 'x'.repeat(10_000) })))],
    ['Bearer scheme missing', async () => ({ authorization: token }), 'no-error'],
    ['Basic credentials', async () => ({ authorization: `Basic ${Buffer.from('signalr-gateway-service:secret').toString('base64')}` }), 'no-error'],
    ['Bearer with nothing after it', async () => ({ authorization: 'Bearer ' })],
    ['two tokens in one header', async () => ({ authorization: `Bearer ${token} ${token}` })],
    ['two Authorization headers', async () => ({ authorization: [`Bearer ${token}`, `Bearer ${token}`] }), 'invalid_request'],
  ];

  for (const [name, headers, expected = 'invalid_token'] of forgeries) {
    it(`rejects ${name} with 401`, async () => {
      const sent = await headers();
      const answer = await send(sent);
      assert.equal(answer.status, 401, answer.text);
      const challenge = String(answer.headers.get('www-authenticate'));
      assert.match(challenge, /^Bearer realm="signalr-gateway"/);
      if (expected === 'no-error') assert.doesNotMatch(challenge, /error=/);
      else assert.match(challenge, new RegExp(`error="${expected}", error_description="[^"]+"`));
      assertNoTokenIn(answer, sent);
    });
  }

  it('never accepts a token in the query string, even a valid one', async () => {
    const answer = await http('POST', `${url}/probe/hubs/chat/:send?access_token=${token}`, { body: {} });
    assert.equal(answer.status, 401);
    assert.match(String(answer.headers.get('www-authenticate')), /error="invalid_request"/);
    assert.ok(!answer.text.includes(token));
  });

  it('answers 403 insufficient_scope, naming the permission, to a valid token without it', async () => {
    const readOnly = await stack.serviceToken(['signalr.read']);
    issuedTokens.push(readOnly);
    const answer = await send(bearer(readOnly), '/probe/hubs/Chat/:send');
    assert.equal(answer.status, 403);
    assert.equal(
      answer.headers.get('www-authenticate'),
      'Bearer realm="signalr-gateway", error="insufficient_scope", error_description="This route needs the signalr.send permission (or signalr.send:chat).", scope="signalr.send signalr.send:chat"',
    );
    assert.equal(answer.json.code, 'insufficient-scope');
    assert.equal((await http('GET', `${url}/probe/hubs/chat/groups/g1`, { headers: bearer(readOnly) })).status, 200);
  });

  it("lets a hub-qualified permission act on its hub only, whatever the hub's case", async () => {
    const orders = sign(trusted, claims({ scope: 'signalr.send:Orders' }));
    assert.equal((await send(bearer(orders), '/probe/hubs/orders/:send')).status, 202);
    assert.equal((await send(bearer(orders), '/probe/hubs/ORDERS/:send')).status, 202);
    assert.equal((await send(bearer(orders), '/probe/hubs/chat/:send')).status, 403);
  });

  it('reads permissions from scp (string or array) and roles', async () => {
    for (const grant of [{ scp: 'signalr.send' }, { scp: ['signalr.send'] }, { roles: ['signalr.send'] }]) {
      const answer = await send(bearer(sign(trusted, claims({ scope: undefined, ...grant }))));
      assert.equal(answer.status, 202, JSON.stringify(grant));
    }
    assert.equal((await send(bearer(sign(trusted, claims({ scope: undefined, roles: 'signalr.send signalr.read' /* a role is never split */ }))))).status, 403);
  });

  it('lets any valid token call an @Authenticated route and exposes the caller and user', async () => {
    const user = sign(trusted, claims({ scope: '', client_id: undefined, azp: 'demo-page', sub: 'alice' }));
    const answer = await http('GET', `${url}/me`, { headers: bearer(user) });
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.json, { caller: 'demo-page', user: 'alice' });
    assert.equal((await http('GET', `${url}/me`)).status, 401);
  });

  it('opens @Public routes to anyone and closes routes that declare nothing', async () => {
    assert.equal((await http('GET', `${url}/open`)).status, 200);
    const answer = await http('GET', `${url}/undeclared`, { headers: bearer(token) });
    assert.equal(answer.status, 403);
    assert.equal(answer.json.code, 'route-not-authorized');
  });

  it('logs the caller on the request line, and no token or AccessKey anywhere', () => {
    const lines = logLines.join('');
    assert.match(lines, /"caller":"signalr-gateway-service"/);
    for (const secret of [...issuedTokens, ACCESS_KEY]) {
      assert.ok(!lines.includes(secret), 'a credential reached the logs');
      assert.ok(!lines.includes(secret.split('.')[2] ?? secret), 'a token signature reached the logs');
    }
  });
});

function assertNoTokenIn(answer: Reply, sent: Record<string, string | string[]>): void {
  for (const value of [sent.authorization ?? []].flat()) {
    const credential = value.replace(/^\w+ /, '');
    if (credential.length > 8) assert.ok(!answer.text.includes(credential) && !String(answer.headers.get('www-authenticate')).includes(credential));
  }
}
