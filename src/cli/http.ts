import { CliError, ExitCode } from './exit-codes.js';

export interface HttpOptions {
  /** Who answers, for error messages: "the gateway", "the SSO issuer". */
  peer: string;
  timeoutMs: number;
  /** Called with one line per request when --verbose; never given a token. */
  trace?: (line: string) => void;
}

/**
 * `fetch` for one peer, with a timeout, where a peer that cannot be reached or does not answer becomes one readable
 * line (exit code 4) instead of "fetch failed".
 */
export function peerFetch({ peer, timeoutMs, trace }: HttpOptions): (request: Request) => Promise<Response> {
  return async (request) => {
    const url = new URL(request.url);
    try {
      const response = await fetch(request, { signal: AbortSignal.timeout(timeoutMs) });
      trace?.(`${request.method} ${url.origin}${url.pathname}${url.search} -> ${response.status}${requestIdOf(response)}`);
      return response;
    } catch (error) {
      trace?.(`${request.method} ${url.origin}${url.pathname} failed: ${String(error)}`);
      if (error instanceof DOMException && error.name === 'TimeoutError') {
        throw new CliError(ExitCode.UpstreamFailure, `${peer} at ${url.origin} did not answer within ${timeoutMs / 1000} s`, { cause: error });
      }
      throw new CliError(ExitCode.UpstreamFailure, `cannot reach ${peer} at ${url.origin} (${networkReason(error)})`, { cause: error });
    }
  };
}

/** One request through peerFetch, for the calls that are not the gateway's API (the SSO's). */
export function send(url: URL, init: RequestInit, options: HttpOptions): Promise<Response> {
  return peerFetch(options)(new Request(url, init));
}

/** Reads a JSON body, or undefined when there is none or it is not JSON. */
export async function jsonBody(response: Response): Promise<unknown> {
  const text = await response.text();
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function requestIdOf(response: Response): string {
  const id = response.headers.get('x-request-id');
  return id ? ` (request id ${id})` : '';
}

/** `ECONNREFUSED`, `ENOTFOUND`, ...: the code fetch hides in `cause`; else the innermost message ("bad port"). */
function networkReason(error: unknown): string {
  let current: unknown = error;
  let message = String(error);
  while (current instanceof Error) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    message = current.message;
    current = current.cause;
  }
  return message;
}
