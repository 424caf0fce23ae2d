import { hash } from 'node:crypto';

interface Entry<T> {
  readonly value: T;
  readonly expiresAt: number;
}

/**
 * What was learnt from verifying a token, kept until the token expires so that a caller repeating its token is not
 * verified again. Keyed by the token's SHA-256: the token itself is never kept. Bounded: when full, the entry used
 * least recently goes.
 */
export class VerifiedTokenCache<T> {
  private readonly entries = new Map<string, Entry<T>>();

  constructor(private readonly capacity: number) {}

  /** The value kept for `token`, unless none was or it has expired. */
  get(token: string): T | undefined {
    const key = keyOf(token);
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    // Deleted and set again, so the Map's insertion order is the order of use and the first key the one to evict.
    this.entries.delete(key);
    if (entry.expiresAt <= Date.now()) return undefined;
    this.entries.set(key, entry);
    return entry.value;
  }

  /** Keeps `value` for `token` until `expiresAt` (milliseconds since the epoch). */
  set(token: string, value: T, expiresAt: number): void {
    const key = keyOf(token);
    this.entries.delete(key);
    if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { value, expiresAt });
  }

  delete(token: string): void {
    this.entries.delete(keyOf(token));
  }
}

/** One-shot `hash`: no Hash object per request, unlike `createHash(...).update(...).digest(...)`. */
function keyOf(token: string): string {
  return hash('sha256', token, 'base64url');
}
