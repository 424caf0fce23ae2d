import { Injectable, Optional, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { SignalRConfig } from '../config/signalr.config.js';
import { GatewayMetrics } from '../observability/metrics.js';
import { EndpointClient, type GroupMemberPage, type Payload, type RawJson, type UpstreamResult } from './endpoint-client.js';
import { EndpointHealth, type EndpointStatus } from './endpoint-health.js';
import { atEveryEndpoint, EndpointFailures, NegotiateRouter, NoHealthyEndpoint, whereFound, type EndpointOutcome } from './endpoint-router.js';
import type { Clock, SignalRSigner } from './signer.js';
import { EntraAuthError } from './entra-token.js';
import { UpstreamCredentials } from './upstream-credentials.js';
import { UpstreamError } from './upstream-error.js';
import { restCalls, type CloseOptions, type HubScope, type PageOptions, type RestCall, type SendOptions } from './urls.js';

/** A continuation token the gateway did not give out (several endpoints: its tokens name the endpoint to go on at). */
export class InvalidContinuationToken extends Error {
  override readonly name = 'InvalidContinuationToken';
}

/** Where a listing across endpoints stands: the endpoint, its own token, members listed so far and before it. */
interface ListPosition {
  /** The endpoint's name. */
  e: string;
  /** Its continuation token; absent at its first page. */
  t?: string;
  /** Members returned so far, over every endpoint (to honour `top`). */
  n: number;
  /** Members returned by the endpoints before this one. */
  b: number;
}

/**
 * Azure SignalR Service's data-plane REST API (2022-06-01 and the 2024-12-01 operations), one method per operation,
 * in front of one SignalR instance or several (SIGNALR_ENDPOINTS). With several it routes as Azure's default endpoint
 * router does (src/signalr/endpoint-router.ts): every operation goes to every endpoint, answered by all of them or by
 * the one that has the connection, user or group; negotiate picks a healthy primary. With one, each call goes to it
 * unchanged. Knows nothing of the gateway's HTTP controllers: it returns results and throws UpstreamError (one
 * endpoint) or EndpointFailures (several), which the HTTP side maps (src/modules/shared/upstream-problems.ts), and
 * appends each attempt's outcome to the scope's `attempts` when it has them.
 */
@Injectable()
export class SignalRClient implements OnModuleInit, OnApplicationShutdown {
  private readonly clients: readonly EndpointClient[];
  /** Only with several endpoints: with one, there is nothing to choose and Azure's SDK does not probe either. */
  private readonly endpointHealth?: EndpointHealth;
  private readonly router: NegotiateRouter<EndpointClient>;

  constructor(
    config: SignalRConfig,
    credentials: UpstreamCredentials,
    /** Absent in unit tests that build the client alone. */
    @Optional() metrics?: GatewayMetrics,
    /** Tests only: the signers' clock. */
    @Optional() signerClock?: Clock,
  ) {
    const settings = { timeoutMs: config.timeoutMs, retry: config.retry, tokenLifetimeSeconds: config.tokenLifetimeSeconds };
    this.clients = config.endpoints.map((endpoint) => new EndpointClient(endpoint, settings, credentials.entraOf(endpoint.connection), metrics, signerClock));
    if (this.clients.length > 1) this.endpointHealth = new EndpointHealth(this.clients, config.healthCheckIntervalMs, metrics);
    this.router = new NegotiateRouter(this.clients);
  }

  onModuleInit(): void {
    this.endpointHealth?.start();
  }

  /**
   * The signer of the endpoint the next client goes to (negotiate, `:generateToken`): a healthy primary, else a
   * healthy secondary. Throws NoHealthyEndpoint when there is none.
   */
  negotiationSigner(): SignalRSigner {
    const health = this.endpointHealth;
    const chosen = health ? this.router.pick((client) => health.isUp(client.name)) : this.clients[0];
    if (chosen === undefined) {
      throw new NoHealthyEndpoint(health!.statuses().map(({ endpoint, reason }) => ({ name: endpoint, reason: reason ?? 'down' })));
    }
    return chosen.signer;
  }

  /** Each endpoint's health, with several endpoints (after the first round of probes); undefined with one. */
  async endpointStatuses(): Promise<EndpointStatus[] | undefined> {
    if (this.endpointHealth === undefined) return undefined;
    await this.endpointHealth.firstRound;
    return this.endpointHealth.statuses();
  }

  /** Azure's health operation, at every endpoint. */
  health(): Promise<UpstreamResult> {
    return this.atEvery('health', restCalls.health());
  }

  broadcast(scope: HubScope, payload: Payload, options?: SendOptions): Promise<UpstreamResult> {
    return this.atEvery('broadcast', restCalls.broadcast(scope, options), payload);
  }

  closeAllConnections(scope: HubScope, options?: CloseOptions): Promise<UpstreamResult> {
    return this.atEvery('closeAllConnections', restCalls.closeAllConnections(scope, options));
  }

  sendToGroup(scope: HubScope, group: string, payload: Payload, options?: SendOptions): Promise<UpstreamResult> {
    return this.atEvery('sendToGroup', restCalls.sendToGroup(scope, group, options), payload);
  }

  closeGroupConnections(scope: HubScope, group: string, options?: CloseOptions): Promise<UpstreamResult> {
    return this.atEvery('closeGroupConnections', restCalls.closeGroupConnections(scope, group, options));
  }

  groupExists(scope: HubScope, group: string): Promise<UpstreamResult> {
    return this.whereFound('groupExists', restCalls.groupExists(scope, group));
  }

  addConnectionToGroup(scope: HubScope, group: string, connectionId: string): Promise<UpstreamResult> {
    return this.whereFound('addConnectionToGroup', restCalls.addConnectionToGroup(scope, group, connectionId));
  }

  removeConnectionFromGroup(scope: HubScope, group: string, connectionId: string): Promise<UpstreamResult> {
    return this.whereFound('removeConnectionFromGroup', restCalls.removeConnectionFromGroup(scope, group, connectionId));
  }

  sendToUser(scope: HubScope, user: string, payload: Payload): Promise<UpstreamResult> {
    return this.atEvery('sendToUser', restCalls.sendToUser(scope, user), payload);
  }

  closeUserConnections(scope: HubScope, user: string, options?: CloseOptions): Promise<UpstreamResult> {
    return this.atEvery('closeUserConnections', restCalls.closeUserConnections(scope, user, options));
  }

  userExists(scope: HubScope, user: string): Promise<UpstreamResult> {
    return this.whereFound('userExists', restCalls.userExists(scope, user));
  }

  userInGroup(scope: HubScope, user: string, group: string): Promise<UpstreamResult> {
    return this.whereFound('userInGroup', restCalls.userInGroup(scope, user, group));
  }

  addUserToGroup(scope: HubScope, user: string, group: string, ttlSeconds?: number): Promise<UpstreamResult> {
    return this.atEvery('addUserToGroup', restCalls.addUserToGroup(scope, user, group, ttlSeconds));
  }

  removeUserFromGroup(scope: HubScope, user: string, group: string): Promise<UpstreamResult> {
    return this.atEvery('removeUserFromGroup', restCalls.removeUserFromGroup(scope, user, group));
  }

  removeUserFromAllGroups(scope: HubScope, user: string): Promise<UpstreamResult> {
    return this.atEvery('removeUserFromAllGroups', restCalls.removeUserFromAllGroups(scope, user));
  }

  /** Azure accepts a message for a connection it does not have (202), so which endpoint has it is unknown: every one must accept. */
  sendToConnection(scope: HubScope, connectionId: string, payload: Payload): Promise<UpstreamResult> {
    return this.atEvery('sendToConnection', restCalls.sendToConnection(scope, connectionId), payload);
  }

  closeConnection(scope: HubScope, connectionId: string, reason?: string): Promise<UpstreamResult> {
    return this.whereFound('closeConnection', restCalls.closeConnection(scope, connectionId, reason));
  }

  connectionExists(scope: HubScope, connectionId: string): Promise<UpstreamResult> {
    return this.whereFound('connectionExists', restCalls.connectionExists(scope, connectionId));
  }

  /** Azure answers 200 whether or not it has the connection: every endpoint must. */
  removeConnectionFromAllGroups(scope: HubScope, connectionId: string): Promise<UpstreamResult> {
    return this.atEvery('removeConnectionFromAllGroups', restCalls.removeConnectionFromAllGroups(scope, connectionId));
  }

  /**
   * 2024-12-01: one page of a group's connections. With several endpoints the listing walks them in configuration
   * order, one endpoint's pages after the other's, under a continuation token of the gateway's own that names the
   * endpoint and carries its token (docs/azure-compatibility.md#multiple-endpoints); `top` counts over all of them.
   */
  async listGroupConnections(scope: HubScope, group: string, options: PageOptions = {}): Promise<GroupMemberPage> {
    if (this.endpointHealth === undefined) return this.clients[0].page(restCalls.listGroupConnections(scope, group, options));
    const { maxPageSize, top, continuationToken } = options;
    let position: ListPosition = continuationToken === undefined ? { e: this.clients[0].name, n: 0, b: 0 } : this.positionOf(continuationToken);
    for (;;) {
      const at = this.clients.findIndex((client) => client.name === position.e);
      const client = this.clients[at];
      const pageOptions = { maxPageSize, top: top === undefined ? undefined : top - position.b, continuationToken: position.t };
      const page = await this.oneOf('listGroupConnections', client, () => client.page(restCalls.listGroupConnections(scope, group, pageOptions)));
      const n = position.n + page.value.length;
      const next = this.clients[at + 1] as EndpointClient | undefined;
      const more: ListPosition | undefined = page.continuationToken
        ? { e: client.name, t: page.continuationToken, n, b: position.b }
        : next && (top === undefined || n < top)
          ? { e: next.name, n, b: n }
          : undefined;
      // An endpoint with nothing (more) to list gives no empty page: the next endpoint's first page comes now.
      if (page.value.length > 0 || more === undefined) return more ? { value: page.value, continuationToken: tokenOf(more) } : { value: page.value };
      position = more;
    }
  }

  /**
   * 2024-12-01: invokes `payload.target` on one client and returns its result (`undefined` when the service answers
   * without one). The client's failures come back as UpstreamError with Azure's code and message. With several
   * endpoints, the one that has the connection answers.
   */
  invokeConnection(scope: HubScope, connectionId: string, payload: Payload): Promise<{ result?: unknown }> {
    const call = restCalls.invokeConnection(scope, connectionId);
    return this.routed('invokeConnection', whereFound, (client) => client.invocation(call, payload));
  }

  /**
   * 2024-12-01: one item of a stream the client opened (`connection.stream(...)`); `completed` ends the stream after
   * it. The item goes as its JSON text (docs/azure-compatibility.md#streams).
   */
  sendToStream(scope: HubScope, connectionId: string, streamId: string, itemJson: string, completed?: boolean): Promise<UpstreamResult> {
    return this.whereFound('sendToStream', restCalls.sendToStream(scope, connectionId, streamId, completed), { json: itemJson });
  }

  /**
   * 2024-12-01 (since 2023-07-01): applies `commandsJson` (a JSON array of SignalRCommand) to every connection of the
   * hub that matches the OData `filter`. No `application`: the contract has none for it.
   */
  execute(scope: Omit<HubScope, 'application'>, commandsJson: string, filter?: string): Promise<UpstreamResult> {
    return this.atEvery('execute', restCalls.execute(scope, filter), { json: commandsJson });
  }

  /** 2024-12-01: ends a client's stream, with `reason` as its error. */
  completeStream(scope: HubScope, connectionId: string, streamId: string, reason?: string): Promise<UpstreamResult> {
    return this.whereFound('completeStream', restCalls.completeStream(scope, connectionId, streamId, reason));
  }

  /** After the HTTP server has closed (Nest's last hook), so requests still in flight during shutdown reach Azure. */
  async onApplicationShutdown(): Promise<void> {
    await this.endpointHealth?.stop();
    await Promise.all(this.clients.map((client) => client.close()));
  }

  private atEvery(operation: string, call: RestCall, payload?: Payload | RawJson): Promise<UpstreamResult> {
    return this.routed(operation, atEveryEndpoint, (client) => client.call(operation, call, payload));
  }

  private whereFound(operation: string, call: RestCall, payload?: Payload | RawJson): Promise<UpstreamResult> {
    return this.routed(operation, whereFound, (client) => client.call(operation, call, payload));
  }

  /**
   * One endpoint: the call, as it is. Several: the call at every endpoint at once, each outcome classified and the
   * failures noted for health, combined by `combine`.
   */
  private async routed<T>(
    operation: string,
    combine: (operation: string, outcomes: EndpointOutcome<T>[]) => T,
    run: (client: EndpointClient) => Promise<T>,
  ): Promise<T> {
    if (this.endpointHealth === undefined) return run(this.clients[0]);
    const outcomes = await Promise.all(this.clients.map((client) => this.outcomeAt(client, run)));
    return combine(operation, outcomes);
  }

  private async outcomeAt<T>(client: EndpointClient, run: (client: EndpointClient) => Promise<T>): Promise<EndpointOutcome<T>> {
    const endpoint = client.endpoint;
    try {
      const result = await run(client);
      // A 404 that is an answer (`notFoundIsAnswer`): this endpoint does not have it.
      const status = (result as Partial<UpstreamResult>).status;
      return status === 404 ? { endpoint, kind: 'absent', result } : { endpoint, kind: 'ok', result };
    } catch (error) {
      // An endpoint whose Entra credential fails is that endpoint's failure: the others still take the call.
      if (error instanceof EntraAuthError) return { endpoint, kind: 'failed', error };
      if (!(error instanceof UpstreamError)) throw error;
      if (error.notExisted) return { endpoint, kind: 'absent', error };
      this.endpointHealth?.noteFailure(client.name, error);
      return { endpoint, kind: 'failed', error };
    }
  }

  /** A call to one of several endpoints (a listing's page): its failure names the endpoint. */
  private async oneOf<T>(operation: string, client: EndpointClient, run: () => Promise<T>): Promise<T> {
    const outcome = await this.outcomeAt(client, run);
    if (outcome.kind === 'failed') throw new EndpointFailures(operation, [outcome]);
    if (outcome.kind === 'absent' && outcome.error) throw outcome.error;
    return outcome.result!;
  }

  private positionOf(token: string): ListPosition {
    let position: Partial<ListPosition> | null = null;
    try {
      position = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Partial<ListPosition> | null;
    } catch {
      // reported below
    }
    const valid =
      typeof position === 'object' &&
      position !== null &&
      this.clients.some((client) => client.name === position.e) &&
      (position.t === undefined || typeof position.t === 'string') &&
      Number.isSafeInteger(position.n) &&
      Number.isSafeInteger(position.b);
    if (!valid) throw new InvalidContinuationToken('continuationToken is not one this gateway gave out (it names an endpoint and a position).');
    return position as ListPosition;
  }
}

function tokenOf(position: ListPosition): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}
