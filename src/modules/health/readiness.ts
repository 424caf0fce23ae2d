import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorFunction, type HealthIndicatorResult } from '@nestjs/terminus';
import { SsoKeySet } from '../../auth/sso-key-set.js';
import { SignalRClient } from '../../signalr/signalr.client.js';
import { UpstreamCredentials } from '../../signalr/upstream-credentials.js';
import { SharedState } from '../../state/shared-state.js';

/**
 * What must hold before the gateway takes traffic: the SignalR service answers (with several endpoints: one of them can
 * take clients, by the background probes; `degraded` while some cannot), with Microsoft Entra ID a token and the
 * service's temporary access key are at hand (`signalr-auth`), the SSO issuer's keys are loaded, and Redis
 * answers when the shared state is there.
 */
@Injectable()
export class ReadinessChecks {
  private readonly checks: readonly HealthIndicatorFunction[];

  constructor(indicators: HealthIndicatorService, signalr: SignalRClient, credentials: UpstreamCredentials, sso: SsoKeySet, state: SharedState) {
    this.checks = [
      () => signalrCheck(indicators, signalr),
      ...(credentials.usesEntra ? [() => indicators.check('signalr-auth').attempt(() => credentials.ready())] : []),
      () => indicators.check('sso').attempt(() => sso.ready()),
      ...(state.kind === 'redis' ? [() => indicators.check('redis').attempt(() => state.ping())] : []),
    ];
  }

  all(): readonly HealthIndicatorFunction[] {
    return this.checks;
  }
}

async function signalrCheck(indicators: HealthIndicatorService, signalr: SignalRClient): Promise<HealthIndicatorResult> {
  const check = indicators.check('signalr');
  const endpoints = await signalr.endpointStatuses();
  if (endpoints === undefined) return check.attempt(async () => void (await signalr.health()));
  const down = endpoints.filter(({ status }) => status === 'down');
  if (down.length === 0) return check.up({ endpoints });
  const message = `${down.length === endpoints.length ? 'no endpoint can take clients' : 'some endpoints are down'}: ${down.map(({ endpoint, reason }) => `${endpoint} (${reason})`).join(', ')}`;
  return down.length === endpoints.length ? check.down({ message, endpoints }) : check.degraded({ message, endpoints });
}
