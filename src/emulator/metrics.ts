import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';

/** What the metrics read from the connection tables at scrape time. */
export interface ConnectionCensus {
  /** Every connection past its handshake, by transport (`WebSockets`, ...) and protocol (`json`, `messagepack`). */
  connectionsByKind(): Map<string, { transport: string; protocol: string; count: number }>;
}

/**
 * The emulator's Prometheus metrics, in a registry of its own: in `npm start` it runs inside the gateway's process,
 * whose registry is the gateway's. Served at the emulator's own `GET /metrics`.
 */
export class EmulatorMetrics {
  readonly registry = new Registry();

  private readonly sent = new Counter({
    name: 'signalr_emulator_messages_sent_total',
    help: 'Hub messages written to client connections (one per recipient connection).',
    registers: [this.registry],
  });

  private readonly slowConsumers = new Counter({
    name: 'signalr_emulator_slow_consumers_closed_total',
    help: 'Connections closed because they did not read their messages (EMULATOR_MAX_OUTBOUND_BUFFER_BYTES).',
    registers: [this.registry],
  });

  private readonly accessKeys = new Counter({
    name: 'signalr_emulator_access_keys_issued_total',
    help: 'Temporary access keys handed out by GET /api/auth/accessKey (Entra mode).',
    registers: [this.registry],
  });

  constructor(census: ConnectionCensus, options: { processMetrics?: boolean } = {}) {
    new Gauge({
      name: 'signalr_emulator_connections',
      help: 'Client connections past their handshake, by transport and protocol.',
      labelNames: ['transport', 'protocol'] as const,
      registers: [this.registry],
      // Counted when scraped, from the tables themselves: nothing on the hot path.
      collect() {
        this.reset();
        for (const { transport, protocol, count } of census.connectionsByKind().values()) this.set({ transport, protocol }, count);
      },
    });
    // Only when the emulator is a process of its own: in `npm start` the gateway reports the process.
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry });
  }

  messageSent(): void {
    this.sent.inc();
  }

  slowConsumerClosed(): void {
    this.slowConsumers.inc();
  }

  accessKeyIssued(): void {
    this.accessKeys.inc();
  }
}
