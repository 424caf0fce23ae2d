import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { randomBytes } from 'node:crypto';
import { CLOCK_TOLERANCE_SECONDS, type RestAuthentication, type SigningKeyOf } from './auth.js';

/** Entra mode: the REST API trusts Microsoft Entra ID access tokens instead of the AccessKey (Azure's `disableLocalAuth`). */
export interface EntraOptions {
  /** The OpenID issuer whose tokens are trusted, e.g. `https://login.microsoftonline.com/<tenant>/v2.0`: its `iss` exactly. */
  issuer: string;
  /** The `aud` required of those tokens (default `https://signalr.azure.com`, the resource of scope `https://signalr.azure.com/.default`). */
  audience?: string;
  /** A new temporary access key this often (default 60 minutes; Azure's SDK fetches one every 55). */
  keyRotationMs?: number;
  /** A key replaced by a newer one still verifies client tokens this long (default 60 minutes), as Azure's keep working. */
  keyOverlapMs?: number;
}

export const SIGNALR_RESOURCE = 'https://signalr.azure.com';

/**
 * Verifies Entra access tokens: RS256 only, signed by a key of the issuer's JWKS (found by OpenID discovery, then cached
 * and refreshed by jose when an unknown `kid` arrives), with the issuer and audience required, not expired.
 */
export function entraAuthentication(options: EntraOptions, onDiscoveryFailure: (error: Error) => void): RestAuthentication {
  const audience = options.audience ?? SIGNALR_RESOURCE;
  let keys: Promise<JWTVerifyGetKey> | undefined;

  // Node's fetch, so NODE_EXTRA_CA_CERTS applies to a private issuer's TLS; a failed discovery is tried again on the next call.
  const discover = async (): Promise<JWTVerifyGetKey> => {
    const response = await fetch(`${options.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(10_000) });
    if (!response.ok) throw new Error(`OpenID discovery of ${options.issuer} answered ${response.status}.`);
    const metadata = (await response.json()) as { issuer?: unknown; jwks_uri?: unknown };
    if (metadata.issuer !== options.issuer) throw new Error(`OpenID discovery of ${options.issuer} names another issuer.`);
    if (typeof metadata.jwks_uri !== 'string') throw new Error(`OpenID discovery of ${options.issuer} has no jwks_uri.`);
    return createRemoteJWKSet(new URL(metadata.jwks_uri));
  };

  return async (token) => {
    if (!token) return undefined;
    keys ??= discover().catch((error: Error) => {
      keys = undefined;
      onDiscoveryFailure(error);
      throw error;
    });
    try {
      const { payload } = await jwtVerify(token, await keys, {
        issuer: options.issuer,
        audience,
        algorithms: ['RS256'],
        requiredClaims: ['exp'],
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
      });
      return payload;
    } catch {
      return undefined;
    }
  };
}

interface TemporaryKey {
  id: string;
  value: string;
  bytes: Uint8Array;
  createdAt: number;
}

/**
 * The temporary access keys of `GET /api/auth/accessKey`: the newest is handed out until it is `rotationMs` old, and
 * each one verifies client tokens (by `kid`) for `overlapMs` more. Time alone decides, so a key expires on schedule
 * whether or not anyone asked for its successor.
 */
export class AccessKeyRing {
  private keys: TemporaryKey[] = [];

  constructor(
    private readonly rotationMs: number,
    private readonly overlapMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The key to sign client tokens with now: `{ KeyId, AccessKey }`, as Azure answers. */
  current(): { KeyId: string; AccessKey: string } {
    const now = this.prune();
    let newest = this.keys.at(-1);
    if (!newest || now - newest.createdAt >= this.rotationMs) {
      const value = randomBytes(32).toString('base64');
      newest = { id: randomBytes(12).toString('base64url'), value, bytes: new TextEncoder().encode(value), createdAt: now };
      this.keys.push(newest);
    }
    return { KeyId: newest.id, AccessKey: newest.value };
  }

  /** The bytes of the key `kid` names while it is valid. */
  readonly keyOf: SigningKeyOf = (kid) => {
    this.prune();
    return this.keys.find((key) => key.id === kid)?.bytes;
  };

  private prune(): number {
    const now = this.now();
    this.keys = this.keys.filter((key) => now - key.createdAt < this.rotationMs + this.overlapMs);
    return now;
  }
}
