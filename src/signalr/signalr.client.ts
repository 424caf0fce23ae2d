import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { Pool } from 'undici';
import { SignalRConfig } from '../config/signalr.config.js';
import { SignalRSigner } from './signer.js';
import { UpstreamError } from './upstream-error.js';
import { restCalls, type RestCall } from './urls.js';

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
 * Failures are thrown as UpstreamError; a 404 is returned, not thrown, only by the existence checks and
 * addConnectionToGroup.
 */
@Injectable()
export class SignalRClient implements OnApplicationShutdown {
  private readonly logger = new Logger(SignalRClient.name);
  /** Keep-alive connections to the one upstream origin. */
  private readonly pool: Pool;
  /** A path on ServerEndpoint (rare: a reverse proxy) prefixes every call. */
  private readonly basePath: string;

  constructor(
    config: SignalRConfig,
    private readonly signer: SignalRSigner,
  ) {
    const server = config.connection.serverEndpoint;
    // undici's own timers bound each phase (connect, headers, body): cheaper on the hot path than an AbortSignal per call.
    const timeout = config.timeoutMs;
    this.pool = new Pool(server.origin, { connect: { timeout }, headersTimeout: timeout, bodyTimeout: timeout });
    this.basePath = server.pathname.replace(/\/$/, '');
  }

  health(): Promise<UpstreamResult> {
    return this.call(restCalls.health());
  }

  broadcast(scope: HubScope, payload: Payload, options?: SendOptions): Promise<UpstreamResult> {
    return this.call(restCalls.broadcast(scope, options), payload);
  }

  closeAllConnections(scope: HubScope, options?: CloseOptions): Promise<UpstreamResult> {
    return this.call(restCalls.closeAllConnections(scope, options));
  }

  sendToGroup(scope: HubScope, group: string, payload: Payload, options?: SendOptions): Promise<UpstreamResult> {
    return this.call(restCalls.sendToGroup(scope, group, options), payload);
  }

  closeGroupConnections(scope: HubScope, group: string, options?: CloseOptions): Promise<UpstreamResult> {
    return this.call(restCalls.closeGroupConnections(scope, group, options));
  }

  groupExists(scope: HubScope, group: string): Promise<UpstreamResult> {
    return this.call(restCalls.groupExists(scope, group));
  }

  addConnectionToGroup(scope: HubScope, group: string, connectionId: string): Promise<UpstreamResult> {
    return this.call(restCalls.addConnectionToGroup(scope, group, connectionId));
  }

  removeConnectionFromGroup(scope: HubScope, group: string, connectionId: string): Promise<UpstreamResult> {
    return this.call(restCalls.removeConnectionFromGroup(scope, group, connectionId));
  }

  sendToUser(scope: HubScope, user: string, payload: Payload): Promise<UpstreamResult> {
    return this.call(restCalls.sendToUser(scope, user), payload);
  }

  closeUserConnections(scope: HubScope, user: string, options?: CloseOptions): Promise<UpstreamResult> {
    return this.call(restCalls.closeUserConnections(scope, user, options));
  }

  userExists(scope: HubScope, user: string): Promise<UpstreamResult> {
    return this.call(restCalls.userExists(scope, user));
  }

  userInGroup(scope: HubScope, user: string, group: string): Promise<UpstreamResult> {
    return this.call(restCalls.userInGroup(scope, user, group));
  }

  addUserToGroup(scope: HubScope, user: string, group: string, ttlSeconds?: number): Promise<UpstreamResult> {
    return this.call(restCalls.addUserToGroup(scope, user, group, ttlSeconds));
  }

  removeUserFromGroup(scope: HubScope, user: string, group: string): Promise<UpstreamResult> {
    return this.call(restCalls.removeUserFromGroup(scope, user, group));
  }

  removeUserFromAllGroups(scope: HubScope, user: string): Promise<UpstreamResult> {
    return this.call(restCalls.removeUserFromAllGroups(scope, user));
  }

  sendToConnection(scope: HubScope, connectionId: string, payload: Payload): Promise<UpstreamResult> {
    return this.call(restCalls.sendToConnection(scope, connectionId), payload);
  }

  closeConnection(scope: HubScope, connectionId: string, reason?: string): Promise<UpstreamResult> {
    return this.call(restCalls.closeConnection(scope, connectionId, reason));
  }

  connectionExists(scope: HubScope, connectionId: string): Promise<UpstreamResult> {
    return this.call(restCalls.connectionExists(scope, connectionId));
  }

  removeConnectionFromAllGroups(scope: HubScope, connectionId: string): Promise<UpstreamResult> {
    return this.call(restCalls.removeConnectionFromAllGroups(scope, connectionId));
  }

  /** After the HTTP server has closed (Nest's last hook), so requests still in flight during shutdown reach Azure. */
  async onApplicationShutdown(): Promise<void> {
    await this.pool.close();
  }

  /** Signs, sends with the whole-call timeout, reads the status and `x-ms-error-code`; anything unexpected is thrown. */
  private async call(call: RestCall, payload?: Payload): Promise<UpstreamResult> {
    const headers: Record<string, string> = { authorization: `Bearer ${await this.signer.restToken(call.path)}` };
    if (payload) headers['content-type'] = 'application/json; charset=utf-8';
    let status: number;
    let responseHeaders: Record<string, string | string[] | undefined>;
    try {
      const response = await this.pool.request({
        method: call.method,
        path: this.basePath + call.path + call.query,
        headers,
        body: payload && JSON.stringify({ target: payload.target, arguments: payload.arguments }),
      });
      // Azure's success bodies (ServiceResponse) and error bodies are not used; draining frees the connection.
      await response.body.dump();
      ({ statusCode: status, headers: responseHeaders } = response);
    } catch (error) {
      throw this.failed(UpstreamError.fromFailure(call, error));
    }
    const errorCode = single(responseHeaders['x-ms-error-code']);
    if ((status >= 200 && status < 300) || (status === 404 && call.notFoundIsAnswer)) return errorCode === undefined ? { status } : { status, errorCode };
    throw this.failed(UpstreamError.fromStatus(call, status, errorCode, single(responseHeaders['retry-after'])));
  }

  /** Upstream failures are the operator's business too (a wrong AccessKey shows up only here); logged without query or headers. */
  private failed(error: UpstreamError): UpstreamError {
    this.logger.warn(`upstream call failed: ${error.message}`);
    return error;
  }
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
