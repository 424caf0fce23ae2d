import { ApiProperty } from '@nestjs/swagger';
import { Allow, ValidateBy } from 'class-validator';
import { FromText } from '../../common/dto-validator.js';
import { IsName } from '../../common/names.js';
import { HubQuery } from '../shared/hub.dto.js';

/** Longest client token a trusted service may ask for: a day, as the longest SIGNALR_TOKEN_LIFETIME_S. */
export const MAX_MINUTES_TO_EXPIRE = 24 * 60;

/** What the SignalR client adds to its negotiate request; accepted and ignored (the answer is a redirect). */
export class NegotiateQuery extends HubQuery {
  /** Added by the SignalR client; ignored. */
  @Allow()
  negotiateVersion?: string;

  /** Added by the SignalR client with `withStatefulReconnect()`; ignored (the SignalR service negotiates it). */
  @Allow()
  useStatefulReconnect?: string;
}

/** The redirect the SignalR client follows: it connects to `url` with `accessToken`. */
export class NegotiateResponseDto {
  /** The SignalR service's client endpoint for this hub. */
  @ApiProperty({ example: 'https://contoso.service.signalr.net/client/?hub=chat' })
  url: string;

  /** A client token for the signed-in user, signed for `url`; valid only to connect to this hub. */
  @ApiProperty()
  accessToken: string;

  /**
   * Seconds until `accessToken` expires: SIGNALR_TOKEN_LIFETIME_S, or less when the SSO token expires sooner.
   * The SignalR service checks it only when connecting; renew the SSO token before reconnecting after this.
   */
  @ApiProperty({ example: 3600 })
  tokenLifetimeSeconds: number;
}

export class GenerateTokenQuery extends HubQuery {
  @IsName('user', { optional: true, description: 'The user the token connects as (`asrs.s.uid` and `nameid`); absent: an anonymous connection.' })
  userId?: string;

  @ApiProperty({ description: 'Minutes the token is valid.', required: false, type: 'integer', minimum: 1, maximum: MAX_MINUTES_TO_EXPIRE, default: 60 })
  // Only plain digits become a number: Number('') is 0 and Number('1e3') is 1000, neither of which the caller wrote.
  @FromText((text) => (typeof text === 'string' && /^\d{1,9}$/.test(text) ? Number(text) : text))
  @ValidateBy({
    name: 'is-minutes-to-expire',
    validator: {
      validate: (value) => Number.isInteger(value) && value >= 1 && value <= MAX_MINUTES_TO_EXPIRE,
      defaultMessage: () => `minutesToExpire must be an integer from 1 to ${MAX_MINUTES_TO_EXPIRE}`,
    },
  })
  minutesToExpire: number = 60;
}

/** A client token for a user, as Azure's `:generateToken` (2023-07-01) answers, plus where to connect with it. */
export class ClientTokenDto {
  /** Connect to `url` with this token (e.g. `accessTokenFactory: () => token`). */
  @ApiProperty()
  token: string;

  @ApiProperty({ example: 'https://contoso.service.signalr.net/client/?hub=chat' })
  url: string;
}
