/**
 * Scenario 1, gateway overhead: the same `POST /api/hubs/bench/:send` against a minimal upstream that answers 202,
 * reached directly, through a minimal Node proxy (node:http + undici Pool, no checks: the floor of a Node proxy here),
 * through a bare @fastify/http-proxy hop, and through the gateway (SSO token verified, permission checked, DTOs
 * validated, REST token signed, one log line, one audit line, metrics recorded). Each server runs in its own process;
 * autocannon runs here.
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
  /** OpenTelemetry tracing on in the gateway, every span exported (OTLP/HTTP JSON) to the upstream process. */
  tracing: boolean;
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
   * CPU time (user + system) of the process that answers the load (the upstream, a proxy, the gateway) per request:
   * far steadier than throughput on a shared 2-core machine, so it is what before/after comparisons use.
   */
  cpuMicrosPerRequest: number;
}

/** In the order they are measured. */
export const TARGETS = ['direct', 'minimal', 'hop', 'gateway'] as const;
export type Target = (typeof TARGETS)[number];

/** How the gateway under load is configured, printed with the figures. */
export interface GatewaySetup {
  nodeEnv: string;
  logLevel: string;
  auditLog: string;
  metrics: string;
  tracing: string;
}

export interface OverheadResults {
  parameters: Omit<OverheadOptions, 'ssoEnv' | 'token' | 'profileFile'> & { path: string; body: string; profiled: boolean };
  gateway: GatewaySetup;
  targets: Record<Target, TargetFigures>;
  ratios: { gatewayToHop: Ratios; gatewayToMinimal: Ratios; gatewayToDirect: Ratios; hopToMinimal: Ratios };
  /** Issue 17: at least the hop's throughput with a p99 no higher than the hop's; next, 0.6x the minimal proxy. */
  goal: { throughputAtLeastHop: boolean; p99AtMostHop: boolean; met: boolean; next: { throughputAtLeast60PercentOfMinimal: boolean } };
}

export interface Ratios {
  throughput: number | null;
  p50: number | null;
  p99: number | null;
}

export const PATH = '/api/hubs/bench/:send';
export const BODY = JSON.stringify({ target: 'bench', arguments: ['payload of a typical chat message'] });
const READY_TIMEOUT_MS = 15_000;

