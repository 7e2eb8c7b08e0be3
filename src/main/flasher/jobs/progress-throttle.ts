/**
 * Rate limit for `flash.progress` notifications (task: at most 10 per second per job). esptool-js
 * reports every block and the STM32 client every 256 bytes; a dashboard needs a smooth bar, not
 * every step. Pure: the caller passes the clock.
 *
 * The first and the last update (bytes === total) always pass, so a bar never stops short of 100 %.
 */
export const DEFAULT_PROGRESS_INTERVAL_MS = 100;

export class ProgressThrottle {
  private readonly last = new Map<string, number>();

  constructor(private readonly intervalMs = DEFAULT_PROGRESS_INTERVAL_MS) {}

  /** Should this update of `key` go out now? Records it if so. */
  take(key: string, now: number, bytes: number, total: number): boolean {
    const prev = this.last.get(key);
    const complete = total > 0 && bytes >= total;
    if (prev !== undefined && !complete && now - prev < this.intervalMs) return false;
    this.last.set(key, now);
    return true;
  }

  /** Forgets a finished job. */
  forget(key: string): void {
    this.last.delete(key);
  }

  get size(): number {
    return this.last.size;
  }
}
