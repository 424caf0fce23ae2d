import { Module } from '@nestjs/common';
import { SignalRModule } from '../../signalr/signalr.module.js';
import { UsersController } from './users.controller.js';
import { UsersService } from './users.service.js';

@Module({ imports: [SignalRModule], controllers: [UsersController], providers: [UsersService] })
export class UsersModule {}
