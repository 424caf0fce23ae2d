import { CliError, exitCodeForStatus } from './exit-codes.js';
import { jsonBody, requestIdOf, send } from './http.js';
import type { TokenSource } from './credentials.js';

export interface GatewayRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path segments after `/api/hubs/{hub}`, unescaped: `['users', 'alice']`. */
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

/** The parts of an RFC 9457 problem the gateway sends that are worth a line. */
interface Problem {
  status?: number;
  title?: string;
  detail?: string;
  code?: string;
  errors?: Array<{ field?: string; message?: string }>;
}

export interface GatewayClientOptions {
  baseUrl: string;
  hub: string;
  application?: string;
  token: TokenSource;
  timeoutMs: number;
  trace?: (line: string) => void;
}

/** Calls the gateway's hub-scoped REST API; any failure becomes a CliError with one readable line. */
export class GatewayClient {
  constructor(private readonly options: GatewayClientOptions) {}

  get hub(): string {
    return this.options.hub;
  }

  /** Obtains the bearer token now (from the SSO unless a fixed one was given), so bad credentials show early. */
  async authenticate(): Promise<void> {
    await this.options.token();
  }

  async call({ method, path, action, query = {}, body, notFoundIsAnswer = false }: GatewayRequest): Promise<GatewayAnswer> {
    const url = this.url([...path.map(escapeSegment), ...(action ? [`:${action}`] : [])], query);
    const token = await this.options.token();
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'application/json, application/problem+json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await send(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) }, {
      peer: 'the gateway',
      timeoutMs: this.options.timeoutMs,
      trace: this.options.trace,
    });
    const answer = await jsonBody(response);
    if (response.ok || (notFoundIsAnswer && response.status === 404)) return { status: response.status, body: answer };
    throw new CliError(exitCodeForStatus(response.status), describeProblem(response, answer));
  }

  private url(segments: readonly string[], query: NonNullable<GatewayRequest['query']>): URL {
    const url = new URL(['api', 'hubs', escapeSegment(this.options.hub), ...segments].join('/'), withSlash(this.options.baseUrl));
    const all = { application: this.options.application, ...query };
    for (const [name, value] of Object.entries(all)) {
      for (const item of [value ?? []].flat()) url.searchParams.append(name, String(item));
    }
    return url;
  }
}

/** "400 Bad Request: hub must start with a letter ... (request id ...)", from problem+json or whatever came back. */
export function describeProblem(response: Response, body: unknown): string {
  const problem = (typeof body === 'object' && body !== null ? body : {}) as Problem;
  const status = `${response.status} ${problem.title ?? response.statusText}`.trim();
  const fields = (problem.errors ?? []).map((error) => error.message).filter((message): message is string => !!message);
  const detail = fields.length > 0 ? fields.join('; ') : problem.detail;
  return `the gateway answered ${status}${detail ? `: ${detail}` : ''}${requestIdOf(response)}`;
}

/** Percent-encodes a path segment; `.` and `..` too, or URL resolution would remove them. */
function escapeSegment(segment: string): string {
  return /^\.{1,2}$/.test(segment) ? segment.replaceAll('.', '%2E') : encodeURIComponent(segment);
}

function withSlash(base: string): string {
  return base.endsWith('/') ? base : `${base}/`;
}
