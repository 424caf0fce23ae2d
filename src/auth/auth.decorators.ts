import { applyDecorators, createParamDecorator, SetMetadata, type ExecutionContext } from '@nestjs/common';
import { ApiBearerAuth, ApiExtension, ApiSecurity } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { ApiProblems } from '../common/api-problems.js';
import { SSO_BEARER_SCHEME, SSO_OAUTH2_SCHEME } from './openapi-security.js';
import type { Permission } from './permissions.js';
import type { Principal } from './token-verifier.js';

export const PERMISSION_KEY = 'signalr-gateway:permission';
export const AUTHENTICATED_KEY = 'signalr-gateway:authenticated';
export const PUBLIC_KEY = 'signalr-gateway:public';

/** The OpenAPI side of a protected route: the SSO security requirement, either scheme, with `scopes`. */
const documentSso = (scopes: string[]) => [ApiBearerAuth(SSO_BEARER_SCHEME), ApiSecurity(SSO_OAUTH2_SCHEME, scopes)];

/**
 * Declares the permission a route needs (checked against the hub the route addresses when it has one:
 * `signalr.send:orders` covers hub `orders` only, see docs/permissions.md) and documents it in the OpenAPI:
 * security requirement, `x-permission`, and the 401/403 responses.
 */
export const RequirePermission = (permission: Permission): MethodDecorator & ClassDecorator =>
  applyDecorators(SetMetadata(PERMISSION_KEY, permission), ...documentSso([permission]), ApiExtension('x-permission', permission), ApiProblems(401, 403));

/** A route any valid SSO token may call, whatever its permissions (negotiate for the token's own user). */
export const Authenticated = (): MethodDecorator & ClassDecorator =>
  applyDecorators(SetMetadata(AUTHENTICATED_KEY, true), ...documentSso([]), ApiProblems(401));

/** A route anyone may call: health probes and the API documentation only. */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(PUBLIC_KEY, true);

/** The verified SSO principal of the request (set by the guard), for handlers that act for the caller. */
export const CurrentPrincipal = createParamDecorator(
  (_data: unknown, context: ExecutionContext): Principal => context.switchToHttp().getRequest<FastifyRequest>().user!,
);
