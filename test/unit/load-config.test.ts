import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load-config.js';
import { ConfigError } from '../../src/config/validate-env.js';

const CONNECTION_STRING = 'Endpoint=https://a.example;AccessKey=S3cr3tKey;Version=1.0;';
const CONFIGURED = { SIGNALR_CONNECTION_STRING: CONNECTION_STRING, SSO_ISSUER: 'https://sso.example.com', SSO_AUDIENCE: 'api://gateway' };

/** The message of the ConfigError `env` gives. */
function problemsOf(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.message;
  }
  assert.fail('no ConfigError');
}

describe('loadConfig: every config once, every problem at once', () => {
  it('builds every part from one environment', () => {
    const config = loadConfig({ ...CONFIGURED, PORT: '4000', NEGOTIATE_FORWARD_CLAIMS: 'roles' });
    assert.equal(config.server.port, 4000);
    assert.equal(config.signalr.endpoints[0].connection.endpoint.host, 'a.example');
    assert.equal(config.sso.audience, 'api://gateway');
    assert.deepEqual(config.negotiate.forwardClaims, ['roles']);
    assert.deepEqual({ ...config.development }, { emulatorPort: undefined, ssoPort: undefined });
  });

  it('points SignalR and SSO at the embedded parts outside production, when they are unset', () => {
    const config = loadConfig({ EMULATOR_PORT: '9001', DEV_SSO_PORT: '9002' });
    assert.deepEqual({ ...config.development }, { emulatorPort: 9001, ssoPort: 9002 });
    assert.equal(config.signalr.endpoints[0].connection.serverEndpoint.href, 'http://127.0.0.1:9001/');
    assert.equal(config.sso.issuer, 'http://127.0.0.1:9002');
  });

  it('lists every problem in one message, one line per variable naming the rule, never the value', () => {
    const message = problemsOf({ ...CONFIGURED, PORT: 'abc', HOST: '999.1.1.1', UPSTREAM_TIMEOUT_MS: 'S3cr3t', SSO_ALGORITHMS: 'HS256', EMULATOR_PORT: '0' });
    assert.equal(
      message,
      [
        'Invalid configuration:',
        '  - EMULATOR_PORT: must be a whole number from 1 to 65535',
        '  - PORT: must be a whole number from 0 to 65535',
        '  - HOST: must be an IP address (e.g. 127.0.0.1, 0.0.0.0, ::) or a host name',
        '  - UPSTREAM_TIMEOUT_MS: must be a whole number from 1 to 300000',
        '  - SSO_ALGORITHMS: accepts only RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA, Ed25519 (never HS* or none)',
      ].join('\n'),
    );
  });

  it('keeps an idle caller connection open longer than an upstream call may take', () => {
    assert.equal(
      problemsOf({ ...CONFIGURED, HTTP_CONNECTION_TIMEOUT_MS: '10000', UPSTREAM_TIMEOUT_MS: '10000' }),
      'Invalid configuration:\n  - HTTP_CONNECTION_TIMEOUT_MS: must be above UPSTREAM_TIMEOUT_MS (10000), or callers waiting on an upstream call are cut off',
    );
    assert.equal(loadConfig({ ...CONFIGURED, HTTP_CONNECTION_TIMEOUT_MS: '10001', UPSTREAM_TIMEOUT_MS: '10000' }).server.timeouts.connectionMs, 10001);
  });

  it('says SSO_AUDIENCE is required when SSO_ISSUER is set, and nothing about the embedded parts', () => {
    assert.equal(
      problemsOf({ SSO_ISSUER: 'http://127.0.0.1:9000' }),
      "Invalid configuration:\n  - SSO_AUDIENCE: is required when SSO_ISSUER is set (the gateway's identifier at the issuer, the tokens' aud)",
    );
  });

  it('holds the production rules: real upstreams, https keys, each variable named once', () => {
    assert.equal(
      problemsOf({ NODE_ENV: 'production', SSO_JWKS_URI: 'http://sso.example.com/keys' }),
      [
        'Invalid configuration:',
        '  - SIGNALR_CONNECTION_STRING: required when NODE_ENV=production (the embedded emulator and development SSO are for development only)',
        '  - SSO_ISSUER: required when NODE_ENV=production (the embedded emulator and development SSO are for development only)',
        '  - SSO_AUDIENCE: required when NODE_ENV=production (the embedded emulator and development SSO are for development only)',
        '  - SSO_JWKS_URI: must be https:// when NODE_ENV=production',
      ].join('\n'),
    );
    assert.equal(loadConfig({ ...CONFIGURED, NODE_ENV: 'production', EMULATOR_PORT: 'unused' }).server.production, true);
  });
});
