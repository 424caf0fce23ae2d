import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderProblem } from '../../src/common/problem.filter.js';
import { problemOfUpstream, upstreamProblem } from '../../src/modules/shared/upstream-problems.js';
import { UpstreamError } from '../../src/signalr/upstream-error.js';
import { restCalls } from '../../src/signalr/urls.js';

const call = restCalls.removeConnectionFromGroup({ hub: 'chat' }, 'g1', 'c1');
const failure = (code: string, requestWritten = true): UpstreamError =>
  UpstreamError.fromFailure(call, Object.assign(new Error('boom'), { code }), requestWritten);

describe('UPSTREAM_OUTCOMES: the one table from upstream outcome to caller', () => {
  const table: [string, UpstreamError, number, string][] = [
    ["timeout (the client's deadline)", UpstreamError.fromFailure(call, new DOMException('late', 'TimeoutError'), true), 504, 'upstream-timeout'],
    ['timeout (undici connect timeout)', failure('UND_ERR_CONNECT_TIMEOUT', false), 504, 'upstream-timeout'],
    ['connection refused', failure('ECONNREFUSED'), 503, 'upstream-unavailable'],
    ['DNS failure', failure('ENOTFOUND'), 503, 'upstream-unavailable'],
    ['connection reset', failure('ECONNRESET'), 502, 'upstream-connection-failed'],
    ['401', UpstreamError.fromStatus(call, 401), 502, 'upstream-auth-failed'],
    ['403', UpstreamError.fromStatus(call, 403), 502, 'upstream-auth-failed'],
    ['404 with a NotExisted code', UpstreamError.fromStatus(call, 404, 'Warning.Connection.NotExisted'), 404, 'not-found'],
    ['404 without a known code', UpstreamError.fromStatus(call, 404), 502, 'upstream-rejected-request'],
    ['413', UpstreamError.fromStatus(call, 413), 413, 'payload-too-large'],
    ['429', UpstreamError.fromStatus(call, 429, undefined, '7'), 429, 'upstream-throttled'],
    ['400', UpstreamError.fromStatus(call, 400, 'Error.Invalid'), 502, 'upstream-rejected-request'],
    ['409', UpstreamError.fromStatus(call, 409), 502, 'upstream-rejected-request'],
    ['500', UpstreamError.fromStatus(call, 500), 502, 'upstream-error'],
    ['503', UpstreamError.fromStatus(call, 503), 502, 'upstream-error'],
  ];

  for (const [name, error, status, code] of table) {
    it(`${name} → ${status} ${code}`, () => {
      const problem = upstreamProblem(error);
      assert.equal(problem.status, status);
      assert.equal(problem.code, code);
      assert.match(problem.detail, /Azure SignalR/);
      assert.doesNotMatch(problem.detail, /api-version|\?/, 'no query in the detail');
    });
  }

  it('names the operation, the upstream status and x-ms-error-code in the detail', () => {
    assert.equal(
      upstreamProblem(UpstreamError.fromStatus(call, 400, 'Error.Invalid')).detail,
      'Azure SignalR rejected DELETE /api/hubs/chat/groups/g1/connections/c1 with HTTP 400 (Error.Invalid); the gateway validates requests first, so this is a gateway bug or API contract drift.',
    );
  });

  it('passes Retry-After through on 429 only', () => {
    assert.deepEqual(upstreamProblem(UpstreamError.fromStatus(call, 429, undefined, '7')).headers, { 'retry-after': '7' });
    assert.equal(upstreamProblem(UpstreamError.fromStatus(call, 429)).headers, undefined);
    assert.equal(upstreamProblem(UpstreamError.fromStatus(call, 503, undefined, '7')).headers, undefined);
  });

  it('rethrows what is not a network failure (a gateway bug stays a 500)', () => {
    const bug = new TypeError('not a network error');
    assert.throws(
      () => UpstreamError.fromFailure(call, bug, true),
      (error) => error === bug,
    );
  });

  it('keeps whether the request was written (an answer always was)', () => {
    assert.equal(failure('ECONNREFUSED', false).requestWritten, false);
    assert.equal(failure('ECONNRESET', true).requestWritten, true);
    assert.equal(UpstreamError.fromStatus(call, 503).requestWritten, true);
  });

  it('is rendered by the problem filter through the table', () => {
    const { problem, headers } = renderProblem(UpstreamError.fromStatus(call, 429, undefined, '30'), problemOfUpstream, 'req-1');
    assert.equal(problem.status, 429);
    assert.equal(problem.code, 'upstream-throttled');
    assert.equal(problem.type, 'urn:signalr-gateway:problem:upstream-throttled');
    assert.equal(problem.requestId, 'req-1');
    assert.deepEqual(headers, { 'retry-after': '30' });
    assert.equal(renderProblem(UpstreamError.fromStatus(call, 401), problemOfUpstream, 'req-2').problem.status, 502);
  });
});
