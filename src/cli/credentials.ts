import { PERMISSIONS } from '../auth/permissions.js';
import { CliError, ExitCode, exitCodeForStatus } from './exit-codes.js';
import { DEV_SERVICE_CLIENT_SECRET, DEV_SSO_ISSUER } from '../dev/dev-defaults.js';
import { jsonBody, send, type HttpOptions } from './http.js';

/** Gives a bearer token for the gateway, fetching or renewing it when needed. */
export type TokenSource = () => Promise<string>;

export interface SsoSettings {
  issuer: string;
  clientId: string;
  /** Absent: the development secret, only when `issuer` is the local development issuer. */
  clientSecret?: string;
  /** Space-separated scopes; default every gateway permission. */
  scope?: string;
}

/** A fixed token (`--token`, `SIGNALR_GATEWAY_TOKEN`): the SSO is not asked. */
export const fixedToken = (token: string): TokenSource => async () => token;

/** Renew this long before the token's expiry, so a request never leaves with a token about to expire. */
const RENEW_MARGIN_MS = 60_000;

/**
 * A service token from the SSO by the client credentials grant (RFC 6749 §4.4): the token endpoint comes from the
 * issuer's discovery document. The token is kept until shortly before it expires.
 */
export function clientCredentials(settings: SsoSettings, http: Omit<HttpOptions, 'peer'>): TokenSource {
  const clientSecret = settings.clientSecret ?? (sameIssuer(settings.issuer, DEV_SSO_ISSUER) ? DEV_SERVICE_CLIENT_SECRET : undefined);
  let cached: { token: string; renewAt: number } | undefined;
  return async () => {
    if (cached && Date.now() < cached.renewAt) return cached.token;
    if (!clientSecret) {
      throw new CliError(ExitCode.AuthFailure, `no credentials for ${settings.issuer}: set SSO_CLIENT_SECRET (and SSO_CLIENT_ID), or pass --token`);
    }
    const tokenEndpoint = await discoverTokenEndpoint(settings.issuer, http);
    const response = await send(tokenEndpoint, {
      method: 'POST',
      headers: { authorization: `Basic ${basic(settings.clientId, clientSecret)}`, accept: 'application/json' },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: settings.scope ?? PERMISSIONS.join(' ') }),
    }, { ...http, peer: 'the SSO token endpoint' });
    const body = (await jsonBody(response)) as { access_token?: unknown; expires_in?: unknown; error?: unknown; error_description?: unknown } | undefined;
    if (!response.ok || typeof body?.access_token !== 'string') {
      const reason = [body?.error, body?.error_description].filter((part) => typeof part === 'string').join(': ') || `HTTP ${response.status}`;
      // invalid_client comes back as 401 (or 400 from some providers): both are the credentials' fault.
      const code = body?.error === 'invalid_client' ? ExitCode.AuthFailure : exitCodeForStatus(response.status);
      throw new CliError(code, `the SSO refused a token to client "${settings.clientId}": ${reason}`);
    }
    const lifetimeMs = (typeof body.expires_in === 'number' ? body.expires_in : 300) * 1000;
    cached = { token: body.access_token, renewAt: Date.now() + Math.max(lifetimeMs - RENEW_MARGIN_MS, lifetimeMs / 2) };
    return cached.token;
  };
}

async function discoverTokenEndpoint(issuer: string, http: Omit<HttpOptions, 'peer'>): Promise<URL> {
  const discovery = new URL(`${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`);
  const response = await send(discovery, { headers: { accept: 'application/json' } }, { ...http, peer: 'the SSO issuer' });
  const body = (await jsonBody(response)) as { token_endpoint?: unknown } | undefined;
  if (!response.ok || typeof body?.token_endpoint !== 'string') {
    throw new CliError(ExitCode.UpstreamFailure, `the SSO issuer ${issuer} has no usable discovery document (HTTP ${response.status} at ${discovery.pathname})`);
  }
  return new URL(body.token_endpoint);
}

function sameIssuer(a: string, b: string): boolean {
  return a.replace(/\/+$/, '') === b.replace(/\/+$/, '');
}

/** RFC 6749 §2.3.1: client id and secret are form-encoded before they are joined. */
function basic(clientId: string, secret: string): string {
  const encode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');
  return Buffer.from(`${encode(clientId)}:${encode(secret)}`).toString('base64');
}
