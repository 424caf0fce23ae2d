import { SignJWT, type JWTPayload } from 'jose';
import { addressedHub } from '../common/names.js';
import type { SignalRConnection } from '../config/connection-string.js';

/** Milliseconds since the epoch; injectable so tests can sign golden tokens. */
export type Clock = () => number;

/** Azure caps REST tokens at an hour in its SDK; a longer configured lifetime applies to client tokens only. */
export const REST_TOKEN_MAX_LIFETIME_S = 3600;
/** Azure's SDKs refuse longer tokens (docs/azure-compatibility.md#token-size). */
export const MAX_SIGNALR_TOKEN_LENGTH = 4096;
/** Bounds the REST token cache: audiences carry user, group and connection ids, so they are unbounded. */
const REST_CACHE_SIZE = 10_000;

/**
 * Claim names Azure reserves (its SDK's system claims), `nameid` (set here), and the long .NET ClaimTypes of the three
 * that JWT handlers map (`actort`, `acr`, `nameid`), lowercased: the service looks claims up case-insensitively
 * (ClaimsIdentity.FindFirst), so `NameID` or the long NameIdentifier would pass for the user. Custom claims with any
 * of these names, in any case, get `asrs.u.`.
 */
const RESERVED_CLAIMS = new Set([
  'aud',
  'exp',
  'iat',
  'nbf',
  'iss',
  'actort',
  'acr',
  'azp',
  'c_hash',
  'jti',
  'nonce',
  'nameid',
  'http://schemas.xmlsoap.org/ws/2009/09/identity/claims/actor',
  'http://schemas.microsoft.com/claims/authnclassreference',
  'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier',
]);

export interface ClientTokenOptions {
  hub: string;
  /** Azure's application prefix: the client hub becomes `{application}_{hub}`, both lowercased. */
  application?: string;
  /** Becomes `asrs.s.uid` (what the Management SDK sends) and `nameid` (what older SDKs send). */
  userId?: string;
  /** Defaults to SIGNALR_TOKEN_LIFETIME_S. */
  lifetimeSeconds?: number;
  /** Extra claims the hub sees on `Context.User`; repeated claim types are arrays. */
  claims?: Readonly<Record<string, string | readonly string[]>>;
}

/**
 * A token over Azure's 4 KB limit, which Azure would refuse: a client token with too many or too long claims, or a
 * REST token whose audience (the escaped path) is too long (the HTTP side answers 413: src/modules/shared/upstream-problems.ts).
 */
export class TokenTooLongError extends Error {
  override readonly name = 'TokenTooLongError';

  constructor(
    readonly length: number,
    remedy: string,
  ) {
    super(`The access token would be ${length} characters, over Azure SignalR's ${MAX_SIGNALR_TOKEN_LENGTH}-character limit; ${remedy}.`);
  }
}

/** An HMAC-SHA256 key to sign with, and the `kid` to name it by (the service's KeyId of a temporary Entra key). */
export interface SigningKey {
  key: CryptoKey;
  kid?: string;
}

/**
 * What a Microsoft Entra connection signs with (src/signalr/entra-auth.ts): REST calls carry its Entra token instead of
 * a signed JWT, client tokens are signed with the service's temporary access key.
 */
export interface EntraSigning {
  restBearer(): Promise<string>;
  clientKey(): Promise<SigningKey>;
}

interface CachedToken {
  token: string;
  refreshAt: number;
}

/**
 * Signs the HS256 JWTs Azure SignalR accepts with an AccessKey (docs/azure-compatibility.md#rest-tokens, #client-tokens): REST tokens, whose `aud` is the
 * request path on the Endpoint's host, and client tokens for negotiate. The key is the AccessKey's UTF-8 bytes.
 * A Microsoft Entra connection (`entra`) sends its Entra token as the REST bearer and signs client tokens with the
 * service's temporary key (docs/azure-compatibility.md#microsoft-entra-id).
 */
export class SignalRSigner {
  readonly #keyBytes?: Uint8Array<ArrayBuffer>;
  /** Imported once, on first use: WebCrypto signs about a third faster with a CryptoKey than with raw bytes. */
  #key?: Promise<SigningKey>;
  readonly #restTokens = new Map<string, CachedToken>();
  /** `scheme://host` of Endpoint: no port and never ServerEndpoint's or ClientEndpoint's host, as Azure checks it. */
  readonly #audienceBase: string;
  readonly #clientBase: string;
  readonly #lifetimeSeconds: number;

