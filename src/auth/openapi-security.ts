import type { SecuritySchemeObject } from '@nestjs/swagger';
import { PERMISSIONS } from './permissions.js';

/** The security schemes every protected route refers to (see RequirePermission). */
export const SSO_BEARER_SCHEME = 'sso';
export const SSO_OAUTH2_SCHEME = 'sso-oauth2';

/** The issuer endpoints Swagger UI's Authorize button needs, from the discovery document. */
export interface SsoEndpoints {
  authorizationEndpoint: string;
  tokenEndpoint: string;
}

/**
 * The OAuth2 scheme Swagger UI authorizes with: client credentials (service clients) and authorization code with
 * PKCE (people, through the frontend client), each offering the five permissions as scopes.
 */
export function ssoOAuth2Scheme({ authorizationEndpoint, tokenEndpoint }: SsoEndpoints): SecuritySchemeObject {
  const scopes = Object.fromEntries(PERMISSIONS.map((permission) => [permission, `${permission} on every hub`]));
  return {
    type: 'oauth2',
    description: 'Company SSO. Permissions may also be hub-qualified, e.g. `signalr.send:orders`.',
    flows: {
      clientCredentials: { tokenUrl: tokenEndpoint, scopes },
      authorizationCode: { authorizationUrl: authorizationEndpoint, tokenUrl: tokenEndpoint, scopes },
    },
  };
}
