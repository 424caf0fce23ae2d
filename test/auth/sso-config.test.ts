import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load-config.js';
import { SsoConfig } from '../../src/config/sso.config.js';
import { ConfigError } from '../../src/config/validate-env.js';

const base = { SSO_ISSUER: 'https://sso.example.com', SSO_AUDIENCE: 'api://signalr-gateway' };

describe('SsoConfig', () => {
  it('has the documented defaults', () => {
    const config = SsoConfig.fromEnv(base);
    assert.deepEqual(config.algorithms, ['RS256', 'PS256', 'ES256', 'EdDSA']);
    assert.equal(config.clockToleranceSeconds, 30);
    assert.equal(config.userClaim, 'sub');
    assert.equal(config.jwksUri, undefined);
  });

  it('never accepts HS* or none as algorithms', () => {
    for (const algorithms of ['HS256', 'RS256,none', 'RS256, HS512']) {
      assert.throws(
        () => SsoConfig.fromEnv({ ...base, SSO_ALGORITHMS: algorithms }),
        (error: Error) => error instanceof ConfigError && /SSO_ALGORITHMS/.test(error.message),
      );
    }
    assert.deepEqual(SsoConfig.fromEnv({ ...base, SSO_ALGORITHMS: 'ES256, PS256' }).algorithms, ['ES256', 'PS256']);
  });

  it('requires SSO_AUDIENCE with SSO_ISSUER, and an issuer URL', () => {
    assert.throws(() => SsoConfig.fromEnv({ SSO_ISSUER: base.SSO_ISSUER }), /SSO_AUDIENCE: is required when SSO_ISSUER is set/);
    assert.throws(() => SsoConfig.fromEnv({ ...base, SSO_ISSUER: 'not a url' }), /SSO_ISSUER: must be the http or https URL/);
  });

  it('requires SSO_ISSUER in production (elsewhere the development issuer stands in) and trusts only https there', () => {
    const production = { NODE_ENV: 'production', SSO_AUDIENCE: 'api://gateway', SIGNALR_CONNECTION_STRING: 'Endpoint=https://a.example;AccessKey=k' };
    assert.throws(() => loadConfig(production), /SSO_ISSUER: required when NODE_ENV=production/);
    assert.equal(loadConfig({ SSO_AUDIENCE: 'x' }).sso.issuer, 'http://127.0.0.1:3001');
    assert.throws(() => loadConfig({ ...production, SSO_ISSUER: 'http://sso.example.com' }), /SSO_ISSUER: must be https/);
    assert.throws(
      () => loadConfig({ ...production, SSO_ISSUER: 'https://sso.example.com', SSO_JWKS_URI: 'http://sso.example.com/keys' }),
      /SSO_JWKS_URI: must be https/,
    );
    assert.equal(loadConfig({ ...production, SSO_ISSUER: 'https://sso.example.com' }).sso.issuer, 'https://sso.example.com');
  });
});
