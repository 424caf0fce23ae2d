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

/**
 * The Microsoft Entra identity an `AuthType` connection string names, as the @azure/identity credential it becomes
 * (README.md#connection-strings): `default` DefaultAzureCredential (`azure`), `managed-identity`
 * ManagedIdentityCredential (`azure.msi`), `client-secret` ClientSecretCredential and `client-certificate`
 * ClientCertificateCredential (`azure.app`); legacy `aad` becomes one of the last three.
 */
export type EntraIdentity =
  | { kind: 'default'; managedIdentityClientId?: string }
  | { kind: 'managed-identity'; clientId?: string }
  | { kind: 'client-secret'; tenantId: string; clientId: string; clientSecret: Secret }
  | { kind: 'client-certificate'; tenantId: string; clientId: string; certificatePath: string };

interface Endpoints {
  /** `Endpoint`, trailing slash trimmed; its `scheme://host` (no port) is the base of every token's `aud`. */
  endpoint: URL;
  /** Base of REST calls (and, with Entra ID, of the access-key fetch): `ServerEndpoint`, or `Endpoint` with `Port` applied. No trailing slash. */
  serverEndpoint: URL;
  /** Base of the client URL returned by negotiate: `ClientEndpoint`, or `Endpoint` with `Port` applied. */
  clientEndpoint: URL;
  version?: string;
}

/**
 * An Azure SignalR connection string, resolved to what the gateway uses (docs/azure-compatibility.md#connection-string):
 * the endpoints and either the AccessKey or, with an `AuthType`, the Microsoft Entra identity.
 */
export type SignalRConnection = Endpoints & ({ accessKey: Secret; entra?: undefined } | { entra: EntraIdentity; accessKey?: undefined });

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
  // The connection-string page on Learn names the certificate path so; Azure's SDK reads `ClientCert`. Either is taken.
  'ClientCertPath',
] as const;
type Key = (typeof KEYS)[number];

const VERSION = /^1\.\d+(?:[\w-.]+)?$/;
const AUTH_TYPES = ['azure', 'azure.app', 'azure.msi', 'aad'] as const;
type AuthType = (typeof AUTH_TYPES)[number];

/**
 * Parses Azure's grammar: `;`-separated `key=value`, split on the first `=`, keys case-insensitive,
 * keys and values trimmed, entries without `=` ignored (as the SDK does), a key given twice rejected.
 * Without `AuthType` the AccessKey signs everything; with one, a Microsoft Entra identity authenticates (entraIdentity).
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
  if (properties.get('ClientCert') && properties.get('ClientCertPath')) {
    throw new ConnectionStringError('ClientCert and ClientCertPath name the same certificate path; give one.');
  }

  const endpoint = absoluteUrl(properties, 'Endpoint', true);
  const version = properties.get('Version');
  if (version !== undefined && !VERSION.test(version)) throw new ConnectionStringError(`Version must match ${VERSION.source}.`);
  const endpointWithPort = withPort(endpoint, properties.get('Port'));
  const endpoints: Endpoints = {
    endpoint,
    serverEndpoint: absoluteUrl(properties, 'ServerEndpoint') ?? endpointWithPort,
    clientEndpoint: absoluteUrl(properties, 'ClientEndpoint') ?? endpointWithPort,
    version,
  };

  const authType = properties.get('AuthType');
  if (authType) return { ...endpoints, entra: entraIdentity(authTypeOf(authType), properties) };
  const accessKey = properties.get('AccessKey');
  if (!accessKey) throw new ConnectionStringError('AccessKey is required.');
  return { ...endpoints, accessKey: new Secret(accessKey) };
}

/**
 * Azure's SDK falls back to the AccessKey for an AuthType it does not know; the gateway refuses it instead: a typo
 * such as `azure.mis` would otherwise fail as "AccessKey is required", or, with a key present, silently use the key
 * the operator meant to replace. The value is never echoed (a key pasted in the wrong place must not reach a log).
 */
function authTypeOf(value: string): AuthType {
  const authType = AUTH_TYPES.find((known) => known === value.toLowerCase());
  if (authType === undefined) {
    throw new ConnectionStringError(`AuthType must be one of ${AUTH_TYPES.join(', ')} (any case), or left out to use the AccessKey.`);
  }
  return authType;
}

/**
 * The identity an AuthType asks for, with the keys it needs. A key the mode would ignore is refused rather than
 * ignored (an AccessKey next to an AuthType, a ClientSecret with a managed identity): whoever wrote it expects it to count.
 */
function entraIdentity(authType: AuthType, properties: Map<Key, string>): EntraIdentity {
  const given = (key: Key): string | undefined => properties.get(key) || undefined;
  const clientId = given('ClientId');
  const tenantId = given('TenantId');
  const clientSecret = given('ClientSecret');
  const certificatePath = given('ClientCert') ?? given('ClientCertPath');
  const certificateKey = given('ClientCert') ? 'ClientCert' : 'ClientCertPath';
  const refuse = (...keys: Key[]): void => {
    const present = keys.find((key) => given(key) !== undefined);
    if (present) throw new ConnectionStringError(`${present} is not used with AuthType=${authType}; remove it.`);
  };
  const app = (): EntraIdentity => {
    if (!clientId) throw new ConnectionStringError(`ClientId is required with AuthType=${authType}.`);
    if (!tenantId) throw new ConnectionStringError(`TenantId is required with AuthType=${authType}.`);
    if (clientSecret && certificatePath) throw new ConnectionStringError(`Give ClientSecret or ${certificateKey} with AuthType=${authType}, not both.`);
    if (clientSecret) return { kind: 'client-secret', tenantId, clientId, clientSecret: new Secret(clientSecret) };
    if (certificatePath) return { kind: 'client-certificate', tenantId, clientId, certificatePath };
    throw new ConnectionStringError(`ClientSecret or ClientCert (a PEM file path) is required with AuthType=${authType}.`);
  };

  refuse('AccessKey');
  switch (authType) {
    case 'azure':
      refuse('TenantId', 'ClientSecret', 'ClientCert', 'ClientCertPath');
      return { kind: 'default', managedIdentityClientId: clientId };
    case 'azure.msi':
      refuse('TenantId', 'ClientSecret', 'ClientCert', 'ClientCertPath');
      return { kind: 'managed-identity', clientId };
    case 'azure.app':
      return app();
    case 'aad':
      // Azure's legacy mode: an application with ClientId and TenantId, else a managed identity (user-assigned with a ClientId).
      if (tenantId || clientSecret || certificatePath) return app();
      return { kind: 'managed-identity', clientId };
  }
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
