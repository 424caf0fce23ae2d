import helmet, { type FastifyHelmetOptions } from '@fastify/helmet';
import type { INestApplication } from '@nestjs/common';
import Fastify, { type FastifyInstance, type onRequestHookHandler } from 'fastify';
import { createHash } from 'node:crypto';
import { SsoDiscovery } from './auth/sso-discovery.js';
import { SignalRConfig } from './config/signalr.config.js';
import { SsoConfig } from './config/sso.config.js';
import { DOCS_INLINE_SCRIPT } from './openapi/openapi.js';

const ONE_YEAR_S = 365 * 24 * 3600;

/** What Fastify and Node put on the probe's answer, not helmet. */
const NOT_HELMETS = new Set(['content-length', 'content-type', 'date', 'connection', 'keep-alive', 'transfer-encoding']);

/**
 * Where the gateway serves pages to browsers: Swagger UI (and its scripts, styles, OAuth2 redirect page) and the demo
 * page. Every other route answers JSON, problem+json or nothing.
 */
const PAGE_PREFIXES = ['/docs', '/demo'];

/**
 * helmet's headers on every answer, in two sets chosen once per route. Pages get a content security policy that allows
 * what Swagger UI and the demo page do and nothing more: their own scripts (plus the one inline script of /docs, by its
 * hash), inline styles (Swagger UI sets them), calls to the gateway, to the SSO (discovery, token endpoint) and to the
 * SignalR service (the client connection), and no framing. API answers (and 404s) get what OWASP's REST Security Cheat
 * Sheet asks of an API: `default-src 'none'; frame-ancestors 'none'`, nosniff, no framing, no referrer, HSTS in
 * production; a JSON answer loads nothing, and the page headers were about half of the 1 KB of headers
 * Node writes for every 202.
 *
 * helmet chooses the values once, and the pages' again when discovery reads the token endpoint (it may load after
 * boot); each answer gets them as they are. @fastify/helmet would build helmet anew for every answer (`helmet(options)`
 * in its onRequest hook): that cost about a tenth of the gateway's CPU per request in `npm run bench`. Call it before
 * the routes are registered, so that the onRoute hook sees them.
 */
export async function sendSecurityHeaders(fastify: FastifyInstance, app: INestApplication, production: boolean): Promise<void> {
  const discovery = app.get(SsoDiscovery);
  const apiHeaders = await helmetHeaders(apiHelmetOptions(production));
  let pageHeaders: Record<string, string> = {};
  // Discovery may answer while the first choice is being made: the choice begun last wins, whichever ends first.
  let begun = 0;
  let applied = 0;
  const choose = async (): Promise<void> => {
    const turn = ++begun;
    const chosen = await helmetHeaders(pageHelmetOptions(app, production, discovery.endpoints().tokenEndpoint));
    if (turn < applied) return;
    applied = turn;
    pageHeaders = chosen;
  };
  discovery.on('endpoints', () => {
    choose().catch((error: unknown) => fastify.log.error({ err: error }, 'security headers not updated for the discovered token endpoint'));
  });
  await choose();
  // Every answer, including those of no route (404s), gets the API's; a page's route replaces them with the pages' (the
  // same names, and more).
  fastify.addHook('onRequest', (_request, reply, done) => {
    reply.headers(apiHeaders);
    done();
  });
  const sendPageHeaders: onRequestHookHandler = (_request, reply, done) => {
    reply.headers(pageHeaders);
    done();
  };
  fastify.addHook('onRoute', (route) => {
    if (!PAGE_PREFIXES.some((prefix) => route.url === prefix || route.url.startsWith(`${prefix}/`))) return;
    route.onRequest = [sendPageHeaders, ...[route.onRequest ?? []].flat()];
  });
}

/** The headers helmet sets with `options`: those of an answer of a private Fastify instance with @fastify/helmet. */
async function helmetHeaders(options: FastifyHelmetOptions): Promise<Record<string, string>> {
  const probe = Fastify();
  try {
    await probe.register(helmet, options);
    probe.get('/', (_request, reply) => reply.code(204).send());
    const answer = await probe.inject({ method: 'GET', url: '/' });
    return Object.fromEntries(Object.entries(answer.headers).flatMap(([name, value]) => (NOT_HELMETS.has(name) ? [] : [[name, String(value)]])));
  } finally {
    await probe.close();
  }
}

/**
 * HSTS: browsers reach a production gateway over HTTPS (TLS ends at the load balancer). Elsewhere it is plain HTTP on
 * loopback, where HSTS is ignored, or would pin localhost to HTTPS for every other local server.
 */
const hsts = (production: boolean): FastifyHelmetOptions['strictTransportSecurity'] => (production ? { maxAge: ONE_YEAR_S, includeSubDomains: false } : false);

/** An API answer's: it loads nothing and is framed nowhere; helmet's headers for pages and old browsers left out. */
function apiHelmetOptions(production: boolean): FastifyHelmetOptions {
  return {
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
    crossOriginOpenerPolicy: false,
    originAgentCluster: false,
    xDnsPrefetchControl: false,
    xDownloadOptions: false,
    xPermittedCrossDomainPolicies: false,
    xXssProtection: false,
    frameguard: { action: 'deny' },
    strictTransportSecurity: hsts(production),
  };
}

function pageHelmetOptions(app: INestApplication, production: boolean, tokenEndpoint: string): FastifyHelmetOptions {
  const sso = app.get(SsoConfig);
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
        connectSrc: ["'self'", new URL(sso.issuer).origin, new URL(tokenEndpoint).origin, ...signalrOrigins],
        objectSrc: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    // None: Swagger UI's Authorize popup goes to the SSO and back to /docs/oauth2-redirect.html, which hands the code
    // to `window.opener`; any Cross-Origin-Opener-Policy on that page severs the opener (checked in Chromium).
    crossOriginOpenerPolicy: false,
    frameguard: { action: 'deny' },
    strictTransportSecurity: hsts(production),
  };
}
