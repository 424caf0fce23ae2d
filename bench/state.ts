/**
 * Scenario 4, the cost of the shared state: the gateway's `:send` (upstream answers 202) without either feature, with
 * a rate limit (never reached) and with a fresh Idempotency-Key on every request, the state in memory and in Redis
 * (a private redis-server). Figures are CPU per request of the gateway (and of Redis), steadier than throughput here.
 */
import autocannon from 'autocannon';
import { startRedis, type RunningRedis } from '../test/fixtures/redis-server.js';
import { BODY, cpuMicros, deployedGatewayEnv, figures, PATH, untilAccepted, type TargetFigures } from './overhead.js';
import { startServer, type ServerProcess } from './processes.js';

export interface StateBenchOptions {
  connections: number;
  durationSeconds: number;
  warmupSeconds: number;
  ssoEnv: Record<string, string>;
  token: string;
}

export interface StateCase extends TargetFigures {
  name: string;
  /** CPU of redis-server per request (0 in memory). */
  redisCpuMicrosPerRequest: number;
  /** The gateway's CPU per request above the case without either feature. */
  addedCpuMicrosPerRequest: number;
}

const CASES = [
  { name: 'neither', redis: false, env: {}, keys: false },
  { name: 'memory: rate limit', redis: false, env: { RATE_LIMIT: '100000000/1' }, keys: false },
  { name: 'memory: Idempotency-Key', redis: false, env: {}, keys: true },
  { name: 'redis: rate limit', redis: true, env: { RATE_LIMIT: '100000000/1' }, keys: false },
  { name: 'redis: Idempotency-Key', redis: true, env: {}, keys: true },
] as const;

export async function runStateBench(options: StateBenchOptions): Promise<{ parameters: object; cases: StateCase[] }> {
  const { connections, durationSeconds, warmupSeconds, ssoEnv, token } = options;
  const started: ServerProcess[] = [];
  let redis: RunningRedis | undefined;
  try {
    const upstream = await startServer('upstream', {});
    started.push(upstream);
    redis = await startRedis();
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const cases: StateCase[] = [];
    let keys = 0;
    const freshKey = [
      {
        setupRequest: (request: { headers: Record<string, string> }) => ({ ...request, headers: { ...request.headers, 'idempotency-key': `bench-${++keys}` } }),
      },
    ];
    for (const { name, redis: inRedis, env, keys: keyed } of CASES) {
      const gateway = await startServer('gateway', { ...deployedGatewayEnv(upstream.url, ssoEnv), ...env, ...(inRedis ? { REDIS_URL: redis.url } : {}) });
      try {
        await untilAccepted(gateway.url + PATH, headers);
        const load = { url: gateway.url + PATH, method: 'POST', headers, body: BODY, connections, ...(keyed ? { requests: freshKey } : {}) };
        await autocannon({ ...load, duration: warmupSeconds });
        const [gatewayBefore, redisBefore] = [cpuMicros(gateway.pid), cpuMicros(redis.pid)];
        const result = await autocannon({ ...load, duration: durationSeconds });
        const measured = figures(result, cpuMicros(gateway.pid) - gatewayBefore);
        const redisCpu = inRedis ? Math.round((cpuMicros(redis.pid) - redisBefore) / Math.max(result.requests.total, 1)) : 0;
        const added = measured.cpuMicrosPerRequest - (cases[0]?.cpuMicrosPerRequest ?? measured.cpuMicrosPerRequest);
        cases.push({ name, ...measured, redisCpuMicrosPerRequest: redisCpu, addedCpuMicrosPerRequest: added });
      } finally {
        await gateway.stop();
      }
    }
    return { parameters: { connections, durationSeconds, warmupSeconds, path: PATH }, cases };
  } finally {
    await redis?.kill();
    for (const server of started.reverse()) await server.stop();
  }
}
