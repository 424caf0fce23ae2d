const FIRST_DELAY_MS = 250;
const LONGEST_DELAY_MS = 30_000;

/**
 * Runs `attempt` until it succeeds once: now, and after each failure again after a wait that doubles from 250 ms up
 * to 30 s. The attempt runs one at a time; asking for it while it runs waits for that run instead of starting another.
 */
export class BackgroundRetry {
  private running?: Promise<void>;
  private timer?: NodeJS.Timeout;
  private delayMs = FIRST_DELAY_MS;
  private done = false;
  private stopped = false;

  constructor(
    private readonly attempt: () => Promise<void>,
    private readonly onFailure: (error: unknown, retryInMs: number) => void,
  ) {}

  /** Attempts now, unless it already succeeded or was stopped; resolves when that attempt has ended, never rejects. */
  runNow(): Promise<void> {
    if (this.done || this.stopped) return Promise.resolve();
    this.running ??= this.run().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private async run(): Promise<void> {
    clearTimeout(this.timer);
    try {
      await this.attempt();
      this.done = true;
    } catch (error) {
      this.onFailure(error, this.delayMs);
      // unref: a pending retry never keeps the process alive.
      if (!this.stopped) this.timer = setTimeout(() => void this.runNow(), this.delayMs).unref();
      this.delayMs = Math.min(this.delayMs * 2, LONGEST_DELAY_MS);
    }
  }
}
