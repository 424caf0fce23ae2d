import { randomBytes } from 'node:crypto';
import { AccessTokenVerifier, bearerToken, clientAudience, userIdOf, type RequestTarget } from '../auth.js';
import type { HubStore } from '../hub-store.js';
import { ClientConnection, type ConnectionLimits } from './connection.js';

export interface ClientSettings extends ConnectionLimits {
  longPollTimeoutMs: number;
  /** A long-polling connection with no poll for this long is gone. */
  disconnectTimeoutMs: number;
}

export interface ClientEndpoint {
  store: HubStore;
  verifier: AccessTokenVerifier;
  settings: ClientSettings;
}

export type Resolution = { connection: ClientConnection } | { status: 400 | 401 | 404; message: string };

interface Caller {
  hubKey: string;
  userId: string | undefined;
}

/** Client requests carry the token in the Authorization header, or (browsers, EventSource) in `access_token`. */
async function authenticate(
  endpoint: ClientEndpoint,
  target: RequestTarget,
  authorization: string | undefined,
  query: URLSearchParams,
): Promise<Caller | { status: 400 | 401; message: string }> {
  const hub = query.get('hub');
  if (!hub) return { status: 400, message: 'The hub query parameter is required.' };
  const token = bearerToken(authorization) ?? query.get('access_token') ?? undefined;
  const claims = await endpoint.verifier.verify(token, clientAudience(target, hub));
  if (!claims) return { status: 401, message: 'Unauthorized.' };
  return { hubKey: hub.toLowerCase(), userId: userIdOf(claims) };
}

/** Ids are URL-safe (the client appends the token unencoded); the token is a secret, the id is public. */
const randomId = (bytes: number): string => randomBytes(bytes).toString('base64url');

export async function negotiate(
  endpoint: ClientEndpoint,
  target: RequestTarget,
  authorization: string | undefined,
  query: URLSearchParams,
  version: number,
): Promise<ClientConnection | { status: 400 | 401; message: string }> {
  const caller = await authenticate(endpoint, target, authorization, query);
  if (!('hubKey' in caller)) return caller;
  const id = randomId(16);
  // Negotiate version 0 has no separate token: the connection id goes in `id=`.
  const token = version >= 1 ? randomId(32) : id;
  const connection = new ClientConnection(id, token, caller.hubKey, caller.userId, endpoint.store, endpoint.settings);
  endpoint.store.track(connection);
  return connection;
}

/**
 * Finds the connection a transport request is for. Without `id`, a WebSocket may skip negotiation and
 * get a new connection, as in ASP.NET Core.
 */
export async function resolveConnection(
  endpoint: ClientEndpoint,
  target: RequestTarget,
  authorization: string | undefined,
  query: URLSearchParams,
  options: { createWithoutId: boolean },
): Promise<Resolution> {
  const token = query.get('id');
  if (!token && !options.createWithoutId) return { status: 400, message: 'Connection ID required' };
  if (!token) {
    const connection = await negotiate(endpoint, target, authorization, query, 1);
    return connection instanceof ClientConnection ? { connection } : connection;
  }
  const caller = await authenticate(endpoint, target, authorization, query);
  if (!('hubKey' in caller)) return caller;
  const connection = endpoint.store.byConnectionToken(token);
  // A token for another hub or user is as good as no token.
  if (!connection || connection.hubKey !== caller.hubKey || connection.userId !== caller.userId) {
    return { status: 404, message: 'No Connection with that ID' };
  }
  return { connection };
}
