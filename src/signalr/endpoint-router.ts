import type { EndpointType } from '../config/signalr.config.js';
import type { EntraAuthError } from './entra-token.js';
import { UpstreamError } from './upstream-error.js';

/*
 * Azure's default endpoint router (DefaultEndpointRouter, DefaultMessageRouter), for a gateway in front of several
 * SignalR instances: which endpoint negotiate sends a client to, and how the answers of every endpoint to one operation
 * make one answer (docs/azure-compatibility.md#multiple-endpoints). Pure: SignalRClient calls the endpoints.
 */

/** An endpoint as the router sees it. */
export interface RoutedEndpoint {
  name: string;
  type: EndpointType;
}

/** Why an operation failed at one endpoint: the upstream's answer, or no Entra token or key to make the call with. */
export type EndpointError = UpstreamError | EntraAuthError;

/**
 * What one endpoint did with an operation: `ok` (it took effect there, or the thing is there), `absent` (Azure's
 * "no such connection, user, group or stream": where a connection lives on one endpoint, the others say this), or
 * `failed` (anything else: the operation may not have taken effect there).
 */
export type EndpointOutcome<T> =
  | { endpoint: RoutedEndpoint; kind: 'ok'; result: T }
  | { endpoint: RoutedEndpoint; kind: 'absent'; result?: T; error?: UpstreamError }
  | { endpoint: RoutedEndpoint; kind: 'failed'; error: EndpointError };

/**
 * An operation that did not succeed at every endpoint it had to. The upstream room only reports it: each endpoint's
 * outcome, in configuration order; the HTTP side decides the answer (src/modules/shared/upstream-problems.ts).
 */
export class EndpointFailures extends Error {
  override readonly name = 'EndpointFailures';

  constructor(
    /** The client's name of the operation: `sendToGroup`, ... */
    readonly operation: string,
    readonly outcomes: readonly EndpointOutcome<unknown>[],
  ) {
    const failed = outcomes.filter((outcome) => outcome.kind === 'failed');
    super(`Azure SignalR ${operation} failed at ${failed.map(({ endpoint, error }) => `${endpoint.name} (${error.message})`).join(', ')}`);
  }

  /** The endpoints where the operation took effect: a retry repeats it there. */
  get reached(): RoutedEndpoint[] {
    return this.outcomes.filter((outcome) => outcome.kind === 'ok').map(({ endpoint }) => endpoint);
  }

  /** The first failure in configuration order: what the caller hears when the operation took effect nowhere. */
  get firstFailure(): EndpointError {
    return this.outcomes.find((outcome) => outcome.kind === 'failed')!.error;
  }
}

/** Negotiate found no endpoint to send a client to: every endpoint failed its last health probe or call. */
export class NoHealthyEndpoint extends Error {
  override readonly name = 'NoHealthyEndpoint';

  constructor(readonly down: readonly { name: string; reason: string }[]) {
    super(`No SignalR endpoint is healthy: ${down.map(({ name, reason }) => `${name} (${reason})`).join(', ')}`);
  }
}

/**
 * Azure's negotiate routing: a healthy primary, else a healthy secondary, else none. Among those it may choose,
 * Azure draws at random weighted by each instance's free capacity, which it learns from its server connections and a
 * REST gateway does not: without it Azure draws uniformly. Round robin gives the same even spread per gateway replica,
 * with no run of bad luck (and tests that can count on it).
 */
export class NegotiateRouter<E extends RoutedEndpoint> {
  private turn = 0;

  constructor(private readonly endpoints: readonly E[]) {}

  /** The endpoint for the next client, or undefined when no endpoint is healthy. */
  pick(healthy: (endpoint: E) => boolean): E | undefined {
    const up = this.endpoints.filter(healthy);
    const primaries = up.filter(({ type }) => type === 'primary');
    const candidates = primaries.length > 0 ? primaries : up;
    if (candidates.length === 0) return undefined;
    return candidates[this.turn++ % candidates.length];
  }
}

/**
 * Operations that must take effect at every endpoint (sends, closes, user and group membership): a user, a group, a
 * connection may be on any of them. All succeeded: the first answer (they agree). Otherwise EndpointFailures, which
 * says where it did take effect.
 */
export function atEveryEndpoint<T>(operation: string, outcomes: readonly EndpointOutcome<T>[]): T {
  const first = outcomes[0];
  if (outcomes.every((outcome) => outcome.kind === 'ok') && first.kind === 'ok') return first.result;
  throw new EndpointFailures(operation, outcomes);
}

/**
 * Operations answered by the endpoint that has the thing (existence checks, a connection's group membership, closing
 * one connection, its client results and streams): any endpoint found it, its answer; every endpoint said "absent",
 * that answer, as one endpoint would give it; otherwise, since an endpoint that failed may have had it, EndpointFailures.
 */
export function whereFound<T>(operation: string, outcomes: readonly EndpointOutcome<T>[]): T {
  const found = outcomes.find((outcome) => outcome.kind === 'ok');
  if (found) return found.result;
  const first = outcomes[0];
  if (outcomes.every((outcome) => outcome.kind === 'absent') && first.kind === 'absent') {
    if (first.error) throw first.error;
    return first.result!;
  }
  throw new EndpointFailures(operation, outcomes);
}
