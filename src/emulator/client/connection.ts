import { handshakeResponse, parseHandshake } from '../protocol/handshake.js';
import { MessageType, type HubProtocol } from '../protocol/hub-protocol.js';
import type { OutboundMessage } from '../protocol/outbound-message.js';

export type TransportKind = 'WebSockets' | 'ServerSentEvents' | 'LongPolling';

/** The server→client half of a transport. */
export interface Transport {
  readonly kind: TransportKind;
  write(data: Buffer, binary: boolean): void;
  /** Deliver what is queued, then end; the transport calls `connection.transportClosed()` once it is gone. */
  end(): void;
}

/** The hub store's side of a connection's life. */
export interface ConnectionLifecycle {
  /** Handshake done: join the hub, user and group tables, before the handshake response is written. */
  connected(connection: ClientConnection): void;
  /** Leave every table: from now on the connection does not exist for the REST API. */
  disposed(connection: ClientConnection): void;
  /** The transport is gone as well: forget the connection token. */
  released(connection: ClientConnection): void;
}

// Azure in serverless mode without upstream: clients may only listen (docs/azure-compatibility.md#serverless-mode).
const SERVERLESS_REJECTION = 'No server available';
const PROTOCOL_ERROR = 'Connection closed with an error.';

/** One negotiated SignalR connection: its handshake, its inbound policy and its outbound writes. */
export class ClientConnection {
  readonly groups = new Set<string>();
  protocol: HubProtocol | undefined;
  transport: Transport | undefined;
  lastSentAt = 0;
  lastReceivedAt = Date.now();
  private state: 'negotiated' | 'connected' | 'closed' = 'negotiated';
  private handshakeBuffer: Buffer = Buffer.alloc(0);
  private readonly handshakeTimer: NodeJS.Timeout;

  constructor(
    /** Public id, used by the REST API and reported to the client. */
    readonly id: string,
    /** Secret that the client puts in `id=` on transport requests. */
    readonly token: string,
    readonly hubKey: string,
    readonly userId: string | undefined,
    private readonly lifecycle: ConnectionLifecycle,
    handshakeTimeoutMs: number,
  ) {
    // Also expires connections that were negotiated but never used (clients re-negotiate on fallback).
    this.handshakeTimer = setTimeout(() => this.cancelHandshake(), handshakeTimeoutMs).unref();
  }

  get connected(): boolean {
    return this.state === 'connected';
  }

  get closed(): boolean {
    return this.state === 'closed';
  }

  attach(transport: Transport): void {
    this.transport = transport;
  }

  receive(data: Buffer): void {
    if (this.state === 'closed') return;
    this.lastReceivedAt = Date.now();
    const messages = this.protocol ? data : this.handshake(data);
    if (this.protocol && messages?.length) this.receiveMessages(this.protocol, messages);
  }

  send(message: OutboundMessage): void {
    if (this.state === 'connected') this.write(message.for(this.protocol!));
  }

  ping(): void {
    if (this.state === 'connected') this.write(this.protocol!.ping);
  }

  /** Server-initiated close: the client gets a Close message carrying the reason, then the transport ends. */
  close(reason: string | undefined, allowReconnect: boolean): void {
    if (this.state === 'connected') this.write(this.protocol!.close(reason, allowReconnect));
    this.dispose();
  }

  /** The transport went away (socket closed, stream ended, long polling abandoned). */
  transportClosed(): void {
    this.dispose();
    this.lifecycle.released(this);
  }

  /** Returns the bytes that followed a successful handshake request. */
  private handshake(data: Buffer): Buffer | undefined {
    const buffered = this.handshakeBuffer.length ? Buffer.concat([this.handshakeBuffer, data]) : data;
    const result = parseHandshake(buffered, this.transport?.kind !== 'ServerSentEvents');
    if (result.kind === 'incomplete') {
      this.handshakeBuffer = buffered;
      return undefined;
    }
    this.handshakeBuffer = Buffer.alloc(0);
    if (result.kind === 'error') {
      this.write(handshakeResponse(result.error));
      this.dispose();
      return undefined;
    }
    clearTimeout(this.handshakeTimer);
    this.protocol = result.protocol;
    this.state = 'connected';
    this.lifecycle.connected(this);
    this.write(handshakeResponse());
    return result.rest;
  }

  private receiveMessages(protocol: HubProtocol, data: Buffer): void {
    let types: number[];
    try {
      types = protocol.messageTypes(data);
    } catch {
      this.close(PROTOCOL_ERROR, false);
      return;
    }
    // Pings, Close, Ack and Sequence are fine; invocations, stream items, completions and cancels are not.
    if (types.some((type) => type >= MessageType.Invocation && type <= MessageType.CancelInvocation)) {
      this.close(SERVERLESS_REJECTION, false);
    } else if (types.includes(MessageType.Close)) {
      this.dispose();
    }
  }

  private cancelHandshake(): void {
    if (this.state !== 'negotiated') return;
    if (this.transport) this.write(handshakeResponse('Handshake was canceled.'));
    this.dispose();
  }

  private write(data: Buffer): void {
    this.lastSentAt = Date.now();
    this.transport?.write(data, this.protocol?.binary ?? false);
  }

  private dispose(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearTimeout(this.handshakeTimer);
    this.lifecycle.disposed(this);
    if (this.transport) this.transport.end();
    else this.lifecycle.released(this);
  }
}
