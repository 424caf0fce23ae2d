import { Body, Controller, Delete, Get, Head, Param, Post, Put, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { UpstreamAttempts } from '../../observability/audit.js';
import type { Attempts } from '../../signalr/urls.js';
import { RequirePermission } from '../../auth/auth.decorators.js';
import { ApiUpstreamOperation } from '../shared/api-operation.js';
import { CloseQuery, HubParams, HubQuery, MessagePayload, MessagePayloadPipe, SendQuery } from '../shared/hub.dto.js';
import { perItemOf } from '../rate-limit/rate-limit.js';
import { azureAction } from '../shared/routes.js';
import {
  GroupConnectionParams,
  GroupMemberPageDto,
  GroupParams,
  ListGroupConnectionsQuery,
  SendToGroupsDto,
  SendToGroupsResultDto,
  MAX_GROUPS_PER_SEND,
} from './groups.dto.js';
import { GroupsService } from './groups.service.js';

@ApiTags('groups')
@Controller()
export class GroupsController {
  constructor(private readonly groups: GroupsService) {}

  @Post(`api/hubs/:hub/groups/:group/${azureAction('send')}`)
  @RequirePermission('signalr.send')
  @ApiUpstreamOperation({ operationId: 'sendToGroup', summary: 'Send a message to every connection in a group.', idempotent: true, status: 202, message: true })
  send(
    @Param() params: GroupParams,
    @Query() query: SendQuery,
    @Body(MessagePayloadPipe) payload: MessagePayload,
    @UpstreamAttempts() attempts: Attempts,
  ): Promise<void> {
    return this.groups.send(params, query, payload, attempts);
  }

  @Post(`api/hubs/:hub/${azureAction('sendToGroups')}`)
  @RequirePermission('signalr.send')
  @ApiUpstreamOperation({
    operationId: 'sendToGroups',
    summary: 'Send one message to several groups.',
    description: `Not in Azure's API. One upstream send per group (up to ${MAX_GROUPS_PER_SEND}), run in parallel; always answers 207 with each group's own status (202 when accepted) and, when it failed, its problem.`,
    idempotent: true,
    cost: perItemOf('groups'),
    status: 207,
    type: SendToGroupsResultDto,
    body: true,
  })
  sendToMany(
    @Param() params: HubParams,
    @Query() query: HubQuery,
    @Body() body: SendToGroupsDto,
    @UpstreamAttempts() attempts: Attempts,
  ): Promise<SendToGroupsResultDto> {
    return this.groups.sendToMany(params, query, body, attempts);
  }

  @Post(`api/hubs/:hub/groups/:group/${azureAction('closeConnections')}`)
  @RequirePermission('signalr.connections')
  @ApiUpstreamOperation({ operationId: 'closeGroupConnections', summary: 'Close every connection in a group.', idempotent: true, status: 204 })
  closeConnections(@Param() params: GroupParams, @Query() query: CloseQuery, @UpstreamAttempts() attempts: Attempts): Promise<void> {
    return this.groups.closeConnections(params, query, attempts);
  }

  @Head('api/hubs/:hub/groups/:group')
  @RequirePermission('signalr.read')
  @ApiUpstreamOperation({ operationId: 'checkGroupExistenceHead', summary: 'Whether a group has any connection (empty body).', status: 200, notFound: true })
  existsHead(@Param() params: GroupParams, @Query() query: HubQuery): Promise<void> {
    return this.groups.exists(params, query);
  }

  @Get('api/hubs/:hub/groups/:group')
  @RequirePermission('signalr.read')
  @ApiUpstreamOperation({ operationId: 'checkGroupExistence', summary: 'Whether a group has any connection.', status: 200, notFound: true })
  exists(@Param() params: GroupParams, @Query() query: HubQuery): Promise<void> {
    return this.groups.exists(params, query);
  }

  @Get('api/hubs/:hub/groups/:group/connections')
  @RequirePermission('signalr.read')
  @ApiUpstreamOperation({
    operationId: 'listGroupConnections',
    summary: "List a group's connections, a page at a time.",
    description:
      "Azure 2024-12-01. An empty group answers an empty page. Follow `nextLink` (the gateway's own URL, relative) for the next page; its `continuationToken` is the service's, passed on as it is.",
    status: 200,
    type: GroupMemberPageDto,
  })
  listConnections(@Param() params: GroupParams, @Query() query: ListGroupConnectionsQuery): Promise<GroupMemberPageDto> {
    return this.groups.listConnections(params, query);
  }

  @Put('api/hubs/:hub/groups/:group/connections/:connectionId')
  @RequirePermission('signalr.groups')
  @ApiUpstreamOperation({ operationId: 'addConnectionToGroup', summary: 'Add a connection to a group.', status: 200, notFound: true })
  addConnection(@Param() params: GroupConnectionParams, @Query() query: HubQuery, @UpstreamAttempts() attempts: Attempts): Promise<void> {
    return this.groups.addConnection(params, query, attempts);
  }

  @Delete('api/hubs/:hub/groups/:group/connections/:connectionId')
  @RequirePermission('signalr.groups')
  @ApiUpstreamOperation({ operationId: 'removeConnectionFromGroup', summary: 'Remove a connection from a group.', status: 200, notFound: true })
  removeConnection(@Param() params: GroupConnectionParams, @Query() query: HubQuery, @UpstreamAttempts() attempts: Attempts): Promise<void> {
    return this.groups.removeConnection(params, query, attempts);
  }
}
