import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { AuthModule } from './auth/auth.module.js';
import { ProblemFilter } from './common/problem.filter.js';
import { ProblemValidationPipe } from './common/validation.pipe.js';
import { ConfigModule } from './config/config.module.js';
import type { Env } from './config/validate-env.js';
import { BroadcastModule } from './modules/broadcast/broadcast.module.js';
import { ConnectionsModule } from './modules/connections/connections.module.js';
import { ExecuteModule } from './modules/execute/execute.module.js';
import { GroupsModule } from './modules/groups/groups.module.js';
import { HealthModule } from './modules/health/health.module.js';
import { NegotiateModule } from './modules/negotiate/negotiate.module.js';
import { problemOfUpstream } from './modules/shared/upstream-problems.js';
import { UsersModule } from './modules/users/users.module.js';
import { SignalRModule } from './signalr/signalr.module.js';

@Module({})
export class AppModule {
  static forRoot(env: Env): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(env),
        AuthModule,
        SignalRModule,
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
