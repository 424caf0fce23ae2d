import { Injectable, Logger, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { addressedHubOf } from '../common/names.js';
import { AUTHENTICATED_KEY, PERMISSION_KEY, PUBLIC_KEY } from './auth.decorators.js';
import { insufficientScope, missingToken, undeclaredRoute } from './auth.problems.js';
import { allows, type Permission } from './permissions.js';
import { SSO_STRATEGY } from './sso.strategy.js';
import type { Principal } from './token-verifier.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified SSO principal, set by the auth guard on every non-public route. */
    user?: Principal;
  }
}

/**
 * The global guard: every route is closed unless it is `@Public()`, and open only to a valid SSO token that holds the
 * route's `@RequirePermission` (on the hub the upstream addresses, when the route has one) or, for `@Authenticated()`,
 * any valid token.
 */
@Injectable()
export class SsoAuthGuard extends AuthGuard(SSO_STRATEGY) {
  private readonly logger = new Logger(SsoAuthGuard.name);

  constructor(private readonly reflector: Reflector) {
    super();
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;
    await super.canActivate(context);
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const principal = request.user!;
    request.caller = principal.caller;

    const permission = this.reflector.getAllAndOverride<Permission | undefined>(PERMISSION_KEY, targets);
    if (permission === undefined) {
      if (this.reflector.getAllAndOverride<boolean>(AUTHENTICATED_KEY, targets)) return true;
      this.logger.error(`${request.routeOptions.url} declares no permission; closed by default`);
      throw undeclaredRoute();
    }
    const hub = addressedHubOf(request.params, request.query);
    if (!allows(principal.grants, permission, hub)) throw insufficientScope(permission, hub);
    return true;
  }

  override handleRequest<T>(error: unknown, user: T): T {
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- the strategy's own error (an HttpException), rethrown unchanged
    if (error) throw error;
    if (!user) throw missingToken();
    return user;
  }
}
