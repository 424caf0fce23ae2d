import { Global, Injectable, Module } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { EventEmitter } from 'node:events';

/** What the idempotency and rate-limit guards report, for metrics and audit to count (they subscribe at bootstrap). */
export interface TrafficEventMap {
  /** A request answered with a stored outcome, without an upstream call. */
  replayed: [{ caller: string; route: string; status: number; request: FastifyRequest }];
  /** A request refused with 429 before any upstream call; `cost` is what it asked for. */
  'rate-limited': [{ caller: string; route: string; cost: number }];
  /** The shared state could not be reached: `rate-limit` let the request through, `idempotency` answered 503. */
  'state-unavailable': [{ feature: 'idempotency' | 'rate-limit'; route: string }];
}

/** One emitter per gateway: `app.get(TrafficEvents).on('rate-limited', ...)`. Emitting never throws into a request. */
@Injectable()
export class TrafficEvents extends EventEmitter<TrafficEventMap> {}

/** Global, so the guards of `@Idempotent()` and `@RateLimited()` get the one emitter in every feature module. */
@Global()
@Module({ providers: [TrafficEvents], exports: [TrafficEvents] })
export class TrafficEventsModule {}
