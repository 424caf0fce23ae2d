import { jwtVerify, type JWTPayload } from 'jose';

/** Where a request went, as the client addressed it (scheme, Host header, raw path and query). */
export interface RequestTarget {
  protocol: string;
  host: string;
  url: string;
}

// Clocks of callers and the emulator are the same or close; allow a little skew, not ASP.NET's 5 minutes.
const CLOCK_TOLERANCE_SECONDS = 5;

/** Verifies access tokens the way Azure SignalR does: HS256 with the UTF-8 bytes of the AccessKey. */
export class AccessTokenVerifier {
  private readonly key: Uint8Array;

  constructor(accessKey: string) {
    this.key = new TextEncoder().encode(accessKey);
  }

  /** The token's claims, or undefined when it is missing, badly signed, expired, not yet valid or for another audience. */
  async verify(token: string | undefined, audienceMatches: (audience: string) => boolean): Promise<JWTPayload | undefined> {
    if (!token) return undefined;
    try {
      const { payload } = await jwtVerify(token, this.key, {
        algorithms: ['HS256'],
        requiredClaims: ['exp'],
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
      });
      const audiences = typeof payload.aud === 'string' ? [payload.aud] : (payload.aud ?? []);
      return audiences.some(audienceMatches) ? payload : undefined;
    } catch {
      return undefined;
    }
  }
}

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
