import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type RemoteJWKSet } from 'jose';
import { SsoConfig } from '../config/sso.config.js';
import type { SsoEndpoints } from './openapi-security.js';
import { grantsOf } from './permissions.js';
import { VerifiedTokenCache } from './verified-token-cache.js';

/** Who called, as the guard and the handlers see it. */
export interface Principal {
  /** The calling application or user: `azp`, `client_id`, `appid` or `sub`. Logged on the request line. */
  readonly caller: string;
  /** The end user (the `SSO_USER_CLAIM` claim), for user tokens. */
  readonly user?: string;
  /** Scopes and roles, hub-qualified ones with a lowercased hub. */
  readonly grants: ReadonlySet<string>;
  /** The verified claims. */
  readonly claims: Readonly<JWTPayload>;
}

/** A token that is not acceptable; `description` is safe to send back (RFC 6750 `error_description`). */
export class TokenRejected extends Error {
  override readonly name = 'TokenRejected';
  constructor(readonly description: string) { super(description); }
}

/** The issuer's discovery document or keys are not loaded yet, so no token can be verified. */
export class SsoUnavailable extends Error {
  override readonly name = 'SsoUnavailable';
}

/**
 * The longest SSO access token looked at: longer than any real one, so refusing early bounds the work an anonymous
 * caller can cause. (Not Azure SignalR's 4 KB limit on the tokens the gateway signs, see signalr/signer.ts.)
 */
const MAX_SSO_TOKEN_LENGTH = 8 * 1024;
const VERIFIED_TOKENS_KEPT = 10_000;
const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 30_000;
const FETCH_TIMEOUT_MS = 5_000;

/** A verified token's principal, and the key that signed it (a token is trusted only while its key is). */
interface Verified {
  readonly principal: Principal;
  readonly key: { readonly alg: string; readonly kid: string };
}

/**
 * Verifies SSO access tokens with jose: issuer, audience, signature (keys from the issuer's JWKS, cached, fetched again
 * on an unknown `kid` at most once per cooldown), `exp` required, `nbf`, an allow-list of asymmetric algorithms.
 * Discovery happens in the background with backoff, so the gateway starts while the issuer is down. Verified tokens
 * are remembered (by hash) until they expire, as long as the key set still holds their key.
 */
