import { Module } from '@nestjs/common';
import { SignalRModule } from '../../signalr/signalr.module.js';
import { NegotiateController } from './negotiate.controller.js';
import { NegotiateService } from './negotiate.service.js';

@Module({ imports: [SignalRModule], controllers: [NegotiateController], providers: [NegotiateService] })
export class NegotiateModule {}
