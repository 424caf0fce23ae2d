import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import { bearerToken, type RestAuthentication } from '../auth.js';
import type { ClientConnection } from '../client/connection.js';
import type { HubStore } from '../hub-store.js';
import { compileFilter, type Predicate } from './odata-filter.js';
import { BadRequest, RestRequest } from './rest-request.js';

/**
 * A status; an error with the `x-ms-error-code` that Azure's SDK uses to tell "absent" from "broken" (and the
 * message of its ErrorDetail body); or a status with a JSON body.
 */
type Answer = number | { status: number; code: string; message?: string } | { status: number; body: unknown };

const notFound = (code: string): Answer => ({ status: 404, code });
const CONNECTION_NOT_EXISTED = notFound('Warning.Connection.NotExisted');
const CONNECTION_NOT_EXISTED_ERROR = notFound('Error.Connection.NotExisted');
const USER_NOT_EXISTED = notFound('Warning.User.NotExisted');
const GROUP_NOT_EXISTED = notFound('Warning.Group.NotExisted');
const USER_NOT_IN_GROUP = notFound('Info.User.NotInGroup');

type Operation = (call: RestRequest) => Answer | Promise<Answer>;
type Route = [method: HTTPMethods, url: string, operation: Operation];

/** What the JavaScript client (and ASP.NET Core's) answers when it has no handler for a method, or the handler returned nothing. */
const NO_RESULT = "Client didn't provide a result.";

/** Client invocations that fail (2024-12-01 `:invoke`); Azure documents no codes, these are the emulator's (docs/azure-compatibility.md#client-results). */
const INVOCATION_FAILED = 'Error.ClientInvocation.Failed';
const INVOCATION_NO_RESULT = 'Error.ClientInvocation.NoResult';
const INVOCATION_TIMEOUT = 'Error.ClientInvocation.Timeout';
/** A stream the connection has not opened, or that has ended (the emulator's code, docs/azure-compatibility.md#streams). */
const STREAM_NOT_EXISTED = notFound('Warning.Stream.NotExisted');

/** 2024-12-01 stream operations on a stream the client opened: the item is the JSON body. */
function streamOperation(store: HubStore, call: RestRequest, act: (connection: ClientConnection, streamId: string) => boolean): Answer {
  const connection = store.connection(call.hubKey, call.connectionId);
  if (!connection) return CONNECTION_NOT_EXISTED;
  return act(connection, call.streamId) ? 202 : STREAM_NOT_EXISTED;
}

export interface RestSettings {
  /** How long `:invoke` waits for the client's answer. */
  invocationTimeoutMs: number;
  /** Entra mode: the temporary key to sign client tokens with (`GET /api/auth/accessKey`); absent with local auth. */
  accessKey?: () => { KeyId: string; AccessKey: string };
}

/** With local auth, no caller can be an Entra identity, which is what the key API serves. */
const ACCESS_KEY_NEEDS_ENTRA: Answer = {
  status: 403,
  code: 'Error.Auth.EntraIdRequired',
  message: 'The access key API serves Microsoft Entra ID callers; this emulator uses local auth (set EMULATOR_ENTRA_ISSUER).',
};

/** A page of a group's members: the continuation token says where the next page starts and how many `top` allows still. */
interface PagePosition {
  after: string;
  returned: number;
}

function positionOf(token: string | null): PagePosition | undefined {
  if (token === null) return undefined;
  try {
    const position = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Partial<PagePosition> | null;
    if (typeof position?.after === 'string' && Number.isSafeInteger(position.returned)) return position as PagePosition;
  } catch {
    // refused below
  }
  throw new BadRequest('Invalid continuationToken.');
}

