import { Module } from '@nestjs/common';
import { SignalRModule } from '../../signalr/signalr.module.js';
import { BroadcastController } from './broadcast.controller.js';
import { BroadcastService } from './broadcast.service.js';

@Module({ imports: [SignalRModule], controllers: [BroadcastController], providers: [BroadcastService] })
export class BroadcastModule {}
