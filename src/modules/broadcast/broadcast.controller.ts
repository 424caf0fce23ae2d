import { Body, Controller, Param, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { UpstreamAttempts } from '../../observability/audit.js';
import type { Attempts } from '../../signalr/urls.js';
import { RequirePermission } from '../../auth/auth.decorators.js';
import { ApiUpstreamOperation } from '../shared/api-operation.js';
import { CloseQuery, HubParams, MessagePayload, MessagePayloadPipe, SendQuery } from '../shared/hub.dto.js';
import { azureAction } from '../shared/routes.js';
import { BroadcastService } from './broadcast.service.js';

@ApiTags('hubs')
@Controller()
export class BroadcastController {
  constructor(private readonly broadcast: BroadcastService) {}

  @Post(`api/hubs/:hub/${azureAction('send')}`)
  @RequirePermission('signalr.send')
  @ApiUpstreamOperation({ operationId: 'broadcast', summary: 'Send a message to every connection of a hub.', idempotent: true, status: 202, message: true })
  send(
    @Param() params: HubParams,
    @Query() query: SendQuery,
    @Body(MessagePayloadPipe) payload: MessagePayload,
    @UpstreamAttempts() attempts: Attempts,
  ): Promise<void> {
    return this.broadcast.send(params, query, payload, attempts);
  }

  @Post(`api/hubs/:hub/${azureAction('closeConnections')}`)
  @RequirePermission('signalr.connections')
  @ApiUpstreamOperation({ operationId: 'closeAllConnections', summary: 'Close every connection of a hub.', idempotent: true, status: 204 })
  closeConnections(@Param() params: HubParams, @Query() query: CloseQuery, @UpstreamAttempts() attempts: Attempts): Promise<void> {
    return this.broadcast.closeConnections(params, query, attempts);
  }
}
