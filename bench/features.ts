/**
 * Scenario 5, what each feature costs: scenario 1's `:send` against the gateway as deployed and against variants with
 * one thing changed (the audit trail off, the request log off, tracing on), each in its own process. They are loaded
 * in turn, slice after slice, so a busy moment of the machine falls on every variant alike; figures are summed over the
 * slices. With BENCH_COMPARE=<the dist-test directory of another checkout, built>, that build as deployed is one more
 * variant: an A/B of two commits in one run.
 */
import autocannon from 'autocannon';
import { BODY, cpuMicros, deployedGatewayEnv, PATH, untilAccepted } from './overhead.js';
import { startServer, type ServerProcess } from './processes.js';

export interface FeaturesOptions {
  connections: number;
  sliceSeconds: number;
  rounds: number;
  /** Another checkout's compiled tree (its `dist-test`), measured as deployed beside this one. */
  compareBuild?: string;
  ssoEnv: Record<string, string>;
  token: string;
}

export interface VariantFigures {
  variant: string;
  /** Throughput of each slice, in the order they ran. */
  requestsPerSecond: number[];
  /** The highest p99 of any slice. */
  worstP99Ms: number;
  cpuMicrosPerRequest: number;
  /** CPU per request above (or below, negative) the gateway as deployed. */
  addedCpuMicrosPerRequest: number;
  failures: number;
}

interface Variant {
  name: string;
  env: Record<string, string>;
  build?: string;
}

export async function runFeatures(options: FeaturesOptions): Promise<{ parameters: object; variants: VariantFigures[] }> {
  const { connections, sliceSeconds, rounds, compareBuild, ssoEnv, token } = options;
  const started: ServerProcess[] = [];
  try {
    const upstream = await startServer('upstream', {});
    started.push(upstream);
    const variants: Variant[] = [
      { name: 'as deployed', env: {} },
      { name: 'audit trail off (AUDIT_LOG=off)', env: { AUDIT_LOG: 'off' } },
      { name: 'request log off (LOG_LEVEL=warn)', env: { LOG_LEVEL: 'warn' } },
      // The upstream answers OTLP's POSTs too (202): every span is sampled and exported.
      { name: 'tracing on, every span exported', env: { OTEL_SDK_DISABLED: 'false', OTEL_EXPORTER_OTLP_ENDPOINT: upstream.url } },
      ...(compareBuild === undefined ? [] : [{ name: `as deployed, built in ${compareBuild}`, env: {}, build: compareBuild }]),
    ];
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const gateways: ServerProcess[] = [];
    for (const { env, build } of variants) {
      const gateway = await startServer('gateway', { ...deployedGatewayEnv(upstream.url, ssoEnv), ...env }, build);
      started.push(gateway);
      gateways.push(gateway);
      await untilAccepted(gateway.url + PATH, headers);
    }
    const load = (gateway: ServerProcess, duration: number) =>
      autocannon({ url: gateway.url + PATH, method: 'POST', headers, body: BODY, connections, duration });
    for (const gateway of gateways) await load(gateway, sliceSeconds);
    const sums = variants.map(() => ({ requests: 0, cpu: 0, rates: [] as number[], worstP99Ms: 0, failures: 0 }));
    for (let round = 0; round < rounds; round++) {
      for (const [i, gateway] of gateways.entries()) {
        const cpuBefore = cpuMicros(gateway.pid);
        const result = await load(gateway, sliceSeconds);
        const sum = sums[i];
        sum.cpu += cpuMicros(gateway.pid) - cpuBefore;
        sum.requests += result.requests.total;
        sum.rates.push(Math.round(result.requests.average));
        sum.worstP99Ms = Math.max(sum.worstP99Ms, result.latency.p99);
        sum.failures += result.errors + result.timeouts + result.non2xx;
      }
    }
    const cpuOf = (i: number): number => Math.round(sums[i].cpu / Math.max(sums[i].requests, 1));
    return {
      parameters: { connections, sliceSeconds, rounds, path: PATH },
      variants: variants.map(({ name }, i) => ({
        variant: name,
        requestsPerSecond: sums[i].rates,
        worstP99Ms: sums[i].worstP99Ms,
        cpuMicrosPerRequest: cpuOf(i),
        addedCpuMicrosPerRequest: cpuOf(i) - cpuOf(0),
        failures: sums[i].failures,
      })),
    };
  } finally {
    for (const server of started.reverse()) await server.stop();
  }
}
