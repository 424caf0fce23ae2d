import { Module } from '@nestjs/common';
import { SignalRClient } from './signalr.client.js';

/** The upstream Azure SignalR instances: the REST client for the feature modules, which also signs negotiate's tokens. */
@Module({
  providers: [SignalRClient],
  exports: [SignalRClient],
})
export class SignalRModule {}
