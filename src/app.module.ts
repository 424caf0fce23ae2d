import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ProblemFilter } from './common/problem.filter.js';
import { ConfigModule } from './config/config.module.js';
import type { Env } from './config/validate-env.js';
import { SignalRModule } from './signalr/signalr.module.js';

@Module({})
export class AppModule {
  static forRoot(env: Env): DynamicModule {
    return {
      module: AppModule,
      imports: [ConfigModule.forRoot(env), SignalRModule],
      providers: [{ provide: APP_FILTER, useClass: ProblemFilter }],
    };
  }
}
