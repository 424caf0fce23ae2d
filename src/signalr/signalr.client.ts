import { Injectable } from '@nestjs/common';

/** The message clients receive: `connection.on(target, (...arguments) => ...)`. */
export interface Payload {
  target: string;
  arguments: unknown[];
}

/** Optional on every hub-scoped call: Azure's `application` query parameter (lowercased upstream). */
export interface HubScope {
  hub: string;
  application?: string;
}

export interface SendOptions {
  excluded?: readonly string[];
}

export interface CloseOptions {
  excluded?: readonly string[];
  reason?: string;
}

/** The upstream's answer when it is a success, or a 404 the caller must see (existence checks, add-to-group). */
export interface UpstreamResult {
  status: number;
  /** `x-ms-error-code` of the response, e.g. `Warning.User.NotExisted`. */
  errorCode?: string;
}

/**
 * Azure SignalR Service's data-plane REST API (2022-06-01), one method per operation, called exactly as
 * Azure's Management SDK calls it (notes §b). Knows nothing of the gateway's HTTP controllers.
 * Failures are thrown as UpstreamError.
 */
@Injectable()
export abstract class SignalRClient {
  abstract health(): Promise<UpstreamResult>;

  abstract broadcast(scope: HubScope, payload: Payload, options?: SendOptions): Promise<UpstreamResult>;
  abstract closeAllConnections(scope: HubScope, options?: CloseOptions): Promise<UpstreamResult>;

  abstract sendToGroup(scope: HubScope, group: string, payload: Payload, options?: SendOptions): Promise<UpstreamResult>;
  abstract closeGroupConnections(scope: HubScope, group: string, options?: CloseOptions): Promise<UpstreamResult>;
  abstract groupExists(scope: HubScope, group: string): Promise<UpstreamResult>;
  abstract addConnectionToGroup(scope: HubScope, group: string, connectionId: string): Promise<UpstreamResult>;
  abstract removeConnectionFromGroup(scope: HubScope, group: string, connectionId: string): Promise<UpstreamResult>;

  abstract sendToUser(scope: HubScope, user: string, payload: Payload): Promise<UpstreamResult>;
  abstract closeUserConnections(scope: HubScope, user: string, options?: CloseOptions): Promise<UpstreamResult>;
  abstract userExists(scope: HubScope, user: string): Promise<UpstreamResult>;
  abstract userInGroup(scope: HubScope, user: string, group: string): Promise<UpstreamResult>;
  abstract addUserToGroup(scope: HubScope, user: string, group: string, ttlSeconds?: number): Promise<UpstreamResult>;
  abstract removeUserFromGroup(scope: HubScope, user: string, group: string): Promise<UpstreamResult>;
  abstract removeUserFromAllGroups(scope: HubScope, user: string): Promise<UpstreamResult>;

  abstract sendToConnection(scope: HubScope, connectionId: string, payload: Payload): Promise<UpstreamResult>;
  abstract closeConnection(scope: HubScope, connectionId: string, reason?: string): Promise<UpstreamResult>;
  abstract connectionExists(scope: HubScope, connectionId: string): Promise<UpstreamResult>;
  abstract removeConnectionFromAllGroups(scope: HubScope, connectionId: string): Promise<UpstreamResult>;
}
