import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { SsoAuthGuard } from './auth.guard.js';
import { SsoDiscovery } from './sso-discovery.js';
import { SsoKeySet } from './sso-key-set.js';
import { TokenVerifier } from './token-verifier.js';

/** Company SSO: every route is closed unless declared otherwise (see auth.decorators.ts). */
@Module({
  providers: [SsoDiscovery, SsoKeySet, TokenVerifier, { provide: APP_GUARD, useClass: SsoAuthGuard }],
  // Discovery for Swagger UI's Authorize button, the key set for readiness.
  exports: [SsoDiscovery, SsoKeySet],
})
export class AuthModule {}
