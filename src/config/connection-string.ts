import { inspect } from 'node:util';

/** Holds a credential so that logging, JSON or string conversion of its owner never prints it. */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return '[redacted]';
  }

  toJSON(): string {
    return '[redacted]';
  }

  [inspect.custom](): string {
    return '[redacted]';
  }
}

/** An Azure SignalR connection string, resolved to what the gateway uses (docs/azure-compatibility.md#connection-string). */
export interface SignalRConnection {
  /** `Endpoint`, trailing slash trimmed; its `scheme://host` (no port) is the base of every token's `aud`. */
  endpoint: URL;
  /** Base of REST calls: `ServerEndpoint`, or `Endpoint` with `Port` applied. No trailing slash. */
  serverEndpoint: URL;
  /** Base of the client URL returned by negotiate: `ClientEndpoint`, or `Endpoint` with `Port` applied. */
  clientEndpoint: URL;
  accessKey: Secret;
  version?: string;
}

/** A malformed connection string. The message names keys and rules only, never a value. */
export class ConnectionStringError extends Error {
  override readonly name = 'ConnectionStringError';
}

const KEYS = [
  'Endpoint',
  'AccessKey',
  'Version',
  'Port',
  'ClientEndpoint',
  'ServerEndpoint',
  'AuthType',
  'ClientId',
  'TenantId',
  'ClientSecret',
  'ClientCert',
] as const;
type Key = (typeof KEYS)[number];

const VERSION = /^1\.\d+(?:[\w-.]+)?$/;
/** Azure's Microsoft Entra ID modes: REST calls would need an Entra token and key exchange, which the gateway does not do. */
const ENTRA_AUTH_TYPES = new Set(['aad', 'azure', 'azure.app', 'azure.msi']);

/**
 * Parses Azure's grammar: `;`-separated `key=value`, split on the first `=`, keys case-insensitive,
 * keys and values trimmed, entries without `=` ignored (as the SDK does), a key given twice rejected.
 * Only access-key authentication is supported.
 */
export function parseConnectionString(text: string): SignalRConnection {
  const properties = new Map<Key, string>();
  for (const entry of text.split(';')) {
    const at = entry.indexOf('=');
    if (at < 0) continue;
    const name = entry.slice(0, at).trim();
    const key = KEYS.find((known) => known.toLowerCase() === name.toLowerCase());
    if (key === undefined) continue;
    if (properties.has(key)) throw new ConnectionStringError(`${key} is given more than once.`);
    properties.set(key, entry.slice(at + 1).trim());
  }

  const authType = properties.get('AuthType');
  if (authType !== undefined) {
    const mode = authType.toLowerCase();
    throw new ConnectionStringError(
      ENTRA_AUTH_TYPES.has(mode)
        ? `AuthType=${mode} (Microsoft Entra ID) is not supported; use a connection string with an AccessKey and no AuthType.`
        : 'AuthType has an unrecognised value; use a connection string with an AccessKey and no AuthType.',
    );
  }

  const endpoint = absoluteUrl(properties, 'Endpoint', true);
  const accessKey = properties.get('AccessKey');
  if (!accessKey) throw new ConnectionStringError('AccessKey is required.');
  const version = properties.get('Version');
  if (version !== undefined && !VERSION.test(version)) throw new ConnectionStringError(`Version must match ${VERSION.source}.`);

  const endpointWithPort = withPort(endpoint, properties.get('Port'));
  return {
    endpoint,
    serverEndpoint: absoluteUrl(properties, 'ServerEndpoint') ?? endpointWithPort,
    clientEndpoint: absoluteUrl(properties, 'ClientEndpoint') ?? endpointWithPort,
    accessKey: new Secret(accessKey),
    version,
  };
}

function absoluteUrl(properties: Map<Key, string>, key: Key, required: true): URL;
function absoluteUrl(properties: Map<Key, string>, key: Key): URL | undefined;
function absoluteUrl(properties: Map<Key, string>, key: Key, required = false): URL | undefined {
  const value = properties.get(key);
  if (!value) {
    if (required) throw new ConnectionStringError(`${key} is required.`);
    return undefined;
  }
  const url = URL.parse(value.replace(/\/$/, ''));
  if (url === null || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw new ConnectionStringError(`${key} must be an absolute http or https URL.`);
  }
  if (url.search || url.hash || url.username || url.password) {
    throw new ConnectionStringError(`${key} must not contain credentials, a query or a fragment.`);
  }
  return url;
}

function withPort(endpoint: URL, port: string | undefined): URL {
  if (port === undefined) return endpoint;
  const number = Number(port);
  if (!/^\d+$/.test(port) || number < 1 || number > 65535) throw new ConnectionStringError('Port must be an integer from 1 to 65535.');
  const url = new URL(endpoint);
  url.port = port;
  return url;
}
