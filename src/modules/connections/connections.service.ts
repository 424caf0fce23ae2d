import { Injectable } from '@nestjs/common';
import { SignalRClient } from '../../signalr/signalr.client.js';
import { payloadOf, scopeOf, type HubQuery, type MessagePayload } from '../shared/hub.dto.js';
import { requireFound } from '../shared/upstream-problems.js';
import type { CloseConnectionQuery, ConnectionParams, InvocationResultDto } from './connections.dto.js';

/** Single connections of a hub. */
@Injectable()
export class ConnectionsService {
  constructor(private readonly signalr: SignalRClient) {}

  async send(params: ConnectionParams, query: HubQuery, payload: MessagePayload): Promise<void> {
    await this.signalr.sendToConnection(scopeOf(params, query), params.connectionId, payloadOf(payload));
  }

  async invoke(params: ConnectionParams, query: HubQuery, payload: MessagePayload): Promise<InvocationResultDto> {
    const { result } = await this.signalr.invokeConnection(scopeOf(params, query), params.connectionId, payloadOf(payload));
    return result === undefined ? {} : { result };
  }

  async close(params: ConnectionParams, query: CloseConnectionQuery): Promise<void> {
    await this.signalr.closeConnection(scopeOf(params, query), params.connectionId, query.reason);
  }

  async exists(params: ConnectionParams, query: HubQuery): Promise<void> {
    const result = await this.signalr.connectionExists(scopeOf(params, query), params.connectionId);
    requireFound(result, `Connection '${params.connectionId}' does not exist.`);
  }

  async removeFromAllGroups(params: ConnectionParams, query: HubQuery): Promise<void> {
    await this.signalr.removeConnectionFromAllGroups(scopeOf(params, query), params.connectionId);
  }
}
