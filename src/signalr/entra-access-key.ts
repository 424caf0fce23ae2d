import { Logger } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeFailure, EntraAuthError, type EntraTokens, type FetchListener } from './entra-token.js';
import type { Clock, SigningKey } from './signer.js';

/**
 * Where Azure's SDK fetches the temporary key (every release so far; the 2023-07-01 and later contracts document the
 * same operation as `/api/auth/accessKey?api-version=…`): docs/azure-compatibility.md#microsoft-entra-id.
 */
export const ACCESS_KEY_PATH = '/api/v1/auth/accessKey';

/** Azure's SDK's timing (AccessKeySynchronizer, MicrosoftEntraAccessKey): a check every minute, ... */
export const ACCESS_KEY_TIMING = {
  checkEveryMs: 60_000,
  /** ... a valid key is renewed once it is this old (and at every check after that until it is), ... */
  refreshAfterMs: 55 * 60_000,
  /** ... without a valid key, a fetch at most this often, ... */
  retryWithoutKeyMs: 5 * 60_000,
  /** ... each fetch up to 3 attempts 3 s apart, ... */
  attempts: 3,
  attemptDelayMs: 3_000,
  /** ... and a key not renewed for this long is not used any more (Azure's newer SDK waits 120 minutes). */
  expiresAfterMs: 110 * 60_000,
} as const;

/** The answer is two short strings; anything longer is not one, and is not read further. */
const MAX_ANSWER_BYTES = 64 * 1024;

export interface EntraAccessKeyOptions {
  /** `{ServerEndpoint or Endpoint}/api/v1/auth/accessKey`. */
  url: string;
  tokens: EntraTokens;
  /** One attempt's deadline. */
  timeoutMs: number;
  onFetch?: FetchListener;
  now?: Clock;
  /** Waits between attempts; injectable so tests need not wait. */
  sleep?: (ms: number) => Promise<void>;
}

/** A key fetched from the service, and when. */
interface FetchedKey {
  signing: SigningKey;
  fetchedAt: number;
}

/**
 * The temporary access key Azure SignalR hands an Entra-authenticated app server (`GET /api/v1/auth/accessKey` with
 * the Entra bearer, answered `{ "KeyId", "AccessKey" }`): client tokens are signed HS256 with its UTF-8 bytes and
 * `kid` = KeyId. Fetched at start and kept fresh in the background with Azure's SDK's timing (ACCESS_KEY_TIMING);
 * the timer is unref'd and stopped at shutdown.
 */
export class EntraAccessKey {
  private readonly logger = new Logger(EntraAccessKey.name);
  #key?: FetchedKey;
  /** When the last fetch without a valid key to show for it ended. */
  #failedAt?: number;
  #lastFailure = 'the service was not asked yet';
  #fetching?: Promise<void>;
  #timer?: NodeJS.Timeout;
  #stopped = false;
  private readonly now: Clock;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: EntraAccessKeyOptions) {
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => sleep(ms));
  }

  /** The first fetch now, then a check every minute. */
  start(): void {
    void this.check();
    this.#timer = setInterval(() => void this.check(), ACCESS_KEY_TIMING.checkEveryMs).unref();
  }

  stop(): void {
    this.#stopped = true;
    clearInterval(this.#timer);
  }

  /**
   * One check: fetches when the key is due (ACCESS_KEY_TIMING), at most one fetch at a time. Resolves when that fetch
   * has ended (never rejects: a failure is kept for signingKey and readiness to report).
   */
  check(): Promise<void> {
    if (this.#fetching || this.#stopped || !this.due(this.now())) return this.#fetching ?? Promise.resolve();
    this.#fetching = this.fetchWithRetries().finally(() => {
      this.#fetching = undefined;
    });
    return this.#fetching;
  }

  /** The key to sign client tokens with. Before the first key, waits for a fetch under way; without a valid key, EntraAuthError. */
  async signingKey(): Promise<SigningKey> {
    if (!this.valid() && this.#fetching) await this.#fetching;
    if (this.valid()) return this.#key!.signing;
    throw new EntraAuthError(
      'access-key',
      this.#key
        ? `The temporary access key of Azure SignalR expired: no successful refresh for ${ACCESS_KEY_TIMING.expiresAfterMs / 60_000} minutes (${this.#lastFailure})`
        : `No temporary access key from Azure SignalR (${this.#lastFailure})`,
    );
  }

  private valid(now = this.now()): boolean {
    return this.#key !== undefined && now - this.#key.fetchedAt < ACCESS_KEY_TIMING.expiresAfterMs;
  }

  private due(now: number): boolean {
    if (this.valid(now)) return now - this.#key!.fetchedAt >= ACCESS_KEY_TIMING.refreshAfterMs;
    return this.#failedAt === undefined || now - this.#failedAt >= ACCESS_KEY_TIMING.retryWithoutKeyMs;
  }

  private async fetchWithRetries(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.fetchOnce();
        this.#failedAt = undefined;
        return;
      } catch (error) {
        this.options.onFetch?.('access-key', 'failure');
        // An EntraAuthError's message is already the gateway's own (the Entra token failed); anything else is described.
        this.#lastFailure = error instanceof EntraAuthError ? error.message : `GET ${ACCESS_KEY_PATH}: ${describeFailure(error, [])}`;
        if (attempt >= ACCESS_KEY_TIMING.attempts || this.#stopped) break;
        await this.sleep(ACCESS_KEY_TIMING.attemptDelayMs);
      }
    }
    if (!this.valid()) this.#failedAt = this.now();
    this.logger.warn(`Azure SignalR access key not ${this.#key ? 'refreshed' : 'obtained'} after ${ACCESS_KEY_TIMING.attempts} attempts: ${this.#lastFailure}`);
  }

  private async fetchOnce(): Promise<void> {
    const bearer = await this.options.tokens.token();
    const response = await fetch(this.options.url, {
      headers: { authorization: `Bearer ${bearer}`, accept: 'application/json' },
      signal: AbortSignal.timeout(this.options.timeoutMs),
    });
    if (!response.ok) {
      await response.body?.cancel();
      throw new Error(
        `HTTP ${response.status}${response.status === 401 || response.status === 403 ? ' (the identity may lack the SignalR App Server or SignalR Service Owner role)' : ''}`,
      );
    }
    const { KeyId: kid, AccessKey: accessKey } = jsonObject(await boundedText(response));
    if (typeof kid !== 'string' || !kid || typeof accessKey !== 'string' || !accessKey) throw new Error('the answer has no KeyId and AccessKey strings');
    const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(accessKey), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    const first = this.#key === undefined;
    this.#key = { signing: { key, kid }, fetchedAt: this.now() };
    this.options.onFetch?.('access-key', 'success');
    if (first) this.logger.log(`Azure SignalR access key obtained (KeyId ${kid}); client tokens are signed with it`);
  }
}

/** The body's text, refused past MAX_ANSWER_BYTES (the rest is not read). */
async function boundedText(response: Response): Promise<string> {
  const reader = response.body?.getReader();
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  for (;;) {
    const read = await reader?.read();
    if (!read || read.done) return Buffer.concat(chunks).toString('utf8');
    bytes += read.value.length;
    if (bytes > MAX_ANSWER_BYTES) {
      await reader!.cancel();
      throw new Error(`the answer exceeds ${MAX_ANSWER_BYTES} bytes`);
    }
    chunks.push(read.value);
  }
}

/** The answer's fields; a parse error's message is not kept (newer Node versions quote the text). */
function jsonObject(text: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error('the answer is not JSON');
  }
  return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
}
