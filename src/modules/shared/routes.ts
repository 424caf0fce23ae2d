/**
 * A route's last segment in Azure's action style, the `:send` of `/api/hubs/{hub}/:send` (our `:sendToUsers` and
 * `:sendToGroups` follow it). Nest's router (path-to-regexp) reads `:name` as a path parameter and `::` as one literal
 * colon, so the segment is written `::send`: here, and nowhere else.
 */
export const azureAction = (name: string): string => `::${name}`;

/**
 * The content types Azure's swagger lists beside JSON for its send-like operations (`:send` to all, a group, a user, a
 * connection, and `:invoke`): the bytes Azure's .NET SDK sends with hub protocols registered, forwarded untouched.
 */
export const BINARY_PAYLOAD_TYPES = ['application/octet-stream', 'application/x-msgpack'] as const;

/** Whether a route (by its pattern) takes a binary payload: Azure's send-like operations, not the gateway's fan-outs. */
export const acceptsBinaryPayload = (routeUrl: string | undefined): boolean =>
  routeUrl !== undefined && [azureAction('send'), azureAction('invoke')].some((action) => routeUrl.endsWith(`/${action}`));
