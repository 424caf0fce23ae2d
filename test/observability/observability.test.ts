import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../fixtures/otlp-receiver.js';
import { CASES } from '../e2e/cases.js';
import { startTestIssuer, type TestIssuer } from '../fixtures/sso.js';
import { eventually, freePort } from '../fixtures/stack.js';
import { startUpstreamStandIn, successStatus, type UpstreamStandIn } from '../fixtures/upstream-stand-in.js';

/** The compiled gateway entry, what `npm start` runs: tracing has to be set up by its first import. */
const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));

const SPAN_KIND_SERVER = 2;
const SPAN_KIND_CLIENT = 3;

describe('observability: a real gateway process with metrics, OTLP traces and an audit trail', () => {
  let sso: TestIssuer;
  let upstream: UpstreamStandIn;
  let receiver: OtlpReceiver;
  let child: ChildProcess;
  let gatewayUrl: string;
  let metricsUrl: string;
  let token: string;
  let output = '';
  const dir = mkdtempSync(join(tmpdir(), 'gateway-audit-'));
  const auditFile = join(dir, 'audit.jsonl');

  before(async () => {
    [sso, upstream, receiver] = await Promise.all([startTestIssuer(), startUpstreamStandIn(), startOtlpReceiver()]);
    const [port, metricsPort] = await Promise.all([freePort(), freePort()]);
    gatewayUrl = `http://127.0.0.1:${port}`;
    metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    child = spawn(process.execPath, [MAIN], {
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'test',
        HOST: '127.0.0.1',
        PORT: String(port),
        METRICS_PORT: String(metricsPort),
        AUDIT_LOG: auditFile,
        UPSTREAM_MAX_RETRIES: '1',
        UPSTREAM_RETRY_DELAY_MS: '1',
        SIGNALR_CONNECTION_STRING: upstream.connectionString,
        ...sso.env,
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
        OTEL_SERVICE_NAME: 'gateway-under-test',
        OTEL_BSP_SCHEDULE_DELAY: '50',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    token = await sso.token();
    await eventually(async () => {
      const ready = await fetch(`${gatewayUrl}/readyz`).catch(() => undefined);
      return ready?.ok ? true : undefined;
    }, `the gateway to be ready:\n${output}`);
  });

  after(async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
    await Promise.all([sso.close(), upstream.close(), receiver.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('continues the caller’s trace into the upstream call: server span → signalr span → undici client span → traceparent', async (t) => {
    const traceId = randomBytes(16).toString('hex');
    const callerSpanId = randomBytes(8).toString('hex');
    const secret = `content-${randomBytes(8).toString('hex')}`;
    const response = await fetch(`${gatewayUrl}/api/hubs/Chat/groups/g1/:send`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', traceparent: `00-${traceId}-${callerSpanId}-01` },
      body: JSON.stringify({ target: 'newMessage', arguments: [secret] }),
    });
    assert.equal(response.status, 202);

    const seen = upstream.requests.at(-1)!;
    const traceparent = String(seen.headers.traceparent);
    assert.match(traceparent, new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`), 'the upstream stand-in saw the caller’s trace id');

    const spans = await eventually(() => {
      const ofTrace = receiver.spans.filter((span) => span.traceId === traceId);
      return ofTrace.length >= 3 ? ofTrace : undefined;
    }, 'the three spans of the request');
    const byName = (name: string): ReceivedSpan => {
      const span = spans.find((candidate) => candidate.name === name);
      assert.ok(span, `a span named ${name} among ${spans.map((s) => s.name).join(', ')}`);
      return span;
    };
    const server = byName('POST /api/hubs/:hub/groups/:group/::send');
    const call = byName('signalr sendToGroup');
    const client = spans.find((span) => span.kind === SPAN_KIND_CLIENT);
    assert.ok(client, 'the undici client span');

    assert.equal(server.kind, SPAN_KIND_SERVER);
    assert.equal(server.parentSpanId, callerSpanId, 'the server span continues the incoming traceparent');
    assert.equal(call.parentSpanId, server.spanId);
    assert.equal(client.parentSpanId, call.spanId);
    assert.equal(traceparent.split('-')[2], client.spanId, 'upstream’s parent is the client span');

    assert.equal(server.service, 'gateway-under-test');
    assert.equal(server.attributes['signalr.operation'], 'sendToGroup');
    assert.equal(server.attributes['signalr.hub'], 'chat');
    assert.equal(server.attributes['http.route'], '/api/hubs/:hub/groups/:group/::send');
    assert.equal(server.attributes['http.response.status_code'], 202);
    assert.equal(call.attributes['signalr.operation'], 'sendToGroup');
    assert.equal(call.attributes['http.response.status_code'], 202);
    assert.equal(client.attributes['http.response.status_code'], 202);

    for (const span of [server, call, client]) t.diagnostic(`${span.spanId} ← ${span.parentSpanId} ${span.name} ${JSON.stringify(span.attributes)}`);
    t.diagnostic(`upstream traceparent ${traceparent}`);

    const exported = receiver.bodies.join('\n');
    assert.ok(!exported.includes(secret), 'no message content is exported');
    assert.ok(!exported.includes(token), 'no SSO token is exported');
    assert.ok(!exported.toLowerCase().includes('bearer'), 'no authorization header is exported');
  });

  it('serves Prometheus metrics on METRICS_PORT, with bounded labels', async (t) => {
    const scrape = await (await fetch(metricsUrl)).text();
    for (const line of scrape.split('\n').filter((l) => /^signalr_gateway_\w+(_count|_total)?\{/.test(l) && !/_bucket/.test(l))) t.diagnostic(line);
    const lines = scrape.split('\n');
    const has = (pattern: RegExp): void =>
      assert.ok(
        lines.some((line) => pattern.test(line)),
        `a line matching ${pattern} in\n${scrape.slice(0, 4000)}`,
      );
    has(/^signalr_gateway_http_request_duration_seconds_count\{route="\/api\/hubs\/:hub\/groups\/:group\/::send",method="POST",status_class="2xx"\} 1$/);
    has(/^signalr_gateway_requests_total\{operation="sendToGroup",caller="[^"]+",hub="chat",status_class="2xx"\} 1$/);
    has(/^signalr_gateway_upstream_request_duration_seconds_count\{operation="sendToGroup",outcome="ok",status="202"\} 1$/);
    has(/^signalr_gateway_sso_verifications_total\{outcome="accepted",reason="verified"\} \d+$/);
    has(/^signalr_gateway_jwks_fetches_total\{outcome="success"\} \d+$/);
    // Every request answered has left the gauge (its response's `close`), however it ended.
    await eventually(
      async () => ((await (await fetch(metricsUrl)).text()).includes('\nsignalr_gateway_http_requests_in_flight 0\n') ? true : undefined),
      'no request in flight',
    );
    has(/^process_cpu_seconds_total \d/);
    has(/^# TYPE signalr_gateway_rate_limited_total counter$/);
    has(/^# TYPE signalr_gateway_idempotent_replays_total counter$/);
    assert.ok(!scrape.includes('g1'), 'group ids are never label values');
    assert.equal((await fetch(`${gatewayUrl}/metrics`)).status, 404, 'the API port does not serve metrics');
  });

  it('writes one audit line per accepted state-changing operation, without payload or token', async () => {
    const args = JSON.stringify(['a secret message']);
    const send = await fetch(`${gatewayUrl}/api/hubs/Chat/users/alice/:send?application=App1`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-request-id': 'audit-me-1' },
      body: `{"target":"notify","arguments":${args}}`,
    });
    assert.equal(send.status, 202);
    const invalid = await fetch(`${gatewayUrl}/api/hubs/Chat/users/alice/:send`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-request-id': 'refused-1' },
      body: '{"arguments":[]}',
    });
    assert.equal(invalid.status, 400);
    const minted = await fetch(`${gatewayUrl}/api/hubs/Chat/:generateToken?userId=bob`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'x-request-id': 'mint-1' },
    });
    assert.equal(minted.status, 200);
    const { accessToken } = (await minted.json()) as { accessToken: string };
    const read = await fetch(`${gatewayUrl}/api/hubs/Chat/users/alice`, { headers: { authorization: `Bearer ${token}`, 'x-request-id': 'read-1' } });
    assert.equal(read.status, 200);

    const records = await eventually(() => {
      const text = (() => {
        try {
          return readFileSync(auditFile, 'utf8');
        } catch {
          return '';
        }
      })();
      const parsed = text
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, any>);
      return parsed.some((record) => record['requestId'] === 'mint-1') ? { text, parsed } : undefined;
    }, 'the audit record');
    const record = records.parsed.find((candidate) => candidate['requestId'] === 'audit-me-1')!;
    assert.equal(record['kind'], 'audit');
    assert.equal(record['operation'], 'sendToUser');
    assert.equal(record['hub'], 'Chat');
    assert.equal(record['application'], 'App1');
    assert.deepEqual(record['targets'], { user: 'alice' });
    assert.deepEqual(record['message'], { target: 'notify', bytes: Buffer.byteLength(args), sha256: createHash('sha256').update(args).digest('hex') });
    assert.deepEqual(record['outcome'], { status: 202, upstream: [202], replayed: false });
    assert.equal(typeof record['actor'].clientId, 'string');
    assert.match(record['traceId'], /^[0-9a-f]{32}$/);
    const mint = records.parsed.find((candidate) => candidate['requestId'] === 'mint-1')!;
    assert.equal(mint['operation'], 'generateToken');
    assert.deepEqual(mint['targets'], { user: 'bob' });
    assert.deepEqual(mint['outcome'], { status: 200, upstream: [], replayed: false });
    assert.ok(!records.text.includes(accessToken), 'never a minted token');
    assert.ok(!records.text.includes('a secret message'), 'never the payload');
    assert.ok(!records.text.includes(token), 'never the token');
    assert.ok(!records.parsed.some((candidate) => candidate['requestId'] === 'refused-1'), 'a request refused by validation is not audited');
    assert.ok(!records.parsed.some((candidate) => candidate['requestId'] === 'read-1'), 'reads are not audited');
  });

  /** The audit record of the request sent with this `x-request-id`, once written. */
  const auditRecordOf = (requestId: string): Promise<Record<string, any>> =>
    eventually(() => {
      const line = readFileSync(auditFile, 'utf8')
        .split('\n')
        .find((candidate) => candidate.includes(`"requestId":"${requestId}"`));
      return line === undefined ? undefined : (JSON.parse(line) as Record<string, any>);
    }, `the audit record of ${requestId}`);

  it('lists the upstream attempts of every state-changing operation in its audit record', async () => {
    const successes = (...rawPaths: [string, string][]): number[] => rawPaths.map(([method, rawPath]) => successStatus(method, rawPath));
    const operations: { name: string; method: string; path: string; body?: unknown; upstream: number[] }[] = [
      ...CASES.filter(({ method }) => method !== 'GET' && method !== 'HEAD').map(({ name, method, path, body, upstream }) => ({
        name,
        method,
        path,
        body,
        upstream: upstream.map(({ method, rawPath }) => successStatus(method, rawPath)),
      })),
      { name: 'send to users', method: 'POST', path: '/api/hubs/chat/:sendToUsers', body: { target: 't', users: ['u1', 'u2'] }, upstream: [202, 202] },
      { name: 'send to groups', method: 'POST', path: '/api/hubs/chat/:sendToGroups', body: { target: 't', groups: ['g1', 'g2'] }, upstream: [202, 202] },
      { name: 'invoke', method: 'POST', path: '/api/hubs/chat/connections/c1/:invoke', body: { target: 't' }, upstream: [200] },
      { name: 'stream item', method: 'POST', path: '/api/hubs/chat/connections/c1/streams/s1/:send', body: { item: 1 }, upstream: [202] },
      {
        name: 'complete stream',
        method: 'POST',
        path: '/api/hubs/chat/connections/c1/streams/s1/:complete',
        upstream: successes(['POST', '/api/hubs/chat/connections/c1/streams/s1/:complete']),
      },
      {
        name: 'execute',
        method: 'POST',
        path: '/api/hubs/chat/:execute',
        body: [{ type: 'SendMessage', message: { target: 't' } }],
        upstream: successes(['POST', '/api/hubs/chat/:execute']),
      },
    ];
    for (const [i, { name, method, path, body, upstream }] of operations.entries()) {
      const reply = await fetch(gatewayUrl + path, {
        method,
        headers: { authorization: `Bearer ${token}`, 'x-request-id': `every-${i}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      assert.ok(reply.status < 300, `${name}: ${reply.status} ${await reply.text()}`);
      assert.deepEqual((await auditRecordOf(`every-${i}`))['outcome'].upstream, upstream, name);
    }
  });

  it('lists a retried attempt, and an attempt that failed without a status, in completion order', async () => {
    let failed = false;
    upstream.answerWith(({ rawPath }) => {
      if (rawPath === '/api/hubs/chat/users/retried/groups' && !failed) {
        failed = true;
        return { status: 503 };
      }
      if (rawPath === '/api/hubs/chat/users/cut/:send') return { destroy: true };
      return undefined;
    });
    try {
      const retried = await fetch(`${gatewayUrl}/api/hubs/chat/users/retried/groups`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${token}`, 'x-request-id': 'retried-1' },
      });
      assert.equal(retried.status, 204);
      assert.deepEqual((await auditRecordOf('retried-1'))['outcome'], { status: 204, upstream: [503, 204], replayed: false });
      // A message whose connection broke after it was written is not sent again: it may have been delivered.
      const cut = await fetch(`${gatewayUrl}/api/hubs/chat/users/cut/:send`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-request-id': 'cut-1' },
        body: '{"target":"t"}',
      });
      assert.equal(cut.status, 502);
      assert.deepEqual((await auditRecordOf('cut-1'))['outcome'], { status: 502, upstream: ['transport'], replayed: false });
    } finally {
      upstream.answerWith();
    }
  });

  it('counts an idempotent replay, and its audit record says it was replayed', async () => {
    const send = (requestId: string) =>
      fetch(`${gatewayUrl}/api/hubs/chat/:send`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': 'observe-replay-1', 'x-request-id': requestId },
        body: '{"target":"t","arguments":[]}',
      });
    assert.equal((await send('first-1')).status, 202);
    const again = await send('replay-1');
    assert.equal(again.status, 202);
    assert.equal(again.headers.get('idempotency-replayed'), 'true');
    const scrape = await (await fetch(metricsUrl)).text();
    assert.match(scrape, /^signalr_gateway_idempotent_replays_total\{operation="broadcast"\} 1$/m);
    const replayed = await eventually(() => {
      const line = readFileSync(auditFile, 'utf8')
        .split('\n')
        .find((candidate) => candidate.includes('"replay-1"'));
      return line === undefined ? undefined : (JSON.parse(line) as Record<string, any>);
    }, 'the replay’s audit record');
    assert.deepEqual(replayed['outcome'], { status: 202, upstream: [], replayed: true });
  });
});
