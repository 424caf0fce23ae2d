import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CASES } from '../e2e/cases.js';
import { startFullStack, type FullStack } from '../fixtures/stack.js';
import type { RecordedRequest } from '../fixtures/upstream-stand-in.js';
import { contract, contractViolations, operationOf, SWAGGER_PATH } from './azure-contract.js';

const missing =
  contract === undefined
    ? `Azure's swagger is not at ${SWAGGER_PATH} (../shared/reference/ beside the repository), so there is nothing to check against`
    : false;

describe("upstream requests follow Azure's published 2022-06-01 contract", { skip: missing }, () => {
  let stack: FullStack;
  const seen: RecordedRequest[] = [];
  before(async () => {
    stack = await startFullStack({ upstream: 'stand-in', checkUpstreamContract: true });
    for (const c of CASES) {
      const reply = await stack.api(c.method, c.path, { body: c.body });
      assert.equal(reply.status, c.status, `${c.name}: ${reply.text}`);
      seen.push(...stack.standIn.requests);
      stack.resetUpstream();
    }
  });
  after(() => stack?.close());

  it('covers all 19 operations of the contract', () => {
    const covered = new Set(seen.map((request) => operationOf(request)).map((match) => (typeof match === 'string' ? match : match.operationId)));
    const declared = contract!.flatMap((route) => Object.values(route.operations).map(({ operationId }) => operationId));
    assert.equal(declared.length, 19);
    assert.deepEqual([...covered].sort(), [...declared].sort());
  });

  it('every request matches its path template, method, parameters and body', () => {
    assert.deepEqual(seen.flatMap(contractViolations), []);
  });

  it('the check itself catches a request outside the contract', () => {
    const base = seen.find((request) => request.rawPath === '/api/hubs/chat/users/u1/groups/g1' && request.method === 'PUT')!;
    const violations = [
      { ...base, method: 'POST' },
      { ...base, query: { ...base.query, 'api-version': undefined as never } as never },
      { ...base, query: { ...base.query, ttl: ['soon'] } },
      { ...base, query: { ...base.query, extra: ['1'] } },
      { ...base, rawPath: '/api/hubs/1chat/users/u1/groups/g1' },
      { ...base, rawPath: '/api/hubs/chat/users/u1/groups/%20' },
      { ...base, body: '{}' },
    ].map((request) => contractViolations(JSON.parse(JSON.stringify(request))));
    for (const found of violations) assert.equal(found.length, 1, JSON.stringify(found));
  });
});
