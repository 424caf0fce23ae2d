/**
 * Scenario 1, gateway overhead: the same `POST /api/hubs/bench/:send` against a minimal upstream that answers 202,
 * reached directly, through a bare @fastify/http-proxy hop, and through the gateway (SSO token verified, permission
 * checked, DTOs validated, REST token signed, one log line). Each server runs in its own process; autocannon runs here.
 */
import autocannon, { type Result } from 'autocannon';
import { readFileSync } from 'node:fs';
import { KEY } from './emulator.js';
import { startServer, type ServerProcess } from './processes.js';

export interface OverheadOptions {
  connections: number;
  durationSeconds: number;
  warmupSeconds: number;
  /** The gateway runs under the CPU profiler, its profile written to this file. */
  profileFile?: string;
  /** SSO_ISSUER and SSO_AUDIENCE of the issuer that signed `token`. */
  ssoEnv: Record<string, string>;
  token: string;
}

export interface TargetFigures {
  requestsPerSecond: number;
  latencyMs: { p50: number; p99: number };
  requests: number;
  /** Connection errors, timeouts and answers other than 2xx; any of them makes the figures suspect. */
  failures: number;
  /**
   * CPU time (user + system) of the process that answers the load (the upstream, the hop, the gateway) per request:
   * far steadier than throughput on a shared 2-core machine, so it is what before/after comparisons use.
   */
  cpuMicrosPerRequest: number;
}

export type Target = 'direct' | 'hop' | 'gateway';

export interface OverheadResults {
  parameters: Omit<OverheadOptions, 'ssoEnv' | 'token' | 'profileFile'> & { path: string; body: string; gatewayLog: string; profiled: boolean };
  targets: Record<Target, TargetFigures>;
  ratios: { gatewayToHop: Ratios; gatewayToDirect: Ratios };
  goal: { throughputAtLeast70PercentOfHop: boolean; p99AtMostTwiceHop: boolean; met: boolean };
}

interface Ratios {
  throughput: number;
  p50: number;
  p99: number;
}

export const PATH = '/api/hubs/bench/:send';
export const BODY = JSON.stringify({ target: 'bench', arguments: ['payload of a typical chat message'] });
const READY_TIMEOUT_MS = 15_000;

export async function runOverhead(options: OverheadOptions): Promise<OverheadResults> {
  const { connections, durationSeconds, warmupSeconds, profileFile, ssoEnv, token } = options;
  const started: ServerProcess[] = [];
  try {
    const upstream = await startServer('upstream', {});
    started.push(upstream);
    const hop = await startServer('hop', { UPSTREAM_URL: upstream.url });
    started.push(hop);
    const { port } = new URL(upstream.url);
    const gateway = await startServer('gateway', {
      ...ssoEnv,
      NODE_ENV: 'test', // production would require an https SSO issuer; the code path per request is the same
      LOG_LEVEL: 'info',
      // Production's default: one audit line per send, on stdout with the request log.
      AUDIT_LOG: 'stdout',
      // Tracing on, exporting every span (OTLP/HTTP JSON) to the upstream process, which answers 202 to anything.
      ...(process.env['BENCH_TRACING'] === '1' ? { OTEL_EXPORTER_OTLP_ENDPOINT: upstream.url } : {}),
      SIGNALR_CONNECTION_STRING: `Endpoint=http://127.0.0.1;Port=${port};AccessKey=${KEY};Version=1.0;`,
      ...(profileFile ? { CPU_PROFILE_FILE: profileFile } : {}),
    });
    started.push(gateway);
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    await untilAccepted(gateway.url + PATH, headers);

    // Fixed order; every target gets the same warm-up, connections, duration, headers and body.
    const fronts: Record<Target, ServerProcess> = { direct: upstream, hop, gateway };
    const targets = {} as Record<Target, TargetFigures>;
    for (const target of ['direct', 'hop', 'gateway'] as const) {
      const load = { url: fronts[target].url + PATH, method: 'POST', headers, body: BODY, connections };
      await autocannon({ ...load, duration: warmupSeconds });
      const cpuBefore = cpuMicros(fronts[target].pid);
      const result = await autocannon({ ...load, duration: durationSeconds });
      targets[target] = figures(result, cpuMicros(fronts[target].pid) - cpuBefore);
    }

    const ratios = { gatewayToHop: ratiosOf(targets.gateway, targets.hop), gatewayToDirect: ratiosOf(targets.gateway, targets.direct) };
    const goal = { throughputAtLeast70PercentOfHop: ratios.gatewayToHop.throughput >= 0.7, p99AtMostTwiceHop: ratios.gatewayToHop.p99 <= 2 };
    return {
      parameters: {
        connections,
        durationSeconds,
        warmupSeconds,
        path: PATH,
        body: BODY,
        profiled: profileFile !== undefined,
        gatewayLog: 'LOG_LEVEL=info as in production: one JSON line per request, buffered and written asynchronously to stdout = /dev/null',
      },
      targets,
      ratios,
      goal: { ...goal, met: goal.throughputAtLeast70PercentOfHop && goal.p99AtMostTwiceHop },
    };
  } finally {
    for (const server of started.reverse()) await server.stop();
  }
}

/** The gateway serves once its SSO keys are loaded; until then it answers 503. */
export async function untilAccepted(url: string, headers: Record<string, string>): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const response = await fetch(url, { method: 'POST', headers, body: BODY });
    if (response.status === 202) return;
    if (Date.now() > deadline) throw new Error(`the gateway answered ${response.status} instead of 202`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export function figures(result: Result, cpuMicrosUsed: number): TargetFigures {
  return {
    requestsPerSecond: Math.round(result.requests.average),
    latencyMs: { p50: result.latency.p50, p99: result.latency.p99 },
    requests: result.requests.total,
    failures: result.errors + result.timeouts + result.non2xx,
    cpuMicrosPerRequest: Math.round(cpuMicrosUsed / Math.max(result.requests.total, 1)),
  };
}

/** User + system CPU time of a process so far (Linux), from /proc/<pid>/stat in clock ticks of 10 ms. */
export function cpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

function ratiosOf(subject: TargetFigures, base: TargetFigures): Ratios {
  const ratio = (a: number, b: number): number => Number((a / b).toFixed(2));
  return {
    throughput: ratio(subject.requestsPerSecond, base.requestsPerSecond),
    p50: ratio(subject.latencyMs.p50, base.latencyMs.p50),
    p99: ratio(subject.latencyMs.p99, base.latencyMs.p99),
  };
}
