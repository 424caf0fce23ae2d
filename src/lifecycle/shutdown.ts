import type { INestApplication } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { Lifecycle } from './lifecycle.js';

/**
 * A shutdown callers do not notice. `/readyz` fails at once while requests are still served, each answer closing its
 * connection, for the drain delay: load balancers stop sending here and their callers reconnect elsewhere. Then the
 * listener closes, in-flight requests finish, idle connections are closed, and the upstream pool closes last
 * (SignalRClient.onApplicationShutdown runs after the HTTP server has closed).
 */
export async function drainAndClose(app: INestApplication, drainDelayMs: number): Promise<void> {
  app.get(Lifecycle).beginDrain();
  await sleep(drainDelayMs);
  await app.close();
}
