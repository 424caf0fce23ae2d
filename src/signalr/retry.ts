import type { RetrySettings } from '../config/signalr.config.js';
import type { UpstreamError } from './upstream-error.js';
import type { RestCall } from './urls.js';

/**
 * Whether a failed attempt may be sent again: the Management SDK's rules (RetryHttpMessageHandler, docs/azure-compatibility.md#retries), made
 * precise for what undici tells us.
 *
 * - A message (`:send`) is retried only when Azure answered above 500, or when the request provably never reached
 *   Azure: it failed before undici wrote it to a connection (refused, host not found, connect timeout). Never on 500
 *   (Azure's own internal timeout, possibly after delivering) nor on a timeout or a broken connection after the
 *   request was written: either may deliver it twice.
 * - Every other operation is idempotent (existence checks, group membership, closes): retried on any 5xx, on 408 and on
 *   every failure to get an answer (timeout, refused, broken connection). The SDK leaves refused and broken connections
 *   unretried; retrying them is as safe as retrying the timeouts it does retry.
 * - 429 and every other 4xx are answers, never retried.
 */
export function isRetriable(call: RestCall, error: UpstreamError): boolean {
  if (error.status !== undefined) return call.message ? error.status > 500 : error.status >= 500 || error.status === 408;
  return !call.message || !error.requestWritten;
}

/**
 * The wait before retry `n` (1, 2, ...): delayMs × 2^(n−1), capped at maxDelayMs, then jittered down by up to half so
 * that callers failing together do not come back in step.
 */
export function backoffMs(n: number, { delayMs, maxDelayMs }: RetrySettings, random: () => number = Math.random): number {
  return Math.min(maxDelayMs, delayMs * 2 ** (n - 1)) * (1 - random() / 2);
}
