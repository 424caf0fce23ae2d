import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { BackgroundRetry } from '../../src/auth/background-retry.js';
import { SsoDiscovery } from '../../src/auth/sso-discovery.js';
import { SsoKeySet, SsoUnavailable } from '../../src/auth/sso-key-set.js';
import { TokenRejected, TokenVerifier } from '../../src/auth/token-verifier.js';
import { VerifiedTokenCache } from '../../src/auth/verified-token-cache.js';
import { SsoConfig } from '../../src/config/sso.config.js';
import { startTestIssuer } from '../fixtures/sso.js';
import { eventually, freePort, http, startFullStack } from '../fixtures/stack.js';

// The parts log the issuer's ups and downs through Nest's logger; the assertions say what matters here.
before(() => Logger.overrideLogger(false));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('VerifiedTokenCache', () => {
  it('keeps a value until its expiry, then forgets it', async () => {
    const cache = new VerifiedTokenCache<string>(10);
    cache.set('token', 'principal', Date.now() + 100);
    assert.equal(cache.get('token'), 'principal');
    assert.equal(cache.get('another token'), undefined);
    await sleep(150);
    assert.equal(cache.get('token'), undefined);
  });

  it('when full, evicts the entry used least recently', () => {
    const cache = new VerifiedTokenCache<number>(2);
    const later = Date.now() + 60_000;
    cache.set('a', 1, later);
    cache.set('b', 2, later);
    assert.equal(cache.get('a'), 1);
    cache.set('c', 3, later);
    assert.deepEqual([cache.get('a'), cache.get('b'), cache.get('c')], [1, undefined, 3]);
  });
});

describe('BackgroundRetry', () => {
  it('retries a failing attempt with a growing wait until it succeeds, then never again', async () => {
    let attempts = 0;
    const waits: number[] = [];
    const retry = new BackgroundRetry(
      async () => {
        if (++attempts < 3) throw new Error('down');
      },
      (_error, retryInMs) => waits.push(retryInMs),
    );
    await retry.runNow();
    await eventually(() => attempts === 3, 'the third attempt', 5_000);
    assert.equal(attempts, 3);
    assert.deepEqual(waits, [250, 500]);
    await retry.runNow();
    assert.equal(attempts, 3);
  });

  it('runs one attempt at a time, and none after stop', async () => {
    let attempts = 0;
    const retry = new BackgroundRetry(
      async () => {
        attempts++;
        await sleep(50);
        throw new Error('down');
      },
      () => {},
    );
    await Promise.all([retry.runNow(), retry.runNow(), retry.runNow()]);
    assert.equal(attempts, 1);
    retry.stop();
    await sleep(400);
    await retry.runNow();
    assert.equal(attempts, 1);
  });
});