@Injectable()
export class TokenVerifier implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Sso');
  private readonly verified = new VerifiedTokenCache<Verified>(VERIFIED_TOKENS_KEPT);
  private keys?: RemoteJWKSet;
  private loading?: Promise<void>;
  private retryTimer?: NodeJS.Timeout;
  private retryDelay = RETRY_MIN_MS;
  private lastError = 'discovery not attempted yet';
  private stopped = false;
  private discovered?: SsoEndpoints;

  constructor(private readonly config: SsoConfig) {}

  onModuleInit(): void {
    void this.load();
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
  }

  /** Ready once discovery and keys are loaded; otherwise why not (never secret). */
  status(): { ready: true } | { ready: false; reason: string } {
    return this.keys ? { ready: true } : { ready: false, reason: this.lastError };
  }

  /**
   * The issuer's authorization and token endpoints, for Swagger UI's Authorize button: from discovery once loaded,
   * until then (or with SSO_JWKS_URI, which skips discovery) the conventional `{issuer}/authorize` and `{issuer}/token`.
   */
  endpoints(): SsoEndpoints {
    const issuer = this.config.issuer.replace(/\/$/, '');
    return this.discovered ?? { authorizationEndpoint: `${issuer}/authorize`, tokenEndpoint: `${issuer}/token` };
  }

  /** For readiness: resolves once discovery and keys are loaded (trying now if they are not), else says why. */
  async ready(): Promise<void> {
    await this.load();
    const status = this.status();
    if (!status.ready) throw new Error(status.reason);
  }

  /** Loads discovery and keys now unless loaded or loading; the background retry keeps going on failure. */
  load(): Promise<void> {
    if (this.keys || this.stopped) return Promise.resolve();
    this.loading ??= this.attempt().finally(() => { this.loading = undefined; });
    return this.loading;
  }

  async verify(token: string): Promise<Principal> {
    if (token.length > MAX_SSO_TOKEN_LENGTH) throw new TokenRejected(`The token is longer than ${MAX_SSO_TOKEN_LENGTH} characters.`);
    const keys = this.keys;
    if (!keys) {
      void this.load();
      throw new SsoUnavailable();
    }
    const cached = this.verified.get(token);
    try {
      if (cached === undefined) return await this.check(token, keys);
      // The key set, asked for the token's key, fetches itself again when stale and fails as verifying would once
      // the issuer has removed that key.
      await keys(cached.key);
      return cached.principal;
    } catch (error) {
      if (cached !== undefined) this.verified.delete(token);
      throw this.refusal(error);
    }
  }

  private async check(token: string, keys: RemoteJWKSet): Promise<Principal> {
    const { issuer, audience, algorithms, clockToleranceSeconds, tokenType } = this.config;
    const { payload, protectedHeader } = await jwtVerify(token, keys, {
      issuer, audience, algorithms: [...algorithms], clockTolerance: clockToleranceSeconds, requiredClaims: ['exp'], typ: tokenType,
    });
    const principal = this.principalOf(payload);
    if (protectedHeader.kid !== undefined) {
      this.verified.set(token, { principal, key: { alg: protectedHeader.alg, kid: protectedHeader.kid } }, (payload.exp! + clockToleranceSeconds) * 1000);
    }
    return principal;
  }

  private refusal(error: unknown): Error {
    if (error instanceof errors.JOSEError && !(error instanceof errors.JWKSTimeout)) return new TokenRejected(describe(error));
    // The key set could not be fetched: the issuer, not the token, is at fault.
    this.logger.warn(`JWKS fetch failed: ${error instanceof Error ? error.message : String(error)}`);
    return new SsoUnavailable();
  }

  private principalOf(claims: JWTPayload): Principal {
    const caller = [claims.azp, claims.client_id, claims.appid, claims.sub].find((value) => typeof value === 'string' && value !== '');
    const user = claims[this.config.userClaim];
    return {
      caller: String(caller ?? 'unknown').slice(0, 256),
      user: typeof user === 'string' && user !== '' ? user : undefined,
      grants: grantsOf(claims),
      claims,
    };
  }

  private async attempt(): Promise<void> {
    clearTimeout(this.retryTimer);
    try {
      const jwksUri = this.config.jwksUri ?? (await this.discover());
      const keys = createRemoteJWKSet(new URL(jwksUri), {
        timeoutDuration: FETCH_TIMEOUT_MS,
        cooldownDuration: this.config.jwksCooldownSeconds * 1000,
        cacheMaxAge: this.config.jwksMaxAgeSeconds * 1000,
      });
      await keys.reload();
      this.keys = keys;
      this.retryDelay = RETRY_MIN_MS;
      this.logger.log(`SSO ready: issuer ${this.config.issuer}, keys from ${jwksUri}`);
    } catch (error) {
      this.lastError = `SSO issuer not reachable yet: ${error instanceof Error ? error.message : String(error)}`;
      this.logger.warn(`${this.lastError}; retrying in ${this.retryDelay} ms`);
      if (!this.stopped) this.retryTimer = setTimeout(() => void this.load(), this.retryDelay).unref();
      this.retryDelay = Math.min(this.retryDelay * 2, RETRY_MAX_MS);
    }
  }

  private async discover(): Promise<string> {
    const issuer = this.config.issuer.replace(/\/$/, '');
    const response = await fetch(`${issuer}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), redirect: 'error' });
    if (!response.ok) throw new Error(`discovery answered ${response.status}`);
    const discovery = (await response.json()) as { issuer?: unknown; jwks_uri?: unknown; authorization_endpoint?: unknown; token_endpoint?: unknown };
    // OpenID Connect Discovery 1.0 §4.3: the document must name exactly the issuer we asked.
    if (discovery.issuer !== this.config.issuer) throw new Error('discovery names another issuer');
    if (typeof discovery.jwks_uri !== 'string') throw new Error('discovery has no jwks_uri');
    if (typeof discovery.authorization_endpoint === 'string' && typeof discovery.token_endpoint === 'string') {
      this.discovered = { authorizationEndpoint: discovery.authorization_endpoint, tokenEndpoint: discovery.token_endpoint };
    }
    return discovery.jwks_uri;
  }
}

/** Error descriptions of our own wording: quote-free (RFC 6750 syntax) and never echoing token content. */
function describe(error: InstanceType<typeof errors.JOSEError>): string {
  if (error instanceof errors.JWTExpired) return 'The token has expired.';
  if (error instanceof errors.JWTClaimValidationFailed) {
    const claim = /^[a-z]{1,16}$/i.test(error.claim) ? error.claim : 'a';
    return `The token's ${claim} claim is missing or not acceptable.`;
  }
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) return 'The token\'s signing algorithm is not accepted.';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'The token\'s signature is invalid.';
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) return 'The token is not signed by a current key of the issuer.';
  return 'The token is not a well-formed signed JWT.';
}
