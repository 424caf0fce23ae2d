import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
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
    assert.equal(c.accessKey.reveal(), KEY);
    assert.equal(c.version, '1.0');
  });

  it('is case-insensitive on keys, trims keys and values, splits on the first =, skips empty and =-less entries', () => {
    const c = parseConnectionString(` endpoint = http://localhost/ ;;junk; ACCESSKEY = a=b=c ; vErSiOn=1.1-preview.2;Unknown=x`);
    assert.equal(c.endpoint.href, 'http://localhost/');
    assert.equal(c.accessKey.reveal(), 'a=b=c');
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

  it('names an Entra ID AuthType it does not support, and refuses unrecognised ones without echoing them', () => {
    rejects(`Endpoint=https://a.example;AuthType=Azure.Msi;ClientId=x`, /AuthType=azure\.msi \(Microsoft Entra ID\) is not supported/);
    rejects(`Endpoint=https://a.example;AuthType=aad;AccessKey=${KEY}`, /AuthType=aad/);
    rejects(`Endpoint=https://a.example;AccessKey=${KEY};AuthType=${KEY}`, /AuthType has an unrecognised value/);
  });

  it('never prints the AccessKey when the result is logged or serialised', () => {
    const c = parseConnectionString(`Endpoint=https://a.example;AccessKey=${KEY}`);
    assert.doesNotMatch(JSON.stringify(c), /S3cr3t/);
    assert.doesNotMatch(inspect(c, { depth: 5 }), /S3cr3t/);
    // eslint-disable-next-line @typescript-eslint/restrict-template-expressions -- the point: a Secret redacts itself in a template
    assert.doesNotMatch(`${c.accessKey}`, /S3cr3t/);
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
