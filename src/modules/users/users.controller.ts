import { Body, Controller, Delete, Get, Head, Param, Post, Put, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { UpstreamAttempts } from '../../observability/audit.js';
import type { Attempts } from '../../signalr/urls.js';
import { RequirePermission } from '../../auth/auth.decorators.js';
import { ApiUpstreamOperation } from '../shared/api-operation.js';
import { CloseQuery, HubParams, HubQuery, MessagePayload, MessagePayloadPipe } from '../shared/hub.dto.js';
import { perItemOf } from '../rate-limit/rate-limit.js';
import { azureAction } from '../shared/routes.js';
import { MAX_USERS_PER_SEND, SendToUsersDto, SendToUsersResultDto, TtlQuery, UserGroupParams, UserParams } from './users.dto.js';
import { UsersService } from './users.service.js';

@ApiTags('users')
@Controller()
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Post(`api/hubs/:hub/users/:user/${azureAction('send')}`)
  @RequirePermission('signalr.send')
  @ApiUpstreamOperation({ operationId: 'sendToUser', summary: 'Send a message to every connection of a user.', idempotent: true, status: 202, message: true })
  send(
    @Param() params: UserParams,
    @Query() query: HubQuery,
    @Body(MessagePayloadPipe) payload: MessagePayload,
    @UpstreamAttempts() attempts: Attempts,
  ): Promise<void> {
    return this.users.send(params, query, payload, attempts);
  }

  @Post(`api/hubs/:hub/${azureAction('sendToUsers')}`)
  @RequirePermission('signalr.send')
  @ApiUpstreamOperation({
    operationId: 'sendToUsers',
    summary: 'Send one message to several users.',
    description: `Not in Azure's API. One upstream send per user (up to ${MAX_USERS_PER_SEND}), run in parallel; always answers 207 with each user's own status (202 when accepted) and, when it failed, its problem.`,
    idempotent: true,
    cost: perItemOf('users'),
    status: 207,
    type: SendToUsersResultDto,
    body: true,
  })
  sendToMany(
    @Param() params: HubParams,
    @Query() query: HubQuery,
    @Body() body: SendToUsersDto,
    @UpstreamAttempts() attempts: Attempts,
  ): Promise<SendToUsersResultDto> {
    return this.users.sendToMany(params, query, body, attempts);
  }

  @Post(`api/hubs/:hub/users/:user/${azureAction('closeConnections')}`)
  @RequirePermission('signalr.connections')
  @ApiUpstreamOperation({ operationId: 'closeUserConnections', summary: 'Close every connection of a user.', idempotent: true, status: 204 })
  closeConnections(@Param() params: UserParams, @Query() query: CloseQuery, @UpstreamAttempts() attempts: Attempts): Promise<void> {
    return this.users.closeConnections(params, query, attempts);
  }

  @Head('api/hubs/:hub/users/:user')
  @RequirePermission('signalr.read')
  @ApiUpstreamOperation({ operationId: 'checkUserExistenceHead', summary: 'Whether a user has any connection (empty body).', status: 200, notFound: true })
  existsHead(@Param() params: UserParams, @Query() query: HubQuery): Promise<void> {
    return this.users.exists(params, query);
  }

  @Get('api/hubs/:hub/users/:user')
  @RequirePermission('signalr.read')
  @ApiUpstreamOperation({ operationId: 'checkUserExistence', summary: 'Whether a user has any connection.', status: 200, notFound: true })
  exists(@Param() params: UserParams, @Query() query: HubQuery): Promise<void> {
    return this.users.exists(params, query);
  }

  @Head('api/hubs/:hub/users/:user/groups/:group')
  @RequirePermission('signalr.read')
  @ApiUpstreamOperation({ operationId: 'checkUserInGroupHead', summary: 'Whether a user is in a group (empty body).', status: 200, notFound: true })
  inGroupHead(@Param() params: UserGroupParams, @Query() query: HubQuery): Promise<void> {
    return this.users.inGroup(params, query);
  }

  @Get('api/hubs/:hub/users/:user/groups/:group')
  @RequirePermission('signalr.read')
  @ApiUpstreamOperation({ operationId: 'checkUserInGroup', summary: 'Whether a user is in a group.', status: 200, notFound: true })
  inGroup(@Param() params: UserGroupParams, @Query() query: HubQuery): Promise<void> {
    return this.users.inGroup(params, query);
  }

  @Put('api/hubs/:hub/users/:user/groups/:group')
  @RequirePermission('signalr.groups')
  @ApiUpstreamOperation({ operationId: 'addUserToGroup', summary: 'Add a user (current and, within ttl, future connections) to a group.', status: 200 })
  addToGroup(@Param() params: UserGroupParams, @Query() query: TtlQuery, @UpstreamAttempts() attempts: Attempts): Promise<void> {
    return this.users.addToGroup(params, query, attempts);
  }

  @Delete('api/hubs/:hub/users/:user/groups/:group')
  @RequirePermission('signalr.groups')
  @ApiUpstreamOperation({ operationId: 'removeUserFromGroup', summary: 'Remove a user from a group.', status: 204 })
  removeFromGroup(@Param() params: UserGroupParams, @Query() query: HubQuery, @UpstreamAttempts() attempts: Attempts): Promise<void> {
    return this.users.removeFromGroup(params, query, attempts);
  }

  @Delete('api/hubs/:hub/users/:user/groups')
  @RequirePermission('signalr.connections')
  @ApiUpstreamOperation({ operationId: 'removeUserFromAllGroups', summary: 'Remove a user from every group.', status: 204 })
  removeFromAllGroups(@Param() params: UserParams, @Query() query: HubQuery, @UpstreamAttempts() attempts: Attempts): Promise<void> {
    return this.users.removeFromAllGroups(params, query, attempts);
  }
}
