import { Body, Controller, Param, Post, Query } from '@nestjs/common';
import { ApiBody, ApiExtension, ApiTags } from '@nestjs/swagger';
import { ApiProblems } from '../../common/api-problems.js';
import { Authenticated, CurrentPrincipal } from '../../auth/auth.decorators.js';
import type { Principal } from '../../auth/token-verifier.js';
import { UpstreamAttempts } from '../../observability/audit.js';
import type { Attempts } from '../../signalr/urls.js';
import { ApiUpstreamOperation } from '../shared/api-operation.js';
import { HubParams } from '../shared/hub.dto.js';
import { azureAction } from '../shared/routes.js';
import { COMMAND_PERMISSIONS, ExecuteCommandsPipe, ExecuteQuery, MAX_COMMANDS, type ExecuteCommand } from './execute.dto.js';
import { ExecuteService } from './execute.service.js';

@ApiTags('hubs')
@Controller()
export class ExecuteController {
  constructor(private readonly execute: ExecuteService) {}

  @Post(`api/hubs/:hub/${azureAction('execute')}`)
  // Any valid token gets in; each command kind's permission is then checked on the hub (ExecuteService).
  @Authenticated()
  @ApiProblems(403)
  @ApiExtension('x-permission', 'per command: SendMessage signalr.send, JoinGroup and LeaveGroup signalr.groups, CloseConnection signalr.connections')
  @ApiUpstreamOperation({
    operationId: 'execute',
    summary: 'Apply commands to every connection that matches a filter.',
    description: `Azure 2024-12-01 (since 2023-07-01). 1-${MAX_COMMANDS} commands: SendMessage, JoinGroup, LeaveGroup, CloseConnection. Each needs its own permission (${Object.entries(
      COMMAND_PERMISSIONS,
    )
      .map(([type, permission]) => `${type}: ${permission}`)
      .join('; ')}); a missing one is 403 before anything goes upstream.`,
    status: 202,
    idempotent: true,
    body: true,
  })
  @ApiBody({
    schema: {
      type: 'array',
      minItems: 1,
      maxItems: MAX_COMMANDS,
      items: {
        type: 'object',
        required: ['type'],
        properties: {
          type: { type: 'string', enum: Object.keys(COMMAND_PERMISSIONS) },
          message: {
            type: 'object',
            description: 'SendMessage only.',
            required: ['target'],
            properties: { target: { type: 'string', minLength: 1 }, arguments: { type: 'array', items: {} } },
          },
          group: { type: 'string', minLength: 1, maxLength: 1024, description: 'JoinGroup and LeaveGroup only.' },
          reason: { type: 'string', maxLength: 1024, description: 'CloseConnection only.' },
        },
      },
      example: [
        { type: 'SendMessage', message: { target: 'notice', arguments: ['hi'] } },
        { type: 'JoinGroup', group: 'vip' },
      ],
    },
  })
  run(
    @Param() params: HubParams,
    @Query() query: ExecuteQuery,
    @Body(ExecuteCommandsPipe) commands: ExecuteCommand[],
    @CurrentPrincipal() principal: Principal,
    @UpstreamAttempts() attempts: Attempts,
  ): Promise<void> {
    return this.execute.run(params, query, commands, principal, attempts);
  }
}
