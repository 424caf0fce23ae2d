import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
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

  it('requires SSO_ISSUER and SSO_AUDIENCE, saying so for production', () => {
    assert.throws(() => SsoConfig.fromEnv({ NODE_ENV: 'production', SSO_AUDIENCE: 'x' }), /SSO_ISSUER: required in production/);
    assert.throws(() => SsoConfig.fromEnv({ SSO_AUDIENCE: 'x' }), /development issuer/);
    assert.throws(() => SsoConfig.fromEnv({ SSO_ISSUER: base.SSO_ISSUER }), /SSO_AUDIENCE/);
    assert.throws(() => SsoConfig.fromEnv({ ...base, SSO_ISSUER: 'not a url' }), /SSO_ISSUER/);
  });

  it('trusts only an https issuer and key set in production', () => {
    const production = { NODE_ENV: 'production', SSO_AUDIENCE: 'api://gateway' };
    assert.throws(() => SsoConfig.fromEnv({ ...production, SSO_ISSUER: 'http://sso.example.com' }), /must be https/);
    assert.throws(
      () => SsoConfig.fromEnv({ ...production, SSO_ISSUER: 'https://sso.example.com', SSO_JWKS_URI: 'http://sso.example.com/keys' }),
      /must be https/,
    );
    assert.equal(SsoConfig.fromEnv({ ...production, SSO_ISSUER: 'https://sso.example.com' }).issuer, 'https://sso.example.com');
  });
});
