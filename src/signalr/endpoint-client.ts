import { Logger } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool, type Dispatcher } from 'undici';
import type { IncomingHttpHeaders } from 'undici/types/header.js';
import { DEFAULT_ENDPOINT_NAME, type EndpointType, type RetrySettings, type SignalREndpoint } from '../config/signalr.config.js';
import { GatewayMetrics } from '../observability/metrics.js';
import { inSpan } from '../observability/tracing.js';
import { backoffMs, isRetriable } from './retry.js';
import { SignalRSigner, type Clock, type EntraSigning } from './signer.js';
import { UpstreamError } from './upstream-error.js';
import { restCalls, type Attempts, type RestCall } from './urls.js';

/** The message clients receive: `connection.on(target, (...arguments) => ...)`. */
export interface JsonPayload {
  target: string;
  /** The JSON text of the arguments array, forwarded as it is (re-serialising would recurse and round numbers). */
  argumentsJson: string;
}

/** The same message already serialised per hub protocol, as Azure's .NET SDK sends it: forwarded byte for byte. */
export interface BinaryPayload {
  /** `application/octet-stream` or `application/x-msgpack`. */
  contentType: string;
  bytes: Buffer;
}

/** A JSON body of any other shape, sent as this text (a stream item). */
export interface RawJson {
  json: string;
}

export type Payload = JsonPayload | BinaryPayload;

/** The upstream's answer when it is a success, or a 404 that is an answer (`notFoundIsAnswer` in urls.ts). */
export interface UpstreamResult {
  status: number;
  /** `x-ms-error-code` of the response, e.g. `Warning.User.NotExisted`. */
  errorCode?: string;
  /** The response body, read only for the operations that answer with one (`responseBody` in urls.ts). */
  body?: Buffer;
}

/** One member of a group, as 2024-12-01 lists it. */
export interface GroupMember {
  connectionId: string;
  userId?: string;
}

/**
 * A page of a group's members. The service's `nextLink` addresses the service itself, so only its opaque
 * `continuationToken` is kept: the caller builds its own link with it.
 */
export interface GroupMemberPage {
  value: GroupMember[];
  continuationToken?: string;
}

/** Longest response body read (a page of 200 members with 1,024-character ids, or a client's result, stays below it). */
const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

/** How an endpoint's calls are made: SignalRConfig's settings, the same for every endpoint. */
export interface CallSettings {
  /** The deadline of one call, retries included. */
  timeoutMs: number;
  retry: RetrySettings;
  tokenLifetimeSeconds: number;
}

/** What a health probe found: nothing when the endpoint answered 2xx, else why not (no secret, no query). */
export type ProbeFailure = string | undefined;

/**
 * One SignalR instance: its keep-alive pool, its signer, and the call machinery of Azure's Management SDK (signed
 * exactly as it signs, retried as it retries: src/signalr/retry.ts, each call within one deadline). SignalRClient
 * holds one per endpoint and decides which endpoints a call goes to. Failures are thrown as UpstreamError; a 404 is
 * returned, not thrown, only where it is an answer (`notFoundIsAnswer` in urls.ts).
 */
export class EndpointClient {
  private readonly logger = new Logger('SignalRClient');
  /** Keep-alive connections to this endpoint's origin. */
  private readonly pool: Pool;
  /** A path on ServerEndpoint (rare: a reverse proxy) prefixes every call. */
  private readonly basePath: string;
  readonly signer: SignalRSigner;

  constructor(
    readonly endpoint: SignalREndpoint,
    private readonly settings: CallSettings,
    /** The connection's Microsoft Entra authentication; undefined with an AccessKey. */
    entra: EntraSigning | undefined,
    private readonly metrics?: GatewayMetrics,
    signerClock?: Clock,
  ) {
    const server = endpoint.connection.serverEndpoint;
    this.signer = new SignalRSigner(endpoint.connection, settings.tokenLifetimeSeconds, signerClock, entra);
    // Each attempt's own timer (UpstreamAttempt) bounds it from dispatch to the body's last byte, so undici's phase
    // timers are off: its body timer restarts on every byte a trickling upstream sends. undici re-sends a written
    // request only when it is idempotent (GET/HEAD) and pipelined behind a failed one; pipelining stays at its default
    // of 1, so every request on the wire is an attempt this client chose to make.
    this.pool = new Pool(server.origin, { connect: { timeout: settings.retry.attemptTimeoutMs }, headersTimeout: 0, bodyTimeout: 0 });
    this.basePath = server.pathname.replace(/\/$/, '');
  }

