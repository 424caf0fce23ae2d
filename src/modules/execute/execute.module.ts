import { Module } from '@nestjs/common';
import { SignalRModule } from '../../signalr/signalr.module.js';
import { ExecuteController } from './execute.controller.js';
import { ExecuteService } from './execute.service.js';

@Module({ imports: [SignalRModule], controllers: [ExecuteController], providers: [ExecuteService] })
export class ExecuteModule {}
