import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { EntraConfig } from '../../src/config/entra.config.js';
import { SignalRConfig } from '../../src/config/signalr.config.js';
import { ConfigError } from '../../src/config/validate-env.js';
import { ConnectionStringError, parseConnectionString } from '../../src/config/connection-string.js';

const KEY = 'S3cr3tAccessKey0123456789abcdefABCDEF+/=';

function rejects(text: string, message: RegExp): void {
  assert.throws(
    () => parseConnectionString(text),
    (error: unknown) => {
      assert.ok(error instanceof ConnectionStringError);
      assert.match(error.message, message);
      assert.doesNotMatch(error.message, /S3cr3t/, 'the AccessKey never appears in an error');
      return true;
    },
  );
}

describe('parseConnectionString', () => {
  it('parses the portal form', () => {
    const c = parseConnectionString(`Endpoint=https://demo.service.signalr.net;AccessKey=${KEY};Version=1.0;`);
    assert.equal(c.endpoint.href, 'https://demo.service.signalr.net/');
    assert.equal(c.serverEndpoint.href, 'https://demo.service.signalr.net/');
    assert.equal(c.clientEndpoint.href, 'https://demo.service.signalr.net/');
    assert.equal(c.accessKey?.reveal(), KEY);
    assert.equal(c.version, '1.0');
  });

  it('is case-insensitive on keys, trims keys and values, splits on the first =, skips empty and =-less entries', () => {
    const c = parseConnectionString(` endpoint = http://localhost/ ;;junk; ACCESSKEY = a=b=c ; vErSiOn=1.1-preview.2;Unknown=x`);
    assert.equal(c.endpoint.href, 'http://localhost/');
    assert.equal(c.accessKey?.reveal(), 'a=b=c');
    assert.equal(c.version, '1.1-preview.2');
  });

  it('trims one trailing slash from a path on Endpoint', () => {
    const c = parseConnectionString(`Endpoint=https://demo.example/signalr/;AccessKey=${KEY}`);
    assert.equal(c.endpoint.pathname, '/signalr');
  });

  it('applies Port to Endpoint for REST and client URLs, not to the explicit endpoints', () => {
    const c = parseConnectionString(`Endpoint=http://localhost;Port=8888;AccessKey=${KEY}`);
    assert.equal(c.endpoint.href, 'http://localhost/');
    assert.equal(c.serverEndpoint.href, 'http://localhost:8888/');
    assert.equal(c.clientEndpoint.href, 'http://localhost:8888/');
  });

  it('honours ServerEndpoint and ClientEndpoint', () => {
    const c = parseConnectionString(
      `Endpoint=https://demo.service.signalr.net;AccessKey=${KEY};ServerEndpoint=http://10.0.0.5:8080/;ClientEndpoint=https://chat.example.com`,
    );
    assert.equal(c.endpoint.host, 'demo.service.signalr.net');
    assert.equal(c.serverEndpoint.href, 'http://10.0.0.5:8080/');
    assert.equal(c.clientEndpoint.href, 'https://chat.example.com/');
  });

  it('requires Endpoint and AccessKey', () => {
    rejects(`AccessKey=${KEY}`, /Endpoint is required/);
    rejects('Endpoint=https://demo.service.signalr.net;Version=1.0', /AccessKey is required/);
    rejects(`Endpoint=https://demo.service.signalr.net;AccessKey=`, /AccessKey is required/);
    rejects('', /Endpoint is required/);
  });

  it('rejects a duplicate key, whatever its case', () => {
    rejects(`Endpoint=https://a.example;AccessKey=${KEY};accesskey=${KEY}`, /AccessKey is given more than once/);
  });

  it('requires absolute http(s) endpoints without credentials, query or fragment', () => {
    rejects(`Endpoint=demo.service.signalr.net;AccessKey=${KEY}`, /Endpoint must be an absolute http or https URL/);
    rejects(`Endpoint=ftp://demo.example;AccessKey=${KEY}`, /Endpoint must be an absolute/);
    rejects(`Endpoint=https://demo.example?x=1;AccessKey=${KEY}`, /Endpoint must not contain/);
    rejects(`Endpoint=https://u:p@demo.example;AccessKey=${KEY}`, /Endpoint must not contain/);
    rejects(`Endpoint=https://a.example;AccessKey=${KEY};ServerEndpoint=/relative`, /ServerEndpoint must be an absolute/);
    rejects(`Endpoint=https://a.example;AccessKey=${KEY};ClientEndpoint=ws://a.example`, /ClientEndpoint must be an absolute/);
  });

  it('checks Version against ^1\\.\\d+(?:[\\w-.]+)?$', () => {
    for (const ok of ['1.0', '1.12', '1.0-preview', '1.0.1_x']) parseConnectionString(`Endpoint=https://a.example;AccessKey=${KEY};Version=${ok}`);
    for (const bad of ['2.0', '1', '1.x', 'v1.0', '1.0 beta']) rejects(`Endpoint=https://a.example;AccessKey=${KEY};Version=${bad}`, /Version must match/);
  });

  it('checks Port is an integer from 1 to 65535', () => {
    for (const bad of ['0', '65536', '-1', '80.5', 'http', '']) rejects(`Endpoint=https://a.example;Port=${bad};AccessKey=${KEY}`, /Port must be an integer/);
    assert.equal(parseConnectionString(`Endpoint=https://a.example;Port=65535;AccessKey=${KEY}`).serverEndpoint.port, '65535');
  });

  it('refuses an unrecognised AuthType (Azure would fall back to the AccessKey) without echoing it', () => {
    rejects(
      `Endpoint=https://a.example;AccessKey=${KEY};AuthType=${KEY}`,
      /AuthType must be one of azure, azure\.app, azure\.msi, aad \(any case\), or left out/,
    );
    rejects(`Endpoint=https://a.example;AccessKey=${KEY};AuthType=azure.mis`, /AuthType must be one of/);
  });
  it('never prints the AccessKey when the result is logged or serialised', () => {
    const c = parseConnectionString(`Endpoint=https://a.example;AccessKey=${KEY}`);
    assert.doesNotMatch(JSON.stringify(c), /S3cr3t/);
    assert.doesNotMatch(inspect(c, { depth: 5 }), /S3cr3t/);
    // eslint-disable-next-line @typescript-eslint/restrict-template-expressions -- the point: a Secret redacts itself in a template
    assert.doesNotMatch(`${c.accessKey}`, /S3cr3t/);
  });
});