  /** One signer per endpoint (SignalRClient makes them): its connection string, SIGNALR_TOKEN_LIFETIME_S. */
  constructor(
    connection: SignalRConnection,
    lifetimeSeconds: number,
    private readonly now: Clock = Date.now,
    private readonly entra?: EntraSigning,
  ) {
    const { endpoint, clientEndpoint, accessKey } = connection;
    if (!accessKey && !entra) throw new Error('A Microsoft Entra connection needs its EntraSigning (UpstreamCredentials.entraOf).');
    this.#keyBytes = accessKey && new TextEncoder().encode(accessKey.reveal());
    this.#audienceBase = `${endpoint.protocol}//${endpoint.hostname}`;
    this.#clientBase = baseOf(clientEndpoint);
    this.#lifetimeSeconds = lifetimeSeconds;
  }

  /**
   * The bearer token for a REST call to `path` (`/api/...`, escaped as sent, no query). Tokens are cached per
   * audience and renewed once three quarters of their lifetime have passed, so a hot path signs rarely.
   * Throws TokenTooLongError rather than send a token Azure would refuse.
   */
  async restToken(path: string): Promise<string> {
    if (this.entra) return this.entra.restBearer();
    const audience = this.#audienceBase + path;
    const now = this.now();
    const cached = this.#restTokens.get(audience);
    if (cached && now < cached.refreshAt) return cached.token;

    const lifetime = Math.min(this.#lifetimeSeconds, REST_TOKEN_MAX_LIFETIME_S);
    const token = await this.sign({}, audience, now, lifetime);
    // Valid ids can do it: 1,024 characters escaped take up to 12 times as many in the audience.
    if (token.length > MAX_SIGNALR_TOKEN_LENGTH) throw new TokenTooLongError(token.length, 'its audience is the escaped request path, so use shorter names');
    if (!cached && this.#restTokens.size >= REST_CACHE_SIZE) this.#restTokens.delete(this.#restTokens.keys().next().value!);
    this.#restTokens.set(audience, { token, refreshAt: now + lifetime * 750 });
    return token;
  }

  /** Where a SignalR client connects: `{ClientEndpoint or Endpoint with Port}/client/?hub={hub}` (the hub is not escaped, as in the SDK). */
  clientUrl(hub: string, application?: string): string {
    return `${this.#clientBase}/client/?hub=${addressedHub(hub, application)}`;
  }

  /** A client token for negotiate; throws TokenTooLongError rather than hand out a token Azure would refuse. */
  async signClientToken({ hub, application, userId, lifetimeSeconds = this.#lifetimeSeconds, claims = {} }: ClientTokenOptions): Promise<string> {
    const payload: JWTPayload = userId === undefined ? {} : { 'asrs.s.uid': userId, nameid: userId };
    for (const [name, value] of Object.entries(claims)) payload[isReserved(name) ? `asrs.u.${name}` : name] = value;
    const key = this.entra ? await this.entra.clientKey() : undefined;
    const token = await this.sign(payload, `${this.#audienceBase}/client/?hub=${addressedHub(hub, application)}`, this.now(), lifetimeSeconds, key);
    if (token.length > MAX_SIGNALR_TOKEN_LENGTH) throw new TokenTooLongError(token.length, 'send fewer or shorter claims');
    return token;
  }

  /** Signs with `signing`, or else the AccessKey. */
  private async sign(claims: JWTPayload, audience: string, nowMs: number, lifetimeSeconds: number, signing?: SigningKey): Promise<string> {
    const { key, kid } = signing ?? (await this.ownKey());
    const iat = Math.floor(nowMs / 1000);
    return new SignJWT({ ...claims, aud: audience, iat, nbf: iat, exp: iat + lifetimeSeconds })
      .setProtectedHeader(kid === undefined ? { alg: 'HS256', typ: 'JWT' } : { alg: 'HS256', typ: 'JWT', kid })
      .sign(key);
  }

  private ownKey(): Promise<SigningKey> {
    this.#key ??= crypto.subtle.importKey('raw', this.#keyBytes!, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']).then((key) => ({ key }));
    return this.#key;
  }
}

/** An endpoint as a base to append `/api/...` or `/client/...` to: origin (port included) and path, no trailing slash. */
export function baseOf(url: URL): string {
  return url.origin + url.pathname.replace(/\/$/, '');
}

function isReserved(name: string): boolean {
  const lower = name.toLowerCase();
  return RESERVED_CLAIMS.has(lower) || lower.startsWith('asrs.');
}
