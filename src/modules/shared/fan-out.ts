import type { Problem } from '../../common/problem.js';
import { renderProblem } from '../../common/problem.filter.js';
import type { UpstreamResult } from '../../signalr/endpoint-client.js';
import { problemOfUpstream } from './upstream-problems.js';

/** One recipient's outcome in a fan-out: the upstream status, and the problem when it failed. */
export interface RecipientOutcome {
  status: number;
  problem?: Problem;
}

/** Upstream calls one fan-out runs at once: parallel enough to be quick, bounded so one request cannot hog the pool. */
const FAN_OUT_CONCURRENCY = 8;

/**
 * Calls `call` for every item, at most FAN_OUT_CONCURRENCY at a time, and reports each outcome in the items' order.
 * A failure is reported as the problem the gateway would have answered for that single call; it does not stop the others.
 */
async function fanOut<T>(items: readonly T[], call: (item: T) => Promise<UpstreamResult>): Promise<RecipientOutcome[]> {
  const outcomes = new Array<RecipientOutcome>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let index = next++; index < items.length; index = next++) {
      outcomes[index] = await call(items[index]).then(
        ({ status }) => ({ status }),
        (error: unknown) => {
          const { problem } = renderProblem(error, problemOfUpstream);
          return { status: problem.status, problem };
        },
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(FAN_OUT_CONCURRENCY, items.length) }, worker));
  return outcomes;
}

/**
 * `:sendToUsers` and `:sendToGroups`: one upstream send per recipient through `send`, answered as one result per
 * recipient, in the order given, named under `key` (`{ user: 'alice', status: 202 }`).
 */
export async function sendToEach<K extends string>(
  key: K,
  recipients: readonly string[],
  send: (recipient: string) => Promise<UpstreamResult>,
): Promise<{ results: (Record<K, string> & RecipientOutcome)[] }> {
  const outcomes = await fanOut(recipients, send);
  return { results: outcomes.map((outcome, index) => ({ [key]: recipients[index], ...outcome }) as Record<K, string> & RecipientOutcome) };
}
