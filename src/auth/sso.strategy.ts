import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { Strategy } from 'passport-custom';
import { invalidRequest, invalidToken, missingToken, ssoUnavailable } from './auth.problems.js';
import { SsoUnavailable, TokenRejected, TokenVerifier, type Principal } from './token-verifier.js';

export const SSO_STRATEGY = 'sso';

/** `Bearer <token>` with a token in RFC 6750's b64token syntax. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

/**
 * Stateless bearer-token authentication (no session, no logIn: Passport's session half is Express-only).
 * Reads only the Authorization header; a token in the query string is refused, never looked at.
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

function bearerToken(request: FastifyRequest): string {
  // Node keeps only the first of repeated Authorization headers; a second one means a confused or crafted request.
  if (request.raw.rawHeaders.filter((name, index) => index % 2 === 0 && /^authorization$/i.test(name)).length > 1) {
    throw invalidRequest('Send exactly one Authorization header.');
  }
  if (new URLSearchParams(request.url.split('?')[1] ?? '').has('access_token')) {
    throw invalidRequest('Tokens in the query string are not accepted; send an Authorization: Bearer header.');
  }
  const header = request.headers.authorization;
  if (header === undefined) throw missingToken();
  const match = BEARER.exec(header);
  if (!match) {
    throw /^Bearer(\s|$)/i.test(header) ? invalidToken('The token is not a well-formed signed JWT.') : missingToken();
  }
  return match[1];
}
