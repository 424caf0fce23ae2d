import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CASES } from '../e2e/cases.js';
import { startFullStack, type FullStack } from '../fixtures/stack.js';
import type { RecordedRequest } from '../fixtures/upstream-stand-in.js';
import { contract, contract2024, contractViolations, operationOf, SWAGGER_PATH, versionedViolations } from './azure-contract.js';

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
    assert.deepEqual(
      seen.flatMap((request) => contractViolations(request)),
      [],
    );
  });

  it(
    'every request also matches the 2024-12-01 contract, which has the same 19 operations',
    { skip: contract2024 === undefined && 'no 2024-12-01 swagger' },
    () => {
      assert.deepEqual(
        seen.flatMap((request) => contractViolations(request, contract2024)),
        [],
      );
      assert.deepEqual(seen.flatMap(versionedViolations), []);
      const declared = contract2024!.flatMap((route) => Object.values(route.operations).map(({ operationId }) => operationId));
      assert.equal(declared.length, 26);
    },
  );

  it(
    'the versioned check refuses an unknown api-version and a 2024-12-01 parameter out of range',
    { skip: contract2024 === undefined && 'no 2024-12-01 swagger' },
    () => {
      const base = seen.find((request) => request.rawPath === '/api/hubs/chat/users/u1/groups/g1' && request.method === 'PUT')!;
      assert.equal(versionedViolations({ ...base, query: { ...base.query, 'api-version': ['2021-01-01'] } }).length, 1);
      const list = { ...base, method: 'GET', rawPath: '/api/hubs/chat/groups/g1/connections', query: { 'api-version': ['2024-12-01'], maxpagesize: ['201'] } };
      assert.equal(versionedViolations(list).length, 1, JSON.stringify(versionedViolations(list)));
      assert.deepEqual(versionedViolations({ ...list, query: { 'api-version': ['2024-12-01'], maxpagesize: ['200'], continuationToken: ['x'] } }), []);
    },
  );

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
