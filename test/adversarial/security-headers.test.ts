import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { startFullStack, type FullStack } from '../fixtures/stack.js';

/** The policy of every answer that is not a page: it may load nothing and be framed nowhere (OWASP's REST Security Cheat Sheet). */
const API_POLICY = "default-src 'none';frame-ancestors 'none'";

/** What every API answer carries, whatever its content type (browsers see the API too: Swagger UI, the demo page). */
function assertSecurityHeaders(headers: Headers, what: string): void {
  assert.equal(headers.get('content-security-policy'), API_POLICY, what);
  assert.equal(headers.get('x-content-type-options'), 'nosniff', what);
  assert.equal(headers.get('x-frame-options'), 'DENY', what);
  assert.equal(headers.get('referrer-policy'), 'no-referrer', what);
}

describe('security headers on API answers', () => {
  let stack: FullStack;
  before(async () => {
    stack = await startFullStack({ upstream: 'stand-in', checkUpstreamContract: true });
  });
  after(() => stack.close());

  test('JSON, problem+json and empty answers carry them; HSTS only in production', async () => {
    const answers = {
      'a 202 send': await stack.api('POST', '/api/hubs/chat/:send', { body: { target: 't', arguments: [] } }),
      'a 401 problem': await stack.api('POST', '/api/hubs/chat/:send', { body: { target: 't' }, anonymous: true }),
      'a 400 problem': await stack.api('POST', '/api/hubs/1chat/:send', { body: { target: 't' } }),
      'a 404 problem': await stack.api('GET', '/nowhere'),
      'a JSON probe': await stack.api('GET', '/healthz', { anonymous: true }),
      'the OpenAPI document': await stack.api('GET', '/openapi.json', { anonymous: true }),
    };
    assert.deepEqual(
      Object.values(answers).map((answer) => answer.status),
      [202, 401, 400, 404, 200, 200],
    );
    for (const [what, answer] of Object.entries(answers)) {
      assertSecurityHeaders(answer.headers, what);
      assert.equal(answer.headers.get('strict-transport-security'), null, `${what}: no HSTS on plain HTTP outside production`);
    }
  });

  test('pages get the policy that allows what they load, API answers the short one', async () => {
    const page = await stack.api('GET', '/docs/', { anonymous: true });
    const send = await stack.api('POST', '/api/hubs/chat/:send', { body: { target: 't', arguments: [] } });
    assert.equal(page.status, 200);
    assert.match(String(page.headers.get('content-type')), /^text\/html/);
    const policy = String(page.headers.get('content-security-policy'));
    assert.match(policy, /^default-src 'self';.*script-src 'self' 'sha256-[^']+';.*connect-src 'self' .*frame-ancestors 'none'/);
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(page.headers.get('x-frame-options'), 'DENY');
    assert.equal(page.headers.get('referrer-policy'), 'no-referrer');
    assert.equal(send.status, 202);
    assert.equal(send.headers.get('content-security-policy'), API_POLICY);
    // helmet's headers for pages and old browsers stay on pages.
    assert.equal(page.headers.get('origin-agent-cluster'), '?1');
    assert.equal(send.headers.get('origin-agent-cluster'), null);
    assert.equal(send.headers.get('x-xss-protection'), null);
  });
});

describe('security headers in production', () => {
  let stack: FullStack;
  before(async () => {
    // Production requires an https issuer; this one is never reached (the probe below needs no token).
    stack = await startFullStack({
      upstream: 'stand-in',
      env: { NODE_ENV: 'production', SSO_ISSUER: 'https://sso.invalid', SSO_AUDIENCE: 'api://gateway' },
    });
  });
  after(() => stack?.close());

  test('add HSTS for this host only, to API answers and pages: browsers reach a production gateway over HTTPS', async () => {
    const answer = await stack.api('GET', '/healthz', { anonymous: true });
    assertSecurityHeaders(answer.headers, 'a production probe');
    assert.equal(answer.headers.get('strict-transport-security'), 'max-age=31536000');
    const page = await stack.api('GET', '/docs/', { anonymous: true });
    assert.equal(page.headers.get('strict-transport-security'), 'max-age=31536000');
  });
});

describe('the content security policy follows discovery', () => {
  let stack: FullStack;
  let issuer: Server;
  before(async () => {
    // An issuer whose discovery names a token endpoint on another origin (as some SSOs do); its key set is empty.
    issuer = createServer((request, response) => {
      const url = `http://127.0.0.1:${(issuer.address() as AddressInfo).port}`;
      const body =
        request.url === '/.well-known/openid-configuration'
          ? {
              issuer: url,
              jwks_uri: `${url}/keys`,
              authorization_endpoint: 'https://login.example.test/authorize',
              token_endpoint: 'https://tokens.example.test/token',
            }
          : { keys: [] };
      response.setHeader('content-type', 'application/json').end(JSON.stringify(body));
    });
    await new Promise<void>((resolve) => issuer.listen(0, '127.0.0.1', resolve));
    stack = await startFullStack({
      upstream: 'stand-in',
      env: { SSO_ISSUER: `http://127.0.0.1:${(issuer.address() as AddressInfo).port}`, SSO_AUDIENCE: 'api://gateway' },
    });
  });
  after(async () => {
    await stack?.close();
    issuer?.close();
  });

  test("connect-src allows the discovered token endpoint's origin once discovery has answered", async () => {
    let policy = '';
    // Discovery runs in the background from boot; the policy is chosen again when it answers (bounded wait).
    for (let attempt = 0; attempt < 50 && !policy.includes('https://tokens.example.test'); attempt += 1) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 100));
      policy = String((await stack.api('GET', '/docs/', { anonymous: true })).headers.get('content-security-policy'));
    }
    const connectSrc = policy.split(';').find((directive) => directive.startsWith('connect-src '));
    assert.ok(connectSrc?.split(' ').includes('https://tokens.example.test'), policy);
  });
});
