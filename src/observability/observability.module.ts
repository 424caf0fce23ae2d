import { Global, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { pino, type Logger } from 'pino';
import { ObservabilityConfig } from '../config/observability.config.js';
import { AuditTrail } from './audit.js';
import { GatewayMetrics } from './metrics.js';

/** Flushes the audit stream after the HTTP server has closed (the last records are written by then). */
class AuditFlush implements OnApplicationShutdown {
  constructor(private readonly audit: AuditTrail) {}
  onApplicationShutdown(): void {
    this.audit.flush();
  }
}

/**
 * The cross-cutting observability parts, one of each per gateway: GatewayMetrics (inject it to count; it never exports
 * by itself, src/main.ts serves its registry on METRICS_PORT) and the AuditTrail. Global, so that the upstream client,
 * the SSO verifier and later guards (rate limits, idempotency) can inject GatewayMetrics without importing a module.
 */
@Global()
@Module({})
export class ObservabilityModule {
  static forRoot(logger: Logger = pino({ base: { service: 'signalr-gateway' } })): DynamicModule {
    return {
      module: ObservabilityModule,
      providers: [
        { provide: GatewayMetrics, useFactory: () => new GatewayMetrics() },
        { provide: AuditTrail, useFactory: (config: ObservabilityConfig) => AuditTrail.to(config.auditLog, logger), inject: [ObservabilityConfig] },
        { provide: AuditFlush, useFactory: (audit: AuditTrail) => new AuditFlush(audit), inject: [AuditTrail] },
      ],
      exports: [GatewayMetrics, AuditTrail],
    };
  }
}
