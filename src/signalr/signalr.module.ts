import { Module } from '@nestjs/common';
import { SignalRClient } from './signalr.client.js';
import { UpstreamCredentials } from './upstream-credentials.js';

/** The upstream Azure SignalR instances: the REST client for the feature modules, which also signs negotiate's tokens; the Entra credentials for readiness. */
@Module({
  providers: [UpstreamCredentials, SignalRClient],
  exports: [SignalRClient, UpstreamCredentials],
})
export class SignalRModule {}
