import { Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { StateConfig } from '../config/state.config.js';
import { MemoryState } from './memory-state.js';
import { RedisState } from './redis-state.js';
import { SharedState } from './shared-state.js';

/** Provides SharedState: in Redis when REDIS_URL is set, in memory otherwise. */
@Global()
@Module({
  providers: [
    {
      provide: SharedState,
      inject: [StateConfig],
      useFactory: (config: StateConfig): SharedState =>
        config.redisUrl === undefined
          ? new MemoryState(config.memoryMaxEntries)
          : new RedisState({ url: config.redisUrl, timeoutMs: config.redisTimeoutMs, keyPrefix: config.redisKeyPrefix }),
    },
  ],
  exports: [SharedState],
})
export class StateModule implements OnApplicationShutdown {
  constructor(@Inject(SharedState) private readonly state: SharedState) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.state instanceof RedisState) await this.state.close();
  }
}