  get name(): string {
    return this.endpoint.name;
  }

  get type(): EndpointType {
    return this.endpoint.type;
  }

  /**
   * Azure's background health check: HEAD `/api/health` without a token, one attempt within `timeoutMs`, not counted
   * as an operation (it runs every few seconds whatever the traffic).
   */
  async probe(timeoutMs: number): Promise<ProbeFailure> {
    const call = restCalls.health();
    const outcome = await this.attempt(call, { method: call.method, path: this.basePath + call.path + call.query, headers: {} }, timeoutMs);
    if (outcome instanceof UpstreamError) return outcome.status === undefined ? outcome.failure : `HTTP ${outcome.status}`;
    return undefined;
  }

  /** 2024-12-01: one page of a group's connections. The body is checked for its shape; anything else is a transport failure. */
  async page(call: RestCall): Promise<GroupMemberPage> {
    return pageOf(call, await this.call('listGroupConnections', call));
  }

  /** 2024-12-01 `:invoke`: the client's result (`undefined` when the service answers without one). */
  async invocation(call: RestCall, payload: Payload): Promise<{ result?: unknown }> {
    const { body } = await this.call('invokeConnection', call, payload);
    const parsed = jsonOf(call, body) as { result?: unknown } | null;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw malformed(call, 'the body is not an object');
    return parsed.result === undefined ? {} : { result: parsed.result };
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  /**
   * Signs and sends, retrying what may be retried while the call's deadline allows; answers as soon as Azure's status
   * and `x-ms-error-code` are known. Anything unexpected is thrown. One span (`signalr <operation>`) covers the call,
   * each attempt is measured (GatewayMetrics) and its outcome appended to the call's `attempts`; no path, query or header is
   * recorded by either.
   */
  call(operation: string, call: RestCall, payload?: Payload | RawJson): Promise<UpstreamResult> {
    const { timeoutMs, retry: retrySettings } = this.settings;
    return inSpan(`signalr ${operation}`, { 'signalr.operation': operation, 'http.request.method': call.method }, async (span) => {
      const deadline = performance.now() + timeoutMs;
      const headers: Record<string, string> = payload ? { 'content-type': 'bytes' in payload ? payload.contentType : 'application/json; charset=utf-8' } : {};
      const request: Dispatcher.DispatchOptions = {
        method: call.method,
        path: this.basePath + call.path + call.query,
        headers,
        body: payload && bodyOf(payload),
      };
      for (let retry = 1; ; retry++) {
        // Per attempt (a cache hit, as a rule): with a short SIGNALR_TOKEN_LIFETIME_S, a token can expire between retries.
        headers['authorization'] = `Bearer ${await this.signer.restToken(call.path)}`;
        const started = performance.now();
        const outcome = await this.attempt(call, request, Math.min(retrySettings.attemptTimeoutMs, deadline - started));
        this.noteAttempt(operation, call.attempts, outcome, started);
        if (!(outcome instanceof UpstreamError)) {
          span.setAttributes({ 'http.response.status_code': outcome.status, 'signalr.retries': retry - 1 });
          return outcome;
        }
        const delayMs = backoffMs(retry, retrySettings);
        if (retry > retrySettings.maxRetries || !isRetriable(call, outcome) || performance.now() + delayMs >= deadline) {
          span.setAttributes({
            'signalr.failure': outcome.failure,
            'signalr.retries': retry - 1,
            ...(outcome.status && { 'http.response.status_code': outcome.status }),
          });
          throw this.failed(outcome);
        }
        this.metrics?.upstreamRetry(operation, outcomeOf(outcome));
        this.logger.warn(`upstream call failed${this.named}: ${outcome.message}; retry ${retry} of ${retrySettings.maxRetries} in ${Math.round(delayMs)} ms`);
        await sleep(delayMs);
      }
    });
  }

  /** An attempt begun at `started` (performance.now()) has ended: its outcome goes to the metrics and to `attempts`. */
  private noteAttempt(operation: string, attempts: Attempts, outcome: UpstreamResult | UpstreamError, started: number): void {
    const { status } = outcome;
    this.metrics?.upstreamAttempt({
      operation,
      status,
      outcome: outcome instanceof UpstreamError ? outcomeOf(outcome) : 'ok',
      seconds: (performance.now() - started) / 1000,
    });
    attempts?.push(status ?? (outcome as UpstreamError).failure);
  }

  /** One attempt within `budgetMs`: the answer, or the UpstreamError it failed with. */
  private async attempt(call: RestCall, request: Dispatcher.DispatchOptions, budgetMs: number): Promise<UpstreamResult | UpstreamError> {
    const attempt = new UpstreamAttempt(budgetMs, call.responseBody === true);
    this.pool.dispatch(request, attempt);
    let answer: Answer;
    try {
      answer = await attempt.answer;
    } catch (error) {
      if (error instanceof ResponseTooLarge) return UpstreamError.malformed(call, attempt.status ?? 200, error.message);
      return UpstreamError.fromFailure(call, error, attempt.requestWritten);
    }
    const { statusCode: status, headers, body } = answer;
    const errorCode = single(headers['x-ms-error-code']);
    if ((status >= 200 && status < 300) || (status === 404 && call.notFoundIsAnswer)) {
      const result: UpstreamResult = errorCode === undefined ? { status } : { status, errorCode };
      return body === undefined ? result : { ...result, body };
    }
    return UpstreamError.fromStatus(call, status, errorCode, single(headers['retry-after']), body && errorMessageOf(body));
  }

  /** Upstream failures are the operator's business too (a wrong AccessKey shows up only here); logged without query or headers. */
  private failed(error: UpstreamError): UpstreamError {
    this.logger.warn(`upstream call failed${this.named}: ${error.message}`);
    return error;
  }

  /** The endpoint's name in log lines when there are several (` at east`); nothing for the one of SIGNALR_CONNECTION_STRING. */
  private get named(): string {
    return this.endpoint.name === DEFAULT_ENDPOINT_NAME ? '' : ` at ${this.endpoint.name}`;
  }
}

/** The metrics' outcome of a failed attempt: `status` (Azure answered), `timeout`, `unreachable` or `transport`. */
function outcomeOf(error: UpstreamError): string {
  return error.failure;
}

function bodyOf(payload: Payload | RawJson): string | Buffer {
  if ('bytes' in payload) return payload.bytes;
  if ('json' in payload) return payload.json;
  return `{"target":${JSON.stringify(payload.target)},"arguments":${payload.argumentsJson}}`;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** A success whose body is not what the contract says: reported (502), never passed on. */
function malformed(call: RestCall, why: string): UpstreamError {
  return UpstreamError.malformed(call, 200, why);
}

function jsonOf(call: RestCall, body: Buffer | undefined): unknown {
  try {
    return JSON.parse(body?.toString('utf8') ?? '');
  } catch {
    throw malformed(call, 'the body is not JSON');
  }
}

function pageOf(call: RestCall, { body }: UpstreamResult): GroupMemberPage {
  const page = jsonOf(call, body) as { value?: unknown; nextLink?: unknown } | null;
  if (typeof page !== 'object' || page === null || !Array.isArray(page.value)) throw malformed(call, 'no value array');
  const value = page.value.map((member: unknown): GroupMember => {
    const { connectionId, userId } = (member ?? {}) as { connectionId?: unknown; userId?: unknown };
    if (typeof connectionId !== 'string' || (userId !== undefined && userId !== null && typeof userId !== 'string'))
      throw malformed(call, 'a member without a string connectionId');
    return typeof userId === 'string' ? { connectionId, userId } : { connectionId };
  });
  if (page.nextLink === undefined || page.nextLink === null) return { value };
  let continuationToken: string | null = null;
  try {
    if (typeof page.nextLink === 'string') continuationToken = new URL(page.nextLink, 'http://relative').searchParams.get('continuationToken');
  } catch {
    // reported below
  }
  if (!continuationToken) throw malformed(call, 'nextLink without a continuationToken');
  return { value, continuationToken };
}

/** `message` of Azure's ErrorDetail body, when the body is one. */
function errorMessageOf(body: Buffer): string | undefined {
  try {
    const detail = JSON.parse(body.toString('utf8')) as { message?: unknown } | null;
    return typeof detail?.message === 'string' ? detail.message : undefined;
  } catch {
    return undefined;
  }
}

/** Azure's status line and headers, and the body when the operation answers with one. */
interface Answer {
  statusCode: number;
  headers: IncomingHttpHeaders;
  body?: Buffer;
}

/** What an attempt fails with when its budget runs out (classified as `timeout`, like AbortSignal.timeout's reason). */
const deadlinePassed = (): DOMException => new DOMException('The upstream call did not finish within its deadline', 'TimeoutError');

/**
 * What an attempt fails with when the body passes MAX_RESPONSE_BYTES: a malformed answer, not a broken connection.
 * Built only then: one per attempt, with its stack, was 2.5 % of the gateway's CPU profile.
 */
class ResponseTooLarge extends Error {
  constructor() {
    super(`the response body exceeds ${MAX_RESPONSE_BYTES} bytes`);
  }
}

/**
 * One attempt as an undici dispatch handler, bounded by one timer from dispatch to the body's last byte. Without
 * `readBody` it answers as soon as the status line and headers arrive and the body is discarded as it comes; with it
 * (operations that answer with a body) it answers at the body's end, up to MAX_RESPONSE_BYTES. When the timer fires
 * before the body ends (a trickling upstream) the connection is destroyed instead of waiting. undici calls
 * onRequestStart just before it writes the request, so a failure before that proves Azure never received it.
 */
class UpstreamAttempt implements Dispatcher.DispatchHandler {
  readonly answer: Promise<Answer>;
  requestWritten = false;
  private resolve!: (answer: Answer) => void;
  private reject!: (error: unknown) => void;
  private settled = false;
  private controller?: Dispatcher.DispatchController;
  private readonly timer: NodeJS.Timeout;
  private head?: Answer;
  private readonly chunks: Buffer[] = [];
  private bytes = 0;

  constructor(
    budgetMs: number,
    private readonly readBody = false,
  ) {
    this.answer = new Promise<Answer>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    this.timer = setTimeout(() => this.expire(), budgetMs).unref();
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    // The deadline passed while undici was still connecting: it must never be written now.
    if (this.settled) return controller.abort(deadlinePassed());
    this.controller = controller;
    this.requestWritten = true;
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    if (statusCode < 200) return; // an informational response; the status is still to come
    if (this.readBody) {
      this.head = { statusCode, headers };
      return;
    }
    this.settled = true;
    this.resolve({ statusCode, headers });
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    // Without readBody, neither Azure's success bodies (ServiceResponse) nor its error bodies are used: read and
    // dropped, so the connection goes back to the pool when the body ends.
    if (!this.readBody || this.settled) return;
    this.bytes += chunk.length;
    if (this.bytes > MAX_RESPONSE_BYTES) {
      controller.abort(new ResponseTooLarge());
      return;
    }
    this.chunks.push(chunk);
  }

  /** The status of an answer whose body is being read. */
  get status(): number | undefined {
    return this.head?.statusCode;
  }

  onResponseEnd(): void {
    clearTimeout(this.timer);
    if (this.head && !this.settled) {
      this.settled = true;
      this.resolve({ ...this.head, body: Buffer.concat(this.chunks, this.bytes) });
    }
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, error: Error): void {
    clearTimeout(this.timer);
    this.fail(error);
  }

  private expire(): void {
    // Written: aborting destroys the connection, and fails the attempt through onResponseError if no status came yet.
    if (this.controller) this.controller.abort(deadlinePassed());
    else this.fail(deadlinePassed());
  }

  private fail(error: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.reject(error);
  }
}
