import { PERMISSIONS } from '../auth/permissions.js';
import { CliError, ExitCode, exitCodeForStatus } from './exit-codes.js';
import { DEV_SSO_DISCOVERY_PATH, type SsoServiceClient } from '../config/dev-defaults.js';
import { jsonBody, send, type HttpOptions } from './http.js';

/** Gives a bearer token for the gateway, fetching or renewing it when needed. */
export type TokenSource = () => Promise<string>;

export interface SsoSettings {
  /** Absent: the development SSO and service client the gateway announces (a development stack on any ports). */
  issuer?: string;
  clientId: string;
  /** Required with `issuer`. */
  clientSecret?: string;
  /** Space-separated scopes; default every gateway permission. */
  scope?: string;
}

/** A fixed token (`--token`, `SIGNALR_GATEWAY_TOKEN`): the SSO is not asked. */
export const fixedToken =
  (token: string): TokenSource =>
  async () =>
    token;

/** Renew this long before the token's expiry, so a request never leaves with a token about to expire. */
const RENEW_MARGIN_MS = 60_000;

/**
 * A service token from the SSO by the client credentials grant (RFC 6749 §4.4): the token endpoint comes from the
 * issuer's discovery document. The token is kept until shortly before it expires.
 */
export function clientCredentials(settings: SsoSettings, gatewayUrl: string, http: Omit<HttpOptions, 'peer'>): TokenSource {
  let client: Promise<SsoServiceClient> | undefined;
  let cached: { token: string; renewAt: number } | undefined;
  return async () => {
    if (cached && Date.now() < cached.renewAt) return cached.token;
    const { issuer, clientId, clientSecret } = await (client ??= ssoClient(settings, gatewayUrl, http));
    const tokenEndpoint = await discoverTokenEndpoint(issuer, http);
    const response = await send(
      tokenEndpoint,
      {
        method: 'POST',
        headers: { authorization: `Basic ${basic(clientId, clientSecret)}`, accept: 'application/json' },
        body: new URLSearchParams({ grant_type: 'client_credentials', scope: settings.scope ?? PERMISSIONS.join(' ') }),
      },
      { ...http, peer: 'the SSO token endpoint' },
    );
    const body = (await jsonBody(response)) as { access_token?: unknown; expires_in?: unknown; error?: unknown; error_description?: unknown } | undefined;
    if (!response.ok || typeof body?.access_token !== 'string') {
      const reason = [body?.error, body?.error_description].filter((part) => typeof part === 'string').join(': ') || `HTTP ${response.status}`;
      // invalid_client comes back as 401 (or 400 from some providers): both are the credentials' fault.
      const code = body?.error === 'invalid_client' ? ExitCode.AuthFailure : exitCodeForStatus(response.status);
      throw new CliError(code, `the SSO refused a token to client "${clientId}": ${reason}`);
    }
    const lifetimeMs = (typeof body.expires_in === 'number' ? body.expires_in : 300) * 1000;
    cached = { token: body.access_token, renewAt: Date.now() + Math.max(lifetimeMs - RENEW_MARGIN_MS, lifetimeMs / 2) };
    return cached.token;
  };
}

/** The SSO client from the settings, or else the development one the gateway announces (DEV_SSO_DISCOVERY_PATH). */
async function ssoClient({ issuer, clientId, clientSecret }: SsoSettings, gatewayUrl: string, http: Omit<HttpOptions, 'peer'>): Promise<SsoServiceClient> {
  if (issuer !== undefined) {
    if (!clientSecret) throw new CliError(ExitCode.AuthFailure, `no credentials for ${issuer}: set SSO_CLIENT_SECRET (and SSO_CLIENT_ID), or pass --token`);
    return { issuer, clientId, clientSecret };
  }
  const discovery = new URL(DEV_SSO_DISCOVERY_PATH, gatewayUrl);
  const response = await send(discovery, { headers: { accept: 'application/json' } }, { ...http, peer: 'the gateway' });
  const body = (await jsonBody(response)) as Partial<SsoServiceClient> | undefined;
  if (response.status === 404) {
    throw new CliError(
      ExitCode.AuthFailure,
      `no credentials: the gateway at ${discovery.origin} runs no development SSO; set SSO_ISSUER, SSO_CLIENT_ID and SSO_CLIENT_SECRET, or pass --token`,
    );
  }
  if (!response.ok || typeof body?.issuer !== 'string' || typeof body.clientId !== 'string' || typeof body.clientSecret !== 'string') {
    throw new CliError(
      ExitCode.Unexpected,
      `the gateway at ${discovery.origin} answered ${discovery.pathname} with HTTP ${response.status} and no usable SSO client`,
    );
  }
  return { issuer: body.issuer, clientId: body.clientId, clientSecret: body.clientSecret };
}

async function discoverTokenEndpoint(issuer: string, http: Omit<HttpOptions, 'peer'>): Promise<URL> {
  const discovery = new URL(`${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`);
  const response = await send(discovery, { headers: { accept: 'application/json' } }, { ...http, peer: 'the SSO issuer' });
  const body = (await jsonBody(response)) as { token_endpoint?: unknown } | undefined;
  if (!response.ok || typeof body?.token_endpoint !== 'string') {
    throw new CliError(
      ExitCode.UpstreamFailure,
      `the SSO issuer ${issuer} has no usable discovery document (HTTP ${response.status} at ${discovery.pathname})`,
    );
  }
  return new URL(body.token_endpoint);
}

/** RFC 6749 §2.3.1: client id and secret are form-encoded before they are joined. */
function basic(clientId: string, secret: string): string {
  const encode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');
  return Buffer.from(`${encode(clientId)}:${encode(secret)}`).toString('base64');
}
