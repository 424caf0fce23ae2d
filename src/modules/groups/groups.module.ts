import { Module } from '@nestjs/common';
import { SignalRModule } from '../../signalr/signalr.module.js';
import { GroupsController } from './groups.controller.js';
import { GroupsService } from './groups.service.js';

@Module({ imports: [SignalRModule], controllers: [GroupsController], providers: [GroupsService] })
export class GroupsModule {}
