import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import type { JWTPayload } from 'jose';
import { Agent, fetch } from 'undici';
import type { EmulatorProcess } from '../fixtures/development-process.js';
import { entraToken, SIGNALR_RESOURCE, startEntraAuthority, startEntraEmulator, type EntraAuthority } from '../fixtures/entra-authority.js';
import { forgeJwt } from '../fixtures/stack.js';
import { KEY, mintToken, rest, restAudienceOf } from '../emulator/helpers.js';

// Entra mode trusts only RS256 tokens of its issuer for its audience: every other bearer gets 401, and no call is made.

const SEND = '/api/hubs/chat/:send';

describe('the emulator in Entra mode refuses every REST token but its issuer’s', () => {
  let authority: EntraAuthority;
  let other: EntraAuthority;
  let emulator: EmulatorProcess;
  before(async () => {
    [authority, other] = await Promise.all([startEntraAuthority(), startEntraAuthority()]);
    emulator = await startEntraEmulator(authority);
  });
  after(async () => {
    await emulator?.close();
    await Promise.all([authority?.close(), other?.close()]);
  });

  const now = (): number => Math.floor(Date.now() / 1000);
  const claims = (overrides: JWTPayload = {}): JWTPayload => ({
    iss: authority.issuer,
    aud: SIGNALR_RESOURCE,
    tid: authority.tenantId,
    appid: authority.app.clientId,
    iat: now(),
    exp: now() + 600,
    ...overrides,
  });

  async function refused(token: string, path = SEND): Promise<void> {
    const reply = await rest(emulator, path === SEND ? 'POST' : 'GET', path, { token, body: path === SEND ? { target: 'x', arguments: [] } : undefined });
    assert.equal(reply.status, 401, reply.text);
    assert.equal(reply.headers.get('www-authenticate'), 'Bearer');
  }

  it('accepts the authority’s own token for its audience (the baseline the refusals differ from)', async () => {
    const reply = await rest(emulator, 'POST', SEND, { token: await authority.signToken(claims()), body: { target: 'x', arguments: [] } });
    assert.equal(reply.status, 202, reply.text);
  });

  it('a token signed with the well-known AccessKey for the request URL (local auth is off)', async () => {
    await refused(await mintToken({ aud: restAudienceOf(`${emulator.url}${SEND}`) }, { key: KEY }));
    await refused(await mintToken({ aud: restAudienceOf(`${emulator.url}/api/v1/auth/accessKey`) }, { key: KEY }), '/api/v1/auth/accessKey');
  });

  it('an HS256 token with the issuer’s claims, keyed with a made-up secret or the issuer’s public key', async () => {
    await refused(forgeJwt(claims(), { key: 'a-secret-anyone-could-pick' }));
    const dispatcher = new Agent({ connect: { ca: await readFile(authority.caCertPath, 'utf8') } });
    const jwks = (await (await fetch(`${authority.authorityHost}/${authority.tenantId}/discovery/v2.0/keys`, { dispatcher })).json()) as { keys: object[] };
    await dispatcher.close();
    await refused(forgeJwt(claims(), { key: JSON.stringify(jwks.keys[0]) }));
  });

  it('an unsigned token (alg none) and a token whose signature is stripped', async () => {
    await refused(forgeJwt(claims()));
    const [header, payload] = (await authority.signToken(claims())).split('.');
    await refused(`${header}.${payload}.`);
  });

  it('a token another issuer issued to a real credential, and one of its that names our issuer', async () => {
    await refused(await entraToken(other));
    await refused(await other.signToken(claims()));
  });

  it('a token for another audience, and one without an audience', async () => {
    await refused(await authority.signToken(claims({ aud: 'https://management.azure.com' })));
    await refused(await authority.signToken(claims({ aud: `${emulator.url}${SEND}` })));
    await refused(await authority.signToken(claims({ aud: undefined })));
  });

  it('an expired token, and one without an expiry', async () => {
    await refused(await authority.signToken(claims({ iat: now() - 7200, exp: now() - 3600 })));
    await refused(await authority.signToken(claims({ exp: undefined })));
  });

  it('no token at all, on the key API too', async () => {
    await refused('');
    await refused('', '/api/auth/accessKey?api-version=2024-12-01');
  });
});
