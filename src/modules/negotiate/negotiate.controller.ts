import { Controller, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Authenticated, CurrentPrincipal, RequirePermission } from '../../auth/auth.decorators.js';
import type { Principal } from '../../auth/token-verifier.js';
import { ApiProblems, RATE_LIMIT_HEADERS } from '../../common/api-problems.js';
import { Idempotent } from '../idempotency/idempotency.js';
import { RateLimited } from '../rate-limit/rate-limit.js';
import { HubParams } from '../shared/hub.dto.js';
import { azureAction } from '../shared/routes.js';
import { ClientTokenDto, GenerateTokenQuery, NegotiateQuery, NegotiateResponseDto } from './negotiate.dto.js';
import { NegotiateService } from './negotiate.service.js';

@ApiTags('negotiate')
@Controller()
export class NegotiateController {
  constructor(private readonly negotiation: NegotiateService) {}

  @Post('hubs/:hub/negotiate')
  @HttpCode(200)
  @Authenticated()
  @ApiOperation({
    operationId: 'negotiate',
    summary: 'Connect the signed-in user to a hub: the SignalR client calls this itself.',
    description:
      'Point the standard SignalR client at `/hubs/{hub}` with `accessTokenFactory` returning the SSO access token. ' +
      'Any valid user token will do (no permission needed): the user id is its `SSO_USER_CLAIM`. The answer is the redirect the client follows to the SignalR service.',
  })
  @ApiResponse({ status: 200, description: 'The redirect to the SignalR service.', type: NegotiateResponseDto })
  @ApiProblems(400, 403, 413, 503)
  negotiate(@Param() params: HubParams, @Query() query: NegotiateQuery, @CurrentPrincipal() principal: Principal): Promise<NegotiateResponseDto> {
    return this.negotiation.negotiate(params, query, principal);
  }

  @Post(`api/hubs/:hub/${azureAction('generateToken')}`)
  @HttpCode(200)
  @RequirePermission('signalr.negotiate')
  @ApiOperation({
    operationId: 'generateToken',
    summary: 'Mint a client token for a user (trusted services).',
    description: "As Azure's `:generateToken` (API 2023-07-01), plus the `url` to connect to. The token carries no claims but the user id.",
  })
  @ApiResponse({ status: 200, description: 'A client token and where to use it.', type: ClientTokenDto, headers: RATE_LIMIT_HEADERS })
  @ApiProblems(400, 413, 429, 503)
  @RateLimited()
  @Idempotent() // applied first, so its guard runs first: a replay answers before the rate limit
  generateToken(@Param() params: HubParams, @Query() query: GenerateTokenQuery): Promise<ClientTokenDto> {
    return this.negotiation.generateToken(params, query);
  }
}
