import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorFunction } from '@nestjs/terminus';
import { SsoKeySet } from '../../auth/sso-key-set.js';
import { SignalRClient } from '../../signalr/signalr.client.js';

/**
 * What must hold before the gateway takes traffic. The health module registers the upstream check; other modules
 * add theirs (say, "SSO keys loaded") by injecting this and calling `add` when they initialise.
 */
@Injectable()
export class ReadinessChecks {
  private readonly checks: HealthIndicatorFunction[] = [];

  constructor(indicators: HealthIndicatorService, signalr: SignalRClient, sso: SsoKeySet) {
    this.add(() => indicators.check('signalr').attempt(async () => void (await signalr.health())));
    this.add(() => indicators.check('sso').attempt(() => sso.ready()));
  }

  add(check: HealthIndicatorFunction): void {
    this.checks.push(check);
  }

  all(): readonly HealthIndicatorFunction[] {
    return this.checks;
  }
}