/** 2024-12-01 `GET /groups/{group}/connections`: ordered by connection id, so a page survives members coming and going. */
function listGroupConnections(store: HubStore, call: RestRequest): Answer {
  const maxPageSize = call.integer('maxpagesize', 1, 200) ?? 200;
  const top = call.integer('top', 1, 2 ** 31 - 1);
  const position = positionOf(call.query.get('continuationToken'));
  const returned = position?.returned ?? 0;
  const members = store.groupMembers(call.hubKey, call.group).filter(({ connectionId }) => position === undefined || connectionId > position.after);
  const size = Math.min(maxPageSize, top === undefined ? Infinity : Math.max(0, top - returned));
  const value = members.slice(0, size);
  const more = members.length > value.length && value.length > 0 && (top === undefined || returned + value.length < top);
  if (!more) return { status: 200, body: { value } };
  const next = new URLSearchParams(call.query);
  const token: PagePosition = { after: value[value.length - 1].connectionId, returned: returned + value.length };
  next.set('continuationToken', Buffer.from(JSON.stringify(token)).toString('base64url'));
  return { status: 200, body: { value, nextLink: call.urlWith(next) } };
}

/** `:execute` (2023-07-01 and later): each command, in order, for every connection the filter matches. */
function execute(store: HubStore, call: RestRequest): Answer {
  const filter = call.query.get('filter');
  let matches: Predicate = () => true;
  if (filter !== null) {
    try {
      matches = compileFilter(filter);
    } catch (error) {
      throw new BadRequest(`Invalid filter: ${(error as Error).message}.`);
    }
  }
  const commands = call.commands();
  const connections = store.connectionsOf(call.hubKey).filter(({ id, userId, groups }) => matches({ connectionId: id, userId, groups }));
  for (const command of commands) {
    for (const connection of connections) {
      if (command.type === 'SendMessage') connection.send(command.message);
      else if (command.type === 'JoinGroup') store.addToGroup(call.hubKey, command.group, connection.id);
      else if (command.type === 'LeaveGroup') store.removeFromGroup(call.hubKey, command.group, connection.id);
      else if (command.type === 'CloseConnection') store.closeConnection(call.hubKey, connection.id, command.reason);
    }
  }
  return 202;
}

/** 2024-12-01 `:invoke`: the client's result, or why there is none. */
async function invoke(store: HubStore, call: RestRequest, timeoutMs: number): Promise<Answer> {
  const { target, args } = call.payload();
  const outcome = await store.invoke(call.hubKey, call.connectionId, target, args, timeoutMs);
  switch (outcome?.kind) {
    case 'result':
      return { status: 200, body: { result: outcome.result ?? null } };
    case 'void':
      return { status: 200, body: {} };
    case 'error':
      return outcome.error === NO_RESULT
        ? { status: 400, code: INVOCATION_NO_RESULT, message: outcome.error }
        : { status: 400, code: INVOCATION_FAILED, message: outcome.error };
    case 'timeout':
      return { status: 408, code: INVOCATION_TIMEOUT, message: `The client did not answer within ${timeoutMs} ms.` };
    default: // no such connection, or it closed before it answered
      return CONNECTION_NOT_EXISTED;
  }
}

/**
 * Fastify reads `:name` as a parameter, so Azure's literal `:send` is written `::send`.
 * GET routes also answer HEAD (Fastify's exposeHeadRoutes), which existence checks need.
 */
