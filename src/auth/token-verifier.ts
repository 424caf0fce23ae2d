import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { createRemoteJWKSet, errors, jwksCache, jwtVerify, type JWKSCacheInput, type JWTPayload, type RemoteJWKSet } from 'jose';
import { createHash } from 'node:crypto';
import { SsoConfig } from '../config/sso.config.js';
import type { SsoEndpoints } from './openapi-security.js';
import { grantsOf } from './permissions.js';

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

/** Longer than any real access token; refusing early bounds the work an anonymous caller can cause. */
export const MAX_TOKEN_LENGTH = 8 * 1024;
const CACHE_SIZE = 10_000;
const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 30_000;
const FETCH_TIMEOUT_MS = 5_000;

interface CachedPrincipal {
  principal: Principal;
  expiresAt: number;
  kid: string;
}

/**
 * Verifies SSO access tokens with jose: issuer, audience, signature (keys from the issuer's JWKS, cached, fetched again
 * on an unknown `kid` at most once per cooldown), `exp` required, `nbf`, an allow-list of asymmetric algorithms.
 * Discovery happens in the background with backoff, so the gateway starts while the issuer is down. Verified tokens
 * are remembered (by hash) until they expire, as long as their key is still in a fresh key set.
 */
@Injectable()
export class TokenVerifier implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(TokenVerifier.name);
  private readonly verified = new Map<string, CachedPrincipal>();
  private readonly keyCache: JWKSCacheInput = {};
  private keys?: RemoteJWKSet;
  private loading?: Promise<void>;
  private retryTimer?: NodeJS.Timeout;
  private retryDelay = RETRY_MIN_MS;
  private lastError = 'discovery not attempted yet';
  private kids: { uat?: number; set: ReadonlySet<string> } = { set: new Set() };
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
    if (token.length > MAX_TOKEN_LENGTH) throw new TokenRejected(`The token is longer than ${MAX_TOKEN_LENGTH} characters.`);
    const keys = this.keys;
    if (!keys) {
      void this.load();
      throw new SsoUnavailable();
    }
    const hash = createHash('sha256').update(token).digest('base64url');
    const cached = this.verified.get(hash);
    if (cached && cached.expiresAt > Date.now() && keys.fresh && this.currentKids().has(cached.kid)) {
      this.verified.delete(hash);
      this.verified.set(hash, cached);
      return cached.principal;
    }
    this.verified.delete(hash);
    const { payload, protectedHeader } = await this.check(token, keys);
    const principal = this.principalOf(payload);
    if (protectedHeader.kid !== undefined) this.remember(hash, principal, payload.exp!, protectedHeader.kid);
    return principal;
  }

  private async check(token: string, keys: RemoteJWKSet) {
    const { issuer, audience, algorithms, clockToleranceSeconds, tokenType } = this.config;
    try {
      return await jwtVerify(token, keys, {
        issuer, audience, algorithms: [...algorithms], clockTolerance: clockToleranceSeconds, requiredClaims: ['exp'], typ: tokenType,
      });
    } catch (error) {
      if (error instanceof errors.JOSEError && !(error instanceof errors.JWKSTimeout)) throw new TokenRejected(describe(error));
      // The key set could not be fetched: the issuer, not the token, is at fault.
      this.logger.warn(`JWKS fetch failed: ${error instanceof Error ? error.message : String(error)}`);
      throw new SsoUnavailable();
    }
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

  private remember(hash: string, principal: Principal, exp: number, kid: string): void {
    if (this.verified.size >= CACHE_SIZE) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(hash, { principal, expiresAt: (exp + this.config.clockToleranceSeconds) * 1000, kid });
  }

  /** The `kid`s of the key set as last fetched, recomputed only when jose fetched it again. */
  private currentKids(): ReadonlySet<string> {
    const { uat, jwks } = this.keyCache as { uat?: number; jwks?: { keys: { kid?: string }[] } };
    if (uat !== this.kids.uat) this.kids = { uat, set: new Set(jwks?.keys.map((key) => key.kid).filter((kid) => kid !== undefined)) };
    return this.kids.set;
  }

  private async attempt(): Promise<void> {
    clearTimeout(this.retryTimer);
    try {
      const jwksUri = this.config.jwksUri ?? (await this.discover());
      const keys = createRemoteJWKSet(new URL(jwksUri), {
        timeoutDuration: FETCH_TIMEOUT_MS,
        cooldownDuration: this.config.jwksCooldownSeconds * 1000,
        cacheMaxAge: this.config.jwksMaxAgeSeconds * 1000,
        [jwksCache]: this.keyCache,
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
