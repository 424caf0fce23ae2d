import * as signalR from '@microsoft/signalr';
import { MessagePackHubProtocol } from '@microsoft/signalr-protocol-msgpack';
import { EventSource } from 'eventsource';
import type { JWTPayload } from 'jose';
import { createServer } from 'node:http';
import { after, before } from 'node:test';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { startEmulator, WELL_KNOWN_ACCESS_KEY, type EmulatorOptions, type RunningEmulator } from '../../src/emulator/emulator.js';
import { bearer, forgeJwt, http, type Reply } from '../fixtures/stack.js';

export const KEY = WELL_KNOWN_ACCESS_KEY;
export const HUB = 'chat';
const WAIT_MS = 10_000;

/** Short timings so keep-alive, long polling and expiry happen within a test. */
export function startTestEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  return startEmulator({
    port: 0,
    keepAliveIntervalMs: 500,
    handshakeTimeoutMs: 3_000,
    longPollTimeoutMs: 1_000,
    disconnectTimeoutMs: 3_000,
    ...options,
  });
}

/** A token as Azure's SDK signs it (HS256 with the AccessKey), or spoiled by `options` (another key, no exp, nbf later). */
export async function mintToken(claims: JWTPayload, options: { key?: string; expiresIn?: number | null; notBefore?: number } = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return forgeJwt(
    {
      ...claims,
      iat: now,
      ...(options.expiresIn === null ? {} : { exp: now + (options.expiresIn ?? 3600) }),
      ...(options.notBefore === undefined ? {} : { nbf: now + options.notBefore }),
    },
    { key: options.key ?? KEY },
  );
}

/** The audience an Azure SDK signs for a REST call: scheme, host (no port) and path. */
export function restAudienceOf(url: string): string {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.hostname}${parsed.pathname}`;
}

/** Calls the emulator's REST API with a token signed the way Azure's SDK signs it (unless `token` is given). */
export async function rest(
  emulator: RunningEmulator,
  method: string,
  path: string,
  options: { body?: unknown; token?: string; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const url = `${emulator.url}${path}`;
  const token = options.token ?? (await mintToken({ aud: restAudienceOf(url) }));
  const { body } = options;
  return typeof body === 'string'
    ? http(method, url, { headers: { ...bearer(token), 'content-type': 'application/json', ...options.headers }, rawBody: body })
    : http(method, url, { headers: { ...bearer(token), ...options.headers }, body });
}

export const clientUrl = (emulator: RunningEmulator, hub = HUB): string => `${emulator.url}/client/?hub=${hub}`;

/** The client token Azure's SDK mints: aud = `{scheme}://{host}/client/?hub={hub}` without the port. */
export function clientToken(emulator: RunningEmulator, userId: string | undefined, hub = HUB): Promise<string> {
  const aud = `${new URL(emulator.url).protocol}//${new URL(emulator.url).hostname}/client/?hub=${hub}`;
  return mintToken({ aud, ...(userId ? { nameid: userId } : {}) });
}

