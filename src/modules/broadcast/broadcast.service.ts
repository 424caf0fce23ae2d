import { Injectable } from '@nestjs/common';
import { SignalRClient } from '../../signalr/signalr.client.js';
import { payloadOf, scopeOf, type CloseQuery, type HubParams, type MessagePayload, type SendQuery } from '../shared/hub.dto.js';

/** Everyone connected to a hub. */
@Injectable()
export class BroadcastService {
  constructor(private readonly signalr: SignalRClient) {}

  async send(params: HubParams, query: SendQuery, payload: MessagePayload): Promise<void> {
    await this.signalr.broadcast(scopeOf(params, query), payloadOf(payload), { excluded: query.excluded });
  }

  async closeConnections(params: HubParams, query: CloseQuery): Promise<void> {
    await this.signalr.closeAllConnections(scopeOf(params, query), { excluded: query.excluded, reason: query.reason });
  }
}
