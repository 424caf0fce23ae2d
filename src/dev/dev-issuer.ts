import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes, randomUUID } from 'node:crypto';
import Provider, { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { PERMISSIONS } from '../auth/permissions.js';
import { DEV_AUDIENCE, DEV_FRONTEND_CLIENT_ID, DEV_SERVICE_CLIENT_ID } from '../config/dev-defaults.js';

export interface DevIssuerOptions {
  /** Interface to listen on (default 127.0.0.1). */
  host?: string;
  /** Port to listen on (default 0: any free port). */
  port?: number;
  /** The `aud` of every access token; the gateway's `SSO_AUDIENCE` (default `api://signalr-gateway`). */
  audience?: string;
  /** Secret of the service client (default: random per start, so a leaked dev secret is worth nothing). */
  serviceClientSecret?: string;
  /**
   * Redirect URIs of the public frontend client (authorization code + PKCE), e.g. the demo page and
   * `http://127.0.0.1:3000/docs/oauth2-redirect.html` for Swagger UI. Their origins may also call the token
   * endpoint from a browser (CORS). A `127.0.0.1` URI is registered as `localhost` too, and the other way round.
   */
  redirectUris?: readonly string[];
  /** Lifetime of access tokens in seconds (default 3600). */
  accessTokenTtlSeconds?: number;
  /** Private RS256 JWKs (with `kid`) to sign with, the first one first; default: one fresh key. Tests use it to forge claims. */
  signingKeys?: JWK[];
}

export interface DevIssuer {
  /** The issuer URL: the gateway's `SSO_ISSUER`. */
  readonly issuer: string;
  /** The gateway's `SSO_AUDIENCE`. */
  readonly audience: string;
  readonly tokenEndpoint: string;
  /** Confidential client for the client credentials grant; it may request every permission. */
  readonly service: { readonly clientId: string; readonly clientSecret: string };
  /** Public client for the authorization code grant with PKCE; the login page accepts any user name. */
  readonly frontend: { readonly clientId: string; readonly redirectUris: readonly string[] };
  /** Obtains a JWT access token for the service client over HTTP (all permissions by default). */
  serviceToken(scopes?: readonly string[]): Promise<string>;
  /**
   * Signs with a new key from now on; the previous keys stay in the JWKS unless `retirePrevious`, which removes
   * them (their tokens must then be rejected). Simulates an issuer's key rotation, for tests.
   */
  rotateKeys(options?: { retirePrevious?: boolean }): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts an in-process OpenID provider (oidc-provider, certified) for development and tests. It issues JWT access
 * tokens (RFC 9068, `typ: at+jwt`, RS256) for `audience`, carrying the requested permissions in `scope`:
 * - service client `signalr-gateway-service` (client credentials, every permission);
 * - frontend client `signalr-gateway-frontend` (authorization code + PKCE, any user name, consent auto-granted).
 * Never use it in production: clients, keys and sessions live in memory and anyone can log in as anyone.
 *
 *     const sso = await startDevIssuer({ port: 9000 });
 *     // SSO_ISSUER=sso.issuer SSO_AUDIENCE=sso.audience
 *     console.log(serviceTokenCurl(sso, 'http://127.0.0.1:3000'));
 */
export async function startDevIssuer(options: DevIssuerOptions = {}): Promise<DevIssuer> {
  const audience = options.audience ?? DEV_AUDIENCE;
  const redirectUris = withLoopbackTwins(options.redirectUris ?? []);
  const service = { clientId: DEV_SERVICE_CLIENT_ID, clientSecret: options.serviceClientSecret ?? randomBytes(24).toString('base64url') };
  let keys: JWK[] = options.signingKeys ?? [await newSigningKey()];
  let handle: (request: IncomingMessage, response: ServerResponse) => void = () => {};

  const server = createServer((request, response) => handle(request, response));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve);
  });
  const { address, port } = server.address() as AddressInfo;
  const issuer = `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
  const settings = { issuer, audience, redirectUris, service, ttl: options.accessTokenTtlSeconds ?? 3600 };
  // Clients are static and the grants in memory, so swapping the provider for a new key set loses nothing that matters.
  const install = (): void => {
    handle = createProvider(settings, keys).callback();
  };
  install();

  const tokenEndpoint = `${issuer}/token`;
  return {
    issuer,
    audience,
    tokenEndpoint,
    service,
    frontend: { clientId: DEV_FRONTEND_CLIENT_ID, redirectUris },
    serviceToken: (scopes = PERMISSIONS) => fetchServiceToken(tokenEndpoint, service, scopes),
    async rotateKeys({ retirePrevious = false } = {}) {
      keys = [await newSigningKey(), ...(retirePrevious ? [] : keys)];
      install();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * To a person at a browser `localhost` and `127.0.0.1` are the same machine, but the SSO compares redirect URIs
 * exactly: each loopback URI is registered under both names, so the demo page and Swagger UI work at either.
 */
function withLoopbackTwins(uris: readonly string[]): string[] {
  const twinHost = new Map([
    ['127.0.0.1', 'localhost'],
    ['localhost', '127.0.0.1'],
  ]);
  return [
    ...new Set(
      uris.flatMap((uri) => {
        const twin = new URL(uri);
        const host = twinHost.get(twin.hostname);
        if (host === undefined) return [uri];
        twin.hostname = host;
        return [uri, twin.href];
      }),
    ),
  ];
}

/** A copy-paste shell command that obtains a service token and broadcasts `{target: 'message'}` to `hub`. */
export function serviceTokenCurl(sso: DevIssuer, gatewayUrl: string, hub = 'chat'): string {
  const { clientId, clientSecret } = sso.service;
  return [
    `TOKEN=$(curl -s -u '${clientId}:${clientSecret}' -d grant_type=client_credentials -d 'scope=${PERMISSIONS.join(' ')}' ${sso.tokenEndpoint} | sed -E 's/.*"access_token":"([^"]+)".*/\\1/')`,
    `curl -i -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{"target":"broadcastMessage","arguments":["curl","hello"]}' ${gatewayUrl}/api/hubs/${hub}/:send`,
  ].join('\n');
}

