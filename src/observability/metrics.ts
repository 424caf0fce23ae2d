import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Every metric of the gateway starts with this (Node's default process metrics keep their standard names). */
export const METRIC_PREFIX = 'signalr_gateway_';

/** The value a label takes once its cap of distinct values is reached (see LabelCap). */
export const OTHER = 'other';

/** Most distinct hubs, and callers, that become label values; later ones are counted as `other`. */
export const MAX_HUB_LABELS = 100;
export const MAX_CALLER_LABELS = 200;

/**
 * Bounds a label's cardinality: the first `max` distinct values are kept as they are, every later one is `other`.
 * Hubs are validated names (common/names.ts) and callers are SSO client ids, so the set is small in practice; the cap
 * is what guarantees it (a misbehaving issuer minting a client id per token cannot grow the registry).
 */
export class LabelCap {
  private readonly seen = new Set<string>();

  constructor(private readonly max: number) {}

  of(value: string | undefined): string {
    if (value === undefined || value === '') return 'none';
    if (this.seen.has(value)) return value;
    if (this.seen.size >= this.max) return OTHER;
    this.seen.add(value);
    return value;
  }
}

/** `2xx`, `4xx`, ...: the status label of the HTTP metrics (the exact status is in the logs). */
export const statusClass = (status: number): string => `${Math.floor(status / 100)}xx`;

/** What one upstream call ended with: Azure's status, or how it failed without one. */
export interface UpstreamOutcome {
  /** The REST operation, as the client names it: `sendToGroup`, `addUserToGroup`, ... */
  operation: string;
  /** Azure's HTTP status, when it answered. */
  status?: number;
  /** `ok` (2xx, or a 404 that is an answer), `status` (any other status), `timeout`, `unreachable`, `transport`. */
  outcome: string;
  seconds: number;
}

/** One finished request to the gateway's API. */
export interface CompletedRequest {
  /** The route template (`/api/hubs/:hub/groups/:group/::send`), never the path itself. */
  route: string;
  method: string;
  status: number;
  seconds: number;
  /** The OpenAPI operationId, when the route has one. */
  operation?: string;
  /** The SSO client id, once the token verified. */
  caller?: string;
  /** The hub Azure addresses (`{application}_{hub}`, lowercased), when the path names a valid one. */
  hub?: string;
}

/**
 * The gateway's Prometheus metrics, in a registry of its own (one per gateway: tests run several in one process, and
 * `npm start`'s embedded emulator has its own). Other parts count through the named methods and never touch
 * prom-client; the metrics listener (metrics-server.ts) serves `registry`.
 *
 * For the rate limits and idempotency: inject GatewayMetrics (ObservabilityModule is global) and call `rateLimited`
 * and `idempotentReplay`; the counters exist from the start, so dashboards and alerts can refer to them.
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly hubs = new LabelCap(MAX_HUB_LABELS);
  private readonly callers = new LabelCap(MAX_CALLER_LABELS);

  private readonly requestDuration = new Histogram({
    name: `${METRIC_PREFIX}http_request_duration_seconds`,
    help: 'Duration of requests to the gateway, by route template, method and status class.',
    labelNames: ['route', 'method', 'status_class'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  private readonly inFlight = new Gauge({
    name: `${METRIC_PREFIX}http_requests_in_flight`,
    help: 'Requests to the gateway being served now.',
    registers: [this.registry],
  });

  private readonly requests = new Counter({
    name: `${METRIC_PREFIX}requests_total`,
    help: 'Requests to the gateway by OpenAPI operation, caller (SSO client id), hub and status class.',
    labelNames: ['operation', 'caller', 'hub', 'status_class'] as const,
    registers: [this.registry],
  });

  private readonly upstreamDuration = new Histogram({
    name: `${METRIC_PREFIX}upstream_request_duration_seconds`,
    help: 'Duration of each attempt of a call to Azure SignalR, by operation, outcome and status.',
    labelNames: ['operation', 'outcome', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  private readonly retries = new Counter({
    name: `${METRIC_PREFIX}upstream_retries_total`,
    help: 'Upstream calls tried again, by operation and what the failed attempt ended with.',
    labelNames: ['operation', 'outcome'] as const,
    registers: [this.registry],
  });

  private readonly rateLimitedCount = new Counter({
    name: `${METRIC_PREFIX}rate_limited_total`,
    help: 'Requests refused by a rate limit (429), by operation and caller.',
    labelNames: ['operation', 'caller'] as const,
    registers: [this.registry],
  });

  private readonly replays = new Counter({
    name: `${METRIC_PREFIX}idempotent_replays_total`,
    help: 'Requests answered from the idempotency store instead of being sent again, by operation.',
    labelNames: ['operation'] as const,
    registers: [this.registry],
  });

  private readonly verifications = new Counter({
    name: `${METRIC_PREFIX}sso_verifications_total`,
    help: 'SSO access tokens verified, by outcome (accepted, rejected, unavailable) and reason.',
    labelNames: ['outcome', 'reason'] as const,
    registers: [this.registry],
  });

  private readonly jwksFetches = new Counter({
    name: `${METRIC_PREFIX}jwks_fetches_total`,
    help: "Fetches of the SSO issuer's key set (JWKS), by outcome (success, failure).",
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  private readonly entraFetches = new Counter({
    name: `${METRIC_PREFIX}entra_fetches_total`,
    help: 'Requests for Microsoft Entra tokens (what: token) and for Azure SignalR temporary access keys (what: access-key), by outcome (success, failure).',
    labelNames: ['what', 'outcome'] as const,
    registers: [this.registry],
  });

  private readonly endpointUp = new Gauge({
    name: `${METRIC_PREFIX}upstream_endpoint_up`,
    help: 'With several SignalR endpoints: 1 while an endpoint is healthy (its last health probe passed, no call failed since), else 0.',
    labelNames: ['endpoint', 'type'] as const,
    registers: [this.registry],
  });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    // Node's process metrics (CPU, memory, event loop lag, GC, handles): read at scrape time.
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  requestStarted(): void {
    this.inFlight.inc();
  }

  /** Bound, to be a `close` listener: the response ended, sent or cut off (an aborted request gets no onResponse). */
  readonly requestEnded = (): void => {
    this.inFlight.dec();
  };

  requestCompleted({ route, method, status, seconds, operation, caller, hub }: CompletedRequest): void {
    const status_class = statusClass(status);
    this.requestDuration.observe({ route, method, status_class }, seconds);
    if (operation !== undefined) this.requests.inc({ operation, caller: this.callers.of(caller), hub: this.hubs.of(hub), status_class });
  }

  upstreamAttempt({ operation, status, outcome, seconds }: UpstreamOutcome): void {
    this.upstreamDuration.observe({ operation, outcome, status: status === undefined ? 'none' : String(status) }, seconds);
  }

  upstreamRetry(operation: string, outcome: string): void {
    this.retries.inc({ operation, outcome });
  }

  /** An endpoint's health changed; `endpoint` is a name from SIGNALR_ENDPOINTS (bounded by the configuration). */
  upstreamEndpointUp(endpoint: string, type: string, up: boolean): void {
    this.endpointUp.set({ endpoint, type }, up ? 1 : 0);
  }

  /** A request refused by a rate limit: `operation` is the OpenAPI operationId, `caller` the SSO client id. */
  rateLimited(operation: string, caller: string | undefined): void {
    this.rateLimitedCount.inc({ operation, caller: this.callers.of(caller) });
  }

  /** A request answered from the idempotency store (the same Idempotency-Key seen before). */
  idempotentReplay(operation: string): void {
    this.replays.inc({ operation });
  }

  /** `outcome`: accepted, rejected or unavailable; `reason` a short fixed word (expired, signature, ...), never token content. */
  ssoVerification(outcome: 'accepted' | 'rejected' | 'unavailable', reason: string): void {
    this.verifications.inc({ outcome, reason });
  }

  jwksFetch(outcome: 'success' | 'failure'): void {
    this.jwksFetches.inc({ outcome });
  }

  /** One request of an Entra connection's credential (`token`, each attempt) or of the service's temporary key (`access-key`). */
  entraFetch(what: 'token' | 'access-key', outcome: 'success' | 'failure'): void {
    this.entraFetches.inc({ what, outcome });
  }

  /** The Prometheus text exposition of everything above. */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }
}
