import { Controller, Get, Head } from '@nestjs/common';
import type { HealthCheckResult } from '@nestjs/terminus';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../../auth/auth.decorators.js';
import { ApiProblems } from '../../common/api-problems.js';
import { HealthReportDto, UpstreamHealthDto } from './health.dto.js';
import { HealthService } from './health.service.js';

@ApiTags('health')
@Public()
@Controller()
export class HealthController {
  constructor(private readonly health: HealthService) {}

  @Head('api/health')
  @ApiOperation({ operationId: 'upstreamHealthHead', summary: 'Whether the SignalR service is healthy (empty body).' })
  @ApiOkResponse({ description: 'The SignalR service is healthy.' })
  @ApiProblems(502, 503, 504)
  upstreamHead(): Promise<UpstreamHealthDto> {
    return this.health.upstream();
  }

  @Get('api/health')
  @ApiOperation({ operationId: 'upstreamHealth', summary: 'Whether the SignalR service is healthy.' })
  @ApiOkResponse({ description: 'The SignalR service is healthy.', type: UpstreamHealthDto })
  @ApiProblems(502, 503, 504)
  upstream(): Promise<UpstreamHealthDto> {
    return this.health.upstream();
  }

  @Get('healthz')
  @ApiOperation({ operationId: 'liveness', summary: 'Liveness: the gateway process serves HTTP.' })
  @ApiOkResponse({ description: 'Alive.', type: HealthReportDto })
  live(): Promise<HealthCheckResult> {
    return this.health.live();
  }

  @Get('readyz')
  @ApiOperation({ operationId: 'readiness', summary: 'Readiness: every dependency (the SignalR service first) is usable.' })
  @ApiOkResponse({ description: 'Ready.', type: HealthReportDto })
  @ApiProblems(503)
  ready(): Promise<HealthCheckResult> {
    return this.health.ready();
  }
}
