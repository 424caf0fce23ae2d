import { Module } from '@nestjs/common';
import { SignalRModule } from '../../signalr/signalr.module.js';
import { ConnectionsController } from './connections.controller.js';
import { ConnectionsService } from './connections.service.js';

@Module({ imports: [SignalRModule], controllers: [ConnectionsController], providers: [ConnectionsService] })
export class ConnectionsModule {}
