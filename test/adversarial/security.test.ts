import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt, type JWTPayload } from 'jose';
import { PERMISSIONS } from '../../src/auth/permissions.js';
import { startFullStack, type FullStack, type Reply } from '../fixtures/stack.js';
import type { UpstreamStandIn } from '../fixtures/upstream-stand-in.js';

/** NEGOTIATE_FORWARD_CLAIMS: one ordinary claim, then reserved names in another case or in their long .NET form. */
const FORWARDED = [
  'role',
  'NameID',
  'Nameid',
  'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier',
  'HTTP://SCHEMAS.XMLSOAP.ORG/WS/2005/05/IDENTITY/CLAIMS/NAMEIDENTIFIER',
  'AUD',
  'Exp',
  'ISS',
  'http://schemas.xmlsoap.org/ws/2009/09/identity/claims/actor',
  'http://schemas.microsoft.com/claims/authnclassreference',
  'ASRS.S.UID',
];

interface Operation {
  method: string;
  /** `/api/hubs/{hub}/...` as the OpenAPI document lists it. */
  template: string;
  permission: string;
  body?: unknown;
}

/**
 * The gateway tried as an attacker would: every request here is one a caller can send. Real sockets, the real
 * development SSO (tokens with claims it never issues are signed with its own key), and the upstream stand-in,
 * which counts every call that reaches "Azure".
 */
