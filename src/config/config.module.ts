import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { GatewayConfig } from './load-config.js';

@Global()
@Module({})
export class ConfigModule {
  /** Each part of the loaded config, injectable by its class (`constructor(private readonly sso: SsoConfig)`). */
  static forRoot(config: GatewayConfig): DynamicModule {
    const providers = Object.values(config).map((part: object) => ({ provide: part.constructor, useValue: part }));
    return { module: ConfigModule, providers, exports: providers.map(({ provide }) => provide) };
  }
}
