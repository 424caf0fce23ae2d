/**
 * One server of the benchmark per process, so that the load generator, the gateway and its upstream never share an
 * event loop: `node servers.js <upstream|minimal|hop|gateway>`. Settings come from the environment; the process sends
 * `{ listening: url }` to its parent (IPC) once it accepts connections and exits cleanly on SIGTERM. With CPU_PROFILE_FILE set, the V8 CPU
 * profiler runs from then on (startup left out, unlike `--cpu-prof`) and the profile is written there on SIGTERM.
 *
 * Its first import is the gateway's own first import (src/main.ts): OpenTelemetry, loaded only when OTEL_* asks for
 * it (BENCH_TRACING=1 does, for the gateway), so the default run measures tracing switched off, as deployed.
 */
import '../src/observability/instrument.js';
import 'reflect-metadata';
import proxy from '@fastify/http-proxy';
import Fastify from 'fastify';
import { writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { Session } from 'node:inspector/promises';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import { createGateway } from '../src/app.js';
import { loadConfig } from '../src/config/load-config.js';
import { GatewayMetrics } from '../src/observability/metrics.js';
import { serveMetrics } from '../src/observability/metrics-server.js';

const HOST = '127.0.0.1';

interface Running {
  url: string;
  close(): Promise<void>;
}

/** `server` on a free port of HOST; closing drops its connections, then runs `afterClose` (say, a pool's close). */
async function listening(server: Server, afterClose: () => Promise<void> = async () => {}): Promise<Running> {
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  return {
    url: `http://${HOST}:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => void afterClose().then(() => resolve()));
      }),
  };
}

/** The least an upstream can do: read the body, answer 202 with no body, keep the connection alive. */
async function upstream(): Promise<Running> {
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => response.writeHead(202, { 'content-length': '0' }).end());
  });
  return listening(server);
}

/** Hop-by-hop headers (RFC 9110 §7.6.1) stay on their own connection; undici refuses most of them anyway. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te', 'trailer', 'host']);

function endToEnd(headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const kept: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined && !HOP_BY_HOP.has(name)) kept[name] = value;
  return kept;
}

/**
 * The floor of a Node proxy on this machine: a `node:http` server that forwards every request (method, path,
 * end-to-end headers, body) to UPSTREAM_URL through an undici `Pool` of keep-alive connections, as the gateway's
 * SignalR client does, and sends the answer back. Bodies are read whole, as the gateway reads them (they are at most
 * 1 MB). No routing, no checks, no logging; an upstream failure is a bare 502.
 */
async function minimal(): Promise<Running> {
  const pool = new Pool(required('UPSTREAM_URL'), { headersTimeout: 0, bodyTimeout: 0 });
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = chunks.length === 0 ? undefined : chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
      pool
        .request({ method: request.method as 'POST', path: request.url ?? '/', headers: endToEnd(request.headers), body })
        .then(async (answer) => {
          const answered = Buffer.from(await answer.body.arrayBuffer());
          response.writeHead(answer.statusCode, endToEnd(answer.headers)).end(answered);
        })
        .catch(() => {
          if (!response.headersSent) response.writeHead(502, { 'content-length': '0' });
          response.end();
        });
    });
  });
  return listening(server, () => pool.close());
}

/** A bare reverse-proxy hop to UPSTREAM_URL: no checks, no logging, pooled keep-alive connections. */
async function hop(): Promise<Running> {
  const app = Fastify({ logger: false });
  await app.register(proxy, { upstream: required('UPSTREAM_URL') });
  return { url: await app.listen({ port: 0, host: HOST }), close: () => app.close() };
}

/**
 * The real gateway, configured from the environment and logging exactly as in production (its own logger, LOG_LEVEL,
 * one line per request, buffered and written asynchronously to stdout); the parent points stdout at /dev/null. As
 * src/main.ts does, it serves its metrics on a port of its own unless METRICS_PORT=0 (here a free port, never scraped:
 * the per-request cost is the recording, which happens either way).
 */
async function gateway(): Promise<Running> {
  const config = loadConfig(process.env);
  const app = await createGateway(config);
  await app.listen({ port: 0, host: HOST });
  const metrics = config.observability.metricsPort === 0 ? undefined : await serveMetrics(app.get(GatewayMetrics).registry, HOST, 0);
  const { port } = app.getHttpServer().address() as AddressInfo;
  return { url: `http://${HOST}:${port}`, close: () => Promise.all([app.close(), metrics?.close()]).then(() => undefined) };
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
}

/** Starts the CPU profiler; the returned function stops it and writes the `.cpuprofile` to `file`. */
async function startProfiling(file: string | undefined): Promise<() => Promise<void>> {
  if (!file) return async () => {};
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return async () => {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
  };
}

const servers: Record<string, () => Promise<Running>> = { upstream, minimal, hop, gateway };

async function main(): Promise<void> {
  const name = process.argv[2] ?? '';
  const start = servers[name];
  if (!start) throw new Error(`usage: servers.js <${Object.keys(servers).join('|')}>`);
  const running = await start();
  const stopProfiling = await startProfiling(process.env['CPU_PROFILE_FILE']);
  process.once(
    'SIGTERM',
    () =>
      void stopProfiling()
        .then(() => running.close())
        .finally(() => process.exit(0)),
  );
  process.send!({ listening: running.url });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
