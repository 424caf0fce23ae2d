import { Injectable } from '@nestjs/common';
import { SignalRClient } from '../../signalr/signalr.client.js';
import type { Attempts } from '../../signalr/urls.js';
import { payloadOf, scopeOf, type HubQuery, type MessagePayload } from '../shared/hub.dto.js';
import { requireFound } from '../shared/upstream-problems.js';
import { sourceTextOf } from '../../common/json-body.js';
import type {
  CloseConnectionQuery,
  ConnectionParams,
  InvocationResultDto,
  StreamCompleteQuery,
  StreamItemDto,
  StreamParams,
  StreamSendQuery,
} from './connections.dto.js';

/** Single connections of a hub. */
@Injectable()
export class ConnectionsService {
  constructor(private readonly signalr: SignalRClient) {}

  async send(params: ConnectionParams, query: HubQuery, payload: MessagePayload, attempts: Attempts): Promise<void> {
    await this.signalr.sendToConnection(scopeOf(params, query, attempts), params.connectionId, payloadOf(payload));
  }

  async invoke(params: ConnectionParams, query: HubQuery, payload: MessagePayload, attempts: Attempts): Promise<InvocationResultDto> {
    const { result } = await this.signalr.invokeConnection(scopeOf(params, query, attempts), params.connectionId, payloadOf(payload));
    return result === undefined ? {} : { result };
  }

  async sendToStream(params: StreamParams, query: StreamSendQuery, { item }: StreamItemDto, attempts: Attempts): Promise<void> {
    // Objects and arrays go as the very text the caller sent (sourceTextOf); scalars as JSON writes them.
    const itemJson = typeof item === 'object' && item !== null ? sourceTextOf(item) : JSON.stringify(item);
    await this.signalr.sendToStream(scopeOf(params, query, attempts), params.connectionId, params.streamId, itemJson, query.completed);
  }

  async completeStream(params: StreamParams, query: StreamCompleteQuery, attempts: Attempts): Promise<void> {
    await this.signalr.completeStream(scopeOf(params, query, attempts), params.connectionId, params.streamId, query.reason);
  }

  async close(params: ConnectionParams, query: CloseConnectionQuery, attempts: Attempts): Promise<void> {
    await this.signalr.closeConnection(scopeOf(params, query, attempts), params.connectionId, query.reason);
  }

  async exists(params: ConnectionParams, query: HubQuery): Promise<void> {
    const result = await this.signalr.connectionExists(scopeOf(params, query), params.connectionId);
    requireFound(result, `Connection '${params.connectionId}' does not exist.`);
  }

  async removeFromAllGroups(params: ConnectionParams, query: HubQuery, attempts: Attempts): Promise<void> {
    await this.signalr.removeConnectionFromAllGroups(scopeOf(params, query, attempts), params.connectionId);
  }
}