function operations(store: HubStore, settings: RestSettings): Route[] {
  const exists = (found: boolean, absent: Answer): Answer => (found ? 200 : absent);
  const hub = '/api/hubs/:hub';
  const v1 = '/api/v1/hubs/:hub';

  const broadcast: Operation = (call) => (store.broadcast(call.hubKey, call.message(), call.excluded), 202);
  const sendToUser: Operation = (call) => (store.sendToUser(call.hubKey, call.user, call.message()), 202);
  const sendToConnection: Operation = (call) => (store.sendToConnection(call.hubKey, call.connectionId, call.message()), 202);
  const sendToGroup: Operation = (call) => (store.sendToGroup(call.hubKey, call.group, call.message(), call.excluded), 202);
  const connectionExists: Operation = (call) => exists(!!store.connection(call.hubKey, call.connectionId), CONNECTION_NOT_EXISTED);
  const groupExists: Operation = (call) => exists(store.groupExists(call.hubKey, call.group), GROUP_NOT_EXISTED);
  const userExists: Operation = (call) => exists(store.userExists(call.hubKey, call.user), USER_NOT_EXISTED);
  const userInGroup: Operation = (call) => exists(store.isUserInGroup(call.hubKey, call.user, call.group), USER_NOT_IN_GROUP);
  const addToGroup: Operation = (call) => exists(store.addToGroup(call.hubKey, call.group, call.connectionId), CONNECTION_NOT_EXISTED_ERROR);
  const removeFromGroup: Operation = (call) => exists(store.removeFromGroup(call.hubKey, call.group, call.connectionId), CONNECTION_NOT_EXISTED_ERROR);
  const addUserToGroup =
    (status: number): Operation =>
    (call) => (store.addUserToGroup(call.hubKey, call.user, call.group, call.ttl), status);
  const removeUserFromGroup =
    (status: number): Operation =>
    (call) => (store.removeUserFromGroup(call.hubKey, call.user, call.group), status);
  const removeUserFromAllGroups =
    (status: number): Operation =>
    (call) => (store.removeUserFromAllGroups(call.hubKey, call.user), status);

  const accessKey: Operation = () => (settings.accessKey ? { status: 200, body: settings.accessKey() } : ACCESS_KEY_NEEDS_ENTRA);

  return [
    // 2022-06-01: all 19 operations with the swagger's success codes.
    ['GET', '/api/health', () => 200],
    ['POST', `${hub}/::closeConnections`, (call) => (store.closeHub(call.hubKey, call.reason, call.excluded), 204)],
    ['POST', `${hub}/::send`, broadcast],
    [
      'DELETE',
      `${hub}/connections/:connectionId`,
      (call) => exists(store.closeConnection(call.hubKey, call.connectionId, call.reason), CONNECTION_NOT_EXISTED),
    ],
    ['GET', `${hub}/connections/:connectionId`, connectionExists],
    ['POST', `${hub}/connections/:connectionId/::send`, sendToConnection],
    ['DELETE', `${hub}/connections/:connectionId/groups`, (call) => (store.removeFromAllGroups(call.hubKey, call.connectionId), 200)],
    ['GET', `${hub}/groups/:group`, groupExists],
    ['POST', `${hub}/groups/:group/::closeConnections`, (call) => (store.closeGroup(call.hubKey, call.group, call.reason, call.excluded), 204)],
    ['POST', `${hub}/groups/:group/::send`, sendToGroup],
    ['DELETE', `${hub}/groups/:group/connections/:connectionId`, removeFromGroup],
    ['PUT', `${hub}/groups/:group/connections/:connectionId`, addToGroup],
    ['GET', `${hub}/users/:user`, userExists],
    ['POST', `${hub}/users/:user/::closeConnections`, (call) => (store.closeUser(call.hubKey, call.user, call.reason, call.excluded), 204)],
    ['POST', `${hub}/users/:user/::send`, sendToUser],
    ['DELETE', `${hub}/users/:user/groups`, removeUserFromAllGroups(204)],
    ['DELETE', `${hub}/users/:user/groups/:group`, removeUserFromGroup(204)],
    ['GET', `${hub}/users/:user/groups/:group`, userInGroup],
    ['PUT', `${hub}/users/:user/groups/:group`, addUserToGroup(200)],

    // 2024-12-01
    ['GET', `${hub}/groups/:group/connections`, (call) => listGroupConnections(store, call)],
    ['POST', `${hub}/connections/:connectionId/::invoke`, (call) => invoke(store, call, settings.invocationTimeoutMs)],
    ['POST', `${hub}/::execute`, (call) => execute(store, call)],
    [
      'POST',
      `${hub}/connections/:connectionId/streams/:streamId/::send`,
      (call) => streamOperation(store, call, (connection, streamId) => connection.streamItem(streamId, call.streamItem(), call.completed)),
    ],
    [
      'POST',
      `${hub}/connections/:connectionId/streams/:streamId/::complete`,
      (call) => streamOperation(store, call, (connection, streamId) => connection.completeStream(streamId, call.reason)),
    ],

    // The temporary key for client tokens with Entra ID: 2024-12-01's path, and the older one Azure's SDKs call.
    ['GET', '/api/auth/accessKey', accessKey],
    ['GET', '/api/v1/auth/accessKey', accessKey],

    // v1: no `:send` suffix, user groups addressed as groups/{group}/users/{user}.
    ['GET', '/api/v1/health', () => 200],
    ['POST', v1, broadcast],
    ['POST', `${v1}/users/:user`, sendToUser],
    ['POST', `${v1}/connections/:connectionId`, sendToConnection],
    ['GET', `${v1}/connections/:connectionId`, connectionExists],
    ['DELETE', `${v1}/connections/:connectionId`, (call) => (store.closeConnection(call.hubKey, call.connectionId, call.reason), 202)],
    ['POST', `${v1}/groups/:group`, sendToGroup],
    ['GET', `${v1}/groups/:group`, groupExists],
    ['GET', `${v1}/users/:user`, userExists],
    ['PUT', `${v1}/groups/:group/connections/:connectionId`, addToGroup],
    ['DELETE', `${v1}/groups/:group/connections/:connectionId`, removeFromGroup],
    ['GET', `${v1}/groups/:group/users/:user`, userInGroup],
    ['PUT', `${v1}/groups/:group/users/:user`, addUserToGroup(202)],
    ['DELETE', `${v1}/groups/:group/users/:user`, removeUserFromGroup(202)],
    ['DELETE', `${v1}/users/:user/groups`, removeUserFromAllGroups(200)],
  ];
}

