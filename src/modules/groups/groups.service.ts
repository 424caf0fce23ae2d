import { Injectable } from '@nestjs/common';
import { SignalRClient } from '../../signalr/signalr.client.js';
import type { Attempts } from '../../signalr/urls.js';
import { sendToEach } from '../shared/fan-out.js';
import { payloadOf, scopeOf, type CloseQuery, type HubParams, type HubQuery, type MessagePayload, type SendQuery } from '../shared/hub.dto.js';
import { requireFound } from '../shared/upstream-problems.js';
import type {
  GroupConnectionParams,
  GroupMemberPageDto,
  GroupParams,
  ListGroupConnectionsQuery,
  SendToGroupsDto,
  SendToGroupsResultDto,
} from './groups.dto.js';

/** Groups of a hub: messages to them, their connections, their membership. */
@Injectable()
export class GroupsService {
  constructor(private readonly signalr: SignalRClient) {}

  async send(params: GroupParams, query: SendQuery, payload: MessagePayload, attempts: Attempts): Promise<void> {
    await this.signalr.sendToGroup(scopeOf(params, query, attempts), params.group, payloadOf(payload), { excluded: query.excluded });
  }

  sendToMany(params: HubParams, query: HubQuery, body: SendToGroupsDto, attempts: Attempts): Promise<SendToGroupsResultDto> {
    const scope = scopeOf(params, query, attempts);
    const payload = payloadOf(body);
    return sendToEach('group', body.groups, (group) => this.signalr.sendToGroup(scope, group, payload));
  }

  async closeConnections(params: GroupParams, query: CloseQuery, attempts: Attempts): Promise<void> {
    await this.signalr.closeGroupConnections(scopeOf(params, query, attempts), params.group, { excluded: query.excluded, reason: query.reason });
  }

  async exists(params: GroupParams, query: HubQuery): Promise<void> {
    requireFound(await this.signalr.groupExists(scopeOf(params, query), params.group), `Group '${params.group}' has no connections.`);
  }

  /** One page; the next page's link points at this gateway, with the service's continuation token as it came. */
  async listConnections(params: GroupParams, query: ListGroupConnectionsQuery): Promise<GroupMemberPageDto> {
    const { maxpagesize: maxPageSize, top, continuationToken } = query;
    const page = await this.signalr.listGroupConnections(scopeOf(params, query), params.group, { maxPageSize, top, continuationToken });
    if (page.continuationToken === undefined) return { value: page.value };
    const next = new URLSearchParams();
    if (query.application !== undefined) next.set('application', query.application);
    if (maxPageSize !== undefined) next.set('maxpagesize', String(maxPageSize));
    if (top !== undefined) next.set('top', String(top));
    next.set('continuationToken', page.continuationToken);
    const path = `/api/hubs/${encodeURIComponent(params.hub)}/groups/${encodeURIComponent(params.group)}/connections`;
    return { value: page.value, nextLink: `${path}?${next.toString()}` };
  }

  async addConnection(params: GroupConnectionParams, query: HubQuery, attempts: Attempts): Promise<void> {
    const result = await this.signalr.addConnectionToGroup(scopeOf(params, query, attempts), params.group, params.connectionId);
    requireFound(result, `Connection '${params.connectionId}' does not exist.`);
  }

  async removeConnection(params: GroupConnectionParams, query: HubQuery, attempts: Attempts): Promise<void> {
    const result = await this.signalr.removeConnectionFromGroup(scopeOf(params, query, attempts), params.group, params.connectionId);
    requireFound(result, `Connection '${params.connectionId}' is not in group '${params.group}'.`);
  }
}