interface Settings {
  issuer: string;
  audience: string;
  redirectUris: readonly string[];
  service: { clientId: string; clientSecret: string };
  ttl: number;
}

function createProvider({ issuer, audience, redirectUris, service, ttl }: Settings, keys: JWK[]): Provider {
  const permissions = PERMISSIONS.join(' ');
  const browserOrigins = new Set(redirectUris.map((uri) => new URL(uri).origin));
  return new Provider(issuer, {
    clients: [
      {
        client_id: service.clientId,
        client_secret: service.clientSecret,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        scope: permissions,
      },
      {
        client_id: DEV_FRONTEND_CLIENT_ID,
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code'],
        response_types: ['code'],
        redirect_uris: redirectUris,
        scope: `openid profile ${permissions}`,
      },
    ],
    jwks: { keys },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    scopes: ['openid', 'profile', ...PERMISSIONS],
    claims: { openid: ['sub'], profile: ['name', 'preferred_username'] },
    features: {
      devInteractions: { enabled: true },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => audience,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: unknown, resource: string) => {
          if (resource !== audience) throw new errors.InvalidTarget(`the only resource here is ${audience}`);
          return { audience, scope: permissions, accessTokenFormat: 'jwt', accessTokenTTL: ttl, jwt: { sign: { alg: 'RS256' } } };
        },
      },
    },
    // Swagger UI and the demo page call the token endpoint from their own origin.
    clientBasedCORS: (_ctx: unknown, origin: string) => browserOrigins.has(origin),
    // Consent is granted automatically: every client here is first-party.
    loadExistingGrant: async (ctx: KoaContextWithOIDC) => {
      const { client, session, result, provider } = ctx.oidc;
      if (!client || !session?.accountId) return undefined;
      const grantId = result?.consent?.grantId ?? session.grantIdFor(client.clientId);
      if (grantId) return provider.Grant.find(grantId);
      const grant = new provider.Grant({ clientId: client.clientId, accountId: session.accountId });
      // The permissions are the SSO's own scopes too: Swagger UI asks for them as such, and would see a consent page.
      grant.addOIDCScope(`openid profile ${permissions}`);
      grant.addResourceScope(audience, permissions);
      await grant.save();
      return grant;
    },
    findAccount: (_ctx: unknown, sub: string) => ({ accountId: sub, claims: () => ({ sub, name: sub, preferred_username: sub }) }),
    ttl: { AccessToken: ttl, ClientCredentials: ttl, AuthorizationCode: 60, Grant: ttl, Interaction: 600, Session: 86400, IdToken: ttl },
  });
}

/** A private RS256 signing key as a JWK with a random `kid`. */
export async function newSigningKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  return { ...(await exportJWK(privateKey)), kid: randomUUID(), alg: 'RS256', use: 'sig' };
}

async function fetchServiceToken(tokenEndpoint: string, client: { clientId: string; clientSecret: string }, scopes: readonly string[]): Promise<string> {
  const response = await fetch(tokenEndpoint, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: scopes.join(' ') }),
  });
  const body = (await response.json()) as { access_token?: string; error?: string; error_description?: string };
  if (!response.ok || !body.access_token) throw new Error(`token endpoint answered ${response.status}: ${body.error ?? ''} ${body.error_description ?? ''}`);
  return body.access_token;
}
