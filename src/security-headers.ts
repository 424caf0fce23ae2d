import type { FastifyHelmetOptions } from '@fastify/helmet';
import type { INestApplication } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { SsoDiscovery } from './auth/sso-discovery.js';
import { SignalRConfig } from './config/signalr.config.js';
import { SsoConfig } from './config/sso.config.js';
import { DOCS_INLINE_SCRIPT } from './openapi/openapi.js';

const ONE_YEAR_S = 365 * 24 * 3600;

/**
 * helmet's headers on every answer (pages, JSON, problem+json), with a content security policy that allows what
 * Swagger UI and the demo page do and nothing more: their own scripts (plus the one inline script of /docs, by its
 * hash), inline styles (Swagger UI sets them), calls to the gateway, to the SSO (discovery, token endpoint) and to the
 * SignalR service (the client connection), and no framing.
 */
export function securityHeaders(app: INestApplication, production: boolean): FastifyHelmetOptions {
  const sso = app.get(SsoConfig);
  const discovery = app.get(SsoDiscovery);
  // Negotiate sends browsers to a service's client endpoint (any of them, with several): WebSockets, or server-sent
  // events and long polling.
  const clientOrigins = app.get(SignalRConfig).endpoints.map(({ connection }) => connection.clientEndpoint.origin);
  const signalrOrigins = [...new Set(clientOrigins)].flatMap((origin) => [origin, origin.replace(/^http/, 'ws')]);
  return {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        baseUri: ["'self'"],
        scriptSrc: ["'self'", `'sha256-${createHash('sha256').update(DOCS_INLINE_SCRIPT).digest('base64')}'`],
        scriptSrcAttr: ["'none'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'", 'data:'],
        // The token endpoint comes from the issuer's discovery, which may load after boot: read on every answer.
        connectSrc: ["'self'", new URL(sso.issuer).origin, () => new URL(discovery.endpoints().tokenEndpoint).origin, ...signalrOrigins],
        objectSrc: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    // None: Swagger UI's Authorize popup goes to the SSO and back to /docs/oauth2-redirect.html, which hands the code
    // to `window.opener`; any Cross-Origin-Opener-Policy on that page severs the opener (checked in Chromium).
    crossOriginOpenerPolicy: false,
    frameguard: { action: 'deny' },
    // Browsers reach a production gateway over HTTPS (TLS ends at the load balancer). Elsewhere it is plain HTTP on
    // loopback, where HSTS is ignored, or would pin localhost to HTTPS for every other local server.
    strictTransportSecurity: production ? { maxAge: ONE_YEAR_S, includeSubDomains: false } : false,
  };
}
