import { Body, Controller, Delete, Get, Head, Param, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { RequirePermission } from '../../auth/auth.decorators.js';
import { ApiUpstreamOperation } from '../shared/api-operation.js';
import { HubQuery, PayloadDto } from '../shared/hub.dto.js';
import { azureAction } from '../shared/routes.js';
import { CloseConnectionQuery, ConnectionParams } from './connections.dto.js';
import { ConnectionsService } from './connections.service.js';

@ApiTags('connections')
@Controller()
export class ConnectionsController {
  constructor(private readonly connections: ConnectionsService) {}

  @Post(`api/hubs/:hub/connections/:connectionId/${azureAction('send')}`)
  @RequirePermission('signalr.send')
  @ApiUpstreamOperation({ operationId: 'sendToConnection', summary: 'Send a message to one connection.', idempotent: true, status: 202, body: true })
  send(@Param() params: ConnectionParams, @Query() query: HubQuery, @Body() payload: PayloadDto): Promise<void> {
    return this.connections.send(params, query, payload);
  }

  @Delete('api/hubs/:hub/connections/:connectionId')
  @RequirePermission('signalr.connections')
  @ApiUpstreamOperation({ operationId: 'closeConnection', summary: 'Close one connection.', status: 200 })
  close(@Param() params: ConnectionParams, @Query() query: CloseConnectionQuery): Promise<void> {
    return this.connections.close(params, query);
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
  removeFromAllGroups(@Param() params: ConnectionParams, @Query() query: HubQuery): Promise<void> {
    return this.connections.removeFromAllGroups(params, query);
  }
}
