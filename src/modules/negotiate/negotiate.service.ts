import { Injectable } from '@nestjs/common';
import type { JWTPayload } from 'jose';
import { invalidToken } from '../../auth/auth.problems.js';
import type { Principal } from '../../auth/token-verifier.js';
import { isValidName, NAME_RULES } from '../../common/names.js';
import { ProblemException } from '../../common/problem.js';
import { NegotiateConfig } from '../../config/negotiate.config.js';
import { SignalRConfig } from '../../config/signalr.config.js';
import { SsoConfig } from '../../config/sso.config.js';
import { SignalRClient } from '../../signalr/signalr.client.js';
import type { HubParams } from '../shared/hub.dto.js';
import type { ClientTokenDto, GenerateTokenQuery, NegotiateQuery, NegotiateResponseDto } from './negotiate.dto.js';

/** Client tokens: for the signed-in user (negotiate) and for any user a trusted service names (`:generateToken`). */
@Injectable()
export class NegotiateService {
  constructor(
    private readonly signalr: SignalRClient,
    private readonly negotiateConfig: NegotiateConfig,
    private readonly signalrConfig: SignalRConfig,
    private readonly ssoConfig: SsoConfig,
  ) {}

  /**
   * The redirect for the caller's own user. The client token never outlives the SSO token it was exchanged for,
   * so signing out (or losing access) at the SSO takes effect at the next reconnect at the latest.
   */
  async negotiate({ hub }: HubParams, { application }: NegotiateQuery, principal: Principal): Promise<NegotiateResponseDto> {
    if (principal.user === undefined) {
      throw new ProblemException({
        status: 403,
        code: 'no-user',
        detail: `The SSO token has no ${this.ssoConfig.userClaim} claim naming a user; negotiate is for user tokens.`,
      });
    }
    // The API refuses such ids: a client token for one would connect a user no REST call can address. The value is
    // not echoed, as it may be anything.
    if (!isValidName('user', principal.user)) {
      throw new ProblemException({
        status: 403,
        code: 'invalid-user',
        detail: `The SSO token's ${this.ssoConfig.userClaim} claim is not a user id SignalR accepts (it ${NAME_RULES.user.requirement}).`,
      });
    }
    const ssoSecondsLeft = principal.claims.exp! - Math.floor(Date.now() / 1000);
    const lifetimeSeconds = Math.min(this.signalrConfig.tokenLifetimeSeconds, ssoSecondsLeft);
    // Possible within the verifier's clock tolerance: a token that would be born expired is worth nothing.
    if (lifetimeSeconds < 1) throw invalidToken('The token has expired.');
    const claims = this.forwardedClaims(principal.claims);
    const signer = this.signalr.negotiationSigner();
    const accessToken = await signer.signClientToken({ hub, application, userId: principal.user, lifetimeSeconds, claims });
    return { url: signer.clientUrl(hub, application), accessToken, tokenLifetimeSeconds: lifetimeSeconds };
  }

  async generateToken({ hub }: HubParams, { application, userId, minutesToExpire }: GenerateTokenQuery): Promise<ClientTokenDto> {
    // With several endpoints, like negotiate: the token is for one instance, and the URL says which.
    const signer = this.signalr.negotiationSigner();
    const token = await signer.signClientToken({ hub, application, userId, lifetimeSeconds: minutesToExpire * 60 });
    return { token, url: signer.clientUrl(hub, application) };
  }

  /** The NEGOTIATE_FORWARD_CLAIMS the SSO token has, as string or string-list claims (the signer renames clashes). */
  private forwardedClaims(claims: Readonly<JWTPayload>): Record<string, string | string[]> {
    const forwarded: Record<string, string | string[]> = {};
    for (const name of this.negotiateConfig.forwardClaims) {
      const value = claims[name];
      if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') forwarded[name] = String(value);
      else if (Array.isArray(value)) forwarded[name] = value.filter((item) => typeof item === 'string');
    }
    return forwarded;
  }
}
