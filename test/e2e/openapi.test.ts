import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { NAME_RULES } from '../../src/common/names.js';
import { serialiseOpenApi } from '../../src/openapi/openapi.js';
import { repositoryRoot } from '../fixtures/repository.js';
import { startFullStack, type FullStack } from '../fixtures/stack.js';

/** The committed contract (`npm run openapi`), found from this file's location, whatever the working directory. */
const COMMITTED = join(repositoryRoot(), 'openapi', 'openapi.json');

describe('the OpenAPI document', () => {
  let stack: FullStack;
  let served: any;
  before(async () => {
    stack = await startFullStack({ upstream: 'stand-in', checkUpstreamContract: true });
    const reply = await stack.api('GET', '/openapi.json', { anonymous: true });
    assert.equal(reply.status, 200);
    served = reply.json;
  });
  after(() => stack.close());

  it('is the committed openapi/openapi.json, byte for byte (run `npm run openapi` after changing the API)', () => {
    assert.equal(serialiseOpenApi(served), readFileSync(COMMITTED, 'utf8'));
  });

  it('has Swagger UI at /docs, without a token', async () => {
    const reply = await stack.api('GET', '/docs', { anonymous: true });
    assert.equal(reply.status, 200);
    assert.match(reply.text, /swagger-ui/i);
  });

  it('gives every operation a unique operationId, a summary and its error responses', () => {
    const operations = Object.entries(served.paths).flatMap(([path, item]: [string, any]) =>
      Object.entries(item).map(([method, operation]: [string, any]) => ({ path, method, ...operation })),
    );
    const ids = operations.map(({ operationId }) => operationId);
    assert.equal(new Set(ids).size, ids.length);
    const forwarded = operations.filter(({ tags }) => ['hubs', 'groups', 'users', 'connections'].includes(tags?.[0]));
    assert.equal(
      forwarded.length,
      29,
      "Azure's 18 hub operations of 2022-06-01, GET twins of the 4 existence checks, 2 fan-outs, 2024-12-01's group listing, client invocation, 2 stream operations and :execute",
    );
    for (const operation of forwarded) {
      assert.ok(operation.summary, `${operation.operationId} has a summary`);
      for (const status of ['400', '401', '403', '429', '502', '503', '504'])
        assert.ok(operation.responses[status], `${operation.operationId} documents ${status}`);
      if (operation.requestBody) assert.ok(operation.responses['413'], `${operation.operationId} documents 413`);
    }
  });

  it('documents Idempotency-Key, 409 and 422 on every POST under /api, and the RateLimit fields on every hub operation', () => {
    let posts = 0;
    for (const [path, item] of Object.entries<any>(served.paths)) {
      if (!path.startsWith('/api/hubs/')) continue;
      for (const [method, operation] of Object.entries<any>(item)) {
        const success = Object.entries<any>(operation.responses).find(([status]) => status.startsWith('2'))![1];
        assert.ok(success.headers?.RateLimit && success.headers['RateLimit-Policy'], `${operation.operationId} documents RateLimit`);
        assert.ok(operation.responses['429'].headers?.['Retry-After'], `${operation.operationId} documents Retry-After on 429`);
        if (method !== 'post') continue;
        posts += 1;
        const header = operation.parameters.find((parameter: any) => parameter.in === 'header' && parameter.name === 'Idempotency-Key');
        assert.ok(header, `${operation.operationId} documents Idempotency-Key`);
        assert.equal(header.schema.maxLength, 255);
        for (const status of ['409', '422']) assert.ok(operation.responses[status], `${operation.operationId} documents ${status}`);
      }
    }
    assert.equal(posts, 14, 'sends (4), fan-outs (2), :closeConnections (3), :generateToken, :invoke, stream :send and :complete, :execute');
  });

  it('documents each name with the pattern and limits the validators use', () => {
    const kinds: Record<string, keyof typeof NAME_RULES> = {
      hub: 'hub',
      application: 'hub',
      group: 'group',
      user: 'user',
      connectionId: 'connectionId',
      reason: 'reason',
      continuationToken: 'continuationToken',
      streamId: 'streamId',
    };
    let checked = 0;
    for (const item of Object.values<any>(served.paths)) {
      for (const operation of Object.values<any>(item)) {
        for (const parameter of operation.parameters ?? []) {
          const kind = kinds[parameter.name];
          if (kind === undefined || !operation.operationId || parameter.in === 'header') continue;
          const { pattern, minLength, maxLength } = NAME_RULES[kind];
          assert.deepEqual(
            { pattern: parameter.schema.pattern, minLength: parameter.schema.minLength, maxLength: parameter.schema.maxLength },
            { pattern, minLength, maxLength },
            `${operation.operationId} ${parameter.name}`,
          );
          checked++;
        }
      }
    }
    assert.ok(checked > 50, `checked ${checked} parameters`);
  });
});
