import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createGatewayClient, type GatewayClient, type ProblemDetails } from '../../src/client/index.js';
import { startFullStack, type FullStack } from '../fixtures/stack.js';

describe('the typed client against a running gateway', () => {
  let stack: FullStack;
  let gateway: GatewayClient;
  before(async () => {
    stack = await startFullStack();
    gateway = createGatewayClient({ baseUrl: stack.gatewayUrl, token: () => stack.serviceToken() });
  });
  after(() => stack?.close());

  test('sends on the routes whose last segment is a literal colon method (`/:send`)', async () => {
    const toUser = await gateway.POST('/api/hubs/{hub}/users/{user}/:send', {
      params: { path: { hub: 'chat', user: 'alice' } },
      body: { target: 'newMessage', arguments: ['hello'] },
    });
    assert.equal(toUser.response.status, 202);
    assert.equal(toUser.error, undefined);
    assert.equal(new URL(toUser.response.url).pathname, '/api/hubs/chat/users/alice/:send');

    const broadcast = await gateway.POST('/api/hubs/{hub}/:send', { params: { path: { hub: 'chat' } }, body: { target: 'newMessage', arguments: [] } });
    assert.equal(broadcast.response.status, 202);
  });

  test('returns typed data on success', async () => {
    const { data, error } = await gateway.POST('/api/hubs/{hub}/:generateToken', {
      params: { path: { hub: 'chat' }, query: { userId: 'alice', minutesToExpire: 5 } },
    });
    assert.equal(error, undefined);
    assert.match(data.token, /^eyJ/);
    assert.match(data.url, /hub=chat/);
  });

  test('a bad request returns the problem details: code, requestId, the field in error', async () => {
    const { data, error, response } = await gateway.POST('/api/hubs/{hub}/groups/{group}/:send', {
      params: { path: { hub: '1nvalid', group: 'room1' } },
      body: { target: 'newMessage', arguments: [] },
    });
    assert.equal(data, undefined);
    assert.equal(response.status, 400);
    const problem: ProblemDetails = error!;
    assert.equal(problem.code, 'validation');
    assert.equal(problem.status, 400);
    assert.equal(problem.requestId, response.headers.get('x-request-id'));
    assert.deepEqual(
      problem.errors?.map(({ field }) => field),
      ['path.hub'],
    );
  });

  test('names are percent-encoded, and "." or ".." (which no URL can carry) are refused before anything is sent', async () => {
    const { response, error } = await gateway.GET('/api/hubs/{hub}/users/{user}', { params: { path: { hub: 'chat', user: 'a/b c?' } } });
    assert.equal(new URL(response.url).pathname, '/api/hubs/chat/users/a%2Fb%20c%3F');
    assert.equal(response.status, 404);
    assert.equal(error?.code, 'not-found');

    for (const user of ['.', '..']) {
      await assert.rejects(
        gateway.POST('/api/hubs/{hub}/users/{user}/:send', { params: { path: { hub: 'chat', user } }, body: { target: 'newMessage', arguments: [] } }),
        { name: 'RangeError', message: `user must not be "${user}": no URL can carry it as a path segment` },
      );
    }
  });

  test('without a token the gateway answers 401 with a problem', async () => {
    const anonymous = createGatewayClient({ baseUrl: stack.gatewayUrl, token: '' });
    const { error, response } = await anonymous.HEAD('/api/hubs/{hub}/users/{user}', { params: { path: { hub: 'chat', user: 'alice' } } });
    assert.equal(response.status, 401);
    // HEAD answers carry no body; the same request as GET shows the problem.
    assert.equal(error, undefined);
    const get = await anonymous.GET('/api/hubs/{hub}/users/{user}', { params: { path: { hub: 'chat', user: 'alice' } } });
    assert.equal(get.response.status, 401);
    assert.equal(get.error?.code, 'unauthenticated');
    assert.equal(get.error?.requestId, get.response.headers.get('x-request-id'));
  });

  test('calls the token provider before every request, so it can renew the token', async () => {
    const given: string[] = [];
    const renewing = createGatewayClient({
      baseUrl: stack.gatewayUrl,
      token: async () => {
        given.push(await stack.serviceToken());
        return given.at(-1)!;
      },
    });
    for (let index = 0; index < 3; index++) {
      const { response } = await renewing.PUT('/api/hubs/{hub}/users/{user}/groups/{group}', {
        params: { path: { hub: 'chat', user: 'alice', group: 'room1' } },
      });
      assert.equal(response.status, 200);
    }
    assert.equal(given.length, 3);
  });
});
