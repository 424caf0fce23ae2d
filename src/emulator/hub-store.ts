import type { ClientConnection, ConnectionLifecycle, InvocationOutcome } from './client/connection.js';
import type { ConnectionCensus, EmulatorMetrics } from './metrics.js';
import type { OutboundMessage } from './protocol/outbound-message.js';

/** A user's membership of a group, which decides whether the user's future connections join it. */
interface Membership {
  expiresAt: number;
  withoutTtl: boolean;
  timer: NodeJS.Timeout | undefined;
}

class Hub {
  readonly connections = new Map<string, ClientConnection>();
  readonly users = new Map<string, Set<ClientConnection>>();
  readonly groups = new Map<string, Set<ClientConnection>>();
  /** user → group → membership, each inner map in order of last update. */
  readonly userGroups = new Map<string, Map<string, Membership>>();

  get empty(): boolean {
    return this.connections.size === 0 && this.userGroups.size === 0;
  }
}

// The 2022-06-01 spec: without ttl a user stays in a group for at most a year, and only the
// 100 most recently updated such groups are kept per user.
const ONE_YEAR_MS = 365 * 24 * 3600 * 1000;
const MAX_GROUPS_WITHOUT_TTL = 100;
const MAX_TIMER_MS = 2 ** 31 - 1;

export type Excluded = ReadonlySet<string>;
const NONE: Excluded = new Set();

function addTo<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  const set = map.get(key);
  if (set) set.add(value);
  else map.set(key, new Set([value]));
}

function deleteFrom<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  const set = map.get(key);
  if (set?.delete(value) && set.size === 0) map.delete(key);
}

/**
 * Every connection, user and group of every hub, and the one place that fans messages out.
 * Hub keys are already normalised (lower(app)_lower(hub)); users and groups are case-sensitive.
 */
export class HubStore implements ConnectionLifecycle, ConnectionCensus {
  private readonly hubs = new Map<string, Hub>();
  private readonly byToken = new Map<string, ClientConnection>();
  /** Set by the emulator once its metrics exist (they read the census from this store). */
  metrics?: EmulatorMetrics;

  constructor(private readonly closeAllowsReconnect: boolean) {}

  messageSent(): void {
    this.metrics?.messageSent();
  }

  slowConsumerClosed(): void {
    this.metrics?.slowConsumerClosed();
  }

  connectionsByKind(): Map<string, { transport: string; protocol: string; count: number }> {
    const kinds = new Map<string, { transport: string; protocol: string; count: number }>();
    for (const hub of this.hubs.values())
      for (const connection of hub.connections.values()) {
        const transport = connection.transport?.kind ?? 'none';
        const protocol = connection.protocol?.name ?? 'none';
        const key = `${transport}/${protocol}`;
        const kind = kinds.get(key) ?? { transport, protocol, count: 0 };
        kind.count++;
        kinds.set(key, kind);
      }
    return kinds;
  }

  // --- Connection life ---------------------------------------------------------------------------

  track(connection: ClientConnection): void {
    this.byToken.set(connection.token, connection);
  }

  byConnectionToken(token: string): ClientConnection | undefined {
    return this.byToken.get(token);
  }

  connected(connection: ClientConnection): void {
    const hub = this.hub(connection.hubKey);
    hub.connections.set(connection.id, connection);
    if (connection.userId === undefined) return;
    addTo(hub.users, connection.userId, connection);
    const now = Date.now();
    for (const [group, membership] of hub.userGroups.get(connection.userId) ?? []) {
      if (membership.expiresAt > now) this.join(hub, group, connection);
    }
  }

  disposed(connection: ClientConnection): void {
    const hub = this.hubs.get(connection.hubKey);
    if (!hub || hub.connections.get(connection.id) !== connection) return;
    hub.connections.delete(connection.id);
    if (connection.userId !== undefined) deleteFrom(hub.users, connection.userId, connection);
    for (const group of connection.groups) deleteFrom(hub.groups, group, connection);
    connection.groups.clear();
    this.dropIfEmpty(connection.hubKey, hub);
  }

  released(connection: ClientConnection): void {
    if (this.byToken.get(connection.token) === connection) this.byToken.delete(connection.token);
  }

  // --- Fan-out -----------------------------------------------------------------------------------

  broadcast(hubKey: string, message: OutboundMessage, excluded: Excluded = NONE): void {
    this.deliver(this.hubs.get(hubKey)?.connections.values(), message, excluded);
  }

  sendToUser(hubKey: string, user: string, message: OutboundMessage): void {
    this.deliver(this.hubs.get(hubKey)?.users.get(user), message, NONE);
  }

  sendToGroup(hubKey: string, group: string, message: OutboundMessage, excluded: Excluded = NONE): void {
    this.deliver(this.hubs.get(hubKey)?.groups.get(group), message, excluded);
  }

