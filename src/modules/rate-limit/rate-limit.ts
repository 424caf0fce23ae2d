import { applyDecorators, Injectable, Logger, SetMetadata, UseGuards, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ProblemException } from '../../common/problem.js';
import { StateConfig, type Rate } from '../../config/state.config.js';
import { SharedState, StateUnavailable } from '../../state/shared-state.js';
import { TrafficEvents } from '../shared/traffic-events.js';

const RATE_COST = 'signalr-gateway:rate-cost';

/** What a request costs: the upstream calls it causes, from its (not yet validated) body. */
export type RateCost = (body: unknown) => number;

/** One upstream call. */
const ONE: RateCost = () => 1;

/** A fan-out's cost: one upstream call per item of `body[field]` (at least one). */
export const perItemOf =
  (field: string): RateCost =>
  (body) => {
    const items = (body as Record<string, unknown> | null)?.[field];
    return Array.isArray(items) ? Math.max(1, items.length) : 1;
  };

/** The policy's name in the RateLimit-Policy and RateLimit fields. */
const POLICY = 'caller';

/** The route counts against its caller's budget, `cost` units per request (one by default): RateLimitGuard. */
export const RateLimited = (cost: RateCost = ONE): MethodDecorator => applyDecorators(SetMetadata(RATE_COST, cost), UseGuards(RateLimitGuard));

/**
 * Per-caller budgets (RATE_LIMIT, RATE_LIMIT_OVERRIDES) on the routes marked `@RateLimited()`, checked after the SSO
 * guard and before the handler, so before anything goes upstream. A request is allowed whole or refused whole (429
 * problem with Retry-After); every answer of a limited caller carries `RateLimit-Policy` and `RateLimit`
 * (draft-ietf-httpapi-ratelimit-headers). A caller without a budget passes at once (no await, no state). When the
 * shared state cannot be reached the request goes through (fail open, logged and reported): a missing budget must
 * not stop every service's messages.
 *
 * A guard rather than a Nest interceptor: an interceptor sends every request of its routes through Nest's RxJS
 * pipeline, limit or not (RxJS and an AsyncResource per step: docs/performance.md).
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  private readonly logger = new Logger(RateLimitGuard.name);
  private lastWarning = 0;

  constructor(
    private readonly reflector: Reflector,
    private readonly state: SharedState,
    private readonly config: StateConfig,
    private readonly events: TrafficEvents,
  ) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const caller = context.switchToHttp().getRequest<FastifyRequest>().caller;
    const rate = caller === undefined ? undefined : this.config.rateOf(caller);
    if (caller === undefined || rate === undefined) return true;
    return this.spend(context, caller, rate);
  }

  private async spend(context: ExecutionContext, caller: string, rate: Rate): Promise<boolean> {
    const costOf = this.reflector.get<RateCost>(RATE_COST, context.getHandler());
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    const route = `${request.method} ${request.routeOptions.url ?? ''}`;
    const cost = costOf(request.body);
    reply.header('ratelimit-policy', `${POLICY};q=${rate.count};w=${rate.seconds}`);
    try {
      // A request dearer than the whole budget could never pass: it spends nothing (cost 0 reads the budget).
      const decision = await this.state.consume(`rate:${caller}`, cost > rate.count ? 0 : cost, rate);
      reply.header('ratelimit', `${POLICY};r=${decision.remaining};t=${decision.resetSeconds}`);
      if (cost > rate.count) {
        this.events.emit('rate-limited', { caller, route, cost });
        throw new ProblemException({
          status: 429,
          code: 'rate-limit-exceeded',
          detail: `This request costs ${cost} upstream calls, more than the caller's whole budget of ${describe(rate)}: split it.`,
        });
      }
      if (!decision.allowed) {
        this.events.emit('rate-limited', { caller, route, cost });
        throw new ProblemException({
          status: 429,
          code: 'rate-limited',
          detail: `This request costs ${cost} upstream calls and ${decision.remaining} are left of the caller's budget of ${describe(rate)}; retry after Retry-After seconds.`,
          headers: { 'retry-after': String(decision.retryAfterSeconds) },
        });
      }
    } catch (error) {
      if (!(error instanceof StateUnavailable)) throw error;
      this.failOpen(error, route);
    }
    return true;
  }

  private failOpen(error: StateUnavailable, route: string): void {
    this.events.emit('state-unavailable', { feature: 'rate-limit', route });
    if (Date.now() - this.lastWarning < 10_000) return;
    this.lastWarning = Date.now();
    this.logger.warn(`Rate limits not applied (fail open): ${error.message}`);
  }
}

const describe = (rate: Rate): string => `${rate.count} per ${rate.seconds} s`;
