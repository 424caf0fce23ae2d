import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorFunction } from '@nestjs/terminus';
import { SsoKeySet } from '../../auth/sso-key-set.js';
import { SignalRClient } from '../../signalr/signalr.client.js';

/** What must hold before the gateway takes traffic: the SignalR service answers, and the SSO issuer's keys are loaded. */
@Injectable()
export class ReadinessChecks {
  private readonly checks: readonly HealthIndicatorFunction[];

  constructor(indicators: HealthIndicatorService, signalr: SignalRClient, sso: SsoKeySet) {
    this.checks = [
      () => indicators.check('signalr').attempt(async () => void (await signalr.health())),
      () => indicators.check('sso').attempt(() => sso.ready()),
    ];
  }

  all(): readonly HealthIndicatorFunction[] {
    return this.checks;
  }
}