  sendToConnection(hubKey: string, connectionId: string, message: OutboundMessage): void {
    this.connection(hubKey, connectionId)?.send(message);
  }

  private deliver(connections: Iterable<ClientConnection> | undefined, message: OutboundMessage, excluded: Excluded): void {
    for (const connection of connections ?? []) {
      if (!excluded.has(connection.id)) connection.send(message);
    }
  }

  /** Invokes a method on one client and waits for its answer; undefined when the connection does not exist. */
  invoke(hubKey: string, connectionId: string, target: string, args: readonly unknown[], timeoutMs: number): Promise<InvocationOutcome> | undefined {
    return this.connection(hubKey, connectionId)?.invoke(target, args, timeoutMs);
  }

  /** Every connection of a hub, for `:execute`'s filter. */
  connectionsOf(hubKey: string): ClientConnection[] {
    return [...(this.hubs.get(hubKey)?.connections.values() ?? [])];
  }

  // --- Existence ---------------------------------------------------------------------------------

  connection(hubKey: string, connectionId: string): ClientConnection | undefined {
    return this.hubs.get(hubKey)?.connections.get(connectionId);
  }

  userExists(hubKey: string, user: string): boolean {
    return this.hubs.get(hubKey)?.users.has(user) ?? false;
  }

  groupExists(hubKey: string, group: string): boolean {
    return this.hubs.get(hubKey)?.groups.has(group) ?? false;
  }

  isUserInGroup(hubKey: string, user: string, group: string): boolean {
    const hub = this.hubs.get(hubKey);
    if (!hub) return false;
    const membership = hub.userGroups.get(user)?.get(group);
    if (membership && membership.expiresAt > Date.now()) return true;
    return [...(hub.users.get(user) ?? [])].some((connection) => connection.groups.has(group));
  }

  /** A group's connections ordered by connection id (ordinal), so a page can start after the last id of the one before. */
  groupMembers(hubKey: string, group: string): { connectionId: string; userId?: string }[] {
    const members = [...(this.hubs.get(hubKey)?.groups.get(group) ?? [])].map(({ id, userId }) =>
      userId === undefined ? { connectionId: id } : { connectionId: id, userId },
    );
    return members.sort((a, b) => (a.connectionId < b.connectionId ? -1 : a.connectionId > b.connectionId ? 1 : 0));
  }

  // --- Connection groups -------------------------------------------------------------------------

  /** False when the connection does not exist. */
  addToGroup(hubKey: string, group: string, connectionId: string): boolean {
    const connection = this.connection(hubKey, connectionId);
    if (connection) this.join(this.hub(hubKey), group, connection);
    return connection !== undefined;
  }

  /** False when the connection does not exist. */
  removeFromGroup(hubKey: string, group: string, connectionId: string): boolean {
    const connection = this.connection(hubKey, connectionId);
    if (connection) this.leave(this.hub(hubKey), group, connection);
    return connection !== undefined;
  }

  /** False when the connection does not exist. */
  removeFromAllGroups(hubKey: string, connectionId: string): boolean {
    const connection = this.connection(hubKey, connectionId);
    if (!connection) return false;
    const hub = this.hub(hubKey);
    for (const group of [...connection.groups]) this.leave(hub, group, connection);
    return true;
  }

  // --- User groups -------------------------------------------------------------------------------

  /** `ttlSeconds` undefined: up to a year, 100 most recent kept; 0: only the user's current connections. */
  addUserToGroup(hubKey: string, user: string, group: string, ttlSeconds: number | undefined): void {
    const hub = this.hub(hubKey);
    for (const connection of hub.users.get(user) ?? []) this.join(hub, group, connection);
    const memberships = hub.userGroups.get(user) ?? new Map<string, Membership>();
    this.forget(hub, user, group);
    if (ttlSeconds === 0) return;
    const withoutTtl = ttlSeconds === undefined;
    const expiresAt = Date.now() + (withoutTtl ? ONE_YEAR_MS : ttlSeconds * 1000);
    const membership: Membership = { expiresAt, withoutTtl, timer: undefined };
    this.scheduleExpiry(membership, () => this.removeUserFromGroup(hubKey, user, group));
    memberships.set(group, membership); // re-inserted, so iteration order is update order
    hub.userGroups.set(user, memberships);
    if (withoutTtl) this.capGroupsWithoutTtl(hub, user, memberships);
  }

  /** Ends the membership and takes the user's connections out of the group. */
  removeUserFromGroup(hubKey: string, user: string, group: string): void {
    const hub = this.hubs.get(hubKey);
    if (!hub) return;
    this.forget(hub, user, group);
    for (const connection of hub.users.get(user) ?? []) this.leave(hub, group, connection);
    this.dropIfEmpty(hubKey, hub);
  }

