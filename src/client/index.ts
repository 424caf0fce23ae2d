import createClient, { type Client, type ClientOptions, type Middleware } from 'openapi-fetch';
import type { components, paths } from './openapi-types.js';

export type { components, operations, paths } from './openapi-types.js';

/** The body of every error answer (`application/problem+json`, RFC 9457), with the gateway's `code`, `requestId` and `errors`. */
export type ProblemDetails = components['schemas']['ProblemDto'];

/** A bearer token, or a function that gives one: called before every request, so it can renew an expiring token. */
export type TokenProvider = string | (() => string | Promise<string>);

export interface GatewayClientOptions extends Omit<ClientOptions, 'baseUrl'> {
  /** Where the gateway listens, e.g. `https://signalr-gateway.example.com`. */
  baseUrl: string;
  token: TokenProvider;
}

/** openapi-fetch's client for the gateway's API: `GET`, `POST`, `PUT`, `DELETE`, `HEAD` by path, typed from openapi/openapi.json. */
export type GatewayClient = Client<paths>;

/**
 * A typed client for the gateway. Each call resolves with `{ data, error, response }`: `data` on a 2xx, else
 * `error`, the gateway's problem details. Network failures reject. Other openapi-fetch options (`fetch`,
 * `headers`, ...) pass through.
 */
export function createGatewayClient({ token, ...options }: GatewayClientOptions): GatewayClient {
  const client = createClient<paths>({ pathSerializer: pathWithParameters, ...options });
  client.use(bearer(token));
  return client;
}

/** An empty token sends no `Authorization` header: the gateway answers 401 `unauthenticated`, as to any request without one. */
function bearer(token: TokenProvider): Middleware {
  return {
    async onRequest({ request }) {
      const value = typeof token === 'string' ? token : await token();
      if (value) request.headers.set('Authorization', `Bearer ${value}`);
    },
  };
}

/**
 * Fills `{name}` with its percent-encoded value. `.` and `..` are refused: URL parsing removes such segments even
 * percent-encoded, so a message for user ".." would become a broadcast to the whole hub.
 */
function pathWithParameters(pathname: string, parameters: Record<string, unknown>): string {
  return pathname.replace(/\{([^{}]+)\}/g, (placeholder, name: string) => {
    const value = parameters[name];
    if (value === undefined || value === null) return placeholder;
    // Path parameters are strings or numbers in the spec; anything else is a caller's mistake, refused below by its text.
    const segment = typeof value === 'string' || typeof value === 'number' ? String(value) : JSON.stringify(value);
    if (segment === '.' || segment === '..') throw new RangeError(`${name} must not be "${segment}": no URL can carry it as a path segment`);
    return encodeURIComponent(segment);
  });
}
