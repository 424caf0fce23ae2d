/**
 * Emulator fan-out benchmark: N raw WebSocket clients (JSON protocol) on loopback, REST broadcasts,
 * time from the REST call to the last client's receipt. The emulator runs in its own process so its
 * resident memory is measured alone. BENCH_CLIENTS (default 2,000, at most 10,000) and BENCH_ROUNDS.
 */
import { spawn, execSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { SignJWT } from 'jose';
import WebSocket from 'ws';

export const KEY = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH';
const HUB = 'bench';
const MAX_CLIENTS = 10_000;
const CONNECT_BATCH = 200;
const CONNECT_DEADLINE_MS = 90_000;
const ROUND_TIMEOUT_MS = 15_000;
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

export type EmulatorBenchResults = Awaited<ReturnType<typeof runEmulatorBench>>;

/** Connects `clients` raw clients to an emulator process of its own and times `rounds` REST broadcasts. */
export async function runEmulatorBench({ clients, rounds }: { clients: number; rounds: number }) {
  const { clients: wanted, note } = clientCount(clients);
  if (note) console.log(note);
  const emulator = await startEmulatorProcess();
  const clientAud = `http://127.0.0.1/client/?hub=${HUB}`;
  const clientToken = await token(clientAud);
  await sleep(200);
  const baselineRss = residentBytes(emulator.pid);

  // Receipts per round: the broadcast carries its round number.
  const received = new Map<number, number>();
  const lastReceipt = new Map<number, number>();
  const sockets: WebSocket[] = [];

  async function connectOne(): Promise<void> {
    const { socket } = await connectClient(emulator.url, HUB, clientToken, (record) => {
      if (!record.includes('"target":"bench"')) return;
      const round = (JSON.parse(record) as { arguments: [number] }).arguments[0];
      received.set(round, (received.get(round) ?? 0) + 1);
      lastReceipt.set(round, performance.now());
    });
    sockets.push(socket);
  }

  const connectStarted = performance.now();
  let failures = 0;
  while (sockets.length + failures < wanted && performance.now() - connectStarted < CONNECT_DEADLINE_MS) {
    const batch = Math.min(CONNECT_BATCH, wanted - sockets.length - failures);
    const results = await Promise.allSettled(Array.from({ length: batch }, connectOne));
    failures += results.filter((result) => result.status === 'rejected').length;
  }
  const connectSeconds = (performance.now() - connectStarted) / 1000;
  const held = sockets.length;
  // The emulator drops clients that stay silent for 30 s; the client side pings like the real client.
  const pinger = setInterval(() => sockets.forEach((socket) => socket.send('{"type":6}\x1e')), 10_000);
  await sleep(500);
  const loadedRss = residentBytes(emulator.pid);

  const sendUrl = `${emulator.url}/api/hubs/${HUB}/:send`;
  const restToken = await token(`http://127.0.0.1/api/hubs/${HUB}/:send`);
  const latencies: number[] = [];
  const phaseStarted = performance.now();
  for (let round = 0; round < rounds; round++) {
    const started = performance.now();
    const response = await fetch(sendUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${restToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ target: 'bench', arguments: [round, 'payload of a typical chat message'] }),
    });
    if (response.status !== 202) throw new Error(`broadcast answered ${response.status}`);
    const deadline = started + ROUND_TIMEOUT_MS;
    while ((received.get(round) ?? 0) < held && performance.now() < deadline) await sleep(1);
    if ((received.get(round) ?? 0) < held) console.log(`round ${round}: only ${received.get(round) ?? 0} of ${held} received`);
    latencies.push((lastReceipt.get(round) ?? deadline) - started);
  }
  const phaseSeconds = (performance.now() - phaseStarted) / 1000;
  const delivered = [...received.values()].reduce((sum, count) => sum + count, 0);
  const sorted = [...latencies].sort((a, b) => a - b);

  const results = {
    node: process.version,
    cores: availableParallelism(),
    clientsRequested: wanted,
    ...(note ? { note } : {}),
    connectionsHeld: held,
    connectFailures: failures,
    connectSeconds: Number(connectSeconds.toFixed(2)),
    emulatorRssBaselineMB: Number((baselineRss / 2 ** 20).toFixed(1)),
    emulatorRssLoadedMB: Number((loadedRss / 2 ** 20).toFixed(1)),
    rssPerConnectionKB: Number(((loadedRss - baselineRss) / Math.max(held, 1) / 1024).toFixed(1)),
    broadcasts: rounds,
    messagesDelivered: delivered,
    messagesPerSecond: Math.round(delivered / phaseSeconds),
    restToLastReceiptMs: { p50: Number(percentile(sorted, 50).toFixed(2)), p99: Number(percentile(sorted, 99).toFixed(2)) },
  };
  clearInterval(pinger);
  for (const socket of sockets) socket.terminate();
  emulator.stop();
  return results;
}

async function main(): Promise<void> {
  const results = await runEmulatorBench({ clients: Number(process.env['BENCH_CLIENTS'] ?? 2_000), rounds: Number(process.env['BENCH_ROUNDS'] ?? 30) });
  const { connectionsHeld: held, clientsRequested: wanted, connectFailures: failures, broadcasts: rounds, messagesDelivered: delivered } = results;
  console.log(`Node ${results.node}, ${results.cores} cores`);
  console.log(`connections held: ${held} of ${wanted} (${failures} failed) in ${results.connectSeconds} s`);
  console.log(
    `emulator RSS: ${results.emulatorRssBaselineMB} MB idle → ${results.emulatorRssLoadedMB} MB loaded, ${results.rssPerConnectionKB} KB per connection`,
  );
  console.log(`broadcasts: ${rounds}, delivered ${delivered} messages, ${results.messagesPerSecond} messages/s`);
  console.log(`REST call → last client's receipt: p50 ${results.restToLastReceiptMs.p50} ms, p99 ${results.restToLastReceiptMs.p99} ms`);

  mkdirSync('bench-results', { recursive: true });
  writeFileSync('bench-results/emulator.json', JSON.stringify(results, null, 2) + '\n');
}

// Run on its own (`npm run bench:emulator`); `npm run bench` imports runEmulatorBench instead.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