describe('adversarial: security', () => {
  let stack: FullStack;
  let upstream: UpstreamStandIn;
  /** Every request sent, and those answered with a 5xx. */
  let tried = 0;
  const serverErrors: string[] = [];

  before(async () => {
    stack = await startFullStack({ upstream: 'stand-in', env: { NEGOTIATE_FORWARD_CLAIMS: FORWARDED.join(',') } });
    upstream = stack.standIn;
  });

  after(() => stack.close());

  /** A token of the development SSO with exactly these claims (plus iss, aud, iat, exp), as a company SSO could issue. */
  const token = (claims: JWTPayload): Promise<string> => stack.forgeToken(claims);

  /** Sends `path` exactly as given; `upstreamCalls` is how many requests reached the stand-in meanwhile. */
  async function call(method: string, path: string, bearer: string, body?: unknown): Promise<Reply & { upstreamCalls: number }> {
    const before = upstream.requests.length + upstream.rejected.length;
    const reply = await stack.api(method, path, { token: bearer, body });
    tried += 1;
    if (reply.status >= 500) serverErrors.push(`${method} ${path.slice(0, 80)}: ${reply.status}`);
    return { ...reply, upstreamCalls: upstream.requests.length + upstream.rejected.length - before };
  }

  function assertProblem(reply: Reply, status: number, code: string): void {
    assert.equal(reply.status, status, JSON.stringify(reply.json));
    assert.match(String(reply.headers.get('content-type')), /^application\/problem\+json/);
    assert.equal(reply.json.code, code);
  }

  /** Every hub-scoped operation the gateway documents, with the permission it needs and a valid body. */
  async function hubOperations(): Promise<Operation[]> {
    const document = (await stack.api('GET', '/openapi.json', { anonymous: true })).json as { paths: Record<string, Record<string, Record<string, unknown>>> };
    const payload = { target: 't', arguments: [] };
    const operations: Operation[] = [];
    for (const [template, methods] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        const permission = operation['x-permission'] as string | undefined;
        // `:execute` needs a permission per command kind, on the path's hub only (it takes no application): below.
        if (!PERMISSIONS.includes(permission as never)) continue;
        const body =
          operation['requestBody'] === undefined
            ? undefined
            : template.endsWith(':sendToGroups')
              ? { ...payload, groups: ['g1'] }
              : template.endsWith(':sendToUsers')
                ? { ...payload, users: ['u1'] }
                : template.includes('/streams/')
                  ? { item: 'i' }
                  : payload;
        operations.push({ method: method.toUpperCase(), template, permission: permission!, body });
      }
    }
    return operations;
  }

  const pathOf = (template: string, hub: string, query = ''): string =>
    template.replace('{hub}', hub).replace(/\{(\w+)\}/g, (_, name: string) => `${name}1`) + query;

  describe('hub grants apply to the hub the upstream addresses ({application}_{hub})', () => {
    it('covers every operation: at least the 19 upstream ones, the fan-outs and :generateToken', async () => {
      const operations = await hubOperations();
      assert.ok(operations.length >= 25, String(operations.length));
      assert.ok(operations.every((operation) => operation.template.startsWith('/api/hubs/{hub}/')));
    });

    it('a grant on hub b does not reach hub a_b through ?application=a, on any operation', async () => {
      for (const { method, template, permission, body } of await hubOperations()) {
        const onB = await token({ sub: 'svc', scope: `${permission}:b` });
        const name = `${method} ${template}`;
        const reply = await call(method, pathOf(template, 'b', '?application=a'), onB, body);
        assert.equal(reply.status, 403, name);
        assert.equal(reply.upstreamCalls, 0, name);
        if (method !== 'HEAD') assertProblem(reply, 403, 'insufficient-scope');
        // The path hub alone is what the grant names: still allowed.
        assert.ok((await call(method, pathOf(template, 'b'), onB, body)).status < 300, name);
      }
    });

    it('a grant on a_b covers hub b with ?application=a, whatever the case, and the upstream addresses a_b', async () => {
      for (const { method, template, permission, body } of await hubOperations()) {
        const onAB = await token({ sub: 'svc', scope: `${permission}:A_b` });
        const name = `${method} ${template}`;
        const before = upstream.requests.length;
        const reply = await call(method, pathOf(template, 'B', '?application=a'), onAB, body);
        assert.ok(reply.status < 300, `${name}: ${reply.status} ${JSON.stringify(reply.json)}`);
        for (const request of upstream.requests.slice(before)) {
          assert.ok(request.rawPath.startsWith('/api/hubs/b/'), name);
          assert.deepEqual(request.query['application'], ['a'], name);
        }
        if (template.endsWith(':generateToken')) assert.equal(decodeJwt(reply.json.token).aud, 'http://127.0.0.1/client/?hub=a_b');
        // Hub b itself is another hub: not covered.
        assert.equal((await call(method, pathOf(template, 'b'), onAB, body)).status, 403, name);
      }
    });

    it('an application that is not a valid name widens nothing and is a 4xx, never a 5xx or an upstream call', async () => {
      const onB = await token({ sub: 'svc', scope: 'signalr.send:b' });
      const everything = await token({ sub: 'svc', scope: 'signalr.send' });
      const body = { target: 't', arguments: [] };
      for (const query of [
        '?application=',
        '?application=1a',
        '?application=a%00',
        '?application=a&application=c',
        `?application=${'a'.repeat(129)}`,
        '?application=a_b%2F..',
      ]) {
        const scoped = await call('POST', `/api/hubs/b/:send${query}`, onB, body);
        assert.ok(scoped.status >= 400 && scoped.status < 500, `${query}: ${scoped.status}`);
        assert.equal(scoped.upstreamCalls, 0, query);
        const unscoped = await call('POST', `/api/hubs/b/:send${query}`, everything, body);
        assertProblem(unscoped, 400, 'validation');
        assert.equal(unscoped.json.errors[0].field, 'query.application', query);
        assert.equal(unscoped.upstreamCalls, 0, query);
      }
    });
  });

  describe('negotiate refuses SSO users the API itself would refuse', () => {
    const negotiate = async (user: unknown) => call('POST', '/hubs/chat/negotiate?negotiateVersion=1', await token({ sub: user as string }));

    for (const [name, user] of [
      ['..', '..'],
      ['.', '.'],
      ['a control character', 'ali\u0000ce'],
      ['DEL', 'bob\u007F'],
      ['a C1 control', 'x\u0085y'],
      ['a lone surrogate', 'u\uD800'],
      ['1,025 characters', 'u'.repeat(1025)],
    ]) {
      it(`a user id with ${name}: 403 invalid-user, no client token`, async () => {
        const reply = await negotiate(user);
        assertProblem(reply, 403, 'invalid-user');
        // The rule, and not the refused value.
        assert.equal(
          reply.json.detail,
          "The SSO token's sub claim is not a user id SignalR accepts (it must be 1-1024 characters without control characters, and not . or ..).",
        );
        assert.equal(reply.upstreamCalls, 0);
      });
    }

    it('the longest and oddest ids the API accepts still negotiate', async () => {
      for (const user of ['u'.repeat(1024), '...', ' a b ', 'ü/ß?#%']) {
        const reply = await negotiate(user);
        assert.equal(reply.status, 200, JSON.stringify(reply.json));
        assert.equal(decodeJwt(reply.json.accessToken)['asrs.s.uid'], user);
      }
    });
  });

  describe('forwarded SSO claims never pass for reserved ones', () => {
    it('clashes are found case-insensitively and in their long ClaimTypes form, and renamed asrs.u.', async () => {
      const claims = Object.fromEntries(FORWARDED.map((name) => [name, `forged-${name}`]));
      const reply = await call('POST', '/hubs/chat/negotiate', await token({ ...claims, sub: 'alice' }));
      assert.equal(reply.status, 200, JSON.stringify(reply.json));
      const payload = decodeJwt(reply.json.accessToken);
      assert.equal(payload['asrs.s.uid'], 'alice');
      assert.equal(payload['nameid'], 'alice');
      assert.equal(payload['role'], 'forged-role', 'an ordinary claim passes as is');
      for (const name of FORWARDED.filter((name) => name !== 'role')) {
        assert.equal(payload[name], undefined, `${name} is not forwarded as is`);
        assert.equal(payload[`asrs.u.${name}`], `forged-${name}`, name);
      }
    });
  });

  describe("REST tokens over Azure's 4 KB are refused before anything goes upstream", () => {
    // Valid ids (1,024 characters), whose escaped form makes the REST token's `aud` far longer than 4 KB.
    const euros = '€'.repeat(1024);
    const bangs = '!'.repeat(1024);
    const payload = { target: 't', arguments: [] };

    it('a single operation: 413 token-too-long naming the limit, zero upstream calls', async () => {
      const everything = await stack.serviceToken();
      for (const [method, path, body] of [
        ['POST', `/api/hubs/chat/users/${encodeURIComponent(euros)}/:send`, payload],
        ['POST', `/api/hubs/chat/groups/${encodeURIComponent(bangs)}/:closeConnections`, undefined],
        ['HEAD', `/api/hubs/chat/connections/${encodeURIComponent(euros)}`, undefined],
        ['PUT', `/api/hubs/chat/users/u1/groups/${encodeURIComponent(euros)}`, undefined],
      ] as const) {
        const reply = await call(method, path, everything, body);
        assert.equal(reply.status, 413, `${method} ${path.slice(0, 40)}`);
        assert.equal(reply.upstreamCalls, 0);
        if (method === 'HEAD') continue;
        assertProblem(reply, 413, 'token-too-long');
        assert.match(reply.json.detail, /4096-character limit/);
        assert.doesNotMatch(JSON.stringify(reply.json), /eyJ/, 'no token in the error');
      }
    });

    it('a fan-out: the too-long recipient gets its own 413, the others go upstream', async () => {
      const reply = await call('POST', '/api/hubs/chat/:sendToUsers', await stack.serviceToken(), { ...payload, users: ['u1', euros, 'u2'] });
      assert.equal(reply.status, 207);
      assert.deepEqual(
        reply.json.results.map((result: { status: number }) => result.status),
        [202, 413, 202],
      );
      assert.equal(reply.json.results[1].problem.code, 'token-too-long');
      assert.equal(reply.upstreamCalls, 2);
    });
  });

  it(':execute takes no application, and each command needs its permission on the hub the path names', async () => {
    const sendOnB = await token({ sub: 'svc', scope: 'signalr.send:b' });
    const commands = [{ type: 'SendMessage', message: { target: 't', arguments: [] } }];
    const viaApplication = await call('POST', '/api/hubs/b/:execute?application=a', sendOnB, commands);
    assert.equal(viaApplication.status, 400, JSON.stringify(viaApplication.json));
    assert.equal(viaApplication.upstreamCalls, 0);
    const otherHub = await call('POST', '/api/hubs/a_b/:execute', sendOnB, commands);
    assertProblem(otherHub, 403, 'insufficient-scope');
    assert.equal(otherHub.upstreamCalls, 0);
    const otherKind = await call('POST', '/api/hubs/b/:execute', sendOnB, [...commands, { type: 'CloseConnection' }]);
    assertProblem(otherKind, 403, 'insufficient-scope');
    assert.equal(otherKind.upstreamCalls, 0);
    const allowed = await call('POST', '/api/hubs/b/:execute', sendOnB, commands);
    assert.ok(allowed.status < 300, JSON.stringify(allowed.json));
    assert.equal(allowed.upstreamCalls, 1);
  });

  it('answered every request above without a 5xx, and every upstream call with a token the upstream verified', () => {
    assert.ok(tried > 100, String(tried));
    assert.deepEqual(serverErrors, []);
    assert.deepEqual(upstream.rejected, []);
  });
});
