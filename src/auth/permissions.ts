import type { JWTPayload } from 'jose';

/**
 * What a caller may do, as scopes (`scope`/`scp`) or app roles (`roles`) in its SSO token.
 * `signalr.send:orders` grants `signalr.send` on hub `orders` only.
 */
export const PERMISSIONS = ['signalr.send', 'signalr.groups', 'signalr.connections', 'signalr.read', 'signalr.negotiate'] as const;
export type Permission = (typeof PERMISSIONS)[number];

/**
 * The grants a token carries: `scope`/`scp` (space-separated, or an array as Okta sends `scp`) and `roles`
 * (Entra app roles). The hub of a hub-qualified grant is lowercased, as the upstream lowercases hub names.
 */
export function grantsOf(claims: JWTPayload): ReadonlySet<string> {
  const scopes = [claims.scope, claims.scp].flatMap((claim) => (typeof claim === 'string' ? claim.split(' ') : strings(claim)));
  return new Set([...scopes, ...strings(claims.roles)].filter(Boolean).map(normalize));
}

/**
 * Whether `grants` allow `permission`, on `hub` when the route has one (a hub-qualified grant covers that hub only).
 * `hub` is the hub the upstream addresses: `addressedHub(hub, application)`.
 */
export function allows(grants: ReadonlySet<string>, permission: Permission, hub?: string): boolean {
  return grants.has(permission) || (hub !== undefined && grants.has(`${permission}:${hub.toLowerCase()}`));
}

/** The strings of an array claim; a role is a whole value, never split. */
function strings(claim: unknown): string[] {
  return Array.isArray(claim) ? claim.filter((item): item is string => typeof item === 'string') : typeof claim === 'string' ? [claim] : [];
}

function normalize(grant: string): string {
  const colon = grant.indexOf(':');
  return colon < 0 ? grant : grant.slice(0, colon) + grant.slice(colon).toLowerCase();
}
