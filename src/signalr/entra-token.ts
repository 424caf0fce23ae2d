import type { AccessToken, TokenCredential } from '@azure/identity';
import type { Clock } from './signer.js';

/** The scope of Azure SignalR's data plane: what every Entra token the gateway asks for is for. */
export const SIGNALR_SCOPE = 'https://signalr.azure.com/.default';
/** Azure's SDK asks its credential up to this many times before it gives up on a token. */
const TOKEN_ATTEMPTS = 3;
/** Without the credential's own refresh hint, a token is renewed this long before it expires. */
const REFRESH_BEFORE_EXPIRY_MS = 5 * 60_000;
/** A token this close to its expiry is not handed out any more: it could expire on the way to Azure. */
const EXPIRY_MARGIN_MS = 30_000;
/** After a failure, callers get the same failure for this long instead of a new request each: a busy gateway must not flood Entra. */
const FAILURE_HOLD_MS = 5_000;

/** What part of Microsoft Entra ID authentication failed: the Entra token, or the service's temporary access key. */
export type EntraFailure = 'token' | 'access-key';

/**
 * The gateway could not authenticate to Azure SignalR with Microsoft Entra ID, so nothing was sent upstream. The
 * message says which credential failed and why in @azure/identity's or the service's words, first line only, with
 * the connection string's secret removed; the HTTP side answers 503 (src/modules/shared/upstream-problems.ts).
 */
export class EntraAuthError extends Error {
  override readonly name = 'EntraAuthError';

  constructor(
    readonly failure: EntraFailure,
    message: string,
  ) {
    super(message);
  }
}

/** Reports each request for a token or a key: the metrics count them by outcome. */
export type FetchListener = (failure: EntraFailure, outcome: 'success' | 'failure') => void;

/**
 * The first line of what a credential or fetch failed with, at most 300 characters, with every `secrets` value
 * replaced: @azure/identity's messages carry the authority's error text, which is not ours to trust.
 */
export function describeFailure(error: unknown, secrets: readonly string[]): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  const why = cause?.code ?? cause?.message;
  const text = (error instanceof Error ? `${error.name}: ${error.message}` : String(error)) + (typeof why === 'string' ? ` (${why})` : '');
  let line = text.split('\n', 1)[0].slice(0, 300);
  for (const secret of secrets) if (secret) line = line.replaceAll(secret, '[redacted]');
  return line;
}

/**
 * Microsoft Entra access tokens for Azure SignalR (scope SIGNALR_SCOPE) from one credential, the bearer of every REST
 * call of an `AuthType` connection. The token is kept until the credential's `refreshAfterTimestamp` (else 5 minutes
 * before it expires) and renewed then in the background while it is still handed out; one request at a time,
 * whoever asks. Each request asks the credential up to 3 times, as Azure's SDK does.
 */
export class EntraTokens {
  #token?: AccessToken;
  #refreshing?: Promise<AccessToken>;
  #failure?: { error: EntraAuthError; until: number };

  constructor(
    private readonly credential: TokenCredential,
    /** Names the credential in messages: `ClientSecretCredential`, ... */
    private readonly credentialName: string,
    /** Values to keep out of messages (the connection string's ClientSecret). */
    private readonly secrets: readonly string[],
    /** One request's deadline. */
    private readonly timeoutMs: number,
    private readonly onFetch: FetchListener = () => undefined,
    private readonly now: Clock = Date.now,
  ) {}

  /** A token to send as `Authorization: Bearer`, or EntraAuthError when none can be had. */
  async token(): Promise<string> {
    const now = this.now();
    const token = this.#token;
    const holding = this.#failure !== undefined && now < this.#failure.until && !this.#refreshing;
    if (token && now < token.expiresOnTimestamp - EXPIRY_MARGIN_MS) {
      if (now >= refreshAt(token) && !holding) void this.refresh().catch(() => undefined); // the failure is kept for the next caller
      return token.token;
    }
    if (holding) throw this.#failure!.error;
    return (await this.refresh()).token;
  }

  private refresh(): Promise<AccessToken> {
    this.#refreshing ??= this.request().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  private async request(): Promise<AccessToken> {
    let last: unknown;
    for (let attempt = 1; attempt <= TOKEN_ATTEMPTS; attempt++) {
      try {
        const token = await this.credential.getToken(SIGNALR_SCOPE, { abortSignal: AbortSignal.timeout(this.timeoutMs) });
        if (token === null) throw new Error('the credential returned no token');
        this.onFetch('token', 'success');
        this.#token = token;
        this.#failure = undefined;
        return token;
      } catch (error) {
        this.onFetch('token', 'failure');
        last = error;
      }
    }
    const error = new EntraAuthError(
      'token',
      `No Microsoft Entra token for Azure SignalR from ${this.credentialName} after ${TOKEN_ATTEMPTS} attempts: ${describeFailure(last, this.secrets)}`,
    );
    this.#failure = { error, until: this.now() + FAILURE_HOLD_MS };
    throw error;
  }
}

function refreshAt({ refreshAfterTimestamp, expiresOnTimestamp }: AccessToken): number {
  return refreshAfterTimestamp ?? expiresOnTimestamp - REFRESH_BEFORE_EXPIRY_MS;
}
