import { Module } from '@nestjs/common';
import { SignalRConfig } from '../config/signalr.config.js';
import { SignalRClient } from './signalr.client.js';
import { SignalRSigner } from './signer.js';

/** The upstream Azure SignalR Service: the REST client for the feature modules, the signer for negotiate. */
@Module({
  providers: [{ provide: SignalRSigner, useFactory: (config: SignalRConfig) => new SignalRSigner(config), inject: [SignalRConfig] }, SignalRClient],
  exports: [SignalRClient, SignalRSigner],
})
export class SignalRModule {}
