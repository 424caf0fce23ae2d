import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readFile } from 'node:fs/promises';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';
import { Agent, fetch } from 'undici';
import { SIGNALR_RESOURCE, startEntraAuthority, tokenFromChildProcess, type EntraAuthority, type TokenOutcome } from '../fixtures/entra-authority.js';

/**
 * The token's claims, verified the way a resource server does: the issuer's discovery document, its JWKS, RS256. This
 * process does not trust the test CA by NODE_EXTRA_CA_CERTS (read only at start), so its fetches name the CA.
 */
async function verified(authority: EntraAuthority, outcome: TokenOutcome): Promise<JWTPayload> {
  assert.ok('token' in outcome, `no token: ${JSON.stringify(outcome)}`);
  const dispatcher = new Agent({ connect: { ca: await readFile(authority.caCertPath, 'utf8') } });
  const discovery = (await (await fetch(`${authority.issuer}/.well-known/openid-configuration`, { dispatcher })).json()) as { jwks_uri: string };
  const keys = (await (await fetch(discovery.jwks_uri, { dispatcher })).json()) as JSONWebKeySet;
  await dispatcher.close();
  const { payload, protectedHeader } = await jwtVerify(outcome.token, createLocalJWKSet(keys), {
    issuer: authority.issuer,
    audience: SIGNALR_RESOURCE,
    algorithms: ['RS256'],
  });
  assert.equal(protectedHeader.alg, 'RS256');
  assert.equal(payload.tid, authority.tenantId);
  assert.ok(payload.exp! * 1000 > Date.now());
  assert.ok(Math.abs(outcome.expiresOnTimestamp - payload.exp! * 1000) < 60_000, 'the credential reports the token expiry');
  return payload;
}

describe('the local Entra-like authority, proven with real @azure/identity credentials in child processes', () => {
  let authority: EntraAuthority;
  before(async () => {
    authority = await startEntraAuthority();
  });
  after(() => authority.close());

  it('ClientSecretCredential gets a SignalR token with the client secret', async () => {
    const claims = await verified(authority, await tokenFromChildProcess(authority, { kind: 'ClientSecretCredential' }));
    assert.equal(claims.appid, authority.app.clientId);
    assert.equal(claims.azp, authority.app.clientId);
    assert.deepEqual(authority.tokensIssued().at(-1), { flow: 'client_secret', clientId: authority.app.clientId, audience: SIGNALR_RESOURCE });
  });

  it('ClientCertificateCredential gets one with an assertion signed by the certificate', async () => {
    const claims = await verified(authority, await tokenFromChildProcess(authority, { kind: 'ClientCertificateCredential' }));
    assert.equal(claims.appid, authority.app.clientId);
    assert.deepEqual(authority.tokensIssued().at(-1), { flow: 'client_certificate', clientId: authority.app.clientId, audience: SIGNALR_RESOURCE });
  });

  it('ManagedIdentityCredential gets one from the App Service endpoint, system- and user-assigned', async () => {
    const system = await verified(authority, await tokenFromChildProcess(authority, { kind: 'ManagedIdentityCredential' }));
    const systemIssue = authority.tokensIssued().at(-1)!;
    assert.equal(systemIssue.flow, 'managed_identity');
    assert.equal(system.appid, systemIssue.clientId);
    const userAssignedClientId = authority.managedIdentity.userAssignedClientId;
    const user = await verified(authority, await tokenFromChildProcess(authority, { kind: 'ManagedIdentityCredential', clientId: userAssignedClientId }));
    assert.equal(user.appid, userAssignedClientId);
    assert.notEqual(user.oid, system.oid);
    assert.deepEqual(authority.tokensIssued().at(-1), { flow: 'managed_identity', clientId: userAssignedClientId, audience: SIGNALR_RESOURCE });
  });

  it('DefaultAzureCredential gets one from AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET and AZURE_AUTHORITY_HOST', async () => {
    const claims = await verified(authority, await tokenFromChildProcess(authority, { kind: 'DefaultAzureCredential' }));
    assert.equal(claims.appid, authority.app.clientId);
    assert.equal(authority.tokensIssued().at(-1)?.flow, 'client_secret');
  });

  it('a wrong client secret gets Entra’s invalid_client, AADSTS7000215, and no token', async () => {
    const before = authority.tokensIssued().length;
    const outcome = await tokenFromChildProcess(authority, { kind: 'ClientSecretCredential', clientSecret: 'not-the-secret' });
    assert.ok('errorName' in outcome, JSON.stringify(outcome));
    // @azure/identity reports Entra's invalid_client as AuthenticationRequiredError, the message carrying Entra's own.
    assert.equal(outcome.errorName, 'AuthenticationRequiredError');
    assert.match(outcome.message, /^invalid_client: .*AADSTS7000215: Invalid client secret provided/);
    assert.doesNotMatch(outcome.message, /not-the-secret/);
    assert.equal(authority.tokensIssued().length, before);
  });

  it('an assertion signed by another certificate gets AADSTS700027', async () => {
    const other = await startEntraAuthority();
    try {
      const outcome = await tokenFromChildProcess(authority, { kind: 'ClientCertificateCredential', certificatePath: other.app.certificatePath });
      assert.ok('errorName' in outcome, JSON.stringify(outcome));
      assert.equal(outcome.errorName, 'AuthenticationRequiredError');
      assert.match(outcome.message, /^invalid_client: .*AADSTS700027: Client assertion failed signature validation/);
    } finally {
      await other.close();
    }
  });

  it('a wrong X-IDENTITY-HEADER gets no managed identity token', async () => {
    const before = authority.tokensIssued().length;
    const outcome = await tokenFromChildProcess(authority, { kind: 'ManagedIdentityCredential', identityHeader: 'wrong' });
    assert.ok('errorName' in outcome, JSON.stringify(outcome));
    assert.equal(outcome.errorName, 'CredentialUnavailableError');
    assert.match(outcome.message, /X-IDENTITY-HEADER is missing or wrong/);
    assert.equal(authority.tokensIssued().length, before);
  });
});
