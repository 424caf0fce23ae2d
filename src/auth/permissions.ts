/**
 * What a caller may do, as scopes (`scope`/`scp`) or app roles (`roles`) in its SSO token.
 * `signalr.send:orders` grants `signalr.send` on hub `orders` only.
 */
export const PERMISSIONS = ['signalr.send', 'signalr.groups', 'signalr.connections', 'signalr.read', 'signalr.negotiate'] as const;
export type Permission = (typeof PERMISSIONS)[number];
