import type { OpenAPIObject, SecuritySchemeObject } from '@nestjs/swagger';
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
    description: 'Company SSO (Swagger UI at /docs uses the endpoints from the issuer\'s discovery document). Permissions may also be hub-qualified, e.g. `signalr.send:orders`.',
    flows: {
      clientCredentials: { tokenUrl: tokenEndpoint, scopes },
      authorizationCode: { authorizationUrl: authorizationEndpoint, tokenUrl: tokenEndpoint, scopes },
    },
  };
}

/**
 * Endpoints of the published contract, which must not depend on the deployment: the real ones come from discovery
 * and are given to Swagger UI when it loads (see withSsoEndpoints).
 */
export const PLACEHOLDER_SSO_ENDPOINTS: SsoEndpoints = {
  authorizationEndpoint: 'https://sso.example.com/authorize',
  tokenEndpoint: 'https://sso.example.com/token',
};

/** `document` with the OAuth2 scheme's endpoints as the issuer now announces them (Swagger UI asks on every load). */
export function withSsoEndpoints(document: OpenAPIObject, endpoints: SsoEndpoints): OpenAPIObject {
  const securitySchemes = { ...document.components?.securitySchemes, [SSO_OAUTH2_SCHEME]: ssoOAuth2Scheme(endpoints) };
  return { ...document, components: { ...document.components, securitySchemes } };
}
