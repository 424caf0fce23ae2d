import { Injectable, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import { ProblemException } from '../../common/problem.js';
import { Lifecycle } from '../../lifecycle/lifecycle.js';
import { SignalRClient } from '../../signalr/signalr.client.js';
import type { UpstreamHealthDto } from './health.dto.js';
import { ReadinessChecks } from './readiness.js';

@Injectable()
export class HealthService {
  constructor(
    private readonly signalr: SignalRClient,
    private readonly terminus: HealthCheckService,
    private readonly readiness: ReadinessChecks,
    private readonly lifecycle: Lifecycle,
  ) {}

  /** Azure's own health operation, passed through: failures come back as the upstream client maps them. */
  async upstream(): Promise<UpstreamHealthDto> {
    await this.signalr.health();
    return { status: 'ok' };
  }

  /** The process is up and serving HTTP; nothing else is checked (a restart would not fix a dependency). */
  live(): Promise<HealthCheckResult> {
    return this.terminus.check([]);
  }

  /** Every readiness check passes; otherwise a 503 problem naming the ones that failed. Shutting down fails first. */
  async ready(): Promise<HealthCheckResult> {
    if (this.lifecycle.draining) throw notReady('shutting down');
    try {
      return await this.terminus.check([...this.readiness.all()]);
    } catch (error) {
      if (!(error instanceof ServiceUnavailableException)) throw error;
      const report = error.getResponse() as HealthCheckResult;
      const failed = Object.entries(report.error ?? {}).map(([name, result]) => `${name} (${String(result?.['message'] ?? 'down')})`);
      throw notReady(failed.join(', '));
    }
  }
}

function notReady(why: string): ProblemException {
  return new ProblemException({ status: 503, code: 'not-ready', detail: `Not ready: ${why}.`, headers: { 'retry-after': '5' } });
}
