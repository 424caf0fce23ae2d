import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { forSwaggerUi, PLACEHOLDER_SSO_ENDPOINTS, SSO_BEARER_SCHEME, SSO_OAUTH2_SCHEME, ssoOAuth2Scheme } from '../auth/openapi-security.js';
import { PERMISSIONS } from '../auth/permissions.js';
import { SsoDiscovery } from '../auth/sso-discovery.js';
import { NegotiateConfig } from '../config/negotiate.config.js';
import { packageVersion } from '../common/package-version.js';

const DESCRIPTION = `Forwards Azure SignalR Service's data-plane REST API (2022-06-01) under \`/api\`, behind company SSO.

Same paths, methods and success codes as Azure's API; requests are validated before anything goes upstream, and
every error is RFC 9457 \`application/problem+json\`. Bodies are limited to 1 MB and headers to 16 KB, as upstream.`;

/** The gateway's OpenAPI document, with every object's keys sorted so that it serialises the same way every time. */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('SignalR Gateway')
    .setDescription(DESCRIPTION)
    // The release's version, as package.json says: a client generated from the document knows which gateway it fits.
    .setVersion(packageVersion())
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'An access token from the company SSO.' }, SSO_BEARER_SCHEME)
    .addOAuth2(ssoOAuth2Scheme(PLACEHOLDER_SSO_ENDPOINTS), SSO_OAUTH2_SCHEME)
    .build();
  return sortKeys(SwaggerModule.createDocument(app, config));
}

/** The one inline script of /docs (see `customJsStr`); the content security policy allows it by its hash. */
export const DOCS_INLINE_SCRIPT =
  "if (!location.pathname.endsWith('/')) history.replaceState(null, '', location.pathname + '/' + location.search + location.hash);";

/** Serves the document at `/openapi.json` and Swagger UI at `/docs`; both are public (they are not Nest routes). Returns the document. */
export function setupOpenApi(app: INestApplication): OpenAPIObject {
  const discovery = app.get(SsoDiscovery);
  const document = buildOpenApiDocument(app);
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'openapi.json',
    raw: ['json'],
    // Swagger UI gets the endpoints the issuer's discovery announces now and the browser's flow only; the published
    // /openapi.json keeps client credentials, the flow of the services that are the API's main users.
    patchDocumentOnRequest: (request, _response, document) =>
      (request as { url: string }).url.endsWith('/swagger-ui-init.js') ? forSwaggerUi(document, discovery.endpoints()) : document,
    // Authorize signs people in with the frontend client (authorization code + PKCE), as the demo page does, asking for
    // every permission: with none ticked the SSO refuses (access_denied), and the gateway still checks each call.
    swaggerOptions: {
      initOAuth: { clientId: app.get(NegotiateConfig).frontendClientId, usePkceWithAuthorizationCodeGrant: true, scopes: [...PERMISSIONS] },
    },
    // Swagger UI takes its OAuth2 redirect URI from the page's folder: at `/docs` that would be `/oauth2-redirect.html`,
    // which is not served. Shown as `/docs/`, it is `/docs/oauth2-redirect.html`, the URI registered with the SSO.
    // Its default icons are relative to the page, so they 404 when it is opened as `/docs`, before it becomes `/docs/`.
    customfavIcon: '/docs/favicon-32x32.png',
    customJsStr: DOCS_INLINE_SCRIPT,
  });
  return document;
}

/** The committed form of the document: sorted, two-space indented, one trailing newline. */
export function serialiseOpenApi(document: OpenAPIObject): string {
  return `${JSON.stringify(sortKeys(document), null, 2)}\n`;
}

function sortKeys<T>(value: T): T {
  if (Array.isArray(value)) return value.map(sortKeys) as T;
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
  ) as T;
}
