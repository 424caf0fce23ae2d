import { IsString, Matches } from 'class-validator';
import { DEV_FRONTEND_CLIENT_ID } from './dev-defaults.js';
import { CommaSeparated, validateEnv, type Env } from './validate-env.js';

class NegotiateEnv {
  /** SSO claims copied into client tokens, comma-separated (e.g. `roles,name`); the hub sees them on `Context.User`. */
  @CommaSeparated()
  @Matches(/^[A-Za-z0-9_.:/-]{1,128}$/, { each: true, message: 'lists claim names: letters, digits and _ . : / - only' })
  NEGOTIATE_FORWARD_CLAIMS: string[] = [];

  /**
   * The public OAuth client frontends sign in with (authorization code + PKCE) before they negotiate: the demo page
   * and Swagger UI's Authorize button use it. The default is the development issuer's frontend client.
   */
  @IsString()
  SSO_FRONTEND_CLIENT_ID = DEV_FRONTEND_CLIENT_ID;
}

/** How frontends obtain SignalR client tokens through the gateway. */
export class NegotiateConfig {
  readonly forwardClaims!: readonly string[];
  readonly frontendClientId!: string;

  constructor(options: NegotiateConfig) {
    Object.assign(this, options);
  }

  static fromEnv(env: Env): NegotiateConfig {
    const e = validateEnv(NegotiateEnv, env);
    return new NegotiateConfig({ forwardClaims: e.NEGOTIATE_FORWARD_CLAIMS, frontendClientId: e.SSO_FRONTEND_CLIENT_ID });
  }
}
