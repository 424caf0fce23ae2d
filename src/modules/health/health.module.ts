import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { AuthModule } from '../../auth/auth.module.js';
import { LifecycleModule } from '../../lifecycle/lifecycle.js';
import { SignalRModule } from '../../signalr/signalr.module.js';
import { HealthController } from './health.controller.js';
import { HealthService } from './health.service.js';
import { ReadinessChecks } from './readiness.js';

/** Probes (`/healthz`, `/readyz`) and Azure's health operation. */
@Module({
  imports: [TerminusModule.forRoot({ logger: false }), SignalRModule, AuthModule, LifecycleModule],
  controllers: [HealthController],
  providers: [HealthService, ReadinessChecks],
})
export class HealthModule {}
