import { Injectable } from '@nestjs/common';
import { SignalRClient } from '../../signalr/signalr.client.js';
import type { Attempts } from '../../signalr/urls.js';
import { sendToEach } from '../shared/fan-out.js';
import { payloadOf, scopeOf, type CloseQuery, type HubParams, type HubQuery, type MessagePayload } from '../shared/hub.dto.js';
import { requireFound } from '../shared/upstream-problems.js';
import type { SendToUsersDto, SendToUsersResultDto, TtlQuery, UserGroupParams, UserParams } from './users.dto.js';

/** Users of a hub (all their connections): messages, closing, group memberships. */
@Injectable()
export class UsersService {
  constructor(private readonly signalr: SignalRClient) {}

  async send(params: UserParams, query: HubQuery, payload: MessagePayload, attempts: Attempts): Promise<void> {
    await this.signalr.sendToUser(scopeOf(params, query, attempts), params.user, payloadOf(payload));
  }

  sendToMany(params: HubParams, query: HubQuery, body: SendToUsersDto, attempts: Attempts): Promise<SendToUsersResultDto> {
    const scope = scopeOf(params, query, attempts);
    const payload = payloadOf(body);
    return sendToEach('user', body.users, (user) => this.signalr.sendToUser(scope, user, payload));
  }

  async closeConnections(params: UserParams, query: CloseQuery, attempts: Attempts): Promise<void> {
    await this.signalr.closeUserConnections(scopeOf(params, query, attempts), params.user, { excluded: query.excluded, reason: query.reason });
  }

  async exists(params: UserParams, query: HubQuery): Promise<void> {
    requireFound(await this.signalr.userExists(scopeOf(params, query), params.user), `User '${params.user}' has no connections.`);
  }

  async inGroup(params: UserGroupParams, query: HubQuery): Promise<void> {
    const result = await this.signalr.userInGroup(scopeOf(params, query), params.user, params.group);
    requireFound(result, `User '${params.user}' is not in group '${params.group}'.`);
  }

  async addToGroup(params: UserGroupParams, query: TtlQuery, attempts: Attempts): Promise<void> {
    await this.signalr.addUserToGroup(scopeOf(params, query, attempts), params.user, params.group, query.ttl);
  }

  async removeFromGroup(params: UserGroupParams, query: HubQuery, attempts: Attempts): Promise<void> {
    await this.signalr.removeUserFromGroup(scopeOf(params, query, attempts), params.user, params.group);
  }

  async removeFromAllGroups(params: UserParams, query: HubQuery, attempts: Attempts): Promise<void> {
    await this.signalr.removeUserFromAllGroups(scopeOf(params, query, attempts), params.user);
  }
}
