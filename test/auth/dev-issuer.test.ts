import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { startTestIssuer, type TestIssuer } from '../fixtures/sso.js';
import { http } from '../fixtures/stack.js';

describe('development issuer', () => {
  let sso: TestIssuer;
  before(async () => {
    sso = await startTestIssuer();
  });
  after(() => sso.close());

  it('publishes discovery for its own issuer URL', async () => {
    const discovery = (await http('GET', `${sso.issuer}/.well-known/openid-configuration`)).json as { issuer: string; jwks_uri: string };
    assert.equal(discovery.issuer, sso.issuer);
    assert.match(discovery.jwks_uri, /^http:\/\/127\.0\.0\.1:\d+\//);
  });

  it('issues JWT access tokens for the gateway audience with every permission by default', async () => {
    const token = await sso.token();
    assert.equal(decodeProtectedHeader(token).typ, 'at+jwt');
    const claims = decodeJwt(token);
    assert.equal(claims.iss, sso.issuer);
    assert.equal(claims.aud, sso.env.SSO_AUDIENCE);
    assert.equal(claims.client_id, 'signalr-gateway-service');
    assert.deepEqual(String(claims.scope).split(' ').sort(), ['signalr.connections', 'signalr.groups', 'signalr.negotiate', 'signalr.read', 'signalr.send']);
  });

  it('issues only the scopes asked for', async () => {
    assert.equal(decodeJwt(await sso.token(['signalr.read'])).scope, 'signalr.read');
  });
});
