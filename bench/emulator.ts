/**
 * Scenario 3, emulator capacity: N raw WebSocket clients (JSON protocol) on loopback, broadcasts by REST, timed from
 * the REST call to the last client's receipt; then the same clients and broadcasts against a raw `ws` broadcast
 * (bench/raw-fanout.ts), the floor the emulator is measured against. Each server runs in a process of its own, so its
 * resident memory is measured alone; the clients and the REST caller share this one.
 */
import { spawn, execSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { SignJWT } from 'jose';
import WebSocket from 'ws';
import { cpuMicros } from './overhead.js';
import { startServer } from './processes.js';

export const KEY = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH';
const HUB = 'bench';
const MAX_CLIENTS = 10_000;
const CONNECT_BATCH = 200;
const CONNECT_DEADLINE_MS = 90_000;
const ROUND_TIMEOUT_MS = 15_000;
const WARMUP_ROUNDS = 3;
const PAYLOAD = 'payload of a typical chat message';
const FD_MARGIN = 256; // sockets, pipes and files besides the clients

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function clientCount(requested: number): { clients: number; note?: string } {
  const fdLimit = Number(execSync('ulimit -n', { shell: '/bin/sh' }).toString().trim());
  const byFds = Number.isFinite(fdLimit) ? fdLimit - FD_MARGIN : MAX_CLIENTS;
  const clients = Math.max(1, Math.min(requested, MAX_CLIENTS, byFds));
  if (clients < requested) {
    return {
      clients,
      note: `capped ${requested} → ${clients}: at most ${MAX_CLIENTS} clients, and ulimit -n is ${fdLimit} (one fd per socket in each process)`,
    };
  }
  return { clients };
}

const residentBytes = (pid: number): number => {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('VmRSS:'));
  return Number(/(\d+)/.exec(line ?? '')?.[1] ?? 0) * 1024;
};

