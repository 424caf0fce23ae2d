import { Logger } from '@nestjs/common';
import type { EndpointType } from '../config/signalr.config.js';
import type { GatewayMetrics } from '../observability/metrics.js';
import type { EndpointClient } from './endpoint-client.js';
import type { UpstreamError } from './upstream-error.js';

/** Azure's SDK gives a health check 2 s; a shorter interval bounds it too, so rounds never overlap. */
const PROBE_TIMEOUT_MS = 2_000;

/** One endpoint's health as `/readyz` reports it. */
export interface EndpointStatus {
  endpoint: string;
  type: EndpointType;
  status: 'up' | 'down';
  /** Why it is down: the failed probe or call, never a secret. */
  reason?: string;
}

/**
 * Whether each endpoint can take clients, as Azure's SDK tracks it with several endpoints (RestHealthCheckService):
 * a HEAD `/api/health` without a token every `intervalMs`, the first at start. An endpoint is also marked down as soon
 * as a call to it fails in a way that says the instance is in trouble (no answer, or 5xx), and up again only by a good
 * probe. Negotiate and `/readyz` read it; calls still go to every endpoint (docs/azure-compatibility.md#multiple-endpoints).
 */
export class EndpointHealth {
  private readonly logger = new Logger(EndpointHealth.name);
  private readonly down = new Map<string, string>();
  private timer?: NodeJS.Timeout;
  private round?: Promise<void>;
  /** The first round of probes, which `/readyz` waits for: before it, health is not known. */
  firstRound?: Promise<void>;

  constructor(
    private readonly clients: readonly EndpointClient[],
    private readonly intervalMs: number,
    private readonly metrics?: GatewayMetrics,
  ) {
    for (const { endpoint } of clients) this.metrics?.upstreamEndpointUp(endpoint.name, endpoint.type, true);
  }

  start(): void {
    this.firstRound = this.probeAll();
    this.timer = setInterval(() => void this.probeAll(), this.intervalMs).unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.round;
  }

  isUp(name: string): boolean {
    return !this.down.has(name);
  }

  statuses(): EndpointStatus[] {
    return this.clients.map(({ endpoint: { name, type } }) => {
      const reason = this.down.get(name);
      return reason === undefined ? { endpoint: name, type, status: 'up' } : { endpoint: name, type, status: 'down', reason };
    });
  }

  /** A failed call: no answer (refused, broken, timed out) or a 5xx says the instance is in trouble; a 4xx does not. */
  noteFailure(name: string, error: UpstreamError): void {
    if (error.status !== undefined && error.status < 500) return;
    this.mark(name, `${error.status === undefined ? error.failure : `HTTP ${error.status}`} on ${error.operation}`);
  }

  /** One probe of every endpoint at once; a round still running (a slow endpoint) is not overlapped. */
  private probeAll(): Promise<void> {
    this.round ??= Promise.all(
      this.clients.map(async (client) => {
        const failure = await client.probe(Math.min(PROBE_TIMEOUT_MS, this.intervalMs));
        this.mark(client.name, failure === undefined ? undefined : `health probe: ${failure}`);
      }),
    ).then(() => {
      this.round = undefined;
    });
    return this.round;
  }

  private mark(name: string, reason: string | undefined): void {
    const wasUp = this.isUp(name);
    if (reason === undefined) this.down.delete(name);
    else this.down.set(name, reason);
    if (wasUp === (reason === undefined)) return;
    const { type } = this.clients.find((client) => client.name === name)!.endpoint;
    this.metrics?.upstreamEndpointUp(name, type, reason === undefined);
    if (reason === undefined) this.logger.log(`SignalR endpoint ${name} is up again`);
    else this.logger.warn(`SignalR endpoint ${name} is down: ${reason}`);
  }
}