const SECRET = 'S3cr3tClientSecret~0123456789';
const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const CLIENT = '00000000-0000-0000-0000-0000000000a1';
const ENDPOINT = 'Endpoint=https://demo.service.signalr.net;';

describe('parseConnectionString with Microsoft Entra ID (AuthType)', () => {
  const entraOf = (text: string): unknown => parseConnectionString(text).entra;

  it('azure: DefaultAzureCredential; a ClientId selects a user-assigned managed identity', () => {
    assert.deepEqual(entraOf(`${ENDPOINT}AuthType=azure;Version=1.0`), { kind: 'default', managedIdentityClientId: undefined });
    assert.deepEqual(entraOf(`${ENDPOINT}AuthType=Azure;ClientId=${CLIENT}`), { kind: 'default', managedIdentityClientId: CLIENT });
  });

  it('azure.msi: ManagedIdentityCredential, system-assigned or user-assigned by ClientId', () => {
    assert.deepEqual(entraOf(`${ENDPOINT}AuthType=azure.msi`), { kind: 'managed-identity', clientId: undefined });
    assert.deepEqual(entraOf(`${ENDPOINT}AUTHTYPE=AZURE.MSI;clientid=${CLIENT}`), { kind: 'managed-identity', clientId: CLIENT });
  });

  it('azure.app: ClientSecretCredential or ClientCertificateCredential (ClientCert, or ClientCertPath as Learn names it)', () => {
    const secret = parseConnectionString(`${ENDPOINT}AuthType=azure.app;ClientId=${CLIENT};TenantId=${TENANT};ClientSecret=${SECRET};Version=1.0;`);
    assert.equal(secret.accessKey, undefined);
    assert.ok(secret.entra?.kind === 'client-secret');
    assert.deepEqual([secret.entra.tenantId, secret.entra.clientId, secret.entra.clientSecret.reveal()], [TENANT, CLIENT, SECRET]);
    for (const key of ['ClientCert', 'clientCertPath']) {
      assert.deepEqual(entraOf(`${ENDPOINT}AuthType=azure.app;ClientId=${CLIENT};TenantId=${TENANT};${key}=/etc/gateway/app.pem`), {
        kind: 'client-certificate',
        tenantId: TENANT,
        clientId: CLIENT,
        certificatePath: '/etc/gateway/app.pem',
      });
    }
  });

  it('azure.app: requires ClientId, TenantId and exactly one of ClientSecret and ClientCert', () => {
    rejects(`${ENDPOINT}AuthType=azure.app;TenantId=${TENANT};ClientSecret=${SECRET}`, /^ClientId is required with AuthType=azure\.app\.$/);
    rejects(`${ENDPOINT}AuthType=azure.app;ClientId=${CLIENT};ClientSecret=${SECRET}`, /^TenantId is required with AuthType=azure\.app\.$/);
    rejects(
      `${ENDPOINT}AuthType=azure.app;ClientId=${CLIENT};TenantId=${TENANT}`,
      /^ClientSecret or ClientCert \(a PEM file path\) is required with AuthType=azure\.app\.$/,
    );
    rejects(`${ENDPOINT}AuthType=azure.app;ClientId=${CLIENT};TenantId=${TENANT};ClientSecret=`, /ClientSecret or ClientCert .* is required/);
    rejects(
      `${ENDPOINT}AuthType=azure.app;ClientId=${CLIENT};TenantId=${TENANT};ClientSecret=${SECRET};ClientCertPath=/a.pem`,
      /^Give ClientSecret or ClientCertPath with AuthType=azure\.app, not both\.$/,
    );
    rejects(
      `${ENDPOINT}AuthType=azure.app;ClientId=${CLIENT};TenantId=${TENANT};ClientCert=/a.pem;ClientCertPath=/a.pem`,
      /ClientCert and ClientCertPath name the same/,
    );
  });

  it('aad (legacy): an application with TenantId, else a managed identity, user-assigned with a ClientId', () => {
    assert.equal(parseConnectionString(`${ENDPOINT}AuthType=aad;ClientId=${CLIENT};TenantId=${TENANT};ClientSecret=${SECRET}`).entra?.kind, 'client-secret');
    assert.equal(parseConnectionString(`${ENDPOINT}AuthType=aad;ClientId=${CLIENT};TenantId=${TENANT};ClientCert=/a.pem`).entra?.kind, 'client-certificate');
    assert.deepEqual(entraOf(`${ENDPOINT}AuthType=aad;ClientId=${CLIENT}`), { kind: 'managed-identity', clientId: CLIENT });
    assert.deepEqual(entraOf(`${ENDPOINT}AuthType=aad`), { kind: 'managed-identity', clientId: undefined });
    rejects(`${ENDPOINT}AuthType=aad;ClientId=${CLIENT};ClientSecret=${SECRET}`, /^TenantId is required with AuthType=aad\.$/);
    rejects(`${ENDPOINT}AuthType=aad;TenantId=${TENANT}`, /^ClientId is required with AuthType=aad\.$/);
  });

  it('refuses a key the AuthType would ignore, the AccessKey first', () => {
    rejects(`${ENDPOINT}AuthType=azure.msi;AccessKey=${KEY}`, /^AccessKey is not used with AuthType=azure\.msi; remove it\.$/);
    rejects(`${ENDPOINT}AuthType=azure.msi;ClientSecret=${SECRET}`, /^ClientSecret is not used with AuthType=azure\.msi/);
    rejects(`${ENDPOINT}AuthType=azure;TenantId=${TENANT}`, /^TenantId is not used with AuthType=azure;/);
    rejects(`${ENDPOINT}AuthType=azure;ClientCert=/a.pem`, /^ClientCert is not used with AuthType=azure;/);
  });

  it('keeps the endpoint rules: Endpoint required, Port, ServerEndpoint and ClientEndpoint honoured', () => {
    rejects(`AuthType=azure.msi;ClientId=${CLIENT}`, /Endpoint is required/);
    const c = parseConnectionString(`Endpoint=http://localhost;Port=8080;AuthType=azure.msi;ClientEndpoint=https://chat.example.com`);
    assert.equal(c.serverEndpoint.href, 'http://localhost:8080/');
    assert.equal(c.clientEndpoint.href, 'https://chat.example.com/');
  });

  it('never prints the ClientSecret: not in errors, logs or JSON', () => {
    const c = parseConnectionString(`${ENDPOINT}AuthType=azure.app;ClientId=${CLIENT};TenantId=${TENANT};ClientSecret=${SECRET}`);
    assert.doesNotMatch(JSON.stringify(c), /S3cr3t/);
    assert.doesNotMatch(inspect(c, { depth: 5 }), /S3cr3t/);
    assert.throws(
      () => SignalRConfig.fromEnv({ SIGNALR_CONNECTION_STRING: `${ENDPOINT}AuthType=azure.app;ClientId=${CLIENT};ClientSecret=${SECRET}` }),
      (error: unknown) =>
        error instanceof ConfigError && /SIGNALR_CONNECTION_STRING: TenantId is required/.test(error.message) && !error.message.includes('S3cr3t'),
    );
  });
});

