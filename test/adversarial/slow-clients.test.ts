import assert from 'node:assert/strict';
import { connect, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, afterEach, before, describe, test } from 'node:test';
import { eventually, startFullStack, type FullStack } from '../fixtures/stack.js';

/** Small on purpose, so the test is quick; the defaults are seconds (README, Configuration). */
const TIMEOUTS = {
  HTTP_HEADERS_TIMEOUT_MS: '300',
  HTTP_REQUEST_TIMEOUT_MS: '600',
  HTTP_KEEP_ALIVE_TIMEOUT_MS: '600',
  HTTP_CONNECTION_TIMEOUT_MS: '2000',
  UPSTREAM_TIMEOUT_MS: '1500', // below the connection timeout, as the config requires
};
/** Every wait in this file is bounded by this, far above the timeouts: a gateway that never cuts fails, not hangs. */
const WAIT_MS = 15_000;
const SEND = '/api/hubs/chat/:send';
const MESSAGE = JSON.stringify({ target: 'broadcastMessage', arguments: ['slow', 'client'] });

/** A raw connection that never closes its side, as a slow-loris would, and what the gateway wrote to it. */
interface Attacker {
  socket: Socket;
  received(): string;
  /** Resolves when the gateway has closed its side of the connection. */
  ended: Promise<void>;
}

const attackers: Attacker[] = [];

function attacker(port: number): Attacker {
  const socket = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
  let received = '';
  socket.setEncoding('utf8').on('data', (chunk: string) => (received += chunk));
  socket.on('error', () => {});
  const ended = new Promise<void>((resolve) => {
    socket.once('end', resolve);
    socket.once('close', resolve);
  });
  const client = { socket, received: () => received, ended };
  attackers.push(client);
  return client;
}

async function within<T>(promise: Promise<T>, what: string): Promise<T> {
  const timeout = sleep(WAIT_MS, undefined, { ref: false }).then(() => {
    throw new Error(`not within ${WAIT_MS} ms: ${what}`);
  });
  return Promise.race([promise, timeout]);
}

/** The status, headers and body of the one HTTP answer in `raw`. */
function parseAnswer(raw: string): { status: number; headers: Record<string, string>; json: any } {
  const [head = '', body = ''] = raw.split('\r\n\r\n');
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers = Object.fromEntries(
    lines.map((line) => {
      const at = line.indexOf(':');
      return [line.slice(0, at).toLowerCase(), line.slice(at + 1).trim()];
    }),
  );
  return { status: Number(statusLine.split(' ')[1]), headers, json: body ? JSON.parse(body) : undefined };
}

function assertTimeoutProblem(raw: string): void {
  const answer = parseAnswer(raw);
  assert.equal(answer.status, 408, raw);
  assert.match(answer.headers['content-type'] ?? '', /^application\/problem\+json/);
  assert.equal(answer.json.code, 'request-timeout');
  assert.equal(answer.headers['x-request-id'], answer.json.requestId);
  assert.equal(answer.headers['connection'], 'close');
}

describe('slow and partial requests are cut (raw sockets that never close their side)', () => {
  let stack: FullStack;
  let port: number;
  let token: string;

  before(async () => {
    stack = await startFullStack({ upstream: 'stand-in', env: TIMEOUTS });
    port = Number(new URL(stack.gatewayUrl).port);
    token = await stack.serviceToken();
  });

  after(() => stack?.close());

  const openConnections = (): Promise<number> =>
    new Promise((resolve, reject) => {
      (stack.app.getHttpServer() as Server).getConnections((error, count) => (error ? reject(error) : resolve(count)));
    });

  /** The gateway lets go of every socket (and its file descriptor) though the clients never close theirs. */
  afterEach(async () => {
    await eventually(async () => (await openConnections()) === 0, 'the gateway releases every socket', WAIT_MS);
    for (const client of attackers.splice(0)) client.socket.destroy();
  });

  const requestHead = (headers: Record<string, string>): string =>
    `POST ${SEND} HTTP/1.1\r\nHost: 127.0.0.1\r\n${Object.entries(headers)
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('')}\r\n`;

  test('headers trickled a byte at a time get a 408 problem, then the socket is closed', async () => {
    const client = attacker(port);
    client.socket.write(`POST ${SEND} HTTP/1.1\r\nHost: 127.0.0.1\r\n`);
    const trickle = 'X-Slow: ' + 'x'.repeat(200);
    let sent = 0;
    let ended = false;
    void client.ended.then(() => (ended = true));
    while (!ended && sent < trickle.length) {
      client.socket.write(trickle[sent++]);
      await sleep(50);
    }
    await within(client.ended, 'the gateway closes the connection');
    assert.ok(sent < trickle.length, `cut after ${sent} of ${trickle.length} header bytes`);
    assertTimeoutProblem(client.received());
  });

  for (const withToken of [false, true]) {
    test(`one byte of a declared 1,000-byte body, then nothing, ${withToken ? 'with a valid token' : 'without a token'}: 408, closed`, async () => {
      const client = attacker(port);
      const auth: Record<string, string> = withToken ? { authorization: `Bearer ${token}` } : {};
      client.socket.write(requestHead({ ...auth, 'content-type': 'application/json', 'content-length': '1000' }) + '{');
      await within(client.ended, 'the gateway closes the connection');
      assertTimeoutProblem(client.received());
    });
  }

  test('a body trickled a byte at a time is cut though bytes keep arriving', async () => {
    const client = attacker(port);
    client.socket.write(requestHead({ authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': String(MESSAGE.length) }));
    let sent = 0;
    let ended = false;
    void client.ended.then(() => (ended = true));
    while (!ended && sent < MESSAGE.length) {
      client.socket.write(MESSAGE[sent++]);
      await sleep(50);
    }
    await within(client.ended, 'the gateway closes the connection');
    assert.ok(sent < MESSAGE.length, `cut after ${sent} of ${MESSAGE.length} body bytes`);
    assertTimeoutProblem(client.received());
  });

  test('a connection that never sends a byte is closed', async () => {
    const client = attacker(port);
    await within(client.ended, 'the gateway closes the connection');
  });

  test('an idle keep-alive connection is closed after the keep-alive timeout, once its request was answered', async () => {
    const client = attacker(port);
    client.socket.write(
      requestHead({ authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': String(MESSAGE.length) }) + MESSAGE,
    );
    await within(client.ended, 'the gateway closes the idle connection');
    const answer = parseAnswer(client.received());
    assert.equal(answer.status, 202);
    assert.match(answer.headers['keep-alive'] ?? '', /timeout=/, 'the connection was kept alive first');
  });

  test('400 partial requests at once, half with a token: every one is answered 408 and every socket released', async () => {
    const clients = Array.from({ length: 400 }, (_, i) => {
      const client = attacker(port);
      const auth: Record<string, string> = i % 2 ? { authorization: `Bearer ${token}` } : {};
      client.socket.write(requestHead({ ...auth, 'content-type': 'application/json', 'content-length': '1000' }) + '{');
      return client;
    });
    await within(Promise.all(clients.map((client) => client.ended)), 'the gateway closes every connection');
    const statuses = clients.map((client) => parseAnswer(client.received()).status);
    assert.deepEqual([...new Set(statuses)], [408]);
  });
});
