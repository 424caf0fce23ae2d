import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { bearer, http, startFullStack, type FullStack } from '../fixtures/stack.js';

describe("SSO on the gateway's real routes (createGateway, upstream stand-in)", () => {
  let stack: FullStack;
  before(async () => {
    stack = await startFullStack({ upstream: 'stand-in' });
  });
  after(() => stack.close());

  const broadcast = (headers: Record<string, string>, hub = 'chat') =>
    http('POST', `${stack.gatewayUrl}/api/hubs/${hub}/:send`, { headers, body: { target: 'message', arguments: ['hi'] } });

  it('forwards a broadcast with a valid service token (2xx) and nothing without one', async () => {
    assert.equal((await broadcast(bearer(await stack.serviceToken()))).status, 202);
    assert.equal((await broadcast({})).status, 401);
    assert.equal(stack.standIn.requests.length, 1, 'only the authorized call went upstream');
  });

  it('answers 403 before going upstream when the permission is missing', async () => {
    assert.equal((await broadcast(bearer(await stack.serviceToken(['signalr.read'])))).status, 403);
    assert.equal(stack.standIn.requests.length, 1);
  });

  it('keeps the probes public', async () => {
    assert.equal((await http('GET', `${stack.gatewayUrl}/healthz`)).status, 200);
  });
});
