import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorFunction } from '@nestjs/terminus';
import { SsoKeySet } from '../../auth/sso-key-set.js';
import { SignalRClient } from '../../signalr/signalr.client.js';
import { UpstreamCredentials } from '../../signalr/upstream-credentials.js';
import { SharedState } from '../../state/shared-state.js';

/**
 * What must hold before the gateway takes traffic: the SignalR service answers, with Microsoft Entra ID a token and
 * the service's temporary access key are at hand (`signalr-auth`), the SSO issuer's keys are loaded, and Redis
 * answers when the shared state is there.
 */
@Injectable()
export class ReadinessChecks {
  private readonly checks: readonly HealthIndicatorFunction[];

  constructor(indicators: HealthIndicatorService, signalr: SignalRClient, credentials: UpstreamCredentials, sso: SsoKeySet, state: SharedState) {
    this.checks = [
      () => indicators.check('signalr').attempt(async () => void (await signalr.health())),
      ...(credentials.usesEntra ? [() => indicators.check('signalr-auth').attempt(() => credentials.ready())] : []),
      () => indicators.check('sso').attempt(() => sso.ready()),
      ...(state.kind === 'redis' ? [() => indicators.check('redis').attempt(() => state.ping())] : []),
    ];
  }

  all(): readonly HealthIndicatorFunction[] {
    return this.checks;
  }
}
