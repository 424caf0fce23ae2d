import type { ServerResponse } from 'node:http';
import type { PassThrough } from 'node:stream';
import type { WebSocket } from 'ws';
import type { ClientConnection, Transport } from './connection.js';

export class WebSocketTransport implements Transport {
  readonly kind = 'WebSockets';

  constructor(private readonly socket: WebSocket) {}

  get bufferedBytes(): number {
    return this.socket.bufferedAmount;
  }

  write(data: Buffer, binary: boolean): void {
    // JSON must travel in text frames and MessagePack in binary frames; one frame holds whole records.
    if (this.socket.readyState === this.socket.OPEN) this.socket.send(data, { binary });
  }

  end(): void {
    this.socket.close(1000);
  }
}

const EVENT_PREFIX = Buffer.from('data: ');
const EVENT_END = Buffer.from('\r\n\r\n');

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
    // JSON records never contain raw newlines, so one `data:` line carries them.
    if (!this.stream.writableEnded) this.stream.write(Buffer.concat([EVENT_PREFIX, data, EVENT_END]));
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
