/**
 * Reconnect back-off as Mongoose OS does it for its dash connection: wait 1 s after the first
 * failure, double on each further failure up to 60 s, start over after a session that opened.
 * Optional jitter (a fraction of each delay taken off at random) spreads a fleet's reconnects
 * after a hub restart; it is 0 by default so timing stays exactly as firmware does it.
 */
import type { Prng } from './prng';

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** 0..1: each delay is reduced by up to this fraction. Default 0. */
  jitter?: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 1000, maxMs: 60_000 };

export class Backoff {
  private current: number;

  constructor(
    private readonly opts: BackoffOptions,
    private readonly prng?: Prng,
  ) {
    if (!(opts.initialMs > 0) || !(opts.maxMs >= opts.initialMs)) {
      throw new RangeError('back-off needs 0 < initialMs <= maxMs');
    }
    this.current = opts.initialMs;
  }

  /** The delay before the next attempt; each call doubles the one after it. */
  next(): number {
    const base = this.current;
    this.current = Math.min(this.current * 2, this.opts.maxMs);
    const jitter = Math.min(Math.max(this.opts.jitter ?? 0, 0), 1);
    if (jitter === 0 || this.prng === undefined) return base;
    return Math.round(base * (1 - jitter * this.prng.next()));
  }

  reset(): void {
    this.current = this.opts.initialMs;
  }
}
