import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { Agent, request } from 'undici';
import { startTestIssuer, type TestIssuer } from '../fixtures/sso.js';
import { bearer, eventually, freePort, http } from '../fixtures/stack.js';
import { startUpstreamStandIn, type UpstreamStandIn } from '../fixtures/upstream-stand-in.js';

/** The gateway as production runs it: `node dist/main.js`, here the test build of the same file. */
const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));
const SEND = '/api/hubs/chat/:send';
const MESSAGE = JSON.stringify({ target: 'broadcastMessage', arguments: ['rollout', 'hello'] });
/** Every wait in this file is bounded by this. */
const WAIT_MS = 20_000;
/** Load: this many keep-alive connections, each sending one request after the other, at most this many in all. */
const CONNECTIONS = 8;
const MAX_REQUESTS = 20_000;
/** The stand-in takes this long per answer, so requests are in flight when the gateway stops. */
const UPSTREAM_DELAY_MS = 20;
/**
 * A load balancer notices a failing readiness probe late: it keeps routing for this many more answers. The drain
 * delay is far longer than that takes (a few hundred milliseconds), as production's 10 s is longer than a balancer's lag.
 */
const ANSWERS_BEFORE_THE_BALANCER_NOTICES = 40;
const DRAIN_DELAY_MS = 3000;

/** Every gateway process this file started; any still running at the end (a failed test) is killed. */
const children = new Set<ChildProcess>();

interface GatewayProcess {
  url: string;
  port: number;
  child: ChildProcess;
  exitCode: Promise<number | null>;
  output(): string;
}

async function within<T>(promise: Promise<T>, what: string): Promise<T> {
  const timeout = sleep(WAIT_MS, undefined, { ref: false }).then(() => {
    throw new Error(`not within ${WAIT_MS} ms: ${what}`);
  });
  return Promise.race([promise, timeout]);
}