  removeUserFromAllGroups(hubKey: string, user: string): void {
    const hub = this.hubs.get(hubKey);
    if (!hub) return;
    const groups = new Set(hub.userGroups.get(user)?.keys());
    for (const connection of hub.users.get(user) ?? []) for (const group of connection.groups) groups.add(group);
    for (const group of groups) this.removeUserFromGroup(hubKey, user, group);
  }

  private capGroupsWithoutTtl(hub: Hub, user: string, memberships: Map<string, Membership>): void {
    const withoutTtl = [...memberships].filter(([, membership]) => membership.withoutTtl);
    for (const [group] of withoutTtl.slice(0, Math.max(0, withoutTtl.length - MAX_GROUPS_WITHOUT_TTL))) {
      this.forget(hub, user, group);
      for (const connection of hub.users.get(user) ?? []) this.leave(hub, group, connection);
    }
  }

  private forget(hub: Hub, user: string, group: string): void {
    const memberships = hub.userGroups.get(user);
    const membership = memberships?.get(group);
    if (!membership) return;
    clearTimeout(membership.timer);
    memberships!.delete(group);
    if (memberships!.size === 0) hub.userGroups.delete(user);
  }

  /** setTimeout caps at about 24.8 days, so a year-long expiry re-arms itself until it is due. */
  private scheduleExpiry(membership: Membership, expire: () => void): void {
    const remaining = membership.expiresAt - Date.now();
    membership.timer = setTimeout(
      () => (membership.expiresAt > Date.now() ? this.scheduleExpiry(membership, expire) : expire()),
      Math.min(Math.max(remaining, 0), MAX_TIMER_MS),
    ).unref();
  }

  // --- Closing -----------------------------------------------------------------------------------

  closeConnection(hubKey: string, connectionId: string, reason: string | undefined): boolean {
    const connection = this.connection(hubKey, connectionId);
    connection?.close(reason, this.closeAllowsReconnect);
    return connection !== undefined;
  }

  closeHub(hubKey: string, reason: string | undefined, excluded: Excluded): void {
    this.closeAll(this.hubs.get(hubKey)?.connections.values(), reason, excluded);
  }

  closeGroup(hubKey: string, group: string, reason: string | undefined, excluded: Excluded): void {
    this.closeAll(this.hubs.get(hubKey)?.groups.get(group), reason, excluded);
  }

  closeUser(hubKey: string, user: string, reason: string | undefined, excluded: Excluded): void {
    this.closeAll(this.hubs.get(hubKey)?.users.get(user), reason, excluded);
  }

  /** Shutdown: close every connection, negotiated or connected, and drop all state. */
  closeEverything(): void {
    this.closeAll(this.byToken.values(), undefined, NONE);
    for (const hub of this.hubs.values()) {
      for (const memberships of hub.userGroups.values()) for (const { timer } of memberships.values()) clearTimeout(timer);
    }
    this.hubs.clear();
  }

  private closeAll(connections: Iterable<ClientConnection> | undefined, reason: string | undefined, excluded: Excluded): void {
    // Copy first: closing removes connections from the very sets being walked.
    for (const connection of [...(connections ?? [])]) {
      if (!excluded.has(connection.id)) connection.close(reason, this.closeAllowsReconnect);
    }
  }

  // --- Keep-alive --------------------------------------------------------------------------------

  /** Pings idle WebSocket and SSE connections, and drops the ones the client stopped talking on. */
  keepAlive(keepAliveMs: number, clientTimeoutMs: number): void {
    const now = Date.now();
    for (const hub of this.hubs.values()) {
      for (const connection of [...hub.connections.values()]) {
        if (connection.transport?.kind === 'LongPolling') continue; // long polling has inherent keep-alive
        if (now - connection.lastReceivedAt > clientTimeoutMs) connection.close(undefined, false);
        else if (now - connection.lastSentAt >= keepAliveMs / 2) connection.ping();
      }
    }
  }

  // --- Helpers -----------------------------------------------------------------------------------

  private hub(hubKey: string): Hub {
    let hub = this.hubs.get(hubKey);
    if (!hub) {
      hub = new Hub();
      this.hubs.set(hubKey, hub);
    }
    return hub;
  }

  private dropIfEmpty(hubKey: string, hub: Hub): void {
    if (hub.empty && this.hubs.get(hubKey) === hub) this.hubs.delete(hubKey);
  }

  private join(hub: Hub, group: string, connection: ClientConnection): void {
    connection.groups.add(group);
    addTo(hub.groups, group, connection);
  }

  private leave(hub: Hub, group: string, connection: ClientConnection): void {
    connection.groups.delete(group);
    deleteFrom(hub.groups, group, connection);
  }
}
