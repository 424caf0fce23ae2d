import { Injectable } from '@nestjs/common';
import { SignalRClient } from '../../signalr/signalr.client.js';
import type { Attempts } from '../../signalr/urls.js';
import { payloadOf, scopeOf, type CloseQuery, type HubParams, type MessagePayload, type SendQuery } from '../shared/hub.dto.js';

/** Everyone connected to a hub. */
@Injectable()
export class BroadcastService {
  constructor(private readonly signalr: SignalRClient) {}

  async send(params: HubParams, query: SendQuery, payload: MessagePayload, attempts: Attempts): Promise<void> {
    await this.signalr.broadcast(scopeOf(params, query, attempts), payloadOf(payload), { excluded: query.excluded });
  }

  async closeConnections(params: HubParams, query: CloseQuery, attempts: Attempts): Promise<void> {
    await this.signalr.closeAllConnections(scopeOf(params, query, attempts), { excluded: query.excluded, reason: query.reason });
  }
}
