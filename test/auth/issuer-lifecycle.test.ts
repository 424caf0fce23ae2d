import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { decodeProtectedHeader } from 'jose';
import { DEV_AUDIENCE } from '../../src/config/dev-defaults.js';
import { startTestIssuer, type TestIssuer } from '../fixtures/sso.js';
import { startUpstreamStandIn, type UpstreamStandIn } from '../fixtures/upstream-stand-in.js';
import { startProbeGateway } from './harness.js';
import { bearer, call, eventually, type Answer } from './helpers.js';

/** `up` when /readyz answers 200 with the sso check up; otherwise the 503 problem's detail. */
const ssoStatus = (answer: Answer): unknown =>
  answer.status === 200
    ? (JSON.parse(answer.body) as { details?: { sso?: { status?: string } } }).details?.sso?.status
    : (JSON.parse(answer.body) as { detail?: string }).detail;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('SSO issuer lifecycle', () => {
  const closers: Array<() => Promise<unknown>> = [];
  let upstream: UpstreamStandIn;
  before(async () => {
    upstream = await startUpstreamStandIn();
    closers.push(() => upstream.close());
  });
  after(async () => {
    for (const close of closers.reverse()) await close();
  });

  it('starts while the issuer is down, is not ready, and becomes ready by itself once the issuer is up', async () => {
    const port = await freePort();
    const { url, app } = await startProbeGateway({
      SSO_ISSUER: `http://127.0.0.1:${port}`,
      SSO_AUDIENCE: DEV_AUDIENCE,
      SIGNALR_CONNECTION_STRING: upstream.connectionString,
    });
    closers.push(() => app.close());

    const notReady = await call(`${url}/readyz`, 'GET');
    assert.equal(notReady.status, 503);
    assert.match(String(ssoStatus(notReady)), /\bsso \(/);
    const early = await call(`${url}/probe/hubs/chat/:send`, 'POST', bearer('a.b.c'), '{}');
    assert.equal(early.status, 503, 'no token can be judged before the keys are loaded');
    assert.equal(JSON.parse(early.body).code, 'sso-unavailable');

    const sso = await startTestIssuer({ port });
    closers.push(() => sso.close());
    let readiness = notReady;
    await eventually(async () => ssoStatus((readiness = await call(`${url}/readyz`, 'GET'))) === 'up');
    assert.equal(ssoStatus(readiness), 'up');
    assert.equal((await call(`${url}/probe/hubs/chat/:send`, 'POST', bearer(await sso.token()), '{}')).status, 202);
  });

  it('follows a key rotation at the issuer without a restart, and drops a removed key', async () => {
    const sso: TestIssuer = await startTestIssuer();
    closers.push(() => sso.close());
    // No cooldown and a 1 s key set lifetime, so the test need not wait the production defaults (30 s, 10 min).
    const { url, app } = await startProbeGateway({
      ...sso.env,
      SIGNALR_CONNECTION_STRING: upstream.connectionString,
      SSO_JWKS_COOLDOWN_S: '0',
      SSO_JWKS_MAX_AGE_S: '1',
    });
    closers.push(() => app.close());
    const send = async (token: string) => (await call(`${url}/probe/hubs/chat/:send`, 'POST', bearer(token), '{}')).status;
    await eventually(async () => ssoStatus(await call(`${url}/readyz`, 'GET')) === 'up');

    const first = await sso.token();
    assert.equal(await send(first), 202);

    await sso.dev.rotateKeys();
    const second = await sso.token();
    assert.notEqual(decodeProtectedHeader(second).kid, decodeProtectedHeader(first).kid);
    assert.equal(await send(second), 202, 'a token of the new key is accepted at once');
    assert.equal(await send(first), 202, 'the previous key is still published');

    await sso.dev.rotateKeys({ retirePrevious: true });
    const third = await sso.token();
    assert.equal(await send(third), 202);
    let status = 0;
    await eventually(async () => (status = await send(second)) === 401);
    assert.equal(status, 401, 'a token of a removed key is rejected once the key set is refreshed');
    assert.equal(await send(first), 401);
  });
});
