import { endsHandshake, handshakeResponse, handshakeTooLarge, parseHandshake } from '../protocol/handshake.js';
import { jsonCompatible, MessageType, type HubProtocol, type InboundMessage } from '../protocol/hub-protocol.js';
import { OutboundMessage } from '../protocol/outbound-message.js';

export type TransportKind = 'WebSockets' | 'ServerSentEvents' | 'LongPolling';

/** The server→client half of a transport. */
export interface Transport {
  readonly kind: TransportKind;
  /** Bytes written but not yet taken by the client (kernel socket buffers aside). */
  readonly bufferedBytes: number;
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
  /** A hub message was written to the connection (for the metrics). */
  messageSent(connection: ClientConnection): void;
  /** The connection is being closed as a slow consumer (for the metrics). */
  slowConsumerClosed(connection: ClientConnection): void;
}

export interface ConnectionLimits {
  handshakeTimeoutMs: number;
  /** A handshake request longer than this is refused. */
  maxHandshakeBytes: number;
  /** A client that lets more than this pile up unread is closed as a slow consumer (one message may exceed it). */
  maxOutboundBufferBytes: number;
}

/** How a client invocation (`:invoke`) ended. */
export type InvocationOutcome =
  { kind: 'result'; result: unknown } | { kind: 'void' } | { kind: 'error'; error: string } | { kind: 'timeout' } | { kind: 'closed' };

// Azure in serverless mode without upstream: clients may only listen (docs/azure-compatibility.md#serverless-mode).
const SERVERLESS_REJECTION = 'No server available';
const PROTOCOL_ERROR = 'Connection closed with an error.';
const slowConsumer = (maxBytes: number): string => `Connection closed because the client did not read its messages: more than ${maxBytes} bytes were waiting.`;

/** One negotiated SignalR connection: its handshake, its inbound policy and its outbound writes. */
export class ClientConnection {
  readonly groups = new Set<string>();
  protocol: HubProtocol | undefined;
  transport: Transport | undefined;
  lastSentAt = 0;
  lastReceivedAt = Date.now();
  private state: 'negotiated' | 'connected' | 'closed' = 'negotiated';
  /** The handshake request so far, kept as received: joined once, when it is complete. */
  private readonly handshakeChunks: Buffer[] = [];
  private handshakeBytes = 0;
  private handshakeEnded = false;
  private readonly handshakeTimer: NodeJS.Timeout;
  /** Client invocations awaiting the client's Completion, by invocation id. */
  private readonly pending = new Map<string, (outcome: InvocationOutcome) => void>();
  private lastInvocationId = 0;
  /** Streams the client opened (`connection.stream(...)`), by invocation id, until completed or cancelled. */
  private readonly streams = new Set<string>();

  constructor(
    /** Public id, used by the REST API and reported to the client. */
    readonly id: string,
    /** Secret that the client puts in `id=` on transport requests. */
    readonly token: string,
    readonly hubKey: string,
    readonly userId: string | undefined,
    private readonly lifecycle: ConnectionLifecycle,
    private readonly limits: ConnectionLimits,
  ) {
    // Also expires connections that were negotiated but never used (clients re-negotiate on fallback).
    this.handshakeTimer = setTimeout(() => this.cancelHandshake(), limits.handshakeTimeoutMs).unref();
  }

  get connected(): boolean {
    return this.state === 'connected';
  }

  get closed(): boolean {
    return this.state === 'closed';
  }

  attach(transport: Transport): void {
    this.transport = transport;
    this.completeHandshake();
  }

  receive(data: Buffer): void {
    if (this.state === 'closed') return;
    this.lastReceivedAt = Date.now();
    if (this.protocol) this.receiveMessages(this.protocol, data);
    else this.bufferHandshake(data);
  }

  send(message: OutboundMessage): void {
    if (this.state === 'connected' && this.writeUnlessSlow(message.for(this.protocol!))) this.lifecycle.messageSent(this);
  }

  /**
   * Invokes `target` on the client with an invocation id, so the client answers with a Completion (a client result,
   * HubProtocol.md); resolves with that answer, `timeout` after `timeoutMs`, or `closed` if the connection ends first.
   */
  invoke(target: string, args: readonly unknown[], timeoutMs: number): Promise<InvocationOutcome> {
    if (this.state !== 'connected') return Promise.resolve({ kind: 'closed' });
    const invocationId = String(++this.lastInvocationId);
    return new Promise((resolve) => {
      const timer = setTimeout(() => settle({ kind: 'timeout' }), timeoutMs).unref();
      const settle = (outcome: InvocationOutcome): void => {
        clearTimeout(timer);
        this.pending.delete(invocationId);
        resolve(outcome);
      };
      this.pending.set(invocationId, settle);
      this.send(OutboundMessage.clientInvocation(target, args, invocationId));
    });
  }

