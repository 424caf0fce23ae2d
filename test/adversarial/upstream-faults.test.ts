import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Env } from '../../src/config/validate-env.js';
import { startFaultyUpstream, type Fault, type FaultyUpstream } from '../fixtures/faulty-upstream.js';
import { startFullStack, type FullStack } from '../fixtures/stack.js';

/** Two retries, next to no backoff, attempts of 200 ms inside a 5 s deadline: every retry row shows in attempt counts. */
const RETRYING: Env = {
  UPSTREAM_MAX_RETRIES: '2',
  UPSTREAM_RETRY_DELAY_MS: '1',
  UPSTREAM_RETRY_MAX_DELAY_MS: '4',
  UPSTREAM_ATTEMPT_TIMEOUT_MS: '200',
  UPSTREAM_TIMEOUT_MS: '5000',
};

interface Operation {
  method: string;
  path: string;
  body?: unknown;
  /** How the gateway's upstream request arrives at the faulty upstream. */
  upstream: string;
}

const MESSAGE: Operation = { method: 'POST', path: '/api/hubs/chat/:send', body: { target: 't', arguments: [] }, upstream: 'POST /api/hubs/chat/:send' };
const NON_MESSAGE: Operation = { method: 'PUT', path: '/api/hubs/chat/users/u1/groups/g1', upstream: 'PUT /api/hubs/chat/users/u1/groups/g1' };

/** The gateway in front of `upstream`, and a caller holding a token with every permission. */
async function gatewayBefore(connectionString: string, env: Env) {
  const stack: FullStack = await startFullStack({ upstream: { connectionString }, env });
  return {
    call: ({ method, path, body }: Omit<Operation, 'upstream'>) => stack.api(method, path, { body }),
    close: () => stack.close(),
  };
}

describe('upstream faults: what is retried, counted at the upstream', () => {
  let faulty: FaultyUpstream;
  let gateway: Awaited<ReturnType<typeof gatewayBefore>>;
  before(async () => {
    faulty = await startFaultyUpstream();
    gateway = await gatewayBefore(faulty.connectionString, RETRYING);
  });
  after(async () => {
    await gateway.close();
    await faulty.close();
  });

  /** Calls `operation` with the upstream answering `fault` every time; the caller's status and the upstream attempts. */
  async function through(fault: Fault, operation: Operation): Promise<{ status: number; code?: string; attempts: number }> {
    faulty.plan(fault);
    const { status, json } = await gateway.call(operation);
    assert.ok(
      faulty.attempts.every((attempt) => attempt === operation.upstream),
      faulty.attempts.join(', '),
    );
    return { status, code: json?.code, attempts: faulty.attempts.length };
  }

  // [upstream fault, message: attempts, non-message: attempts, what the caller gets in the end]
  const rows: [string, Fault, number, number, number, string][] = [
    ['500', { status: 500 }, 1, 3, 502, 'upstream-error'],
    ['501', { status: 501 }, 3, 3, 502, 'upstream-error'],
    ['502', { status: 502 }, 3, 3, 502, 'upstream-error'],
    ['503', { status: 503 }, 3, 3, 502, 'upstream-error'],
    ['504', { status: 504 }, 3, 3, 502, 'upstream-error'],
    ['408', { status: 408 }, 1, 3, 502, 'upstream-rejected-request'],
    ['429', { status: 429, headers: { 'retry-after': '7' } }, 1, 1, 429, 'upstream-throttled'],
    ['400', { status: 400 }, 1, 1, 502, 'upstream-rejected-request'],
    ['401', { status: 401 }, 1, 1, 502, 'upstream-auth-failed'],
    ['a reset as the request arrives (it was written)', 'reset', 1, 3, 502, 'upstream-connection-failed'],
    ['no answer within the attempt timeout (the request was written)', 'silent', 1, 3, 504, 'upstream-timeout'],
  ];
  for (const [name, fault, messageAttempts, otherAttempts, status, code] of rows) {
    it(`${name}: a message is sent ${messageAttempts}×, a non-message operation ${otherAttempts}×, the caller gets ${status} ${code}`, async () => {
      assert.deepEqual(await through(fault, MESSAGE), { status, code, attempts: messageAttempts });
      assert.deepEqual(await through(fault, NON_MESSAGE), { status, code, attempts: otherAttempts });
    });
  }

  it('a retry that succeeds answers the caller with the success, the message delivered once', async () => {
    faulty.plan({ status: 503 }, 'success');
    assert.equal((await gateway.call(MESSAGE)).status, 202);
    assert.deepEqual(faulty.attempts, [MESSAGE.upstream, MESSAGE.upstream]);
  });

  it('each send of a fan-out is retried on its own, by the message rules', async () => {
    const body = { users: ['a', 'b'], target: 't', arguments: [] };
    faulty.plan({ status: 503 });
    let reply = await gateway.call({ method: 'POST', path: '/api/hubs/chat/:sendToUsers', body });
    assert.equal(reply.status, 207);
    assert.deepEqual(
      reply.json.results.map((r: { status: number }) => r.status),
      [502, 502],
    );
    assert.equal(faulty.attempts.length, 6);
    faulty.plan({ status: 500 });
    reply = await gateway.call({ method: 'POST', path: '/api/hubs/chat/:sendToUsers', body });
    assert.deepEqual(
      reply.json.results.map((r: { status: number }) => r.status),
      [502, 502],
    );
    assert.equal(faulty.attempts.length, 2);
  });
});

describe('upstream refusing connections: the request provably never reached it', () => {
  let gateway: Awaited<ReturnType<typeof gatewayBefore>>;
  let port: number;
  const refusals: unknown[] = [];
  const onConnectError = (message: unknown): void => {
    if ((message as { connectParams?: { port?: string } }).connectParams?.port === String(port)) refusals.push(message);
  };

  before(async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    gateway = await gatewayBefore(`Endpoint=http://127.0.0.1;Port=${port};AccessKey=refused-upstream-access-key-0123456789;Version=1.0;`, RETRYING);
    subscribe('undici:client:connectError', onConnectError);
  });
  after(async () => {
    unsubscribe('undici:client:connectError', onConnectError);
    await gateway.close();
  });

  for (const operation of [MESSAGE, NON_MESSAGE]) {
    it(`${operation.upstream}: tried 3×, then 503 upstream-unavailable`, async () => {
      refusals.length = 0;
      const reply = await gateway.call(operation);
      assert.deepEqual([reply.status, reply.json.code, refusals.length], [503, 'upstream-unavailable', 3]);
    });
  }
});

describe('upstream faults with the defaults: no retries, and the caller answered at the status', () => {
  let faulty: FaultyUpstream;
  let gateway: Awaited<ReturnType<typeof gatewayBefore>>;
  before(async () => {
    faulty = await startFaultyUpstream();
    gateway = await gatewayBefore(faulty.connectionString, { UPSTREAM_TIMEOUT_MS: '500' });
  });
  after(async () => {
    await gateway.close();
    await faulty.close();
  });

  it('retries nothing unless configured', async () => {
    faulty.plan({ status: 503 });
    assert.equal((await gateway.call(NON_MESSAGE)).status, 502);
    assert.deepEqual(faulty.attempts, [NON_MESSAGE.upstream]);
  });

  it('answers 202 while the upstream trickles its body, and frees that connection by the deadline', { timeout: 10_000 }, async () => {
    faulty.plan('trickle');
    assert.equal((await gateway.call(MESSAGE)).status, 202);
    await faulty.trickleClosed();
    faulty.plan('success');
    assert.equal((await gateway.call(MESSAGE)).status, 202);
  });
});