export async function runOverhead(options: OverheadOptions): Promise<OverheadResults> {
  const { connections, durationSeconds, warmupSeconds, profileFile, tracing, ssoEnv, token } = options;
  const started: ServerProcess[] = [];
  try {
    const upstream = await startServer('upstream', {});
    started.push(upstream);
    const minimal = await startServer('minimal', { UPSTREAM_URL: upstream.url });
    started.push(minimal);
    const hop = await startServer('hop', { UPSTREAM_URL: upstream.url });
    started.push(hop);
    const deployed = deployedGatewayEnv(upstream.url, ssoEnv);
    const setup: GatewaySetup = {
      nodeEnv: deployed['NODE_ENV'],
      logLevel: deployed['LOG_LEVEL'],
      auditLog: deployed['AUDIT_LOG'],
      metrics: 'recorded per request, served on a port of its own (as src/main.ts does), not scraped',
      tracing: tracing ? 'on, every span exported over OTLP/HTTP JSON to the upstream process (BENCH_TRACING=1)' : 'off, as deployed (OTEL_SDK_DISABLED=true)',
    };
    const gateway = await startServer('gateway', {
      ...deployed,
      ...(tracing && { OTEL_SDK_DISABLED: 'false', OTEL_EXPORTER_OTLP_ENDPOINT: upstream.url }),
      ...(profileFile ? { CPU_PROFILE_FILE: profileFile } : {}),
    });
    started.push(gateway);
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    await untilAccepted(gateway.url + PATH, headers);
    await untilAccepted(minimal.url + PATH, headers);

    // Fixed order; every target gets the same warm-up, connections, duration, headers and body.
    const fronts: Record<Target, ServerProcess> = { direct: upstream, minimal, hop, gateway };
    const targets = {} as Record<Target, TargetFigures>;
    for (const target of TARGETS) {
      const load = { url: fronts[target].url + PATH, method: 'POST', headers, body: BODY, connections };
      await autocannon({ ...load, duration: warmupSeconds });
      const cpuBefore = cpuMicros(fronts[target].pid);
      const result = await autocannon({ ...load, duration: durationSeconds });
      targets[target] = figures(result, cpuMicros(fronts[target].pid) - cpuBefore);
    }

    const ratios = {
      gatewayToHop: ratiosOf(targets.gateway, targets.hop),
      gatewayToMinimal: ratiosOf(targets.gateway, targets.minimal),
      gatewayToDirect: ratiosOf(targets.gateway, targets.direct),
      hopToMinimal: ratiosOf(targets.hop, targets.minimal),
    };
    // On the unrounded figures: a ratio printed as 1.00 may still be just under.
    const throughputAtLeastHop = targets.gateway.requestsPerSecond >= targets.hop.requestsPerSecond;
    const p99AtMostHop = targets.gateway.latencyMs.p99 <= targets.hop.latencyMs.p99;
    return {
      parameters: { connections, durationSeconds, warmupSeconds, tracing, path: PATH, body: BODY, profiled: profileFile !== undefined },
      gateway: setup,
      targets,
      ratios,
      goal: {
        throughputAtLeastHop,
        p99AtMostHop,
        met: throughputAtLeastHop && p99AtMostHop,
        next: { throughputAtLeast60PercentOfMinimal: targets.gateway.requestsPerSecond >= 0.6 * targets.minimal.requestsPerSecond },
      },
    };
  } finally {
    for (const server of started.reverse()) await server.stop();
  }
}

/**
 * The gateway as every scenario runs it, in front of `upstreamUrl`, unless a scenario changes one thing (printed with
 * scenario 1 as GatewaySetup): production's log level and audit trail, metrics recorded, tracing off whatever OTEL_* the
 * shell that runs the bench has set.
 */
export function deployedGatewayEnv(upstreamUrl: string, ssoEnv: Record<string, string>): Record<string, string> {
  return {
    ...ssoEnv,
    // Production would require an https SSO issuer (the bench's is http on loopback); the per-request path is the
    // same but for one header (HSTS), and the audit trail, production's default, is switched on explicitly.
    NODE_ENV: 'test',
    LOG_LEVEL: 'info',
    // Production's default (AUDIT_LOG unset, NODE_ENV=production): one audit record per send, on stdout with the request log.
    AUDIT_LOG: 'stdout',
    METRICS_PORT: '9464', // any non-zero value: the bench server listens on a free port
    OTEL_SDK_DISABLED: 'true',
    SIGNALR_CONNECTION_STRING: `Endpoint=http://127.0.0.1;Port=${new URL(upstreamUrl).port};AccessKey=${KEY};Version=1.0;`,
  };
}

/** The gateway serves once its SSO keys are loaded; until then it answers 503. A proxy must answer 202 too. */
export async function untilAccepted(url: string, headers: Record<string, string>): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const response = await fetch(url, { method: 'POST', headers, body: BODY });
    if (response.status === 202) return;
    if (Date.now() > deadline) throw new Error(`${url} answered ${response.status} instead of 202`);
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
  // autocannon's latencies are whole milliseconds: against a 0 ms base there is no ratio (null, printed as —).
  const ratio = (a: number, b: number): number | null => (b === 0 ? null : Number((a / b).toFixed(2)));
  return {
    throughput: ratio(subject.requestsPerSecond, base.requestsPerSecond),
    p50: ratio(subject.latencyMs.p50, base.latencyMs.p50),
    p99: ratio(subject.latencyMs.p99, base.latencyMs.p99),
  };
}
