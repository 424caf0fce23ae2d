import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffMs, isRetriable } from '../../src/signalr/retry.js';
import { UpstreamError } from '../../src/signalr/upstream-error.js';
import { restCalls, type RestCall } from '../../src/signalr/urls.js';

const message = restCalls.sendToUser({ hub: 'chat' }, 'u1');
const other = restCalls.addUserToGroup({ hub: 'chat' }, 'u1', 'g1');
const status = (call: RestCall, code: number): UpstreamError => UpstreamError.fromStatus(call, code);
const failure = (call: RestCall, code: string, requestWritten: boolean): UpstreamError =>
  UpstreamError.fromFailure(call, Object.assign(new Error(code), { code }), requestWritten);
const timeout = (call: RestCall, requestWritten: boolean): UpstreamError =>
  UpstreamError.fromFailure(call, new DOMException('late', 'TimeoutError'), requestWritten);

describe('isRetriable: the Management SDK retry rules', () => {
  const table: [string, (call: RestCall) => UpstreamError, message: boolean, other: boolean][] = [
    ['500', (call) => status(call, 500), false, true],
    ['501', (call) => status(call, 501), true, true],
    ['502', (call) => status(call, 502), true, true],
    ['503', (call) => status(call, 503), true, true],
    ['504', (call) => status(call, 504), true, true],
    ['408', (call) => status(call, 408), false, true],
    ['429', (call) => status(call, 429), false, false],
    ['400', (call) => status(call, 400), false, false],
    ['401', (call) => status(call, 401), false, false],
    ['404', (call) => status(call, 404), false, false],
    ['413', (call) => status(call, 413), false, false],
    ['connection refused (never written)', (call) => failure(call, 'ECONNREFUSED', false), true, true],
    ['host not found (never written)', (call) => failure(call, 'ENOTFOUND', false), true, true],
    ['connect timeout (never written)', (call) => failure(call, 'UND_ERR_CONNECT_TIMEOUT', false), true, true],
    ['deadline while connecting (never written)', (call) => timeout(call, false), true, true],
    ['connection reset after the request was written', (call) => failure(call, 'ECONNRESET', true), false, true],
    ['connection closed after the request was written', (call) => failure(call, 'UND_ERR_SOCKET', true), false, true],
    ['timeout after the request was written', (call) => timeout(call, true), false, true],
  ];
  for (const [name, error, messageRetried, otherRetried] of table) {
    it(`${name}: message ${messageRetried ? 'retried' : 'not retried'}, other ${otherRetried ? 'retried' : 'not retried'}`, () => {
      assert.equal(isRetriable(message, error(message)), messageRetried);
      assert.equal(isRetriable(other, error(other)), otherRetried);
    });
  }
});

describe('backoffMs: exponential, capped, jittered', () => {
  const settings = { maxRetries: 5, attemptTimeoutMs: 1000, delayMs: 100, maxDelayMs: 350 };
  it('doubles from delayMs up to maxDelayMs without jitter at its top', () => {
    assert.deepEqual(
      [1, 2, 3, 4].map((n) => backoffMs(n, settings, () => 0)),
      [100, 200, 350, 350],
    );
  });
  it('jitters each wait down by at most half', () => {
    assert.deepEqual(
      [1, 2, 3].map((n) => backoffMs(n, settings, () => 1)),
      [50, 100, 175],
    );
    for (let n = 1; n <= 5; n++) {
      const wait = backoffMs(n, settings);
      const ceiling = Math.min(350, 100 * 2 ** (n - 1));
      assert.ok(wait >= ceiling / 2 && wait <= ceiling, `retry ${n}: ${wait}`);
    }
  });
});
