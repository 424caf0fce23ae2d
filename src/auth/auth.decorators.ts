import { applyDecorators, SetMetadata } from '@nestjs/common';
import type { Permission } from './permissions.js';

export const PERMISSION_KEY = 'signalr-gateway:permission';
export const PUBLIC_KEY = 'signalr-gateway:public';

/**
 * Declares the permission a route needs (checked against the route's `hub` parameter when it has one)
 * and documents it in the OpenAPI: security requirement plus the 401/403 responses.
 */
export const RequirePermission = (permission: Permission): MethodDecorator & ClassDecorator =>
  applyDecorators(SetMetadata(PERMISSION_KEY, permission));

/** A route anyone may call: health probes and the API documentation only. */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(PUBLIC_KEY, true);
