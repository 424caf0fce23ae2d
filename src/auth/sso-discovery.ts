import { Injectable } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import { SsoConfig } from '../config/sso.config.js';
import type { SsoEndpoints } from './openapi-security.js';

/** How long one request to the issuer (discovery document, key set) may take. */
export const ISSUER_TIMEOUT_MS = 5_000;

/**
 * The issuer's OpenID Connect discovery document (`{issuer}/.well-known/openid-configuration`): where its keys are,
 * and the endpoints Swagger UI's Authorize button signs in with. Emits `endpoints` when discovery reads them.
 */
@Injectable()
export class SsoDiscovery extends EventEmitter<{ endpoints: [SsoEndpoints] }> {
  private discovered?: SsoEndpoints;

  constructor(private readonly config: SsoConfig) {
    super();
  }

  /** Where the issuer publishes its signing keys: SSO_JWKS_URI when set (no discovery then), else discovery's `jwks_uri`. */
  async jwksUri(): Promise<string> {
    if (this.config.jwksUri !== undefined) return this.config.jwksUri;
    const issuer = this.config.issuer.replace(/\/$/, '');
    const response = await fetch(`${issuer}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(ISSUER_TIMEOUT_MS), redirect: 'error' });
    if (!response.ok) throw new Error(`discovery answered ${response.status}`);
    const document = (await response.json()) as { issuer?: unknown; jwks_uri?: unknown; authorization_endpoint?: unknown; token_endpoint?: unknown };
    // OpenID Connect Discovery 1.0 §4.3: the document must name exactly the issuer we asked.
    if (document.issuer !== this.config.issuer) throw new Error('discovery names another issuer');
    if (typeof document.jwks_uri !== 'string') throw new Error('discovery has no jwks_uri');
    if (typeof document.authorization_endpoint === 'string' && typeof document.token_endpoint === 'string') {
      this.discovered = { authorizationEndpoint: document.authorization_endpoint, tokenEndpoint: document.token_endpoint };
      this.emit('endpoints', this.discovered);
    }
    return document.jwks_uri;
  }

  /**
   * The issuer's authorization and token endpoints: from discovery once it was read; until then (or with SSO_JWKS_URI,
   * which skips discovery) the conventional `{issuer}/authorize` and `{issuer}/token`.
   */
  endpoints(): SsoEndpoints {
    const issuer = this.config.issuer.replace(/\/$/, '');
    return this.discovered ?? { authorizationEndpoint: `${issuer}/authorize`, tokenEndpoint: `${issuer}/token` };
  }
}
