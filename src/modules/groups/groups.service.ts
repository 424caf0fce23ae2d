import { Injectable } from '@nestjs/common';
import { payloadOf, scopeOf, type CloseQuery, type HubParams, type HubQuery, type PayloadDto, type SendQuery } from '../../common/hub.dto.js';
import { fanOut, requireFound } from '../../common/upstream.js';
import { SignalRClient } from '../../signalr/signalr.client.js';
import type { GroupConnectionParams, GroupParams, SendToGroupsDto, SendToGroupsResultDto } from './groups.dto.js';

/** Groups of a hub: messages to them, their connections, their membership. */
@Injectable()
export class GroupsService {
  constructor(private readonly signalr: SignalRClient) {}

  async send(params: GroupParams, query: SendQuery, payload: PayloadDto): Promise<void> {
    await this.signalr.sendToGroup(scopeOf(params, query), params.group, payloadOf(payload), { excluded: query.excluded });
  }

  async sendToMany(params: HubParams, query: HubQuery, body: SendToGroupsDto): Promise<SendToGroupsResultDto> {
    const scope = scopeOf(params, query);
    const payload = payloadOf(body);
    const outcomes = await fanOut(body.groups, (group) => this.signalr.sendToGroup(scope, group, payload));
    return { results: outcomes.map((outcome, index) => ({ group: body.groups[index], ...outcome })) };
  }

  async closeConnections(params: GroupParams, query: CloseQuery): Promise<void> {
    await this.signalr.closeGroupConnections(scopeOf(params, query), params.group, { excluded: query.excluded, reason: query.reason });
  }

  async exists(params: GroupParams, query: HubQuery): Promise<void> {
    requireFound(await this.signalr.groupExists(scopeOf(params, query), params.group), `Group '${params.group}' has no connections.`);
  }

  async addConnection(params: GroupConnectionParams, query: HubQuery): Promise<void> {
    const result = await this.signalr.addConnectionToGroup(scopeOf(params, query), params.group, params.connectionId);
    requireFound(result, `Connection '${params.connectionId}' does not exist.`);
  }

  async removeConnection(params: GroupConnectionParams, query: HubQuery): Promise<void> {
    const result = await this.signalr.removeConnectionFromGroup(scopeOf(params, query), params.group, params.connectionId);
    requireFound(result, `Connection '${params.connectionId}' is not in group '${params.group}'.`);
  }
}
