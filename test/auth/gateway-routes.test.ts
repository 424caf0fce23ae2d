import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startGateway, type RunningGateway } from '../fixtures/gateway.js';
import { startTestIssuer, type TestIssuer } from '../fixtures/sso.js';
import { startUpstreamStandIn, type UpstreamStandIn } from '../fixtures/upstream-stand-in.js';
import { bearer, call } from './helpers.js';

describe("SSO on the gateway's real routes (createGateway, upstream stand-in)", () => {
  let sso: TestIssuer;
  let upstream: UpstreamStandIn;
  let gateway: RunningGateway;
  before(async () => {
    [sso, upstream] = await Promise.all([startTestIssuer(), startUpstreamStandIn()]);
    gateway = await startGateway({ ...sso.env, SIGNALR_CONNECTION_STRING: upstream.connectionString });
  });
  after(async () => {
    await gateway.close();
    await Promise.all([sso.close(), upstream.close()]);
  });

  const broadcast = (headers: Record<string, string>, hub = 'chat') =>
    call(`${gateway.url}/api/hubs/${hub}/:send`, 'POST', headers, JSON.stringify({ target: 'message', arguments: ['hi'] }));

  it('forwards a broadcast with a valid service token (2xx) and nothing without one', async () => {
    assert.equal((await broadcast(bearer(await sso.token()))).status, 202);
    assert.equal((await broadcast({})).status, 401);
    assert.equal(upstream.requests.length, 1, 'only the authorized call went upstream');
  });

  it('answers 403 before going upstream when the permission is missing', async () => {
    assert.equal((await broadcast(bearer(await sso.token(['signalr.read'])))).status, 403);
    assert.equal(upstream.requests.length, 1);
  });

  it('keeps the probes public', async () => {
    assert.equal((await call(`${gateway.url}/healthz`, 'GET')).status, 200);
  });
});