export const token = (aud: string): Promise<string> =>
  new SignJWT({ aud }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setExpirationTime('1h').sign(new TextEncoder().encode(KEY));

export async function startEmulatorProcess(): Promise<{ url: string; pid: number; stop(): void }> {
  const main = fileURLToPath(new URL('../src/emulator/main.js', import.meta.url));
  const child = spawn(process.execPath, [main], {
    env: { ...process.env, EMULATOR_PORT: '0', EMULATOR_ACCESS_KEY: KEY },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('exit', () => reject(new Error('the emulator exited')));
    lines.on('line', (line) => {
      const match = /^Endpoint=(http:\/\/[^;]+);/.exec(line);
      if (match) resolve(match[1]);
    });
  });
  return { url, pid: child.pid!, stop: () => child.kill('SIGTERM') };
}

export const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

/**
 * A raw WebSocket client of the emulator (JSON protocol): negotiate, connect, handshake. Every hub record after the
 * handshake goes to `onRecord`; the caller pings.
 */
export async function connectClient(
  emulatorUrl: string,
  hub: string,
  clientToken: string,
  onRecord: (record: string) => void,
): Promise<{ socket: WebSocket; connectionId: string }> {
  const negotiated = await fetch(`${emulatorUrl}/client/negotiate?hub=${hub}&negotiateVersion=1`, {
    method: 'POST',
    headers: { authorization: `Bearer ${clientToken}` },
  });
  const { connectionId, connectionToken } = (await negotiated.json()) as { connectionId: string; connectionToken: string };
  const socket = new WebSocket(`${emulatorUrl.replace('http', 'ws')}/client/?hub=${hub}&id=${connectionToken}`, {
    headers: { authorization: `Bearer ${clientToken}` },
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.once('open', () => socket.send('{"protocol":"json","version":1}\x1e'));
    socket.once('message', () => resolve()); // handshake response
  });
  socket.on('message', (data) => {
    for (const record of (data as Buffer).toString().split('\x1e')) if (record !== '') onRecord(record);
  });
  return { socket, connectionId };
}

/** What one server did for N clients: connections, memory, and the broadcast rounds after the warm-up. */
export interface FanoutFigures {
  connectionsHeld: number;
  connectFailures: number;
  connectSeconds: number;
  rssIdleMB: number;
  /** Once every client is connected, before any broadcast. */
  rssLoadedMB: number;
  /** The highest after any broadcast round. */
  rssPeakMB: number;
  kbPerConnection: number;
  messagesPerSecond: number;
  /**
   * The server process's CPU time (user + system, 10 ms ticks) over the measured rounds per message delivered: REST
   * call, encoding and the writes, without the clients' side; steadier than messages/s on shared cores.
   */
  cpuMicrosPerMessage: number;
  /** From the REST call to the last of the N clients' receipt. */
  toLastReceiptMs: { p50: number; p99: number };
  /** Rounds in which some client got nothing before the timeout. */
  incompleteRounds: number;
}

export interface FanoutRun {
  clients: number;
  emulator: FanoutFigures;
  raw: FanoutFigures;
  /** The emulator's figure over the raw broadcast's. */
  ratios: { messagesPerSecond: number; cpuMicrosPerMessage: number; p50: number; p99: number; rssLoaded: number };
}

export interface EmulatorBenchResults {
  parameters: { clientCounts: number[]; rounds: number; warmupRounds: number; payload: string; note?: string };
  runs: FanoutRun[];
  goal: EmulatorGoal;
}

/** Issue 17's goal for the emulator; null where the bench did not run that client count. */
export interface EmulatorGoal {
  met: boolean;
  throughputAtLeast80PercentOfRaw: { clients: number; ratio: number | null; met: boolean | null }[];
  rssUnder300MBAt10000: { rssMB: number | null; met: boolean | null };
  p99Under50MsAt1000: { p99Ms: number | null; met: boolean | null };
}

const MB = (bytes: number): number => Number((bytes / 2 ** 20).toFixed(1));
const ratio = (a: number, b: number): number => (b === 0 ? 0 : Number((a / b).toFixed(2)));

/** Connects `clients` clients to one server, times `rounds` broadcasts after a short warm-up, and disconnects them. */
async function measureFanout(
  server: { url: string; pid: number },
  clients: number,
  rounds: number,
  tokens: { client: string; rest: string },
): Promise<FanoutFigures> {
  await sleep(200);
  const idleRss = residentBytes(server.pid);

  // Receipts per round: the broadcast carries its round number.
  const received = new Map<number, number>();
  const lastReceipt = new Map<number, number>();
  const sockets: WebSocket[] = [];
  const onRecord = (record: string): void => {
    if (!record.includes('"target":"bench"')) return;
    const round = (JSON.parse(record) as { arguments: [number] }).arguments[0];
    received.set(round, (received.get(round) ?? 0) + 1);
    lastReceipt.set(round, performance.now());
  };

  // The emulator drops clients that stay silent for 30 s; the client side pings like the real client, from the start,
  // as connecting 10,000 clients on a busy machine can itself take more than 20 s.
  const pinger = setInterval(() => sockets.forEach((socket) => socket.send('{"type":6}\x1e')), 10_000);
  try {
    const connectStarted = performance.now();
    let failures = 0;
    while (sockets.length + failures < clients && performance.now() - connectStarted < CONNECT_DEADLINE_MS) {
      const batch = Math.min(CONNECT_BATCH, clients - sockets.length - failures);
      const results = await Promise.allSettled(Array.from({ length: batch }, () => connectClient(server.url, HUB, tokens.client, onRecord)));
      for (const result of results) {
        if (result.status === 'fulfilled') sockets.push(result.value.socket);
        else failures++;
      }
    }
    const connectSeconds = (performance.now() - connectStarted) / 1000;
    const held = sockets.length;
    await sleep(500);
    const loadedRss = residentBytes(server.pid);
    let peakRss = loadedRss;

    const sendUrl = `${server.url}/api/hubs/${HUB}/:send`;
    const latencies: number[] = [];
    let incompleteRounds = 0;
    let delivered = 0;
    let phaseStarted = performance.now();
    let cpuAtStart = cpuMicros(server.pid);
    for (let round = 0; round < WARMUP_ROUNDS + rounds; round++) {
      if (round === WARMUP_ROUNDS) {
        phaseStarted = performance.now();
        cpuAtStart = cpuMicros(server.pid);
      }
      const started = performance.now();
      const response = await fetch(sendUrl, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens.rest}`, 'content-type': 'application/json' },
        body: JSON.stringify({ target: 'bench', arguments: [round, PAYLOAD] }),
      });
      await response.arrayBuffer();
      if (response.status !== 202) throw new Error(`broadcast answered ${response.status}`);
      const deadline = started + ROUND_TIMEOUT_MS;
      while ((received.get(round) ?? 0) < held && performance.now() < deadline) await sleep(1);
      peakRss = Math.max(peakRss, residentBytes(server.pid));
      if (round < WARMUP_ROUNDS) continue;
      if ((received.get(round) ?? 0) < held) incompleteRounds++;
      delivered += received.get(round) ?? 0;
      latencies.push((lastReceipt.get(round) ?? deadline) - started);
    }
    const phaseSeconds = (performance.now() - phaseStarted) / 1000;
    const cpuUsed = cpuMicros(server.pid) - cpuAtStart;
    const sorted = latencies.sort((a, b) => a - b);
    return {
      connectionsHeld: held,
      connectFailures: failures,
      connectSeconds: Number(connectSeconds.toFixed(2)),
      rssIdleMB: MB(idleRss),
      rssLoadedMB: MB(loadedRss),
      rssPeakMB: MB(peakRss),
      kbPerConnection: Number(((loadedRss - idleRss) / Math.max(held, 1) / 1024).toFixed(1)),
      messagesPerSecond: Math.round(delivered / phaseSeconds),
      cpuMicrosPerMessage: Number((cpuUsed / Math.max(delivered, 1)).toFixed(2)),
      toLastReceiptMs: { p50: Number(percentile(sorted, 50).toFixed(2)), p99: Number(percentile(sorted, 99).toFixed(2)) },
      incompleteRounds,
    };
  } finally {
    clearInterval(pinger);
    for (const socket of sockets) socket.terminate();
  }
}

function goalOf(runs: FanoutRun[]): EmulatorGoal {
  const at = (clients: number): FanoutRun | undefined => runs.find((run) => run.clients === clients);
  const throughput = [1_000, 5_000].map((clients) => {
    const run = at(clients);
    return {
      clients,
      ratio: run ? run.ratios.messagesPerSecond : null,
      met: run ? run.emulator.messagesPerSecond >= 0.8 * run.raw.messagesPerSecond && run.emulator.incompleteRounds === 0 : null,
    };
  });
  const capacity = at(10_000)?.emulator;
  const rssMB = capacity ? Math.max(capacity.rssLoadedMB, capacity.rssPeakMB) : null;
  const latency = at(1_000)?.emulator;
  const goal = {
    throughputAtLeast80PercentOfRaw: throughput,
    rssUnder300MBAt10000: { rssMB, met: capacity && rssMB !== null ? capacity.connectionsHeld === 10_000 && rssMB < 300 : null },
    p99Under50MsAt1000: { p99Ms: latency?.toLastReceiptMs.p99 ?? null, met: latency ? latency.toLastReceiptMs.p99 < 50 : null },
  };
  const met = [...throughput.map((entry) => entry.met), goal.rssUnder300MBAt10000.met, goal.p99Under50MsAt1000.met].every((entry) => entry === true);
  return { met, ...goal };
}

/**
 * For each client count, a fresh emulator process and then a fresh raw broadcast process, each measured with the same
 * clients, rounds and messages; the counts are capped by `ulimit -n` and 10,000.
 */
export async function runEmulatorBench({ clientCounts, rounds }: { clientCounts: readonly number[]; rounds: number }): Promise<EmulatorBenchResults> {
  const capped = clientCounts.map((requested) => clientCount(requested));
  const note = capped.flatMap(({ note }) => (note ? [note] : [])).join('; ') || undefined;
  const counts = [...new Set(capped.map(({ clients }) => clients))];
  const tokens = { client: await token(`http://127.0.0.1/client/?hub=${HUB}`), rest: await token(`http://127.0.0.1/api/hubs/${HUB}/:send`) };
  const runs: FanoutRun[] = [];
  for (const clients of counts) {
    const emulatorProcess = await startEmulatorProcess();
    const emulator = await measureFanout(emulatorProcess, clients, rounds, tokens).finally(() => emulatorProcess.stop());
    const rawProcess = await startServer('raw-fanout');
    const raw = await measureFanout(rawProcess, clients, rounds, tokens).finally(() => rawProcess.stop());
    const ratios = {
      messagesPerSecond: ratio(emulator.messagesPerSecond, raw.messagesPerSecond),
      cpuMicrosPerMessage: ratio(emulator.cpuMicrosPerMessage, raw.cpuMicrosPerMessage),
      p50: ratio(emulator.toLastReceiptMs.p50, raw.toLastReceiptMs.p50),
      p99: ratio(emulator.toLastReceiptMs.p99, raw.toLastReceiptMs.p99),
      rssLoaded: ratio(emulator.rssLoadedMB, raw.rssLoadedMB),
    };
    runs.push({ clients, emulator, raw, ratios });
  }
  return { parameters: { clientCounts: counts, rounds, warmupRounds: WARMUP_ROUNDS, payload: PAYLOAD, ...(note ? { note } : {}) }, runs, goal: goalOf(runs) };
}
