import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import type { Logger } from 'pino';
import { AuthModule } from './auth/auth.module.js';
import { ProblemFilter } from './common/problem.filter.js';
import { ProblemValidationPipe } from './common/validation.pipe.js';
import { ConfigModule } from './config/config.module.js';
import type { GatewayConfig } from './config/load-config.js';
import { BroadcastModule } from './modules/broadcast/broadcast.module.js';
import { ConnectionsModule } from './modules/connections/connections.module.js';
import { ExecuteModule } from './modules/execute/execute.module.js';
import { GroupsModule } from './modules/groups/groups.module.js';
import { HealthModule } from './modules/health/health.module.js';
import { NegotiateModule } from './modules/negotiate/negotiate.module.js';
import { TrafficEventsModule } from './modules/shared/traffic-events.js';
import { problemOfUpstream } from './modules/shared/upstream-problems.js';
import { UsersModule } from './modules/users/users.module.js';
import { ObservabilityModule } from './observability/observability.module.js';
import { SignalRModule } from './signalr/signalr.module.js';
import { StateModule } from './state/state.module.js';

@Module({})
export class AppModule {
  /** `logger`: the application's, which AUDIT_LOG=stdout writes through (a logger of its own on stdout when absent). */
  static forRoot(config: GatewayConfig, logger?: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        ObservabilityModule.forRoot(logger),
        AuthModule,
        SignalRModule,
        StateModule,
        TrafficEventsModule,
        BroadcastModule,
        GroupsModule,
        UsersModule,
        ConnectionsModule,
        ExecuteModule,
        NegotiateModule,
        HealthModule,
      ],
      providers: [
        { provide: APP_FILTER, useValue: new ProblemFilter(problemOfUpstream) },
        { provide: APP_PIPE, useClass: ProblemValidationPipe },
      ],
    };
  }
}
