import { Module } from '@nestjs/common';
import { SignalRConfig } from '../config/signalr.config.js';
import { SignalRClient } from './signalr.client.js';
import { SignalRSigner } from './signer.js';
import { UpstreamCredentials } from './upstream-credentials.js';

/** The upstream Azure SignalR Service: the REST client for the feature modules, the signer for negotiate, the Entra credentials for readiness. */
@Module({
  providers: [
    UpstreamCredentials,
    {
      provide: SignalRSigner,
      useFactory: (config: SignalRConfig, credentials: UpstreamCredentials) => new SignalRSigner(config, Date.now, credentials.entraOf(config.connection)),
      inject: [SignalRConfig, UpstreamCredentials],
    },
    SignalRClient,
  ],
  exports: [SignalRClient, SignalRSigner, UpstreamCredentials],
})
export class SignalRModule {}
