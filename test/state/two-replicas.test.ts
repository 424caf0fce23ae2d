import { importJWK, SignJWT, type JWK } from 'jose';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { newSigningKey, startDevIssuer, type DevIssuer } from '../../src/dev/dev-issuer.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/emulator.js';
import { forward } from '../fixtures/recording-proxy.js';
import { startFullStack } from '../fixtures/stack.js';
import { SKIP_WITHOUT_REDIS, startRedis, type RunningRedis } from '../fixtures/redis-server.js';
import { listen, type Listener } from './helpers.js';

/** One gateway replica of the pair: where it listens. */
interface Replica {
  url: string;
  close(): Promise<void>;
}

/** Budget of caller `budget` (a day, so nothing comes back while the test runs: the count is exact). */
const BUDGET = 30;

/**
 * A pass-through to the emulator that can hold requests: with it the test knows a first request is in flight
 * upstream (not merely sent) before it sends the duplicate, so "concurrent" needs no clock.
 */
interface Gate {
  readonly port: number;
  hold(): void;
  /** Resolves when a held request has arrived. */
  arrived(): Promise<void>;
  release(): void;
  /** The next request gets this status from the "upstream" instead of reaching the emulator. */
  failNext(status: number): void;
  close(): Promise<void>;
}

async function startGate(emulatorUrl: string): Promise<Gate> {
  const target = new URL(emulatorUrl);
  let gate: Promise<void> = Promise.resolve();
  let open = (): void => {};
  let onArrival = (): void => {};
  let arrival = Promise.resolve();
  let failure: number | undefined;
  const server: Server = createServer((incoming, outgoing) => {
    onArrival();
    if (failure !== undefined) {
      outgoing.writeHead(failure, { 'content-type': 'application/json' }).end('{}');
      failure = undefined;
      return;
    }
    void gate.then(() => incoming.pipe(forward(target, incoming, outgoing)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    hold() {
      gate = new Promise((resolve) => (open = resolve));
      arrival = new Promise((resolve) => (onArrival = resolve));
    },
    arrived: () => arrival,
    release() {
      onArrival = () => {};
      open();
    },
    failNext(status) {
      failure = status;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('two gateway replicas sharing one Redis', { skip: SKIP_WITHOUT_REDIS }, () => {
  let redis: RunningRedis;
  let sso: DevIssuer;
  let signingKey: JWK;
  let emulator: RunningEmulator;
  let gate: Gate;
  let a: Replica;
  let b: Replica;
  let dora: Listener;
  let service: string;
  let budgetToken: string;
  let markers = 0;

  const post = async (replica: Replica, path: string, body: unknown, headers: Record<string, string> = {}, token = service) => {
    const response = await fetch(replica.url + path, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, json: text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>) };
  };
  const send = (replica: Replica, text: string, headers: Record<string, string> = {}, token?: string) =>
    post(replica, '/api/hubs/chat/users/dora/:send', { target: 'note', arguments: [text] }, headers, token);
  /** Sends a marker through `a` (without a key) and waits for it: everything sent before it has arrived. */
  const settle = async (): Promise<void> => {
    const marker = `marker-${++markers}`;
    assert.equal((await send(a, marker)).status, 202);
    await dora.settled(marker);
  };

  before(async () => {
    redis = await startRedis();
    signingKey = await newSigningKey();
    sso = await startDevIssuer({ signingKeys: [signingKey] });
    emulator = await startEmulator({ host: '127.0.0.1', port: 0 });
    gate = await startGate(emulator.url);
    const env = {
      SSO_ISSUER: sso.issuer,
      SSO_AUDIENCE: sso.audience,
      SIGNALR_CONNECTION_STRING: emulator.connectionString.replace(/Endpoint=[^;]+;/, `Endpoint=http://127.0.0.1;Port=${gate.port};`),
      REDIS_URL: redis.url,
      REDIS_TIMEOUT_MS: '300',
      RATE_LIMIT_OVERRIDES: `budget=${BUDGET}/86400`,
    };
    const { SIGNALR_CONNECTION_STRING: connectionString, ...rest } = env;
    const replica = async (): Promise<Replica> => {
      const stack = await startFullStack({ upstream: { connectionString }, env: rest });
      return { url: stack.gatewayUrl, close: () => stack.close() };
    };
    [a, b] = await Promise.all([replica(), replica()]);
    dora = await listen(emulator, 'dora');
    service = await sso.serviceToken();
    budgetToken = await new SignJWT({ azp: 'budget', scope: 'signalr.send' })
      .setProtectedHeader({ alg: 'RS256', kid: signingKey.kid!, typ: 'at+jwt' })
      .setIssuer(sso.issuer)
      .setAudience(sso.audience)
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(await importJWK(signingKey, 'RS256'));
  });

  after(async () => {
    await dora?.close();
    await a?.close();
    await b?.close();
    await gate?.close();
    await emulator?.close();
    await sso?.close();
    await redis?.kill();
  });

  test('the same Idempotency-Key on replica A, then B: delivered exactly once, B replays the outcome of A', async () => {
    const first = await send(a, 'a-then-b', { 'idempotency-key': 'a-then-b' });
    const second = await send(b, 'a-then-b', { 'idempotency-key': 'a-then-b' });
    assert.equal(first.status, 202);
    assert.equal(second.status, 202);
    assert.equal(second.headers.get('idempotency-replayed'), 'true');
    await settle();
    assert.equal(dora.count('a-then-b'), 1);
  });

  test('a duplicate on B while the first is in flight on A: 409 with Retry-After, then the replay; delivered once', async () => {
    gate.hold();
    const first = send(a, 'in-flight', { 'idempotency-key': 'in-flight' });
    await gate.arrived();
    const duplicate = await send(b, 'in-flight', { 'idempotency-key': 'in-flight' });
    gate.release();
    assert.equal(duplicate.status, 409);
    assert.equal(duplicate.json?.['code'], 'idempotency-key-in-flight');
    assert.match(duplicate.headers.get('retry-after') ?? '', /^\d+$/);
    assert.equal((await first).status, 202);
    const later = await send(b, 'in-flight', { 'idempotency-key': 'in-flight' });
    assert.equal(later.headers.get('idempotency-replayed'), 'true');
    await settle();
    assert.equal(dora.count('in-flight'), 1);
  });

  test('a 5xx outcome is not kept: the same key on the other replica runs again and delivers', async () => {
    gate.failNext(503);
    const failed = await send(a, 'after-5xx', { 'idempotency-key': 'after-5xx' });
    assert.equal(failed.status, 502);
    const retried = await send(b, 'after-5xx', { 'idempotency-key': 'after-5xx' });
    assert.equal(retried.status, 202);
    assert.equal(retried.headers.get('idempotency-replayed'), null);
    await settle();
    assert.equal(dora.count('after-5xx'), 1);
  });

  test('20 pairs of duplicates sent at once to A and B: each pair delivered once, one original 2xx per pair', async (t) => {
    const pairs = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        Promise.all([send(a, `race-${i}`, { 'idempotency-key': `race-${i}` }), send(b, `race-${i}`, { 'idempotency-key': `race-${i}` })]),
      ),
    );
    let conflicts = 0;
    for (const pair of pairs) {
      const originals = pair.filter((reply) => reply.status === 202 && reply.headers.get('idempotency-replayed') === null);
      const others = pair.filter((reply) => !originals.includes(reply));
      assert.equal(originals.length, 1);
      assert.ok(others[0].status === 409 || others[0].headers.get('idempotency-replayed') === 'true', `the duplicate got ${others[0].status}`);
      if (others[0].status === 409) conflicts += 1;
    }
    t.diagnostic(`409 for ${conflicts} of 20 duplicates (the others came after the first had finished: replayed)`);
    await settle();
    for (let i = 0; i < 20; i += 1) assert.equal(dora.count(`race-${i}`), 1);
  });

  test(`a caller's budget (${BUDGET}) holds across both replicas: exactly ${BUDGET} of 60 sends pass`, async (t) => {
    const replies = await Promise.all(Array.from({ length: 60 }, (_, i) => send(i % 2 === 0 ? a : b, `budget-${i}`, {}, budgetToken)));
    const passed = replies.filter((reply) => reply.status === 202);
    assert.equal(passed.length, BUDGET);
    assert.ok(replies.every((reply) => reply.status === 202 || reply.status === 429));
    t.diagnostic(
      `passed ${passed.length}: ${replies.filter((reply, i) => reply.status === 202 && i % 2 === 0).length} on A, ${replies.filter((reply, i) => reply.status === 202 && i % 2 === 1).length} on B`,
    );
    await settle();
    const delivered = Array.from({ length: 60 }, (_, i) => dora.count(`budget-${i}`)).reduce((sum, count) => sum + count, 0);
    assert.equal(delivered, BUDGET);
  });

  test('Redis killed mid-run: sends without a key go through (limits fail open), keyed ones get 503, /readyz fails; never a 500', async (t) => {
    const statuses: { keyed: boolean; status: number; code?: unknown }[] = [];
    const run = async (from: number, to: number): Promise<void> => {
      await Promise.all(
        Array.from({ length: to - from }, async (_, j) => {
          const i = from + j;
          const keyed = i % 2 === 0;
          const reply = await send(i % 4 < 2 ? a : b, `down-${i}`, keyed ? { 'idempotency-key': `down-${i}` } : {}, budgetToken);
          statuses.push({ keyed, status: reply.status, code: reply.json?.['code'] });
        }),
      );
    };
    await run(0, 10);
    await redis.kill();
    await run(10, 30);
    const afterKill = statuses.slice(10);
    assert.ok(
      afterKill.every(({ keyed, status, code }) => (keyed ? status === 503 && code === 'idempotency-unavailable' : status === 202)),
      JSON.stringify(afterKill),
    );
    assert.ok(
      statuses.every(({ status }) => status !== 500),
      'no 500',
    );
    for (const replica of [a, b]) {
      const ready = await fetch(`${replica.url}/readyz`);
      assert.equal(ready.status, 503);
      assert.match(((await ready.json()) as { detail: string }).detail, /redis/);
    }
    t.diagnostic(
      `after the kill: ${afterKill.filter(({ status }) => status === 202).length} sends without a key passed, ${afterKill.filter(({ status }) => status === 503).length} keyed ones got 503`,
    );

    await redis.restart();
    let ready = 0;
    for (let attempt = 0; attempt < 100 && ready !== 200; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      ready = (await fetch(`${a.url}/readyz`)).status;
    }
    assert.equal(ready, 200);
    assert.equal((await send(a, 'back', { 'idempotency-key': 'back' })).status, 202);
    assert.equal((await send(b, 'back', { 'idempotency-key': 'back' })).headers.get('idempotency-replayed'), 'true');
  });
});
