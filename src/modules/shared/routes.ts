/**
 * A route's last segment in Azure's action style, the `:send` of `/api/hubs/{hub}/:send` (our `:sendToUsers` and
 * `:sendToGroups` follow it). Nest's router (path-to-regexp) reads `:name` as a path parameter and `::` as one literal
 * colon, so the segment is written `::send`: here, and nowhere else.
 */
export const azureAction = (name: string): string => `::${name}`;
