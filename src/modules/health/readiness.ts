import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorFunction } from '@nestjs/terminus';
import { SsoKeySet } from '../../auth/sso-key-set.js';
import { SignalRClient } from '../../signalr/signalr.client.js';
import { SharedState } from '../../state/shared-state.js';

/**
 * What must hold before the gateway takes traffic: the SignalR service answers, the SSO issuer's keys are loaded, and
 * Redis answers when the shared state is there.
 */
@Injectable()
export class ReadinessChecks {
  private readonly checks: readonly HealthIndicatorFunction[];

  constructor(indicators: HealthIndicatorService, signalr: SignalRClient, sso: SsoKeySet, state: SharedState) {
    this.checks = [
      () => indicators.check('signalr').attempt(async () => void (await signalr.health())),
      () => indicators.check('sso').attempt(() => sso.ready()),
      ...(state.kind === 'redis' ? [() => indicators.check('redis').attempt(() => state.ping())] : []),
    ];
  }

  all(): readonly HealthIndicatorFunction[] {
    return this.checks;
  }
}
