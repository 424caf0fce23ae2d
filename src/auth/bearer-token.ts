import type { FastifyRequest } from 'fastify';
import { invalidRequest, invalidToken, missingToken } from './auth.problems.js';

/** `Bearer <token>` with a token in RFC 6750's b64token syntax. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;
const AUTHORIZATION = 'authorization';

/**
 * The request's bearer token, read from its one Authorization header only: a token in the query string is refused,
 * never looked at. Throws the 401 problem that tells the caller what to send instead.
 */
export function bearerToken(request: FastifyRequest): string {
  // Node keeps only the first of repeated Authorization headers; a second one means a confused or crafted request.
  const raw = request.raw.rawHeaders;
  let authorizations = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i].length === AUTHORIZATION.length && raw[i].toLowerCase() === AUTHORIZATION) authorizations += 1;
  if (authorizations > 1) throw invalidRequest('Send exactly one Authorization header.');
  const query = request.url.indexOf('?');
  if (query !== -1 && new URLSearchParams(request.url.slice(query + 1)).has('access_token')) {
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