/** Starts `node main.js` and waits until `/readyz` answers 200. */
async function startGatewayProcess(env: Record<string, string>): Promise<GatewayProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [MAIN], {
    // METRICS_PORT=0: no metrics listener, which would take the fixed default port (9464) in every process.
    env: { PATH: process.env['PATH'] ?? '', NODE_ENV: 'test', HOST: '127.0.0.1', PORT: String(port), METRICS_PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exitCode = once(child, 'exit').then(([code]) => code as number | null);
  const url = `http://127.0.0.1:${port}`;
  await eventually(
    async () => {
      if (child.exitCode !== null) throw new Error(`the gateway exited:\n${output}`);
      return (await http('GET', `${url}/readyz`).catch(() => ({ status: 0 }))).status === 200;
    },
    'the gateway gets ready',
    WAIT_MS,
  );
  return { url, port, child, exitCode, output: () => output };
}

/** One request's outcome as its caller saw it. */
interface Outcome {
  status?: number;
  connection?: string;
  /** A network error instead of an answer (a reset, a refused connection). */
  error?: string;
  /** Sent after `/readyz` first failed. */
  afterUnready: boolean;
}

describe('a rolling deploy: SIGTERM under keep-alive load', () => {
  let issuer: TestIssuer;
  let standIn: UpstreamStandIn;
  let token: string;

  before(async () => {
    [issuer, standIn] = await Promise.all([startTestIssuer(), startUpstreamStandIn()]);
    token = await issuer.token(['signalr.send']);
  });

  after(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await Promise.all([standIn?.close(), issuer?.close()]);
  });

  test('readiness fails first, requests are served through the drain, then the gateway stops without a 502 or a reset', async (t) => {
    standIn.answerWith(() => ({ delayMs: UPSTREAM_DELAY_MS }));
    const gateway = await startGatewayProcess({
      ...issuer.env,
      SIGNALR_CONNECTION_STRING: standIn.connectionString,
      SHUTDOWN_DRAIN_DELAY_MS: String(DRAIN_DELAY_MS),
      SHUTDOWN_TIMEOUT_MS: String(WAIT_MS),
    });
    const sendsBefore = standIn.requests.filter((recorded) => recorded.rawPath.endsWith('/:send')).length;
    const load = new Agent({ connections: CONNECTIONS, keepAliveTimeout: 60_000 });
    const probes = new Agent({ connections: 1 });

    // A keep-alive connection that carried one request and then stays idle: it must be closed, not reset.
    const idle = connect({ host: '127.0.0.1', port: gateway.port });
    let idleAnswer = '';
    idle.setEncoding('utf8').on('data', (chunk: string) => (idleAnswer += chunk));
    const idleClosed = new Promise<string>((resolve) => {
      idle.once('error', (error: NodeJS.ErrnoException) => resolve(`error ${error.code}`));
      idle.once('end', () => resolve('closed cleanly'));
    });
    idle.write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);

    const outcomes: Outcome[] = [];
    let unready = false;
    let routing = true;
    let sent = 0;
    const worker = async (): Promise<void> => {
      while (routing && sent < MAX_REQUESTS) {
        sent++;
        const afterUnready = unready;
        try {
          const response = await request(gateway.url + SEND, {
            method: 'POST',
            dispatcher: load,
            body: MESSAGE,
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          });
          await response.body.text();
          outcomes.push({ status: response.statusCode, connection: String(response.headers['connection'] ?? ''), afterUnready });
        } catch (error) {
          outcomes.push({ error: (error as NodeJS.ErrnoException).code ?? String(error), afterUnready });
        }
        if (unready && outcomes.filter((outcome) => outcome.afterUnready).length >= ANSWERS_BEFORE_THE_BALANCER_NOTICES) routing = false;
      }
    };

    /** What `/readyz` said, in order, until the listener refused the connection. */
    const readiness: string[] = [];
    const probe = async (): Promise<void> => {
      for (let i = 0; i < WAIT_MS / 20; i++) {
        const said = await request(`${gateway.url}/readyz`, { dispatcher: probes }).then(
          async (response) => {
            await response.body.text();
            return String(response.statusCode);
          },
          (error: NodeJS.ErrnoException) => error.code ?? 'error',
        );
        if (readiness.at(-1) !== said) readiness.push(said);
        if (said === '503') unready = true;
        if (said === 'ECONNREFUSED') return;
        await sleep(20);
      }
    };

    const running = [...Array.from({ length: CONNECTIONS }, worker), probe()];
    // Let the load settle on its kept-alive connections, then deploy.
    while (outcomes.length < 200 && routing) await sleep(20);
    assert.match(idleAnswer, /^HTTP\/1\.1 200 /);
    gateway.child.kill('SIGTERM');
    await within(Promise.all(running), 'the load ends and the listener closes');
    const exitCode = await within(gateway.exitCode, 'the gateway exits');
    await Promise.all([load.close(), probes.close()]);

    const count = (predicate: (outcome: Outcome) => boolean): number => outcomes.filter(predicate).length;
    const upstreamSends = standIn.requests.filter((recorded) => recorded.rawPath.endsWith('/:send')).length - sendsBefore;
    t.diagnostic(
      `requests: ${outcomes.length}, 202: ${count((o) => o.status === 202)} (after readiness failed: ${count((o) => o.afterUnready && o.status === 202)}), ` +
        `503: ${count((o) => o.status === 503)}, other 5xx: ${count((o) => (o.status ?? 0) >= 500 && o.status !== 503)}, ` +
        `network errors: ${count((o) => o.error !== undefined)}, reached the upstream: ${upstreamSends}; readiness: ${readiness.join(' → ')}`,
    );

    assert.deepEqual(
      outcomes.filter((o) => o.error !== undefined),
      [],
      'no request is reset or refused',
    );
    assert.deepEqual(
      outcomes.filter((o) => o.status !== 202 && !(o.status === 503 && o.connection === 'close')),
      [],
      'every answer is a success or a 503 that closes its connection: never a 502',
    );
    assert.equal(
      count((o) => o.status === 202),
      upstreamSends,
      'every success reached the upstream, and every request that reached it succeeded',
    );
    // A probe may also meet a connection reset at the moment the listener closes, as any client that connects then.
    const states = readiness.filter((said) => ['200', '503', 'ECONNREFUSED'].includes(said));
    assert.deepEqual(states, ['200', '503', 'ECONNREFUSED'], '/readyz fails first, while the listener still answers; then the listener closes');
    const drained = outcomes.filter((o) => o.afterUnready && o.status === 202);
    assert.ok(drained.length > 0, 'requests are still served after readiness failed');
    assert.deepEqual([...new Set(drained.map((o) => o.connection))], ['close'], 'each answer during the drain closes its connection');
    assert.equal(await within(idleClosed, 'the idle connection closes'), 'closed cleanly');
    assert.equal(exitCode, 0, gateway.output());
  });

  test('a request that never finishes does not hold the process past SHUTDOWN_TIMEOUT_MS', async () => {
    standIn.answerWith((recorded) => (recorded.rawPath.endsWith('/:send') ? { delayMs: 10 * WAIT_MS } : undefined));
    const gateway = await startGatewayProcess({
      ...issuer.env,
      SIGNALR_CONNECTION_STRING: standIn.connectionString,
      UPSTREAM_TIMEOUT_MS: '300000',
      HTTP_CONNECTION_TIMEOUT_MS: '300001',
      SHUTDOWN_DRAIN_DELAY_MS: '0',
      SHUTDOWN_TIMEOUT_MS: '1000',
    });
    const sendsBefore = standIn.requests.filter((recorded) => recorded.rawPath.endsWith('/:send')).length;
    const hanging = http('POST', gateway.url + SEND, { rawBody: MESSAGE, headers: { ...bearer(token), 'content-type': 'application/json' } }).then(
      (reply) => reply.status,
      (error: Error) => error.message,
    );
    await eventually(
      () => standIn.requests.filter((recorded) => recorded.rawPath.endsWith('/:send')).length > sendsBefore,
      'the request reaches the upstream',
      WAIT_MS,
    );
    gateway.child.kill('SIGTERM');
    assert.equal(await within(gateway.exitCode, 'the gateway exits at its deadline'), 1);
    assert.match(gateway.output(), /shutdown deadline passed/);
    await hanging;
    standIn.answerWith();
  });
});