  /** One item of a stream the client opened; false when there is no such open stream. */
  streamItem(streamId: string, item: unknown, completed: boolean): boolean {
    if (this.state !== 'connected' || !this.streams.has(streamId)) return false;
    this.writeUnlessSlow(this.protocol!.streamItem(streamId, this.protocol!.binary ? item : jsonCompatible([item])[0]));
    if (completed) this.completeStream(streamId, undefined);
    return true;
  }

  /** Ends a stream the client opened, failed when `error` is given; false when there is no such open stream. */
  completeStream(streamId: string, error: string | undefined): boolean {
    if (this.state !== 'connected' || !this.streams.delete(streamId)) return false;
    this.writeUnlessSlow(this.protocol!.completion(streamId, error));
    return true;
  }

  ping(): void {
    if (this.state === 'connected') this.writeUnlessSlow(this.protocol!.ping);
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

  /** Only the new chunk is searched for the end of the request, so a request in many pieces costs linear time. */
  private bufferHandshake(data: Buffer): void {
    this.handshakeChunks.push(data);
    this.handshakeBytes += data.length;
    if (endsHandshake(data)) this.handshakeEnded = true;
    if (this.handshakeEnded && this.transport) this.completeHandshake();
    // Whatever waits unparsed (an unfinished request, or sends ahead of the first poll) is bounded the same way.
    else if (this.handshakeBytes > this.limits.maxHandshakeBytes) this.refuseHandshake(handshakeTooLarge(this.limits.maxHandshakeBytes));
  }

  /** A long-polling client may POST its handshake before its first poll, so the request waits for a transport. */
  private completeHandshake(): void {
    if (!this.handshakeEnded || !this.transport) return;
    const request = Buffer.concat(this.handshakeChunks, this.handshakeBytes);
    this.handshakeChunks.length = 0;
    const result = parseHandshake(request, this.transport.kind !== 'ServerSentEvents', this.limits.maxHandshakeBytes);
    if (result.kind === 'error') return this.refuseHandshake(result.error);
    clearTimeout(this.handshakeTimer);
    this.protocol = result.protocol;
    this.state = 'connected';
    this.lifecycle.connected(this);
    this.write(handshakeResponse());
    if (result.rest.length) this.receiveMessages(result.protocol, result.rest);
  }

  private refuseHandshake(error: string): void {
    this.handshakeChunks.length = 0;
    this.write(handshakeResponse(error));
    this.dispose();
  }

  private receiveMessages(protocol: HubProtocol, data: Buffer): void {
    let messages: InboundMessage[];
    try {
      messages = protocol.messages(data);
    } catch {
      this.close(PROTOCOL_ERROR, false);
      return;
    }
    for (const message of messages) {
      // The answer to a client invocation (`:invoke`) is the one hub message a client may send.
      const settle = message.type === MessageType.Completion ? this.pending.get(message.invocationId!) : undefined;
      if (settle) settle(outcomeOf(message));
      // A stream the client opens waits for the REST API's stream operations; a cancel ends it
      // (docs/azure-compatibility.md#streams).
      else if (message.type === MessageType.StreamInvocation && message.invocationId !== undefined) this.streams.add(message.invocationId);
      else if (message.type === MessageType.CancelInvocation && message.invocationId !== undefined && this.streams.has(message.invocationId))
        this.streams.delete(message.invocationId);
      // Pings, Close, Ack and Sequence are fine; other invocations, stream items, completions and cancels are not.
      else if (message.type >= MessageType.Invocation && message.type <= MessageType.CancelInvocation) return this.close(SERVERLESS_REJECTION, false);
      else if (message.type === MessageType.Close) return this.dispose();
    }
  }

  private cancelHandshake(): void {
    if (this.state !== 'negotiated') return;
    if (this.transport) this.write(handshakeResponse('Handshake was canceled.'));
    this.dispose();
  }

  /**
   * Hub messages go out only while the client keeps up: one that stops reading is closed (not silently dropped
   * from), so its memory stays bounded and it learns why once it reads again.
   */
  private writeUnlessSlow(data: Buffer): boolean {
    if (this.transport && this.transport.bufferedBytes > this.limits.maxOutboundBufferBytes) {
      this.lifecycle.slowConsumerClosed(this);
      this.close(slowConsumer(this.limits.maxOutboundBufferBytes), false);
      return false;
    }
    this.write(data);
    return true;
  }

  private write(data: Buffer): void {
    this.lastSentAt = Date.now();
    this.transport?.write(data, this.protocol?.binary ?? false);
  }

  private dispose(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearTimeout(this.handshakeTimer);
    for (const settle of [...this.pending.values()]) settle({ kind: 'closed' });
    this.lifecycle.disposed(this);
    if (this.transport) this.transport.end();
    else this.lifecycle.released(this);
  }
}

function outcomeOf({ error, hasResult, result }: InboundMessage): InvocationOutcome {
  if (error !== undefined) return { kind: 'error', error };
  return hasResult ? { kind: 'result', result } : { kind: 'void' };
}
