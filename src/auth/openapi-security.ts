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
 * The OAuth2 scheme: client credentials (services) and authorization code with PKCE (people, through the frontend
 * client), each offering the five permissions as scopes. `forBrowsers` leaves out client credentials, which needs a
 * client secret that has no place in a browser.
 */
export function ssoOAuth2Scheme({ authorizationEndpoint, tokenEndpoint }: SsoEndpoints, { forBrowsers = false } = {}): SecuritySchemeObject {
  const scopes = Object.fromEntries(PERMISSIONS.map((permission) => [permission, `${permission} on every hub`]));
  const authorizationCode = { authorizationUrl: authorizationEndpoint, tokenUrl: tokenEndpoint, scopes };
  return {
    type: 'oauth2',
    description:
      "Company SSO (Swagger UI at /docs uses the endpoints from the issuer's discovery document). Permissions may also be hub-qualified, e.g. `signalr.send:orders`.",
    flows: forBrowsers ? { authorizationCode } : { clientCredentials: { tokenUrl: tokenEndpoint, scopes }, authorizationCode },
  };
}

/**
 * Endpoints of the published contract, which must not depend on the deployment: the real ones come from discovery
 * and are given to Swagger UI when it loads (see forSwaggerUi).
 */
export const PLACEHOLDER_SSO_ENDPOINTS: SsoEndpoints = {
  authorizationEndpoint: 'https://sso.example.com/authorize',
  tokenEndpoint: 'https://sso.example.com/token',
};

/**
 * `document` as Swagger UI gets it (it asks on every load): the OAuth2 scheme with the endpoints the issuer now
 * announces, and only the flow a person can use in a browser.
 */
export function forSwaggerUi(document: OpenAPIObject, endpoints: SsoEndpoints): OpenAPIObject {
  const securitySchemes = { ...document.components?.securitySchemes, [SSO_OAUTH2_SCHEME]: ssoOAuth2Scheme(endpoints, { forBrowsers: true }) };
  return { ...document, components: { ...document.components, securitySchemes } };
}
