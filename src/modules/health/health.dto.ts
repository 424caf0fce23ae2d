import { ApiProperty, ApiPropertyOptional, type SchemaObject } from '@nestjs/swagger';

export class UpstreamHealthDto {
  /** `ok`: the SignalR service answered its health check with a success. */
  @ApiProperty({ enum: ['ok'] })
  status: 'ok';
}

/** One indicator's result: `status` plus what the indicator reports (message, responseTime, ...). */
const INDICATOR: SchemaObject = { type: 'object', properties: { status: { type: 'string', enum: ['up', 'down', 'degraded'] } }, required: ['status'] };

/** @nestjs/terminus's report: every indicator, by name. */
export class HealthReportDto {
  @ApiProperty({ enum: ['ok', 'degraded', 'error'] })
  status: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: INDICATOR })
  info?: Record<string, unknown>;

  @ApiPropertyOptional({ type: 'object', additionalProperties: INDICATOR })
  error?: Record<string, unknown>;

  @ApiProperty({ type: 'object', additionalProperties: INDICATOR })
  details: Record<string, unknown>;
}
