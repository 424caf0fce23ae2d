import { Injectable, Logger, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { addressedHubOf } from '../common/names.js';
import { AUTHENTICATED_KEY, PERMISSION_KEY, PUBLIC_KEY } from './auth.decorators.js';
import { insufficientScope, invalidToken, ssoUnavailable, undeclaredRoute } from './auth.problems.js';
import { bearerToken } from './bearer-token.js';
import { allows, type Permission } from './permissions.js';
import { SsoUnavailable } from './sso-key-set.js';
import { TokenRejected, TokenVerifier, type Principal } from './token-verifier.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified SSO principal, set by the auth guard on every non-public route. */
    user?: Principal;
  }
}

/** Who may call a route: anyone, any valid token, a token with a permission, or no one (no declaration). */
type RouteAccess = 'public' | 'authenticated' | 'undeclared' | { permission: Permission };

/**
 * The global guard: every route is closed unless it is `@Public()`, and open only to a valid SSO token (the request's
 * one bearer token, verified by TokenVerifier; its refusals as 401/503 problems) that holds the route's
 * `@RequirePermission` (on the hub the upstream addresses, when the route has one) or, for `@Authenticated()`, any
 * valid token. Stateless: no session.
 *
 * A plain guard calling the verifier, not a Passport strategy: Passport added a callback chain and a promise around
 * every request for nothing it checks.
 */
@Injectable()
export class SsoAuthGuard implements CanActivate {
  private readonly logger = new Logger(SsoAuthGuard.name);
  private readonly accessByHandler = new WeakMap<object, RouteAccess>();

  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: TokenVerifier,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const access = this.accessOf(context);
    if (access === 'public') return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const principal = (request.user = await this.authenticate(request));
    request.caller = principal.caller;

    if (access === 'authenticated') return true;
    if (access === 'undeclared') {
      this.logger.error(`${request.routeOptions.url} declares no permission; closed by default`);
      throw undeclaredRoute();
    }
    const hub = addressedHubOf(request.params, request.query);
    if (!allows(principal.grants, access.permission, hub)) throw insufficientScope(access.permission, hub);
    return true;
  }

  /** What a handler's decorators (or its controller's) ask, read once per handler: metadata does not change. */
  private accessOf(context: ExecutionContext): RouteAccess {
    const handler = context.getHandler();
    let access = this.accessByHandler.get(handler);
    if (access === undefined) {
      access = this.declaredAccess(context);
      this.accessByHandler.set(handler, access);
    }
    return access;
  }

  private declaredAccess(context: ExecutionContext): RouteAccess {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return 'public';
    const permission = this.reflector.getAllAndOverride<Permission | undefined>(PERMISSION_KEY, targets);
    if (permission !== undefined) return { permission };
    return this.reflector.getAllAndOverride<boolean>(AUTHENTICATED_KEY, targets) ? 'authenticated' : 'undeclared';
  }

  private async authenticate(request: FastifyRequest): Promise<Principal> {
    const token = bearerToken(request);
    try {
      return await this.verifier.verify(token);
    } catch (error) {
      if (error instanceof TokenRejected) throw invalidToken(error.description);
      if (error instanceof SsoUnavailable) throw ssoUnavailable();
      throw error;
    }
  }
}