/** A stand-in for the app's negotiate endpoint: answers `{url, accessToken}`, as the gateway would. */
export async function startNegotiateServer(emulator: RunningEmulator): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((request, response) => {
    const user = new URL(request.url ?? '/', 'http://x').searchParams.get('user') ?? undefined;
    void clientToken(emulator, user).then((accessToken) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ url: clientUrl(emulator), accessToken }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/api`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export type ProtocolName = 'json' | 'messagepack';

export interface EmulatorClients {
  /** The test emulator (set once the suite's `before` has run). */
  readonly emulator: RunningEmulator;
  /** Connects the real client through the negotiate stand-in; the connection is stopped after the suite. */
  connect(user: string, transport?: signalR.HttpTransportType, protocol?: ProtocolName): Promise<signalR.HubConnection>;
}

/**
 * For the current suite: a test emulator and a negotiate stand-in before its tests, and after them every connection
 * stopped, then both closed.
 */
export function emulatorClients(): EmulatorClients {
  let emulator: RunningEmulator | undefined;
  let negotiate: Awaited<ReturnType<typeof startNegotiateServer>> | undefined;
  const open: signalR.HubConnection[] = [];
  before(async () => {
    emulator = await startTestEmulator();
    negotiate = await startNegotiateServer(emulator);
  });
  after(async () => {
    await Promise.all(open.map((connection) => connection.stop()));
    await negotiate?.close();
    await emulator?.close();
  });
  return {
    get emulator() {
      if (emulator === undefined) throw new Error("the emulator starts in the suite's before hook");
      return emulator;
    },
    async connect(user, transport = signalR.HttpTransportType.WebSockets, protocol = 'json') {
      if (negotiate === undefined) throw new Error("the negotiate stand-in starts in the suite's before hook");
      const connection = await connectClient(negotiate.url, transport, protocol, user);
      open.push(connection);
      return connection;
    },
  };
}

/** The real client, with `ws` and `eventsource` passed explicitly so no transport silently falls back. */
export async function connectClient(
  negotiateUrl: string,
  transport: signalR.HttpTransportType,
  protocol: ProtocolName,
  user: string,
): Promise<signalR.HubConnection> {
  // WebSocket and EventSource are honoured by the client but left out of its published typings.
  const options = { transport, WebSocket, EventSource };
  let builder = new signalR.HubConnectionBuilder().withUrl(`${negotiateUrl}?user=${encodeURIComponent(user)}`, options).configureLogging(signalR.LogLevel.None);
  if (protocol === 'messagepack') builder = builder.withHubProtocol(new MessagePackHubProtocol());
  const connection = builder.build();
  await withTimeout(connection.start(), 'start');
  return connection;
}

export function withTimeout<T>(promise: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} timed out`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Everything a client receives, by lower-cased target, in order. */
export class Inbox {
  private readonly received: Array<{ target: string; args: unknown[] }> = [];
  private readonly waiters: Array<() => void> = [];

  constructor(connection: signalR.HubConnection, targets: string[]) {
    for (const target of targets) {
      connection.on(target, (...args: unknown[]) => {
        this.received.push({ target: target.toLowerCase(), args });
        for (const wake of this.waiters.splice(0)) wake();
      });
    }
  }

  /** Waits for a message on `target`; the messages before it are returned too, for "not received" checks. */
  async next(target: string): Promise<{ args: unknown[]; before: string[] }> {
    for (;;) {
      const index = this.received.findIndex((message) => message.target === target.toLowerCase());
      if (index !== -1) {
        const taken = this.received.splice(0, index + 1);
        return { args: taken[index].args, before: taken.slice(0, index).map((message) => message.target) };
      }
      await withTimeout(new Promise<void>((resolve) => this.waiters.push(resolve)), `message ${target}`);
    }
  }
}

export function closedWith(connection: signalR.HubConnection): Promise<Error | undefined> {
  return withTimeout(new Promise((resolve) => connection.onclose(resolve)), 'close');
}

/** Negotiates (version 1) at the emulator as `user` with a client token of `hub`; answers the ids and that token. */
export async function negotiated(
  emulator: RunningEmulator,
  hub: string,
  user: string,
): Promise<{ connectionId: string; connectionToken: string; token: string }> {
  const token = await clientToken(emulator, user, hub);
  const reply = await http('POST', `${emulator.url}/client/negotiate?hub=${hub}&negotiateVersion=1`, { headers: bearer(token) });
  return { ...(reply.json as { connectionId: string; connectionToken: string }), token };
}

/** A bare JSON-protocol WebSocket client: negotiate, connect with the token in the query (the browser path), handshake. */
export async function rawClient(emulator: RunningEmulator, hub: string, user: string): Promise<{ connectionId: string; socket: WebSocket }> {
  const { connectionId, connectionToken, token } = await negotiated(emulator, hub, user);
  const socket = new WebSocket(`${emulator.url.replace('http', 'ws')}/client/?hub=${hub}&id=${connectionToken}&access_token=${token}`);
  await withTimeout(new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject)), 'open');
  socket.send('{"protocol":"json","version":1}\x1e');
  await withTimeout(new Promise((resolve) => socket.once('message', resolve)), 'handshake');
  return { connectionId, socket };
}