describe('SsoDiscovery, SsoKeySet and TokenVerifier against a real issuer', () => {
  const closers: Array<() => Promise<unknown> | void> = [];
  after(async () => {
    for (const close of closers.reverse()) await close();
  });

  it('finds the key set and the sign-in endpoints in the discovery document', async () => {
    const sso = await startTestIssuer();
    closers.push(() => sso.close());
    const discovery = new SsoDiscovery(SsoConfig.fromEnv(sso.env));
    assert.deepEqual(
      discovery.endpoints(),
      { authorizationEndpoint: `${sso.issuer}/authorize`, tokenEndpoint: `${sso.issuer}/token` },
      'conventional before discovery',
    );

    const document = (await http('GET', `${sso.issuer}/.well-known/openid-configuration`)).json as Record<string, string>;
    assert.equal(await discovery.jwksUri(), document.jwks_uri);
    assert.deepEqual(discovery.endpoints(), { authorizationEndpoint: document.authorization_endpoint, tokenEndpoint: document.token_endpoint });
  });

  it('refuses a discovery document that names another issuer, and skips discovery when SSO_JWKS_URI is set', async () => {
    const impostor = createHttpServer((_request, response) => {
      response.setHeader('content-type', 'application/json').end(JSON.stringify({ issuer: 'https://sso.example.com', jwks_uri: 'http://127.0.0.1:1/jwks' }));
    });
    await new Promise<void>((resolve) => impostor.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise((resolve) => impostor.close(resolve)));
    const issuer = `http://127.0.0.1:${(impostor.address() as AddressInfo).port}`;

    await assert.rejects(new SsoDiscovery(SsoConfig.fromEnv({ SSO_ISSUER: issuer, SSO_AUDIENCE: 'api://gateway' })).jwksUri(), /another issuer/);
    const configured = new SsoDiscovery(SsoConfig.fromEnv({ SSO_ISSUER: issuer, SSO_AUDIENCE: 'api://gateway', SSO_JWKS_URI: 'http://127.0.0.1:1/keys' }));
    assert.equal(await configured.jwksUri(), 'http://127.0.0.1:1/keys');
    assert.equal(configured.endpoints().authorizationEndpoint, `${issuer}/authorize`);
  });

  it('key set: unavailable while the issuer is down, saying why; loaded by itself once it is up', async () => {
    const port = await freePort();
    const config = SsoConfig.fromEnv({ SSO_ISSUER: `http://127.0.0.1:${port}`, SSO_AUDIENCE: 'api://gateway' });
    const keySet = new SsoKeySet(config, new SsoDiscovery(config));
    closers.push(() => keySet.onApplicationShutdown());
    keySet.onModuleInit();

    await assert.rejects(keySet.ready(), /^Error: SSO issuer not reachable yet: /);
    assert.throws(() => keySet.resolver(), SsoUnavailable);

    const sso = await startTestIssuer({ port });
    closers.push(() => sso.close());
    await eventually(async () => {
      try {
        keySet.resolver();
        return true;
      } catch {
        return false;
      }
    }, 'the key set loads once the issuer is up');
    await keySet.ready();
    assert.equal(keySet.resolver().fresh, true);
  });

  it('verifier: answers a repeated token from memory, and refuses it once its key is gone from the key set', async () => {
    const sso = await startTestIssuer();
    closers.push(() => sso.close());
    const config = SsoConfig.fromEnv({ ...sso.env, SSO_JWKS_COOLDOWN_S: '0', SSO_JWKS_MAX_AGE_S: '1' });
    const keySet = new SsoKeySet(config, new SsoDiscovery(config));
    closers.push(() => keySet.onApplicationShutdown());
    await keySet.ready();
    const verifier = new TokenVerifier(config, keySet);

    const token = await sso.token();
    const principal = await verifier.verify(token);
    assert.equal(principal.caller, 'signalr-gateway-service');
    assert.equal(await verifier.verify(token), principal, 'the same principal, not a second verification');

    await sso.dev.rotateKeys({ retirePrevious: true });
    let refusal: unknown;
    await eventually(async () => {
      refusal = await verifier.verify(token).then(
        () => undefined,
        (error: unknown) => error,
      );
      return refusal !== undefined;
    }, 'the verifier refuses the token of a retired key');
    assert.ok(refusal instanceof TokenRejected);
    assert.equal(refusal.description, 'The token is not signed by a current key of the issuer.');
    assert.equal((await verifier.verify(await sso.token())).caller, 'signalr-gateway-service', 'a token of the new key is accepted');
  });

  it('gives Swagger UI the endpoints from discovery once it is read', async () => {
    const stack = await startFullStack({
      upstream: { connectionString: 'Endpoint=http://127.0.0.1:1;AccessKey=ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefgh;Version=1.0;' },
    });
    closers.push(() => stack.close());
    const { authorization_endpoint: authorizationEndpoint } = (await http('GET', `${stack.sso.issuer}/.well-known/openid-configuration`)).json as Record<
      string,
      string
    >;

    // The closing quote tells the discovered endpoint (oidc-provider's `/auth`) from the conventional `/authorize`.
    let script = '';
    await eventually(
      async () => (script = (await http('GET', `${stack.gatewayUrl}/docs/swagger-ui-init.js`)).text).includes(`${authorizationEndpoint}"`),
      'Swagger UI is given the discovered authorization endpoint',
    );
    assert.ok(script.includes(`${authorizationEndpoint}"`), 'the discovered authorization endpoint');
    assert.ok(!(await http('GET', `${stack.gatewayUrl}/openapi.json`)).text.includes(authorizationEndpoint), 'the published contract keeps its placeholders');
  });
});