const HEALTH_PATHS = new Set(['/api/health', '/api/v1/health']);

function problem(reply: FastifyReply, status: number, code: string | undefined, message: string): FastifyReply {
  if (code) reply.header('x-ms-error-code', code);
  return reply.code(status).send({ code: code ?? String(status), message });
}

/**
 * The data-plane REST API (2024-12-01, 2022-06-01 and v1), authenticated like Azure: with local auth an HS256 token
 * for the request URL, in Entra mode an Entra ID access token.
 */
export function restRoutes(store: HubStore, authenticate: RestAuthentication, settings: RestSettings) {
  return async (app: FastifyInstance): Promise<void> => {
    // The binary payloads Azure's SDK sends with hub protocols registered; read by the send-like operations.
    app.addContentTypeParser(['application/octet-stream', 'application/x-msgpack'], { parseAs: 'buffer' }, (_request, body, done) => {
      done(null, (body as Buffer).length === 0 ? undefined : body);
    });
    // Bodies are JSON; an empty body (as on :closeConnections) is no body at all.
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
      try {
        done(null, body === '' ? undefined : JSON.parse(body as string));
      } catch {
        done(new BadRequest('The body is not valid JSON.'), undefined);
      }
    });

    app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
      // Health is anonymous: the SDK's background health check sends no token.
      if (HEALTH_PATHS.has(request.routeOptions.url ?? '')) return;
      const target = { protocol: request.protocol, host: request.host, url: request.url };
      const claims = await authenticate(bearerToken(request.headers.authorization), target);
      if (!claims) {
        reply.header('www-authenticate', 'Bearer');
        return problem(reply, 401, undefined, 'Unauthorized.');
      }
    });

    app.setErrorHandler((error, _request, reply) => {
      if (error instanceof BadRequest) return problem(reply, 400, undefined, error.message);
      const status = (error as { statusCode?: number }).statusCode ?? 500;
      return problem(reply, status, undefined, status < 500 ? (error as Error).message : 'Internal server error.');
    });

    for (const [method, url, operation] of operations(store, settings)) {
      app.route({
        method,
        url,
        handler: async (request, reply) => {
          const answer = await operation(new RestRequest(request));
          if (typeof answer === 'number') return reply.code(answer).send();
          if ('body' in answer) return reply.code(answer.status).header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(answer.body));
          return problem(reply, answer.status, answer.code, answer.message ?? 'Not found.');
        },
      });
    }
  };
}
