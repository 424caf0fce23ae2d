import type { ServerResponse } from 'node:http';
import type { Duplex, PassThrough } from 'node:stream';
import type { WebSocket } from 'ws';
import type { ClientConnection, Transport } from './connection.js';

/**
 * A message's bytes framed once, however many connections it goes to: the records of one broadcast are one Buffer
 * (OutboundMessage), so its frame is found by identity and lives as long as that Buffer.
 */
function framedOnce(frame: (data: Buffer) => Buffer): (data: Buffer) => Buffer {
  const frames = new WeakMap<Buffer, Buffer>();
  return (data) => {
    let framed = frames.get(data);
    if (!framed) {
      framed = frame(data);
      frames.set(data, framed);
    }
    return framed;
  };
}

/** An unmasked, final, uncompressed server frame (RFC 6455 §5.2): opcode 1 for text, 2 for binary. */
function webSocketFrame(data: Buffer, binary: boolean): Buffer {
  const length = data.length;
  const headerLength = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerLength + length);
  frame[0] = 0x80 | (binary ? 2 : 1);
  if (length < 126) frame[1] = length;
  else if (length < 65536) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
  data.copy(frame, headerLength);
  return frame;
}

// JSON must travel in text frames and MessagePack in binary frames; one frame holds whole records.
const textFrame = framedOnce((data) => webSocketFrame(data, false));
const binaryFrame = framedOnce((data) => webSocketFrame(data, true));

/**
 * Writes hub messages to the upgraded TCP socket as frames built once per message, rather than through `ws.send`,
 * which frames and writes each copy anew. `ws` itself writes nothing in between (no compression, so it never queues),
 * handles what the client sends and the closing handshake, and counts the socket's buffer in `bufferedAmount`.
 */
export class WebSocketTransport implements Transport {
  readonly kind = 'WebSockets';

  constructor(
    private readonly socket: WebSocket,
    private readonly tcp: Duplex,
  ) {}

  get bufferedBytes(): number {
    return this.socket.bufferedAmount;
  }

  write(data: Buffer, binary: boolean): void {
    if (this.socket.readyState === this.socket.OPEN) this.tcp.write(binary ? binaryFrame(data) : textFrame(data));
  }

  end(): void {
    this.socket.close(1000);
  }
}

const EVENT_PREFIX = Buffer.from('data: ');
const EVENT_END = Buffer.from('\r\n\r\n');
// JSON records never contain raw newlines, so one `data:` line carries them.
const serverSentEvent = framedOnce((data) => Buffer.concat([EVENT_PREFIX, data, EVENT_END]));

export class ServerSentEventsTransport implements Transport {
  readonly kind = 'ServerSentEvents';

  constructor(
    private readonly stream: PassThrough,
    private readonly response: ServerResponse,
    private readonly endGraceMs: number,
  ) {}

  /** The stream is piped to the response, so what the socket does not take piles up on both of its sides. */
  get bufferedBytes(): number {
    return this.stream.writableLength + this.stream.readableLength;
  }

  write(data: Buffer): void {
    if (!this.stream.writableEnded) this.stream.write(serverSentEvent(data));
  }

  end(): void {
    this.stream.end();
    // A client that stopped reading never lets the response finish; cut it, as ws cuts an unanswered close.
    const timer = setTimeout(() => this.response.destroy(), this.endGraceMs).unref();
    this.response.once('close', () => clearTimeout(timer));
  }
}

/** A poll's answer: bytes for 200 (empty when the poll timed out), or `undefined` for 204, "the connection ended". */
export type PollResult = Buffer | undefined;

/** Queues outbound records between polls; the client itself sends no pings, so a missing poll means it is gone. */
export class LongPollingTransport implements Transport {
  readonly kind = 'LongPolling';
  private queue: Buffer[] = [];
  private queuedBytes = 0;
  private waiting: ((result: PollResult) => void) | undefined;
  private flushScheduled = false;
  private ended = false;
  private abandonTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly connection: ClientConnection,
    private readonly pollTimeoutMs: number,
    private readonly disconnectTimeoutMs: number,
  ) {
    this.armAbandonTimer();
  }

  get bufferedBytes(): number {
    return this.queuedBytes;
  }

  write(data: Buffer): void {
    this.queue.push(data);
    this.queuedBytes += data.length;
    if (!this.waiting || this.flushScheduled) return;
    // Let a burst of sends gather into one poll response.
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      if (this.queue.length) this.waiting?.(this.take());
    });
  }

  end(): void {
    this.ended = true;
    this.waiting?.(this.queue.length ? this.take() : undefined);
  }

  /** `gone` fires when the client aborts the poll; what was queued stays for the next one. */
  poll(gone: (cancel: () => void) => void): Promise<PollResult> {
    clearTimeout(this.abandonTimer);
    this.waiting?.(undefined); // a newer poll supersedes a stale one, which gets 204
    if (this.queue.length) return this.answered(this.take());
    if (this.ended) {
      this.connection.transportClosed();
      return Promise.resolve(undefined);
    }
    return new Promise((resolve) => {
      const finish = (result: PollResult): void => {
        clearTimeout(timer);
        if (this.waiting === finish) this.waiting = undefined;
        this.armAbandonTimer();
        resolve(result);
      };
      // A waiting poll must never keep the process alive on its own (shutdown, tests).
      const timer = setTimeout(() => finish(Buffer.alloc(0)), this.pollTimeoutMs).unref();
      this.waiting = finish;
      gone(() => {
        if (this.waiting === finish) finish(Buffer.alloc(0));
      });
    });
  }

  private answered(result: PollResult): Promise<PollResult> {
    this.armAbandonTimer();
    return Promise.resolve(result);
  }

  private take(): Buffer {
    const body = this.queue.length === 1 ? this.queue[0] : Buffer.concat(this.queue, this.queuedBytes);
    this.queue = [];
    this.queuedBytes = 0;
    return body;
  }

  private armAbandonTimer(): void {
    clearTimeout(this.abandonTimer);
    this.abandonTimer = setTimeout(() => this.connection.transportClosed(), this.disconnectTimeoutMs).unref();
  }
}
