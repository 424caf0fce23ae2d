import { Injectable, Logger, Optional } from '@nestjs/common';
import { errors, jwtVerify, type JWTPayload, type RemoteJWKSet } from 'jose';
import { SsoConfig } from '../config/sso.config.js';
import { GatewayMetrics } from '../observability/metrics.js';
import { grantsOf } from './permissions.js';
import { SsoKeySet, SsoUnavailable } from './sso-key-set.js';
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
  constructor(
    readonly description: string,
    /** One fixed word for the metrics: `expired`, `claim`, `algorithm`, `signature`, `unknown_key`, `malformed`, `too_long`. */
    readonly reason = 'malformed',
  ) {
    super(description);
  }
}

/**
 * The longest SSO access token looked at: longer than any real one, so refusing early bounds the work an anonymous
 * caller can cause. (Not Azure SignalR's 4 KB limit on the tokens the gateway signs, see signalr/signer.ts.)
 */
const MAX_SSO_TOKEN_LENGTH = 8 * 1024;
const VERIFIED_TOKENS_KEPT = 10_000;

/** A verified token's principal, and the key that signed it (a token is trusted only while its key is). */
interface Verified {
  readonly principal: Principal;
  readonly key: { readonly alg: string; readonly kid: string };
}

/**
 * Verifies SSO access tokens with jose: issuer, audience, signature (with the issuer's key set), `exp` required,
 * `nbf`, an allow-list of asymmetric algorithms, and `typ` when SSO_TOKEN_TYPE is set. Verified tokens are remembered
 * until they expire, as long as the key set still holds their key.
 */
@Injectable()
export class TokenVerifier {
  private readonly logger = new Logger(TokenVerifier.name);
  private readonly verified = new VerifiedTokenCache<Verified>(VERIFIED_TOKENS_KEPT);

  constructor(
    private readonly config: SsoConfig,
    private readonly keySet: SsoKeySet,
    @Optional() private readonly metrics?: GatewayMetrics,
  ) {}

  /** Verifies, and counts the outcome by reason (GatewayMetrics' `sso_verifications_total`). */
  async verify(token: string): Promise<Principal> {
    try {
      const { principal, reason } = await this.verifyOnce(token);
      this.metrics?.ssoVerification('accepted', reason);
      return principal;
    } catch (error) {
      if (error instanceof TokenRejected) this.metrics?.ssoVerification('rejected', error.reason);
      else if (error instanceof SsoUnavailable) this.metrics?.ssoVerification('unavailable', 'jwks');
      throw error;
    }
  }

  private async verifyOnce(token: string): Promise<{ principal: Principal; reason: 'verified' | 'cached' }> {
    if (token.length > MAX_SSO_TOKEN_LENGTH) throw new TokenRejected(`The token is longer than ${MAX_SSO_TOKEN_LENGTH} characters.`, 'too_long');
    const keys = this.keySet.resolver();
    const cached = this.verified.get(token);
    try {
      if (cached === undefined) return { principal: await this.check(token, keys), reason: 'verified' };
      // The key set, asked for the token's key, fetches itself again when stale and fails as verifying would once
      // the issuer has removed that key.
      await keys(cached.key);
      return { principal: cached.principal, reason: 'cached' };
    } catch (error) {
      if (cached !== undefined) this.verified.delete(token);
      throw this.refusal(error);
    }
  }

  private async check(token: string, keys: RemoteJWKSet): Promise<Principal> {
    const { issuer, audience, algorithms, clockToleranceSeconds, tokenType } = this.config;
    const { payload, protectedHeader } = await jwtVerify(token, keys, {
      issuer,
      audience,
      algorithms: [...algorithms],
      clockTolerance: clockToleranceSeconds,
      requiredClaims: ['exp'],
      typ: tokenType,
    });
    const principal = this.principalOf(payload);
    if (protectedHeader.kid !== undefined) {
      this.verified.set(token, { principal, key: { alg: protectedHeader.alg, kid: protectedHeader.kid } }, (payload.exp! + clockToleranceSeconds) * 1000);
    }
    return principal;
  }

  private refusal(error: unknown): Error {
    if (error instanceof errors.JOSEError && !(error instanceof errors.JWKSTimeout)) return new TokenRejected(describe(error), reasonOf(error));
    // The key set could not be fetched: the issuer, not the token, is at fault.
    this.logger.warn(`JWKS fetch failed: ${error instanceof Error ? error.message : String(error)}`);
    return new SsoUnavailable();
  }

  private principalOf(claims: JWTPayload): Principal {
    const caller = [claims.azp, claims.client_id, claims.appid, claims.sub].find((value): value is string => typeof value === 'string' && value !== '');
    const user = claims[this.config.userClaim];
    return {
      caller: String(caller ?? 'unknown').slice(0, 256),
      user: typeof user === 'string' && user !== '' ? user : undefined,
      grants: grantsOf(claims),
      claims,
    };
  }
}

/** The metrics' reason for a refusal, in the same classes as `describe`. */
function reasonOf(error: InstanceType<typeof errors.JOSEError>): string {
  if (error instanceof errors.JWTExpired) return 'expired';
  if (error instanceof errors.JWTClaimValidationFailed) return 'claim';
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) return 'algorithm';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'signature';
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) return 'unknown_key';
  return 'malformed';
}

/** Error descriptions of our own wording: quote-free (RFC 6750 syntax) and never echoing token content. */
function describe(error: InstanceType<typeof errors.JOSEError>): string {
  if (error instanceof errors.JWTExpired) return 'The token has expired.';
  if (error instanceof errors.JWTClaimValidationFailed) {
    const claim = /^[a-z]{1,16}$/i.test(error.claim) ? error.claim : 'a';
    return `The token's ${claim} claim is missing or not acceptable.`;
  }
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) return "The token's signing algorithm is not accepted.";
  if (error instanceof errors.JWSSignatureVerificationFailed) return "The token's signature is invalid.";
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys)
    return 'The token is not signed by a current key of the issuer.';
  return 'The token is not a well-formed signed JWT.';
}
