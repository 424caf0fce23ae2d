import { IsIn, IsNotEmpty, IsOptional, IsString, IsUrl } from 'class-validator';
import { CommaSeparated, IntegerFrom, validateEnv, type Env } from './validate-env.js';

/** Asymmetric signature algorithms only: HS* would let anyone holding the issuer's public key forge tokens. */
export const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const;

const URL_RULE = { require_tld: false, require_protocol: true, protocols: ['http', 'https'] };

class SsoEnv {
  /** The company OpenID issuer; its discovery document is `{issuer}/.well-known/openid-configuration`. */
  @IsUrl(URL_RULE, { message: 'must be the http or https URL of the company OpenID issuer' })
  SSO_ISSUER: string;

  /** The `aud` every access token must carry: this gateway's identifier at the issuer. */
  @IsString({ message: "is required when SSO_ISSUER is set (the gateway's identifier at the issuer, the tokens' aud)" })
  SSO_AUDIENCE: string;

  /** Overrides the discovery document's `jwks_uri`. */
  @IsOptional()
  @IsUrl(URL_RULE, { message: 'must be an http or https URL' })
  SSO_JWKS_URI?: string;

  @CommaSeparated()
  @IsIn(ASYMMETRIC_ALGORITHMS, { each: true, message: `accepts only ${ASYMMETRIC_ALGORITHMS.join(', ')} (never HS* or none)` })
  @IsNotEmpty()
  SSO_ALGORITHMS: string[] = ['RS256', 'PS256', 'ES256', 'EdDSA'];

  @IntegerFrom(0, 300)
  SSO_CLOCK_TOLERANCE_S = 30;

  /** The claim naming the end user in a user token (negotiate's user id). */
  @IsString()
  SSO_USER_CLAIM = 'sub';

  /** When set, the token's `typ` header must be this value, e.g. `at+jwt` (RFC 9068). */
  @IsOptional()
  @IsString()
  SSO_TOKEN_TYPE?: string;

  /** Least time between two key set fetches triggered by an unknown `kid` (stops a flood of made-up kids). */
  @IntegerFrom(0, 3600)
  SSO_JWKS_COOLDOWN_S = 30;

  /** After this long the key set is fetched again, so a key removed at the issuer stops being trusted. */
  @IntegerFrom(1, 86400)
  SSO_JWKS_MAX_AGE_S = 600;
}

/** How the gateway verifies its callers' SSO access tokens. */
export class SsoConfig {
  readonly issuer!: string;
  readonly audience!: string;
  /** Unset: the discovery document's `jwks_uri`. */
  readonly jwksUri!: string | undefined;
  readonly algorithms!: readonly string[];
  readonly clockToleranceSeconds!: number;
  readonly userClaim!: string;
  /** When set, the `typ` header every token must carry. */
  readonly tokenType!: string | undefined;
  readonly jwksCooldownSeconds!: number;
  readonly jwksMaxAgeSeconds!: number;

  constructor(options: SsoConfig) {
    Object.assign(this, options);
  }

  static fromEnv(env: Env): SsoConfig {
    const e = validateEnv(SsoEnv, env);
    return new SsoConfig({
      issuer: e.SSO_ISSUER,
      audience: e.SSO_AUDIENCE,
      jwksUri: e.SSO_JWKS_URI,
      algorithms: e.SSO_ALGORITHMS,
      clockToleranceSeconds: e.SSO_CLOCK_TOLERANCE_S,
      userClaim: e.SSO_USER_CLAIM,
      tokenType: e.SSO_TOKEN_TYPE,
      jwksCooldownSeconds: e.SSO_JWKS_COOLDOWN_S,
      jwksMaxAgeSeconds: e.SSO_JWKS_MAX_AGE_S,
    });
  }
}
