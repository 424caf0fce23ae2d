import { IsOptional, IsString } from 'class-validator';
import { IntegerFrom, validateEnv, type Env } from './validate-env.js';

class ObservabilityEnv {
  /** The management port serving `/metrics` (Prometheus), on HOST; 0 turns it off. Never the API's port. */
  @IntegerFrom(0, 65535)
  METRICS_PORT = 9464;

  /** Where audit records go: `stdout`, `off`, or a file path (appended to). Unset: `stdout` in production, else `off`. */
  @IsOptional()
  @IsString()
  AUDIT_LOG?: string;
}

/**
 * Metrics and the audit trail. Tracing is configured by OpenTelemetry's own `OTEL_*` variables, read by
 * src/observability/instrument.ts before anything else is loaded (docs/operations.md#traces).
 */
export class ObservabilityConfig {
  /** 0: no metrics listener. */
  readonly metricsPort!: number;
  /** `stdout`, `off` or a file path. */
  readonly auditLog!: string;

  constructor(options: ObservabilityConfig) {
    Object.assign(this, options);
  }

  /** `production` (NODE_ENV, read once by loadConfig) decides where audit records go by default. */
  static fromEnv(env: Env, production: boolean): ObservabilityConfig {
    const e = validateEnv(ObservabilityEnv, env);
    return new ObservabilityConfig({ metricsPort: e.METRICS_PORT, auditLog: e.AUDIT_LOG ?? (production ? 'stdout' : 'off') });
  }
}
