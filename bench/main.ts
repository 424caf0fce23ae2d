/**
 * `npm run bench`: the five scenarios in a fixed order, on loopback, each printing its parameters with the machine's
 * facts, then one table per scenario and everything in bench-results/bench.json. Scaled by BENCH_* variables:
 *   BENCH_CONNECTIONS (32), BENCH_DURATION_S (10), BENCH_WARMUP_S (3)   gateway overhead, per target
 *   BENCH_E2E_CLIENTS (100,1000), BENCH_E2E_ROUNDS (20)                 end to end
 *   BENCH_CLIENTS (1000,5000,10000), BENCH_ROUNDS (50)                  emulator capacity, emulator and raw ws
 *   BENCH_STATE_DURATION_S (5)                                           shared state, per case
 *   BENCH_SLICE_S (4), BENCH_ROUNDS_FEATURES (3)                         features: alternating slices per variant
 *   BENCH_SCENARIOS (overhead,end-to-end,emulator,state,features)        which to run
 *   BENCH_COMPARE=<dir>  features: another checkout's built dist-test, measured beside this build (an A/B of two commits)
 *   BENCH_PROFILE=1      the gateway under the CPU profiler in scenario 1 (bench-results/gateway.cpuprofile)
 *   BENCH_TRACING=1      the gateway with OpenTelemetry tracing on in scenario 1 (off by default, as deployed)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { startDevIssuer } from '../src/dev/dev-issuer.js';
import { runEmulatorBench, type EmulatorBenchResults, type FanoutFigures } from './emulator.js';
import { runEndToEnd } from './end-to-end.js';
import { runOverhead, TARGETS, type OverheadResults, type Ratios } from './overhead.js';
import { runStateBench } from './state.js';
import { runFeatures } from './features.js';
import { printProfile, summarizeProfile } from './profile.js';

const RESULTS_DIR = 'bench-results';
const SCENARIOS = ['overhead', 'end-to-end', 'emulator', 'state', 'features'] as const;

const number = (name: string, fallback: number): number => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
};

const numbers = (name: string, fallback: string): number[] => {
  const values = (process.env[name] ?? fallback).split(',').map(Number);
  if (values.some((value) => !Number.isInteger(value) || value <= 0)) throw new Error(`${name} must be a comma-separated list of positive whole numbers`);
  return values;
};

const machine = {
  node: process.version,
  cores: availableParallelism(),
  cpu: cpus()[0]?.model.trim() ?? 'unknown',
  memoryGB: Number((totalmem() / 2 ** 30).toFixed(1)),
  platform: `${process.platform} ${process.arch}`,
};

function printParameters(title: string, parameters: object): void {
  console.log(`\n## ${title}\nNode ${machine.node}, ${machine.cores} cores (${machine.cpu}); ${JSON.stringify(parameters)}`);
}

/** A Markdown table, so the output can go into docs/performance.md as it is. */
function printTable(header: string[], rows: (string | number)[][]): void {
  const line = (cells: (string | number)[]): string => `| ${cells.join(' | ')} |`;
  console.log([line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n'));
}

function printOverhead(results: OverheadResults): void {
  const { targets, ratios, goal, gateway } = results;
  console.log(
    `Gateway as deployed: NODE_ENV=${gateway.nodeEnv}, LOG_LEVEL=${gateway.logLevel}, AUDIT_LOG=${gateway.auditLog}; metrics ${gateway.metrics}; tracing ${gateway.tracing}`,
  );
  printTable(
    ['target', 'req/s', 'p50 ms', 'p99 ms', 'CPU µs / request', 'failures'],
    TARGETS.map((name) => {
      const { requestsPerSecond, latencyMs, cpuMicrosPerRequest, failures } = targets[name];
      return [name, requestsPerSecond, latencyMs.p50, latencyMs.p99, cpuMicrosPerRequest, failures];
    }),
  );
  console.log();
  const x = (ratio: number | null): string => (ratio === null ? '—' : `${ratio}x`);
  const row = (name: string, { throughput, p50, p99 }: Ratios) => [name, x(throughput), x(p50), x(p99)];
  printTable(
    ['ratio', 'throughput', 'p50', 'p99'],
    [
      row('gateway / hop', ratios.gatewayToHop),
      row('gateway / minimal', ratios.gatewayToMinimal),
      row('gateway / direct', ratios.gatewayToDirect),
      row('hop / minimal', ratios.hopToMinimal),
    ],
  );
  console.log(
    `gateway/hop ${x(ratios.gatewayToHop.throughput)} (p99 ${x(ratios.gatewayToHop.p99)}), gateway/minimal ${x(ratios.gatewayToMinimal.throughput)} (p99 ${x(ratios.gatewayToMinimal.p99)})`,
  );
  const yes = (ok: boolean): string => (ok ? 'yes' : 'no');
  console.log(
    `Goal (issue 17: throughput ≥ 1.0x the hop's, p99 ≤ the hop's): ${goal.met ? 'met' : 'NOT met'} ` +
      `(throughput ${yes(goal.throughputAtLeastHop)}, p99 ${yes(goal.p99AtMostHop)}); ` +
      `next (≥ 0.6x the minimal proxy): ${goal.next.throughputAtLeast60PercentOfMinimal ? 'met' : 'NOT met'}`,
  );
}

const fanoutRow = (clients: number, server: string, figures: FanoutFigures): (string | number)[] => [
  clients,
  server,
  figures.connectionsHeld,
  figures.connectSeconds,
  figures.rssIdleMB,
  figures.rssLoadedMB,
  figures.rssPeakMB,
  figures.kbPerConnection,
  figures.messagesPerSecond,
  figures.cpuMicrosPerMessage,
  figures.toLastReceiptMs.p50,
  figures.toLastReceiptMs.p99,
  figures.incompleteRounds,
];

function printEmulator({ parameters, runs, goal }: EmulatorBenchResults): void {
  if (parameters.note) console.log(parameters.note);
  printTable(
    [
      'clients',
      'server',
      'held',
      'connect s',
      'RSS idle MB',
      'RSS loaded MB',
      'RSS peak MB',
      'KB / connection',
      'messages/s',
      'CPU µs / message',
      'p50 ms',
      'p99 ms',
      'incomplete rounds',
    ],
    runs.flatMap(({ clients, emulator, raw }) => [fanoutRow(clients, 'emulator', emulator), fanoutRow(clients, 'raw ws', raw)]),
  );
  console.log();
  printTable(
    ['emulator / raw ws', 'messages/s', 'CPU µs / message', 'p50', 'p99', 'RSS loaded'],
    runs.map(({ clients, ratios }) => [
      `${clients} clients`,
      `${ratios.messagesPerSecond}x`,
      `${ratios.cpuMicrosPerMessage}x`,
      `${ratios.p50}x`,
      `${ratios.p99}x`,
      `${ratios.rssLoaded}x`,
    ]),
  );
  const verdict = (met: boolean | null): string => (met === null ? 'not measured' : met ? 'yes' : 'NO');
  const throughput = goal.throughputAtLeast80PercentOfRaw.map(({ clients, ratio, met }) => `${clients}: ${ratio ?? '—'}x ${verdict(met)}`).join(', ');
  console.log(
    `Goal (issue 17: ≥ 0.8x the raw broadcast's messages/s at 1000 and 5000 clients; 10000 connections under 300 MB RSS; p99 < 50 ms at 1000): ` +
      `${goal.met ? 'met' : 'NOT met'} (throughput ${throughput}; 10000 connections: ${goal.rssUnder300MBAt10000.rssMB ?? '—'} MB ${verdict(goal.rssUnder300MBAt10000.met)}; ` +
      `p99 at 1000: ${goal.p99Under50MsAt1000.p99Ms ?? '—'} ms ${verdict(goal.p99Under50MsAt1000.met)})`,
  );
}

async function main(): Promise<void> {
  const selected = (process.env['BENCH_SCENARIOS'] ?? SCENARIOS.join(',')).split(',').map((name) => name.trim());
  const unknown = selected.filter((name) => !(SCENARIOS as readonly string[]).includes(name));
  if (unknown.length > 0) throw new Error(`BENCH_SCENARIOS: unknown ${unknown.join(', ')} (known: ${SCENARIOS.join(', ')})`);
  const began = performance.now();
  console.log(`# signalr-gateway benchmark — Node ${machine.node}, ${machine.cores} cores, ${machine.cpu}, ${machine.memoryGB} GB, ${machine.platform}`);
  // Anything else running shares the cores with the processes under test; the figures are only as quiet as the machine.
  const loadAtStart = Number(loadavg()[0].toFixed(2));
  console.log(
    `Load average at start: ${loadavg()
      .map((load) => load.toFixed(2))
      .join(', ')} (1, 5, 15 min) on ${machine.cores} cores`,
  );
  if (loadAtStart > machine.cores / 2)
    console.log(`Warning: load average ${loadAtStart} on ${machine.cores} cores at start; other work will skew the figures.`);

  // The SSO issuer lives in this process: the gateway fetches its keys once, and the token is fetched once.
  const sso = await startDevIssuer();
  const results: Record<string, unknown> = { machine, loadAverageAtStart: loadAtStart, startedAt: new Date().toISOString() };
  try {
    const ssoEnv = { SSO_ISSUER: sso.issuer, SSO_AUDIENCE: sso.audience };
    const token = await sso.serviceToken();

    if (selected.includes('overhead')) {
      const profileFile = process.env['BENCH_PROFILE'] === '1' ? join(RESULTS_DIR, 'gateway.cpuprofile') : undefined;
      mkdirSync(RESULTS_DIR, { recursive: true });
      const options = {
        connections: number('BENCH_CONNECTIONS', 32),
        durationSeconds: number('BENCH_DURATION_S', 10),
        warmupSeconds: number('BENCH_WARMUP_S', 3),
      };
      const tracing = process.env['BENCH_TRACING'] === '1';
      printParameters('1. Gateway overhead: POST /api/hubs/bench/:send, upstream answers 202', { ...options, tracing, profiled: profileFile !== undefined });
      const overhead = await runOverhead({ ...options, tracing, profileFile, ssoEnv, token });
      printOverhead(overhead);
      results['overhead'] = overhead;
      if (profileFile) {
        const profile = summarizeProfile(profileFile);
        printProfile(profile);
        results['profile'] = profile;
      }
    }

    if (selected.includes('end-to-end')) {
      const options = {
        clientCounts: numbers('BENCH_E2E_CLIENTS', '100,1000'),
        rounds: number('BENCH_E2E_ROUNDS', 20),
      };
      printParameters('2. End to end: API call through the gateway → last WebSocket client on the emulator', options);
      const endToEnd = await runEndToEnd({ ...options, ssoEnv, token });
      printTable(
        ['clients', 'send', 'p50 ms', 'p99 ms', 'messages/s', 'incomplete rounds'],
        endToEnd.runs.flatMap(({ clients, broadcast, group }) => [
          [clients, 'broadcast', broadcast.toLastReceiptMs.p50, broadcast.toLastReceiptMs.p99, broadcast.messagesPerSecond, broadcast.incompleteRounds],
          [clients, 'group', group.toLastReceiptMs.p50, group.toLastReceiptMs.p99, group.messagesPerSecond, group.incompleteRounds],
        ]),
      );
      results['endToEnd'] = endToEnd;
    }

    if (selected.includes('emulator')) {
      const options = { clientCounts: numbers('BENCH_CLIENTS', '1000,5000,10000'), rounds: number('BENCH_ROUNDS', 50) };
      printParameters('3. Emulator capacity: raw WebSocket clients, REST broadcasts straight to the emulator, then to a raw ws broadcast', options);
      const emulator = await runEmulatorBench(options);
      printEmulator(emulator);
      results['emulator'] = emulator;
    }

    if (selected.includes('state')) {
      const options = { connections: number('BENCH_CONNECTIONS', 32), durationSeconds: number('BENCH_STATE_DURATION_S', 5), warmupSeconds: 2 };
      printParameters('4. Shared state: rate limit and Idempotency-Key, in memory and in Redis (a fresh key per request)', options);
      const state = await runStateBench({ ...options, ssoEnv, token });
      printTable(
        ['case', 'req/s', 'p50 ms', 'p99 ms', 'gateway CPU µs / request', 'added µs', 'Redis CPU µs / request', 'failures'],
        state.cases.map((c) => [
          c.name,
          c.requestsPerSecond,
          c.latencyMs.p50,
          c.latencyMs.p99,
          c.cpuMicrosPerRequest,
          c.addedCpuMicrosPerRequest,
          c.redisCpuMicrosPerRequest,
          c.failures,
        ]),
      );
      results['state'] = state;
    }

    if (selected.includes('features')) {
      const options = { connections: number('BENCH_CONNECTIONS', 32), sliceSeconds: number('BENCH_SLICE_S', 4), rounds: number('BENCH_ROUNDS_FEATURES', 3) };
      const compareBuild = process.env['BENCH_COMPARE'] || undefined;
      printParameters("5. What each feature costs: scenario 1's :send, the gateway as deployed and with one thing changed, in alternating slices", {
        ...options,
        compareBuild,
      });
      const features = await runFeatures({ ...options, compareBuild, ssoEnv, token });
      printTable(
        ['variant', 'req/s per slice', 'worst p99 ms', 'CPU µs / request', 'vs as deployed', 'failures'],
        features.variants.map((v) => [
          v.variant,
          v.requestsPerSecond.join(', '),
          v.worstP99Ms,
          v.cpuMicrosPerRequest,
          `${v.addedCpuMicrosPerRequest >= 0 ? '+' : ''}${v.addedCpuMicrosPerRequest}`,
          v.failures,
        ]),
      );
      results['features'] = features;
    }
  } finally {
    await sso.close();
  }

  results['seconds'] = Math.round((performance.now() - began) / 1000);
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(join(RESULTS_DIR, 'bench.json'), JSON.stringify(results, null, 2) + '\n');
  console.log(`\nDone in ${results['seconds'] as number} s; figures in ${join(RESULTS_DIR, 'bench.json')}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
