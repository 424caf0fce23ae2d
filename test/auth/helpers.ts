import { request as httpRequest } from 'node:http';
import { type JWK, type JWTPayload } from 'jose';
import { createPrivateKey, createPublicKey, createSign } from 'node:crypto';

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One raw HTTP request (node:http, so repeated headers go out as separate lines, as a crafted request would). */
export function call(url: string, method: string, headers: Record<string, string | string[]> = {}, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method }, (res) => {
      let text = '';
      res
        .setEncoding('utf8')
        .on('data', (chunk) => {
          text += chunk;
        })
        .on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
    });
    for (const [name, value] of Object.entries(headers)) req.setHeader(name, value);
    if (body !== undefined) req.setHeader('content-type', 'application/json');
    req.on('error', reject).end(body);
  });
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

const b64 = (value: object | string) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** A compact JWS from parts, without signing (for alg none and tampering). */
export const compact = (header: object, payload: object, signature = '') => `${b64(header)}.${b64(payload)}.${signature}`;

/** Signs `claims` with a private JWK, as an issuer holding it would; any header goes (jose's signer would refuse some). */
export function sign(privateJwk: JWK, claims: JWTPayload, header: Record<string, unknown> = {}): string {
  const unsigned = compact({ alg: 'RS256', typ: 'at+jwt', kid: privateJwk.kid, ...header }, claims).slice(0, -1);
  const signature = createSign('RSA-SHA256')
    .update(unsigned)
    .sign(createPrivateKey({ key: privateJwk as never, format: 'jwk' }));
  return `${unsigned}.${signature.toString('base64url')}`;
}

/** The public half of a private JWK, as PEM: what anyone can read from the JWKS. */
export function publicPem(privateJwk: JWK): string {
  return createPublicKey({ key: privateJwk as never, format: 'jwk' })
    .export({ type: 'spki', format: 'pem' })
    .toString();
}

export const now = () => Math.floor(Date.now() / 1000);

/** Polls `probe` until it returns true or `timeoutMs` passes; the caller asserts the last answer. */
export async function eventually(probe: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe()) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
}