describe('EntraConfig.fromEnv', () => {
  it("defaults to @azure/identity's authority with instance discovery on", () => {
    const config = EntraConfig.fromEnv({});
    assert.deepEqual({ ...config }, { authorityHost: undefined, disableInstanceDiscovery: false });
  });

  it('reads an https authority and the instance-discovery switch, refusing anything else', () => {
    const config = EntraConfig.fromEnv({ AZURE_AUTHORITY_HOST: 'https://login.example.test:8443', SIGNALR_ENTRA_DISABLE_INSTANCE_DISCOVERY: 'true' });
    assert.deepEqual({ ...config }, { authorityHost: 'https://login.example.test:8443', disableInstanceDiscovery: true });
    assert.throws(() => EntraConfig.fromEnv({ AZURE_AUTHORITY_HOST: 'http://login.example.test' }), /AZURE_AUTHORITY_HOST: must be the https URL/);
    assert.throws(
      () => EntraConfig.fromEnv({ SIGNALR_ENTRA_DISABLE_INSTANCE_DISCOVERY: 'yes' }),
      /SIGNALR_ENTRA_DISABLE_INSTANCE_DISCOVERY: must be true or false/,
    );
  });
});

describe('SignalRConfig.fromEnv', () => {
  it('applies defaults', () => {
    const config = SignalRConfig.fromEnv({ SIGNALR_CONNECTION_STRING: `Endpoint=https://a.example;AccessKey=${KEY}` });
    assert.equal(config.timeoutMs, 10_000);
    assert.equal(config.tokenLifetimeSeconds, 3600);
    assert.deepEqual(
      config.endpoints.map(({ name, type, connection }) => [name, type, connection.endpoint.host]),
      [['default', 'primary', 'a.example']],
    );
  });

  it('reads and validates the numbers', () => {
    const config = SignalRConfig.fromEnv({
      SIGNALR_CONNECTION_STRING: `Endpoint=https://a.example;AccessKey=${KEY}`,
      UPSTREAM_TIMEOUT_MS: '2500',
      SIGNALR_TOKEN_LIFETIME_S: '600',
    });
    assert.equal(config.timeoutMs, 2500);
    assert.equal(config.tokenLifetimeSeconds, 600);
    assert.throws(
      () => SignalRConfig.fromEnv({ SIGNALR_CONNECTION_STRING: `Endpoint=https://a.example;AccessKey=${KEY}`, UPSTREAM_TIMEOUT_MS: 'soon' }),
      /UPSTREAM_TIMEOUT_MS/,
    );
    assert.throws(
      () => SignalRConfig.fromEnv({ SIGNALR_CONNECTION_STRING: `Endpoint=https://a.example;AccessKey=${KEY}`, SIGNALR_TOKEN_LIFETIME_S: '5' }),
      /SIGNALR_TOKEN_LIFETIME_S/,
    );
  });

  it('retries nothing by default, each attempt having the whole deadline', () => {
    const config = SignalRConfig.fromEnv({ SIGNALR_CONNECTION_STRING: `Endpoint=https://a.example;AccessKey=${KEY}`, UPSTREAM_TIMEOUT_MS: '4000' });
    assert.deepEqual(config.retry, { maxRetries: 0, attemptTimeoutMs: 4000, delayMs: 200, maxDelayMs: 2000 });
  });

  it('reads and validates the retry settings; an attempt may not outlast the deadline', () => {
    const env = { SIGNALR_CONNECTION_STRING: `Endpoint=https://a.example;AccessKey=${KEY}`, UPSTREAM_TIMEOUT_MS: '4000' };
    const config = SignalRConfig.fromEnv({
      ...env,
      UPSTREAM_MAX_RETRIES: '3',
      UPSTREAM_ATTEMPT_TIMEOUT_MS: '1000',
      UPSTREAM_RETRY_DELAY_MS: '50',
      UPSTREAM_RETRY_MAX_DELAY_MS: '400',
    });
    assert.deepEqual(config.retry, { maxRetries: 3, attemptTimeoutMs: 1000, delayMs: 50, maxDelayMs: 400 });
    assert.throws(
      () => SignalRConfig.fromEnv({ ...env, UPSTREAM_ATTEMPT_TIMEOUT_MS: '4001' }),
      /UPSTREAM_ATTEMPT_TIMEOUT_MS: must not exceed UPSTREAM_TIMEOUT_MS/,
    );
    assert.throws(() => SignalRConfig.fromEnv({ ...env, UPSTREAM_MAX_RETRIES: '-1' }), /UPSTREAM_MAX_RETRIES/);
    assert.throws(() => SignalRConfig.fromEnv({ ...env, UPSTREAM_MAX_RETRIES: '11' }), /UPSTREAM_MAX_RETRIES/);
    assert.throws(() => SignalRConfig.fromEnv({ ...env, UPSTREAM_RETRY_DELAY_MS: 'soon' }), /UPSTREAM_RETRY_DELAY_MS/);
  });

  it('fails fast with a readable ConfigError when the connection string is missing or bad, never echoing it', () => {
    assert.throws(
      () => SignalRConfig.fromEnv({}),
      (error: unknown) => error instanceof ConfigError && /SIGNALR_CONNECTION_STRING: is required/.test(error.message),
    );
    assert.throws(() => SignalRConfig.fromEnv({ SIGNALR_CONNECTION_STRING: '' }), ConfigError);
    assert.throws(
      () => SignalRConfig.fromEnv({ SIGNALR_CONNECTION_STRING: `Endpoint=https://a.example,AccessKey=${KEY}` }),
      (error: unknown) =>
        error instanceof ConfigError && /SIGNALR_CONNECTION_STRING: AccessKey is required/.test(error.message) && !error.message.includes('S3cr3t'),
    );
  });
});
