import { createGatewayClient, type GatewayClient as Api, type ProblemDetails } from '../client/index.js';
import { CliError, ExitCode, exitCodeForStatus } from './exit-codes.js';
import { peerFetch, requestIdOf } from './http.js';
import type { TokenSource } from './credentials.js';

export interface GatewayRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path segments after `/api/hubs/{hub}`, unescaped: `['users', 'alice']`; a collection may end it: `['groups', 'g1', 'connections']`. */
  path: readonly string[];
  /** Azure's custom method, appended as the last segment: `send` gives `/:send`. */
  action?: string;
  query?: Record<string, string | number | readonly string[] | undefined>;
  body?: unknown;
  /** A 404 is an answer (existence checks), not an error. */
  notFoundIsAnswer?: boolean;
}

export interface GatewayAnswer {
  status: number;
  body: unknown;
}

export interface GatewayClientOptions {
  baseUrl: string;
  hub: string;
  application?: string;
  token: TokenSource;
  timeoutMs: number;
  trace?: (line: string) => void;
}

/** The spec's name for the segment after each collection: `users/{user}`. */
const PARAMETER_AFTER: Record<string, string> = { users: 'user', groups: 'group', connections: 'connectionId' };

/** The typed client seen loosely: the CLI builds its routes at run time from the command table (its tests call each one). */
type LooseRequest = (method: string, route: string, init: { params: object; body?: unknown }) => Promise<LooseAnswer>;
type LooseAnswer = { data?: unknown; error?: unknown; response: Response };

/** Calls the gateway's hub-scoped REST API through the typed client; any failure becomes a CliError with one readable line. */
export class GatewayClient {
  private readonly api: Api;

  constructor(private readonly options: GatewayClientOptions) {
    this.api = createGatewayClient({
      baseUrl: options.baseUrl,
      token: options.token,
      fetch: peerFetch({ peer: 'the gateway', timeoutMs: options.timeoutMs, trace: options.trace }),
    });
  }

  get hub(): string {
    return this.options.hub;
  }

  /** Obtains the bearer token now (from the SSO unless a fixed one was given), so bad credentials show early. */
  async authenticate(): Promise<void> {
    await this.options.token();
  }

  async call({ method, path, action, query = {}, body, notFoundIsAnswer = false }: GatewayRequest): Promise<GatewayAnswer> {
    // The route as the spec writes it (`/api/hubs/{hub}/users/{user}/:send`), so the client encodes every name.
    const route = ['/api/hubs/{hub}'];
    const parameters: Record<string, string> = { hub: this.options.hub };
    for (let index = 0; index < path.length; index += 2) {
      if (index + 1 === path.length) {
        route.push(path[index]);
        break;
      }
      const name = PARAMETER_AFTER[path[index]];
      route.push(path[index], `{${name}}`);
      parameters[name] = path[index + 1]!;
    }
    if (action) route.push(`:${action}`);
    let answer: LooseAnswer;
    try {
      answer = await (this.api as unknown as { request: LooseRequest }).request(method, route.join('/'), {
        params: { path: parameters, query: { application: this.options.application, ...query } },
        body,
      });
    } catch (error) {
      // "." and "..": names no URL can carry.
      if (error instanceof RangeError) throw new CliError(ExitCode.BadInput, error.message, { cause: error });
      throw error;
    }
    const { data, error, response } = answer;
    if (response.ok || (notFoundIsAnswer && response.status === 404)) return { status: response.status, body: data };
    throw new CliError(exitCodeForStatus(response.status), describeProblem(response, error));
  }
}

/** "400 Bad Request: hub must start with a letter ... (request id ...)", from problem+json or whatever came back. */
function describeProblem(response: Response, body: unknown): string {
  const problem: Partial<ProblemDetails> = typeof body === 'object' && body !== null ? body : {};
  const status = `${response.status} ${problem.title ?? response.statusText}`.trim();
  const fields = (problem.errors ?? []).map((error) => error.message).filter(Boolean);
  const detail = fields.length > 0 ? fields.join('; ') : problem.detail;
  return `the gateway answered ${status}${detail ? `: ${detail}` : ''}${requestIdOf(response)}`;
}
