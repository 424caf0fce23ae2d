import { Injectable, Logger, Optional, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { createRemoteJWKSet, customFetch, type RemoteJWKSet } from 'jose';
import { SsoConfig } from '../config/sso.config.js';
import { GatewayMetrics } from '../observability/metrics.js';
import { BackgroundRetry } from './background-retry.js';
import { ISSUER_TIMEOUT_MS, SsoDiscovery } from './sso-discovery.js';

/** The issuer's keys are not to be had (not loaded yet, or fetching them again failed), so no token can be judged. */
export class SsoUnavailable extends Error {
  override readonly name = 'SsoUnavailable';
}

/**
 * The issuer's signing keys, as jose's remote key set. Loaded in the background until the first fetch succeeds, so
 * the gateway starts while the issuer is down; from then on jose fetches the set again when it is older than
 * SSO_JWKS_MAX_AGE_S, and on an unknown `kid` at most once per SSO_JWKS_COOLDOWN_S.
 */
@Injectable()
export class SsoKeySet implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(SsoKeySet.name);
  private readonly loading = new BackgroundRetry(
    () => this.load(),
    (error, retryInMs) => {
      this.notLoadedBecause = `SSO issuer not reachable yet: ${error instanceof Error ? error.message : String(error)}`;
      this.logger.warn(`${this.notLoadedBecause}; retrying in ${retryInMs} ms`);
    },
  );
  private keys?: RemoteJWKSet;
  private notLoadedBecause = 'the issuer was not asked yet';

  constructor(
    private readonly config: SsoConfig,
    private readonly discovery: SsoDiscovery,
    @Optional() private readonly metrics?: GatewayMetrics,
  ) {}

  onModuleInit(): void {
    void this.loading.runNow();
  }

  onApplicationShutdown(): void {
    this.loading.stop();
  }

  /** The key set to verify with; before it is loaded, tries loading now and throws SsoUnavailable. */
  resolver(): RemoteJWKSet {
    if (this.keys) return this.keys;
    void this.loading.runNow();
    throw new SsoUnavailable();
  }

  /** For readiness: resolves once the keys are loaded (trying now if they are not), else rejects saying why (never secret). */
  async ready(): Promise<void> {
    await this.loading.runNow();
    if (!this.keys) throw new Error(this.notLoadedBecause);
  }

  private async load(): Promise<void> {
    const jwksUri = await this.discovery.jwksUri();
    const keys = createRemoteJWKSet(new URL(jwksUri), {
      timeoutDuration: ISSUER_TIMEOUT_MS,
      cooldownDuration: this.config.jwksCooldownSeconds * 1000,
      cacheMaxAge: this.config.jwksMaxAgeSeconds * 1000,
      // Every fetch of the key set (first load, refresh when stale, unknown `kid`), counted by outcome.
      [customFetch]: (url: string, options: RequestInit) =>
        fetch(url, options).then(
          (response) => {
            this.metrics?.jwksFetch(response.ok ? 'success' : 'failure');
            return response;
          },
          (error: unknown) => {
            this.metrics?.jwksFetch('failure');
            throw error;
          },
        ),
    });
    await keys.reload();
    this.keys = keys;
    this.logger.log(`SSO ready: issuer ${this.config.issuer}, keys from ${jwksUri}`);
  }
}
