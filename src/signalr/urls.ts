/** Azure SignalR's data-plane REST API version the gateway speaks (`api-version`), as the Management SDK 1.25 sends it (docs/azure-compatibility.md#api-versions). */
export const DATA_PLANE_API_VERSION = '2022-06-01';

/** The hub a call addresses, with Azure's optional `application` query parameter (lowercased upstream). */
export interface HubScope {
  hub: string;
  application?: string;
}

/** Query options of the `:send` operations that reach more than one connection. */
export interface SendOptions {
  excluded?: readonly string[];
}

/** Query options of the `:closeConnections` operations. */
export interface CloseOptions {
  excluded?: readonly string[];
  reason?: string;
}

/** One REST operation, ready to be signed and sent. */
export interface RestCall {
  method: 'HEAD' | 'POST' | 'PUT' | 'DELETE';
  /** `/api/...`, every variable segment escaped; appended to the server endpoint and, alone, to the token's audience. */
  path: string;
  /** `?...api-version=2022-06-01...`; never part of the audience. */
  query: string;
  /**
   * A 404 is an answer ("not there"), not a failure: where API 2022-06-01's swagger lists a 404 (group, user and
   * user-in-group existence, add and remove connection to or from a group), and connection existence, whose swagger
   * omits it but which the service and the SDK answer that way (docs/azure-compatibility.md#responses).
   */
  notFoundIsAnswer?: true;
  /** Delivers a message (a `:send`): sent twice, it is delivered twice, so it is retried only when provably safe. */
  message?: true;
}

/**
 * Escapes a path segment or query value exactly as .NET's `Uri.EscapeDataString` does: everything but RFC 3986
 * unreserved characters, so `encodeURIComponent` plus `!'()*`; `/` becomes `%2F`.
 */
export function escapeDataString(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Tagged template for paths: the literal parts stay as written, every interpolated value is one escaped segment. */
function segments(literals: TemplateStringsArray, ...values: string[]): string {
  return literals.reduce((path, literal, i) => path + escapeDataString(values[i - 1]) + literal);
}

interface Query {
  excluded?: readonly string[];
  reason?: string;
  ttl?: number;
}

/** The SDK's order: `application`, `api-version`, then each `excluded`, `reason`, `ttl`, every key and value escaped. */
function queryOf(application: string | undefined, { excluded = [], reason, ttl }: Query): string {
  const pairs: [string, string][] = [];
  if (application !== undefined) pairs.push(['application', application.toLowerCase()]);
  pairs.push(['api-version', DATA_PLANE_API_VERSION]);
  for (const connectionId of excluded) pairs.push(['excluded', connectionId]);
  if (reason !== undefined) pairs.push(['reason', reason]);
  if (ttl !== undefined) pairs.push(['ttl', String(ttl)]);
  return `?${pairs.map(([key, value]) => `${escapeDataString(key)}=${escapeDataString(value)}`).join('&')}`;
}

/** A hub-scoped operation: `/api/hubs/{lower(hub)}{rest}`; user, group and connection ids keep their case. */
function onHub(method: RestCall['method'], { hub, application }: HubScope, rest: string, query: Query = {}): RestCall {
  return { method, path: segments`/api/hubs/${hub.toLowerCase()}` + rest, query: queryOf(application, query) };
}

const answering404 = (call: RestCall): RestCall => ({ ...call, notFoundIsAnswer: true });
const delivering = (call: RestCall): RestCall => ({ ...call, message: true });

/** The 19 operations of API 2022-06-01 (docs/azure-compatibility.md#operations), one builder each, named as SignalRClient's methods. */
export const restCalls = {
  health: (): RestCall => ({ method: 'HEAD', path: '/api/health', query: queryOf(undefined, {}) }),

  broadcast: (scope: HubScope, { excluded }: SendOptions = {}) => delivering(onHub('POST', scope, '/:send', { excluded })),
  closeAllConnections: (scope: HubScope, { excluded, reason }: CloseOptions = {}) => onHub('POST', scope, '/:closeConnections', { excluded, reason }),

  sendToGroup: (scope: HubScope, group: string, { excluded }: SendOptions = {}) =>
    delivering(onHub('POST', scope, segments`/groups/${group}/:send`, { excluded })),
  closeGroupConnections: (scope: HubScope, group: string, { excluded, reason }: CloseOptions = {}) =>
    onHub('POST', scope, segments`/groups/${group}/:closeConnections`, { excluded, reason }),
  groupExists: (scope: HubScope, group: string) => answering404(onHub('HEAD', scope, segments`/groups/${group}`)),
  addConnectionToGroup: (scope: HubScope, group: string, connectionId: string) =>
    answering404(onHub('PUT', scope, segments`/groups/${group}/connections/${connectionId}`)),
  removeConnectionFromGroup: (scope: HubScope, group: string, connectionId: string) =>
    answering404(onHub('DELETE', scope, segments`/groups/${group}/connections/${connectionId}`)),

  sendToUser: (scope: HubScope, user: string) => delivering(onHub('POST', scope, segments`/users/${user}/:send`)),
  closeUserConnections: (scope: HubScope, user: string, { excluded, reason }: CloseOptions = {}) =>
    onHub('POST', scope, segments`/users/${user}/:closeConnections`, { excluded, reason }),
  userExists: (scope: HubScope, user: string) => answering404(onHub('HEAD', scope, segments`/users/${user}`)),
  userInGroup: (scope: HubScope, user: string, group: string) => answering404(onHub('HEAD', scope, segments`/users/${user}/groups/${group}`)),
  addUserToGroup: (scope: HubScope, user: string, group: string, ttlSeconds?: number) =>
    onHub('PUT', scope, segments`/users/${user}/groups/${group}`, { ttl: ttlSeconds }),
  removeUserFromGroup: (scope: HubScope, user: string, group: string) => onHub('DELETE', scope, segments`/users/${user}/groups/${group}`),
  removeUserFromAllGroups: (scope: HubScope, user: string) => onHub('DELETE', scope, segments`/users/${user}/groups`),

  sendToConnection: (scope: HubScope, connectionId: string) => delivering(onHub('POST', scope, segments`/connections/${connectionId}/:send`)),
  closeConnection: (scope: HubScope, connectionId: string, reason?: string) => onHub('DELETE', scope, segments`/connections/${connectionId}`, { reason }),
  connectionExists: (scope: HubScope, connectionId: string) => answering404(onHub('HEAD', scope, segments`/connections/${connectionId}`)),
  removeConnectionFromAllGroups: (scope: HubScope, connectionId: string) => onHub('DELETE', scope, segments`/connections/${connectionId}/groups`),
} satisfies Record<string, (...args: never[]) => RestCall>;
