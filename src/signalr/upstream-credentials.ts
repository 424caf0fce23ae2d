import { Injectable, Optional, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { SignalRConnection } from '../config/connection-string.js';
import { EntraConfig } from '../config/entra.config.js';
import { SignalRConfig } from '../config/signalr.config.js';
import { GatewayMetrics } from '../observability/metrics.js';
import { EntraAuth } from './entra-auth.js';

/**
 * The Microsoft Entra authentication of each `AuthType` connection string, made once per connection (its credential,
 * token cache and access key) and started with the application, so the first access key is fetched at start;
 * stopped at shutdown. An AccessKey connection needs none: the signer signs everything with its key.
 */
@Injectable()
export class UpstreamCredentials implements OnModuleInit, OnApplicationShutdown {
  readonly #entra = new Map<SignalRConnection, EntraAuth>();
  #started = false;

  constructor(
    private readonly signalr: SignalRConfig,
    private readonly config: EntraConfig,
    @Optional() private readonly metrics?: GatewayMetrics,
  ) {
    // Made now, so that readiness knows at once whether it has Entra connections to check.
    for (const { connection } of signalr.endpoints) this.entraOf(connection);
  }

  onModuleInit(): void {
    this.#started = true;
    for (const auth of this.#entra.values()) auth.start();
  }

  /** The connection's Entra authentication, undefined for an AccessKey connection. */
  entraOf(connection: SignalRConnection): EntraAuth | undefined {
    if (!connection.entra) return undefined;
    let auth = this.#entra.get(connection);
    if (!auth) {
      auth = new EntraAuth({
        identity: connection.entra,
        serverEndpoint: connection.serverEndpoint,
        config: this.config,
        timeoutMs: this.signalr.timeoutMs,
        onFetch: (what, outcome) => this.metrics?.entraFetch(what, outcome),
      });
      this.#entra.set(connection, auth);
      if (this.#started) auth.start();
    }
    return auth;
  }

  /** Whether any connection authenticates with Microsoft Entra ID (readiness then checks it). */
  get usesEntra(): boolean {
    return this.#entra.size > 0;
  }

  /** For readiness: every Entra connection has a token and a valid access key; otherwise rejects saying why (never a secret). */
  async ready(): Promise<void> {
    await Promise.all([...this.#entra.values()].map((auth) => auth.ready()));
  }

  onApplicationShutdown(): void {
    for (const auth of this.#entra.values()) auth.stop();
  }
}
