/**
 * Scenario 2, end to end: N raw WebSocket clients on the emulator, messages sent through the gateway (a broadcast and
 * a group send), timed from the API call to the last client's receipt. The emulator and the gateway run in processes
 * of their own; the clients and the API caller share this one, as receivers of a real service would not.
 */
import type WebSocket from 'ws';
import { connectClient, KEY, percentile, startEmulatorProcess, token } from './emulator.js';
import { startServer } from './processes.js';

export interface EndToEndOptions {
  clientCounts: readonly number[];
  rounds: number;
  ssoEnv: Record<string, string>;
  token: string;
}

export interface SendFigures {
  rounds: number;
  /** From the API call to the last of the N clients' receipt. */
  toLastReceiptMs: { p50: number; p99: number };
  delivered: number;
  /** Messages delivered per second over the rounds, one round after the other. */
  messagesPerSecond: number;
  /** Rounds in which some client got nothing before the timeout. */
  incompleteRounds: number;
}

export interface EndToEndRun {
  clients: number;
  broadcast: SendFigures;
  group: SendFigures;
}

export interface EndToEndResults {
  parameters: { clientCounts: readonly number[]; rounds: number; hub: string; group: string; payload: string };
  runs: EndToEndRun[];
}

const HUB = 'bench';
const GROUP = 'everyone';
const PAYLOAD = 'payload of a typical chat message';
const ROUND_TIMEOUT_MS = 15_000;
const CONNECT_BATCH = 100;
const ADD_CONCURRENCY = 32;

export async function runEndToEnd({ clientCounts, rounds, ssoEnv, token: ssoToken }: EndToEndOptions): Promise<EndToEndResults> {
  const emulator = await startEmulatorProcess();
  try {
    const gateway = await startServer('gateway', {
      ...ssoEnv,
      NODE_ENV: 'test', // production would require an https SSO issuer; the code path per request is the same
      LOG_LEVEL: 'info',
      SIGNALR_CONNECTION_STRING: `Endpoint=${emulator.url};AccessKey=${KEY};Version=1.0;`,
    });
    try {
      const api = async (method: string, path: string, body?: unknown): Promise<number> => {
        const response = await fetch(gateway.url + path, {
          method,
          headers: { authorization: `Bearer ${ssoToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        await response.arrayBuffer();
        return response.status;
      };
      await untilReady(api);
      const clientToken = await token(`http://127.0.0.1/client/?hub=${HUB}`);
      const runs: EndToEndRun[] = [];
      for (const clients of clientCounts) runs.push(await runWith(clients, rounds, emulator.url, clientToken, api));
      return { parameters: { clientCounts, rounds, hub: HUB, group: GROUP, payload: PAYLOAD }, runs };
    } finally {
      await gateway.stop();
    }
  } finally {
    emulator.stop();
  }
}

type Api = (method: string, path: string, body?: unknown) => Promise<number>;

async function untilReady(api: Api): Promise<void> {
  const deadline = Date.now() + ROUND_TIMEOUT_MS;
  while ((await api('POST', `/api/hubs/${HUB}/:send`, { target: 'warm-up', arguments: [] })) !== 202) {
    if (Date.now() > deadline) throw new Error('the gateway did not accept a broadcast');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function runWith(clients: number, rounds: number, emulatorUrl: string, clientToken: string, api: Api): Promise<EndToEndRun> {
  // Every message carries a sequence number; receipts are counted per number.
  const received = new Map<number, number>();
  const lastReceipt = new Map<number, number>();
  const onRecord = (record: string): void => {
    if (!record.includes('"target":"bench"')) return;
    const sequence = (JSON.parse(record) as { arguments: [number] }).arguments[0];
    received.set(sequence, (received.get(sequence) ?? 0) + 1);
    lastReceipt.set(sequence, performance.now());
  };

  const sockets: WebSocket[] = [];
  const connectionIds: string[] = [];
  while (sockets.length < clients) {
    const batch = Math.min(CONNECT_BATCH, clients - sockets.length);
    const connected = await Promise.all(Array.from({ length: batch }, () => connectClient(emulatorUrl, HUB, clientToken, onRecord)));
    sockets.push(...connected.map(({ socket }) => socket));
    connectionIds.push(...connected.map(({ connectionId }) => connectionId));
  }
  // The emulator drops clients that stay silent for 30 s; the client side pings like the real client.
  const pinger = setInterval(() => sockets.forEach((socket) => socket.send('{"type":6}\x1e')), 10_000);
  try {
    // Group membership through the gateway too, a few calls at a time.
    for (let next = 0; next < connectionIds.length; next += ADD_CONCURRENCY) {
      const statuses = await Promise.all(
        connectionIds.slice(next, next + ADD_CONCURRENCY).map((id) => api('PUT', `/api/hubs/${HUB}/groups/${GROUP}/connections/${encodeURIComponent(id)}`)),
      );
      if (statuses.some((status) => status !== 200)) throw new Error(`adding to the group answered ${statuses.find((status) => status !== 200)}`);
    }
    let sequence = 0;
    const measure = async (path: string): Promise<SendFigures> => {
      const latencies: number[] = [];
      let incompleteRounds = 0;
      let delivered = 0;
      const phaseStarted = performance.now();
      for (let round = 0; round < rounds; round++) {
        const id = sequence++;
        const started = performance.now();
        const status = await api('POST', path, { target: 'bench', arguments: [id, PAYLOAD] });
        if (status !== 202) throw new Error(`${path} answered ${status}`);
        const deadline = started + ROUND_TIMEOUT_MS;
        while ((received.get(id) ?? 0) < clients && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 1));
        if ((received.get(id) ?? 0) < clients) incompleteRounds++;
        delivered += received.get(id) ?? 0;
        latencies.push((lastReceipt.get(id) ?? deadline) - started);
      }
      const seconds = (performance.now() - phaseStarted) / 1000;
      const sorted = latencies.sort((a, b) => a - b);
      return {
        rounds,
        toLastReceiptMs: { p50: Number(percentile(sorted, 50).toFixed(2)), p99: Number(percentile(sorted, 99).toFixed(2)) },
        delivered,
        messagesPerSecond: Math.round(delivered / seconds),
        incompleteRounds,
      };
    };
    const broadcast = await measure(`/api/hubs/${HUB}/:send`);
    const group = await measure(`/api/hubs/${HUB}/groups/${GROUP}/:send`);
    return { clients, broadcast, group };
  } finally {
    clearInterval(pinger);
    for (const socket of sockets) socket.terminate();
    // Let the emulator forget the closed connections before the next run.
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
