import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import { validateEnv, type Env } from './validate-env.js';

class ObservabilityEnv {
  /** The management port serving `/metrics` (Prometheus), on HOST; 0 turns it off. Never the API's port. */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(65535)
  METRICS_PORT = 9464;

  /** Where audit records go: `stdout`, `off`, or a file path (appended to). Unset: `stdout` in production, else `off`. */
  @IsOptional()
  @IsString()
  AUDIT_LOG?: string;

  @IsIn(['development', 'production', 'test'])
  NODE_ENV = 'development';
}

/**
 * Metrics and the audit trail. Tracing is configured by OpenTelemetry's own `OTEL_*` variables, read by
 * src/observability/instrument.ts before anything else is loaded (docs/operations.md#traces).
 */
export class ObservabilityConfig {
  constructor(
    /** 0: no metrics listener. */
    readonly metricsPort: number,
    /** `stdout`, `off` or a file path. */
    readonly auditLog: string,
  ) {}

  static fromEnv(env: Env): ObservabilityConfig {
    const e = validateEnv(ObservabilityEnv, env);
    return new ObservabilityConfig(e.METRICS_PORT, e.AUDIT_LOG ?? (e.NODE_ENV === 'production' ? 'stdout' : 'off'));
  }
}
