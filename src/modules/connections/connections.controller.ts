import { Body, Controller, Delete, Get, Head, Param, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { UpstreamAttempts } from '../../observability/audit.js';
import type { Attempts } from '../../signalr/urls.js';
import { RequirePermission } from '../../auth/auth.decorators.js';
import { ApiUpstreamOperation } from '../shared/api-operation.js';
import { HubQuery, MessagePayload, MessagePayloadPipe } from '../shared/hub.dto.js';
import { azureAction } from '../shared/routes.js';
import {
  CloseConnectionQuery,
  ConnectionParams,
  InvocationResultDto,
  StreamCompleteQuery,
  StreamItemDto,
  StreamParams,
  StreamSendQuery,
} from './connections.dto.js';
import { ConnectionsService } from './connections.service.js';

@ApiTags('connections')
@Controller()
export class ConnectionsController {
  constructor(private readonly connections: ConnectionsService) {}

  @Post(`api/hubs/:hub/connections/:connectionId/${azureAction('send')}`)
  @RequirePermission('signalr.send')
  @ApiUpstreamOperation({ operationId: 'sendToConnection', summary: 'Send a message to one connection.', idempotent: true, status: 202, message: true })
  send(
    @Param() params: ConnectionParams,
    @Query() query: HubQuery,
    @Body(MessagePayloadPipe) payload: MessagePayload,
    @UpstreamAttempts() attempts: Attempts,
  ): Promise<void> {
    return this.connections.send(params, query, payload, attempts);
  }

  @Post(`api/hubs/:hub/connections/:connectionId/${azureAction('invoke')}`)
  @RequirePermission('signalr.send')
  @ApiUpstreamOperation({
    operationId: 'invokeConnection',
    summary: 'Invoke a method on one client and answer its result.',
    description:
      "Azure 2024-12-01 client results: the client answers with its handler's return value (`connection.on('method', () => value)`). " +
      '404 when the connection does not exist; 502 `client-invocation-failed` when the handler throws (its message in the detail), ' +
      "502 `client-no-result` when the client has no handler for the method or it returned nothing, 504 `client-invocation-timeout` when it did not answer in the service's time.",
    status: 200,
    type: InvocationResultDto,
    message: true,
    idempotent: true,
    notFound: true,
  })
  invoke(
    @Param() params: ConnectionParams,
    @Query() query: HubQuery,
    @Body(MessagePayloadPipe) payload: MessagePayload,
    @UpstreamAttempts() attempts: Attempts,
  ): Promise<InvocationResultDto> {
    return this.connections.invoke(params, query, payload, attempts);
  }

  @Post(`api/hubs/:hub/connections/:connectionId/streams/:streamId/${azureAction('send')}`)
  @RequirePermission('signalr.send')
  @ApiUpstreamOperation({
    operationId: 'sendToConnectionStream',
    summary: "Send one item to a client's stream.",
    description:
      'Azure 2024-12-01. `streamId` is the invocation id of the stream the client opened (`connection.stream(...)`); `completed=true` ends the stream after this item. 404 when the connection or the stream does not exist.',
    status: 202,
    body: true,
    notFound: true,
    idempotent: true,
  })
  sendToStream(
    @Param() params: StreamParams,
    @Query() query: StreamSendQuery,
    @Body() body: StreamItemDto,
    @UpstreamAttempts() attempts: Attempts,
  ): Promise<void> {
    return this.connections.sendToStream(params, query, body, attempts);
  }

  @Post(`api/hubs/:hub/connections/:connectionId/streams/:streamId/${azureAction('complete')}`)
  @RequirePermission('signalr.send')
  @ApiUpstreamOperation({
    operationId: 'completeConnectionStream',
    summary: "Complete a client's stream, with an error when `reason` is given.",
    description: 'Azure 2024-12-01. 404 when the connection or the stream does not exist.',
    status: 202,
    notFound: true,
    idempotent: true,
  })
  completeStream(@Param() params: StreamParams, @Query() query: StreamCompleteQuery, @UpstreamAttempts() attempts: Attempts): Promise<void> {
    return this.connections.completeStream(params, query, attempts);
  }

  @Delete('api/hubs/:hub/connections/:connectionId')
  @RequirePermission('signalr.connections')
  @ApiUpstreamOperation({ operationId: 'closeConnection', summary: 'Close one connection.', status: 200 })
  close(@Param() params: ConnectionParams, @Query() query: CloseConnectionQuery, @UpstreamAttempts() attempts: Attempts): Promise<void> {
    return this.connections.close(params, query, attempts);
  }

  @Head('api/hubs/:hub/connections/:connectionId')
  @RequirePermission('signalr.read')
  @ApiUpstreamOperation({ operationId: 'checkConnectionExistenceHead', summary: 'Whether a connection exists (empty body).', status: 200, notFound: true })
  existsHead(@Param() params: ConnectionParams, @Query() query: HubQuery): Promise<void> {
    return this.connections.exists(params, query);
  }

  @Get('api/hubs/:hub/connections/:connectionId')
  @RequirePermission('signalr.read')
  @ApiUpstreamOperation({ operationId: 'checkConnectionExistence', summary: 'Whether a connection exists.', status: 200, notFound: true })
  exists(@Param() params: ConnectionParams, @Query() query: HubQuery): Promise<void> {
    return this.connections.exists(params, query);
  }

  @Delete('api/hubs/:hub/connections/:connectionId/groups')
  @RequirePermission('signalr.connections')
  @ApiUpstreamOperation({ operationId: 'removeConnectionFromAllGroups', summary: 'Remove a connection from every group.', status: 200 })
  removeFromAllGroups(@Param() params: ConnectionParams, @Query() query: HubQuery, @UpstreamAttempts() attempts: Attempts): Promise<void> {
    return this.connections.removeFromAllGroups(params, query, attempts);
  }
}
