import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { decodeProtectedHeader } from 'jose';
import { DEV_AUDIENCE } from '../../src/config/dev-defaults.js';
import { startTestIssuer } from '../fixtures/sso.js';
import { bearer, eventually, freePort, http, startFullStack, type Reply } from '../fixtures/stack.js';
import { ProbeModule } from './probe.js';

/** `up` when /readyz answers 200 with the sso check up; otherwise the 503 problem's detail. */
const ssoStatus = (answer: Reply): unknown =>
  answer.status === 200 ? (answer.json as { details?: { sso?: { status?: string } } }).details?.sso?.status : (answer.json as { detail?: string }).detail;

describe('SSO issuer lifecycle', () => {
  const closers: Array<() => Promise<unknown>> = [];
  after(async () => {
    for (const close of closers.reverse()) await close();
  });

  it('starts while the issuer is down, is not ready, and becomes ready by itself once the issuer is up', async () => {
    const port = await freePort();
    // The stack's own SSO is left aside: the gateway expects an issuer on a port where none listens yet.
    const stack = await startFullStack({
      upstream: 'stand-in',
      modules: [ProbeModule],
      env: { SSO_ISSUER: `http://127.0.0.1:${port}`, SSO_AUDIENCE: DEV_AUDIENCE },
    });
    closers.push(() => stack.close());
    const url = stack.gatewayUrl;

    const notReady = await http('GET', `${url}/readyz`);
    assert.equal(notReady.status, 503);
    assert.match(String(ssoStatus(notReady)), /\bsso \(/);
    const early = await http('POST', `${url}/probe/hubs/chat/:send`, { headers: bearer('a.b.c'), body: {} });
    assert.equal(early.status, 503, 'no token can be judged before the keys are loaded');
    assert.equal(early.json.code, 'sso-unavailable');

    const sso = await startTestIssuer({ port });
    closers.push(() => sso.close());
    let readiness = notReady;
    await eventually(async () => ssoStatus((readiness = await http('GET', `${url}/readyz`))) === 'up', 'the gateway reports the sso check up');
    assert.equal(ssoStatus(readiness), 'up');
    assert.equal((await http('POST', `${url}/probe/hubs/chat/:send`, { headers: bearer(await sso.token()), body: {} })).status, 202);
  });

  it('follows a key rotation at the issuer without a restart, and drops a removed key', async () => {
    // No cooldown and a 1 s key set lifetime, so the test need not wait the production defaults (30 s, 10 min).
    const stack = await startFullStack({
      upstream: 'stand-in',
      modules: [ProbeModule],
      env: { SSO_JWKS_COOLDOWN_S: '0', SSO_JWKS_MAX_AGE_S: '1' },
    });
    closers.push(() => stack.close());
    const url = stack.gatewayUrl;
    const send = async (token: string) => (await http('POST', `${url}/probe/hubs/chat/:send`, { headers: bearer(token), body: {} })).status;
    await eventually(async () => ssoStatus(await http('GET', `${url}/readyz`)) === 'up', 'the gateway reports the sso check up');

    const first = await stack.serviceToken();
    assert.equal(await send(first), 202);

    await stack.sso.rotateKeys();
    const second = await stack.serviceToken();
    assert.notEqual(decodeProtectedHeader(second).kid, decodeProtectedHeader(first).kid);
    assert.equal(await send(second), 202, 'a token of the new key is accepted at once');
    assert.equal(await send(first), 202, 'the previous key is still published');

    await stack.sso.rotateKeys({ retirePrevious: true });
    const third = await stack.serviceToken();
    assert.equal(await send(third), 202);
    let status = 0;
    await eventually(async () => (status = await send(second)) === 401, 'a token of the removed key is rejected');
    assert.equal(status, 401, 'a token of a removed key is rejected once the key set is refreshed');
    assert.equal(await send(first), 401);
  });
});
