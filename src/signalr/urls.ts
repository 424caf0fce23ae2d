/**
 * Azure SignalR's data-plane REST API version of the 19 operations the Management SDK 1.25 calls (`api-version`), sent
 * as the SDK sends it (docs/azure-compatibility.md#api-versions).
 */
export const DATA_PLANE_API_VERSION = '2022-06-01';
/** The version of the operations 2022-06-01 does not have (group members, client invocation, streams, `:execute`). */
export const DATA_PLANE_API_VERSION_2024 = '2024-12-01';

/** The hub a call addresses, with Azure's optional `application` query parameter (lowercased upstream). */
export interface HubScope {
  hub: string;
  application?: string;
  /**
   * Where each upstream attempt's outcome is appended, in completion order and across every endpoint: its status, or
   * `timeout`, `unreachable`, `transport` when it failed without one (the audit record's `upstream`). Absent: not kept.
   */
  attempts?: (number | string)[];
}

/** Where a call's attempts' outcomes go (`HubScope.attempts`); undefined: nowhere. */
export type Attempts = HubScope['attempts'];

/** Query options of the `:send` operations that reach more than one connection. */
export interface SendOptions {
  excluded?: readonly string[];
}

/** Query options of the `:closeConnections` operations. */
export interface CloseOptions {
  excluded?: readonly string[];
  reason?: string;
}

/** Query options of listing a group's connections (2024-12-01); the continuation token is the service's, opaque. */
export interface PageOptions {
  maxPageSize?: number;
  top?: number;
  continuationToken?: string;
}

/** One REST operation, ready to be signed and sent. */
export interface RestCall {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE';
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
  /** The answer has a body the caller needs (a list, a client's result): read it, success or error. */
  responseBody?: true;
  /** The scope's `attempts`: this request's own list, which every attempt of this call appends its outcome to. */
  attempts?: Attempts;
}

/**
 * Escapes a path segment or query value exactly as .NET's `Uri.EscapeDataString` does: everything but RFC 3986
 * unreserved characters, so `encodeURIComponent` plus `!'()*`; `/` becomes `%2F`.
 */
export function escapeDataString(value: string): string {
  // Most names and every query key need no escaping: one test instead of encoding and a replace per segment.
  if (UNRESERVED_ONLY.test(value)) return value;
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

const UNRESERVED_ONLY = /^[A-Za-z0-9\-._~]*$/;

/** Tagged template for paths: the literal parts stay as written, every interpolated value is one escaped segment. */
function segments(literals: TemplateStringsArray, ...values: string[]): string {
  return literals.reduce((path, literal, i) => path + escapeDataString(values[i - 1]) + literal);
}

interface Query extends PageOptions {
  excluded?: readonly string[];
  reason?: string;
  ttl?: number;
  completed?: boolean;
  filter?: string;
  /** 2024-12-01 only. */
  apiVersion?: typeof DATA_PLANE_API_VERSION_2024;
}

/**
 * The SDK's order: `application`, `api-version`, then each `excluded`, `reason`, `ttl`; then the 2024-12-01 list
 * parameters. Every key and value escaped.
 */
function queryOf(
  application: string | undefined,
  { excluded = [], reason, ttl, maxPageSize, top, continuationToken, completed, filter, apiVersion }: Query,
): string {
  const pairs: [string, string][] = [];
  if (application !== undefined) pairs.push(['application', application.toLowerCase()]);
  pairs.push(['api-version', apiVersion ?? DATA_PLANE_API_VERSION]);
  for (const connectionId of excluded) pairs.push(['excluded', connectionId]);
  if (reason !== undefined) pairs.push(['reason', reason]);
  if (ttl !== undefined) pairs.push(['ttl', String(ttl)]);
  if (maxPageSize !== undefined) pairs.push(['maxpagesize', String(maxPageSize)]);
  if (top !== undefined) pairs.push(['top', String(top)]);
  if (continuationToken !== undefined) pairs.push(['continuationToken', continuationToken]);
  if (completed !== undefined) pairs.push(['completed', String(completed)]);
  if (filter !== undefined) pairs.push(['filter', filter]);
  return `?${pairs.map(([key, value]) => `${escapeDataString(key)}=${escapeDataString(value)}`).join('&')}`;
}

/** A hub-scoped operation: `/api/hubs/{lower(hub)}{rest}`; user, group and connection ids keep their case. */
function onHub(method: RestCall['method'], { hub, application, attempts }: HubScope, rest: string, query: Query = {}): RestCall {
  const call: RestCall = { method, path: segments`/api/hubs/${hub.toLowerCase()}` + rest, query: queryOf(application, query) };
  if (attempts !== undefined) call.attempts = attempts;
  return call;
}

/** An operation of 2024-12-01 only (docs/azure-compatibility.md#api-versions). */
const v2024 = (method: RestCall['method'], scope: HubScope, rest: string, query: Query = {}): RestCall =>
  onHub(method, scope, rest, { ...query, apiVersion: DATA_PLANE_API_VERSION_2024 });

// Each marks the call it is given, built for this request alone: no copy of it per request.
const answering404 = (call: RestCall): RestCall => Object.assign(call, { notFoundIsAnswer: true } as const);
const delivering = (call: RestCall): RestCall => Object.assign(call, { message: true } as const);
const answeringWithBody = (call: RestCall): RestCall => Object.assign(call, { responseBody: true } as const);

/**
 * The 19 operations of API 2022-06-01 and those of 2024-12-01 the gateway forwards (docs/azure-compatibility.md#operations),
 * one builder each, named as SignalRClient's methods.
 */
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

  // 2024-12-01
  listGroupConnections: (scope: HubScope, group: string, { maxPageSize, top, continuationToken }: PageOptions = {}) =>
    answeringWithBody(v2024('GET', scope, segments`/groups/${group}/connections`, { maxPageSize, top, continuationToken })),
  invokeConnection: (scope: HubScope, connectionId: string) =>
    answeringWithBody(delivering(v2024('POST', scope, segments`/connections/${connectionId}/:invoke`))),
  sendToStream: (scope: HubScope, connectionId: string, streamId: string, completed?: boolean) =>
    delivering(v2024('POST', scope, segments`/connections/${connectionId}/streams/${streamId}/:send`, { completed })),
  // Azure's :execute has no `application`.
  execute: (scope: Omit<HubScope, 'application'>, filter?: string) => delivering(v2024('POST', scope, '/:execute', { filter })),
  completeStream: (scope: HubScope, connectionId: string, streamId: string, reason?: string) =>
    v2024('POST', scope, segments`/connections/${connectionId}/streams/${streamId}/:complete`, { reason }),
} satisfies Record<string, (...args: never[]) => RestCall>;
