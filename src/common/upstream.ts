import type { UpstreamResult } from '../signalr/signalr.client.js';
import { ProblemException, type Problem } from './problem.js';
import { renderProblem } from './problem.filter.js';

/** Turns the upstream's 404 (nothing there: no such group, user, connection or membership) into ours. */
export function requireFound(result: UpstreamResult, detail: string): void {
  if (result.status === 404) throw new ProblemException({ status: 404, code: 'not-found', detail });
}

/** One recipient's outcome in a fan-out: the upstream status, and the problem when it failed. */
export interface Outcome {
  status: number;
  problem?: Problem;
}

/** Upstream calls one fan-out runs at once: parallel enough to be quick, bounded so one request cannot hog the pool. */
export const FAN_OUT_CONCURRENCY = 8;

/**
 * Calls `call` for every item, at most FAN_OUT_CONCURRENCY at a time, and reports each outcome in the items' order.
 * A failure is reported as the problem the gateway would have answered for that single call; it does not stop the others.
 */
export async function fanOut<T>(items: readonly T[], call: (item: T) => Promise<UpstreamResult>): Promise<Outcome[]> {
  const outcomes = new Array<Outcome>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let index = next++; index < items.length; index = next++) {
      outcomes[index] = await call(items[index]).then(
        ({ status }) => ({ status }),
        (error: unknown) => {
          const { problem } = renderProblem(error);
          return { status: problem.status, problem };
        },
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(FAN_OUT_CONCURRENCY, items.length) }, worker));
  return outcomes;
}
