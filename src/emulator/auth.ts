import { jwtVerify, type JWTPayload } from 'jose';

/** Where a request went, as the client addressed it (scheme, Host header, raw path and query). */
export interface RequestTarget {
  protocol: string;
  host: string;
  url: string;
}

// Clocks of callers and the emulator are the same or close; allow a little skew, not ASP.NET's 5 minutes.
export const CLOCK_TOLERANCE_SECONDS = 5;

/** The HS256 key a token's `kid` names, or undefined when there is none by that id. */
export type SigningKeyOf = (kid: string | undefined) => Uint8Array | undefined;

/**
 * Verifies access tokens the way Azure SignalR does: HS256 with the UTF-8 bytes of an access key. With local auth that is
 * the connection string's AccessKey, whatever the `kid` (the SDK's is a per-process hash); in Entra mode, the
 * temporary key the `kid` names.
 */
export class AccessTokenVerifier {
  constructor(private readonly keyOf: SigningKeyOf) {}

  static forAccessKey(accessKey: string): AccessTokenVerifier {
    const key = new TextEncoder().encode(accessKey);
    return new AccessTokenVerifier(() => key);
  }

  /** The token's claims, or undefined when it is missing, badly signed, expired, not yet valid or for another audience. */
  async verify(token: string | undefined, audienceMatches: (audience: string) => boolean): Promise<JWTPayload | undefined> {
    if (!token) return undefined;
    try {
      const { payload } = await jwtVerify(
        token,
        ({ kid }) => {
          const key = this.keyOf(kid);
          if (!key) throw new Error('no such key');
          return key;
        },
        { algorithms: ['HS256'], requiredClaims: ['exp'], clockTolerance: CLOCK_TOLERANCE_SECONDS },
      );
      const audiences = typeof payload.aud === 'string' ? [payload.aud] : (payload.aud ?? []);
      return audiences.some(audienceMatches) ? payload : undefined;
    } catch {
      return undefined;
    }
  }
}

/** How a REST call proves its caller: the claims of its bearer token, or undefined when it proves nothing. */
export type RestAuthentication = (token: string | undefined, target: RequestTarget) => Promise<JWTPayload | undefined>;

/** Local auth: a token signed with the AccessKey for the request's own URL. */
export const accessKeyAuthentication =
  (verifier: AccessTokenVerifier): RestAuthentication =>
  (token, target) =>
    verifier.verify(token, restAudience(target));

export function bearerToken(authorization: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  return match?.[1];
}

function parseUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

const requestUrl = (target: RequestTarget): URL => new URL(target.url, `${target.protocol}://${target.host}`);

/** Same scheme and host; the audience may leave the port out, as the SDKs build it from the host alone. */
function sameOrigin(audience: URL, requested: URL): boolean {
  return audience.protocol === requested.protocol && (audience.host === requested.host || audience.host === requested.hostname);
}

const withoutTrailingSlash = (path: string): string => (path.length > 1 ? path.replace(/\/+$/, '') : path);

/**
 * REST audience: the request URL's scheme, host and path. Older SDKs also put the query in (without
 * `excluded`, `reason`, `ttl`), so a query in the audience must be part of the request's query.
 */
export function restAudience(target: RequestTarget): (audience: string) => boolean {
  const requested = requestUrl(target);
  return (value) => {
    const audience = parseUrl(value);
    if (!audience || !sameOrigin(audience, requested)) return false;
    if (withoutTrailingSlash(audience.pathname) !== withoutTrailingSlash(requested.pathname)) return false;
    return [...audience.searchParams].every(([key, item]) => requested.searchParams.getAll(key).includes(item));
  };
}

/** Client audience, as Azure's SDKs build it: `{scheme}://{host}/client/?hub={hub}`, with or without the port. */
export function clientAudience(target: RequestTarget, hub: string): (audience: string) => boolean {
  const requested = requestUrl(target);
  return (value) => {
    const audience = parseUrl(value);
    return (
      audience !== undefined &&
      sameOrigin(audience, requested) &&
      withoutTrailingSlash(audience.pathname) === '/client' &&
      audience.searchParams.get('hub')?.toLowerCase() === hub.toLowerCase()
    );
  };
}

/** Azure's order: the SDKs' `asrs.s.uid`, then `nameid` (NameIdentifier), then `sub`. */
export function userIdOf(claims: JWTPayload): string | undefined {
  for (const name of ['asrs.s.uid', 'nameid', 'sub']) {
    const value = claims[name];
    const first: unknown = Array.isArray(value) ? value[0] : value;
    if (typeof first === 'string' && first !== '') return first;
  }
  return undefined;
}
