import * as signalR from '@microsoft/signalr';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import type { RunningEmulator } from '../../src/emulator/emulator.js';
import { connectClient, startNegotiateServer, withTimeout } from '../emulator/helpers.js';

/**
 * A real SignalR client of `user`, connected to the emulator, counting what arrives on `target`. `settled(marker)`
 * sends nothing itself: it waits until `marker` arrived. Messages to one connection keep their order, so once the
 * marker (sent last) is in, any duplicate sent before it is in too: "exactly once" without waiting on a clock.
 */
export interface Listener {
  readonly received: unknown[][];
  settled(marker: string): Promise<void>;
  count(first: unknown): number;
  close(): Promise<void>;
}

export async function listen(emulator: RunningEmulator, user: string, target = 'note'): Promise<Listener> {
  const negotiate = await startNegotiateServer(emulator);
  const connection = await connectClient(negotiate.url, signalR.HttpTransportType.WebSockets, 'json', user);
  const received: unknown[][] = [];
  const waiters = new Map<string, () => void>();
  connection.on(target, (...args: unknown[]) => {
    received.push(args);
    waiters.get(String(args[0]))?.();
  });
  return {
    received,
    settled: (marker) =>
      received.some((args) => args[0] === marker)
        ? Promise.resolve()
        : withTimeout(new Promise<void>((resolve) => waiters.set(marker, resolve)), `marker ${marker}`),
    count: (first) => received.filter((args) => args[0] === first).length,
    async close() {
      await connection.stop();
      await negotiate.close();
    },
  };
}

/** A request written byte for byte (what fetch refuses to send: control characters, a header twice); the status. */
export async function rawStatus(url: string, head: string[], body = ''): Promise<number> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  const text = await withTimeout(
    new Promise<string>((resolve, reject) => {
      let answer = '';
      socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
      socket.on('end', () => resolve(answer));
      socket.on('error', reject);
      socket.write(Buffer.from([...head, `content-length: ${Buffer.byteLength(body)}`, 'connection: close', '', body].join('\r\n'), 'latin1'));
    }),
    'raw answer',
  );
  const status = /^HTTP\/1\.1 (\d{3})/.exec(text);
  assert.ok(status, `not an HTTP answer: ${text.slice(0, 80)}`);
  return Number(status[1]);
}

/** The RateLimit-Policy and RateLimit fields as sf-Items: `caller;q=5;w=60`, `caller;r=4;t=12` (draft-ietf-httpapi-ratelimit-headers). */
export function parseRateLimit(headers: Headers): { q: number; w: number; r: number; t: number } {
  const policy = /^caller;q=(\d+);w=(\d+)$/.exec(headers.get('ratelimit-policy') ?? '');
  const limit = /^caller;r=(\d+);t=(\d+)$/.exec(headers.get('ratelimit') ?? '');
  assert.ok(policy, `RateLimit-Policy: ${headers.get('ratelimit-policy')}`);
  assert.ok(limit, `RateLimit: ${headers.get('ratelimit')}`);
  return { q: Number(policy[1]), w: Number(policy[2]), r: Number(limit[1]), t: Number(limit[2]) };
}
