import { Global, Module, type DynamicModule } from '@nestjs/common';
import { NegotiateConfig } from './negotiate.config.js';
import { ObservabilityConfig } from './observability.config.js';
import { ServerConfig } from './server.config.js';
import { SsoConfig } from './sso.config.js';
import { SignalRConfig } from './signalr.config.js';
import type { Env } from './validate-env.js';

/** Each concern's typed config, validated from the environment once, injectable by its class. */
const CONFIGS = [ServerConfig, SsoConfig, SignalRConfig, NegotiateConfig, ObservabilityConfig];

@Global()
@Module({})
export class ConfigModule {
  static forRoot(env: Env): DynamicModule {
    const providers = CONFIGS.map((config) => ({ provide: config, useValue: config.fromEnv(env) }));
    return { module: ConfigModule, providers, exports: CONFIGS };
  }
}
