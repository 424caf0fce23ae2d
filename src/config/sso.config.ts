import { Type } from 'class-transformer';
import { IsIn, IsInt, IsNotEmpty, IsOptional, IsString, IsUrl, Max, Min } from 'class-validator';
import { CommaSeparated, ConfigError, validateEnv, type Env } from './validate-env.js';

/** Asymmetric signature algorithms only: HS* would let anyone holding the issuer's public key forge tokens. */
export const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const;

const URL_RULE = { require_tld: false, require_protocol: true, protocols: ['http', 'https'] };

class SsoEnv {
  /** The company OpenID issuer; its discovery document is `{issuer}/.well-known/openid-configuration`. */
  @IsUrl(URL_RULE)
  SSO_ISSUER: string;

  /** The `aud` every access token must carry: this gateway's identifier at the issuer. */
  @IsString()
  @IsNotEmpty()
  SSO_AUDIENCE: string;

  /** Overrides the discovery document's `jwks_uri`. */
  @IsOptional()
  @IsUrl(URL_RULE)
  SSO_JWKS_URI?: string;

  @CommaSeparated()
  @IsIn(ASYMMETRIC_ALGORITHMS, { each: true, message: `SSO_ALGORITHMS accepts only ${ASYMMETRIC_ALGORITHMS.join(', ')} (never HS* or none)` })
  @IsNotEmpty()
  SSO_ALGORITHMS: string[] = ['RS256', 'PS256', 'ES256', 'EdDSA'];

  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(300)
  SSO_CLOCK_TOLERANCE_S = 30;

  /** The claim naming the end user in a user token (negotiate's user id). */
  @IsString()
  @IsNotEmpty()
  SSO_USER_CLAIM = 'sub';

  /** When set, the token's `typ` header must be this value, e.g. `at+jwt` (RFC 9068). */
  @IsOptional()
  @IsString()
  SSO_TOKEN_TYPE?: string;

  /** Least time between two key set fetches triggered by an unknown `kid` (stops a flood of made-up kids). */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(3600)
  SSO_JWKS_COOLDOWN_S = 30;

  /** After this long the key set is fetched again, so a key removed at the issuer stops being trusted. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(86400)
  SSO_JWKS_MAX_AGE_S = 600;

  @IsIn(['development', 'production', 'test'])
  NODE_ENV = 'development';
}

/** How the gateway verifies its callers' SSO access tokens. */
export class SsoConfig {
  constructor(
    readonly issuer: string,
    readonly audience: string,
    readonly jwksUri: string | undefined,
    readonly algorithms: readonly string[],
    readonly clockToleranceSeconds: number,
    readonly userClaim: string,
    readonly tokenType: string | undefined,
    readonly jwksCooldownSeconds: number,
    readonly jwksMaxAgeSeconds: number,
  ) {}

  static fromEnv(env: Env): SsoConfig {
    if (!env.SSO_ISSUER) {
      throw new ConfigError(
        env.NODE_ENV === 'production'
          ? 'Invalid configuration:\n  - SSO_ISSUER: required in production (the company OpenID issuer URL)'
          : 'Invalid configuration:\n  - SSO_ISSUER: required (the company OpenID issuer URL; `npm start` starts a development issuer when it is unset)',
      );
    }
    const e = validateEnv(SsoEnv, env);
    // Keys fetched over plain HTTP could be swapped on the way: production trusts only an https issuer.
    const insecure = [e.SSO_ISSUER, e.SSO_JWKS_URI].filter((url) => url !== undefined && new URL(url).protocol !== 'https:');
    if (e.NODE_ENV === 'production' && insecure.length > 0) {
      throw new ConfigError('Invalid configuration:\n  - SSO_ISSUER / SSO_JWKS_URI: must be https:// when NODE_ENV=production');
    }
    return new SsoConfig(
      e.SSO_ISSUER,
      e.SSO_AUDIENCE,
      e.SSO_JWKS_URI,
      e.SSO_ALGORITHMS,
      e.SSO_CLOCK_TOLERANCE_S,
      e.SSO_USER_CLAIM,
      e.SSO_TOKEN_TYPE,
      e.SSO_JWKS_COOLDOWN_S,
      e.SSO_JWKS_MAX_AGE_S,
    );
  }
}
