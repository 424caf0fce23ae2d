import { ProblemException } from '../common/problem.js';
import type { Permission } from './permissions.js';

const REALM = 'realm="signalr-gateway"';

/** 401 without an error code: the request carried no bearer token at all (RFC 6750 §3.1). */
export function missingToken(): ProblemException {
  return new ProblemException({
    status: 401,
    code: 'unauthenticated',
    detail: 'Send an SSO access token in an `Authorization: Bearer` header.',
    headers: { 'www-authenticate': `Bearer ${REALM}` },
  });
}

/** 401 `invalid_request`: credentials sent in a way the API refuses (several headers, a token in the query). */
export function invalidRequest(description: string): ProblemException {
  return new ProblemException({
    status: 401,
    code: 'invalid-request',
    detail: description,
    headers: { 'www-authenticate': `Bearer ${REALM}, error="invalid_request", error_description="${description}"` },
  });
}

/** 401 `invalid_token`: `description` is our own wording, never the token. */
export function invalidToken(description: string): ProblemException {
  return new ProblemException({
    status: 401,
    code: 'invalid-token',
    detail: description,
    headers: { 'www-authenticate': `Bearer ${REALM}, error="invalid_token", error_description="${description}"` },
  });
}

/** 403 `insufficient_scope`, naming the permissions that would do (RFC 6750 `scope`). */
export function insufficientScope(permission: Permission, hub?: string): ProblemException {
  const scope = hub === undefined ? permission : `${permission} ${permission}:${hub.toLowerCase()}`;
  const description = `This route needs the ${permission} permission${hub === undefined ? '' : ` (or ${permission}:${hub.toLowerCase()})`}.`;
  return new ProblemException({
    status: 403,
    code: 'insufficient-scope',
    detail: description,
    headers: { 'www-authenticate': `Bearer ${REALM}, error="insufficient_scope", error_description="${description}", scope="${scope}"` },
  });
}

/** 503: the issuer's keys are not loaded yet, so no token can be judged either way. */
export function ssoUnavailable(): ProblemException {
  return new ProblemException({
    status: 503,
    code: 'sso-unavailable',
    detail: "The SSO issuer's signing keys are not available yet; retry shortly.",
    headers: { 'retry-after': '5' },
  });
}

/** 403 for a route that declares neither a permission nor `Public`/`Authenticated`: deny by default. */
export function undeclaredRoute(): ProblemException {
  return new ProblemException({ status: 403, code: 'route-not-authorized', detail: 'This route declares no permission, so it is closed.' });
}
