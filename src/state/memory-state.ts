import type { Rate } from '../config/state.config.js';
import { gcra, SharedState, type RateDecision } from './shared-state.js';

interface Entry {
  value: string;
  expiresAt: number;
}

/**
 * The state of one replica, in this process: every operation is synchronous, so nothing interleaves. Bounded: at
 * `maxEntries`, expired entries are swept, then the oldest written go until a tenth is free (an evicted idempotency
 * record can run again; an evicted budget starts full). Gone with the process.
 */
export class MemoryState extends SharedState {
  readonly kind = 'memory';
  readonly #entries = new Map<string, Entry>();

  constructor(
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
  ) {
    super();
  }

  /** Entries held now, expired ones included until swept (for tests of the bound). */
  get size(): number {
    return this.#entries.size;
  }

  putIfAbsent(key: string, value: string, ttlMs: number): Promise<string | undefined> {
    const current = this.#get(key);
    if (current !== undefined) return Promise.resolve(current);
    this.#set(key, value, ttlMs);
    return Promise.resolve(undefined);
  }

  replaceIf(key: string, expected: string, value: string, ttlMs: number): Promise<boolean> {
    if (this.#get(key) !== expected) return Promise.resolve(false);
    this.#set(key, value, ttlMs);
    return Promise.resolve(true);
  }

  deleteIf(key: string, expected: string): Promise<boolean> {
    return Promise.resolve(this.#get(key) === expected && this.#entries.delete(key));
  }

  consume(key: string, cost: number, rate: Rate): Promise<RateDecision> {
    const nowUs = this.now() * 1000;
    const stored = this.#get(key);
    const { decision, tat } = gcra(stored === undefined ? undefined : Number(stored), nowUs, cost, rate);
    if (tat !== undefined) this.#set(key, String(tat), Math.ceil((tat - nowUs) / 1000));
    return Promise.resolve(decision);
  }

  ping(): Promise<void> {
    return Promise.resolve();
  }

  #get(key: string): string | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt > this.now()) return entry.value;
    this.#entries.delete(key);
    return undefined;
  }

  #set(key: string, value: string, ttlMs: number): void {
    // Deleted first, so that the Map's order stays the order of the last writes and the oldest are evicted first.
    this.#entries.delete(key);
    if (this.#entries.size >= this.maxEntries) this.#makeRoom();
    this.#entries.set(key, { value, expiresAt: this.now() + ttlMs });
  }

  #makeRoom(): void {
    const now = this.now();
    for (const [key, entry] of this.#entries) if (entry.expiresAt <= now) this.#entries.delete(key);
    const target = Math.floor(this.maxEntries * 0.9);
    for (const key of this.#entries.keys()) {
      if (this.#entries.size <= target) break;
      this.#entries.delete(key);
    }
  }
}
