import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { Strategy } from 'passport-custom';
import { invalidToken, ssoUnavailable } from './auth.problems.js';
import { bearerToken } from './bearer-token.js';
import { SsoUnavailable } from './sso-key-set.js';
import { TokenRejected, TokenVerifier, type Principal } from './token-verifier.js';

export const SSO_STRATEGY = 'sso';

/**
 * Passport's view of the SSO: the request's bearer token, verified, as the principal; the verifier's refusals as
 * 401/503 problems. Stateless (no session, no logIn: Passport's session half is Express-only).
 */
@Injectable()
export class SsoStrategy extends PassportStrategy(Strategy, SSO_STRATEGY) {
  constructor(private readonly verifier: TokenVerifier) {
    super();
  }

  async validate(request: FastifyRequest): Promise<Principal> {
    const token = bearerToken(request);
    try {
      return await this.verifier.verify(token);
    } catch (error) {
      if (error instanceof TokenRejected) throw invalidToken(error.description);
      if (error instanceof SsoUnavailable) throw ssoUnavailable();
      throw error;
    }
  }
}
