/**
 * Per-device rate limit on incoming frames (issue 7 item 17): two token buckets (frames, bytes)
 * and an abuse streak. Pure: the caller passes the clock, so tests need no timers.
 *
 * - A frame that finds either bucket short is dropped, and the caller is told how long to pause
 *   reading the socket (backpressure: a flooder's frames then wait in TCP buffers instead of
 *   costing the event loop a parse each).
 * - A frame that must pass (a reply to a call of the hub's: OTA.Write acks, FS.Get chunks) takes
 *   what is left in the buckets but never more, so it is counted without being dropped and
 *   without pushing the device into debt for the frames that follow.
 * - Drops no more than `quietMs` apart form a streak; a streak as long as `abuseMs` says
 *   "disconnect". quietMs exceeds the longest pause, so a flooder that is paused between its
 *   drops stays in one streak.
 */
export interface RateLimitOptions {
  /** Refill rates; 0 turns that bucket off. */
  framesPerSecond: number;
  frameBurst: number;
  bytesPerSecond: number;
  byteBurst: number;
  /** A streak of drops this long means disconnect. */
  abuseMs: number;
  /** A gap this long without a drop ends the streak. Default twice maxPauseMs. */
  quietMs?: number;
  /** Longest socket pause asked for. Default 1000 ms (well below a ping interval). */
  maxPauseMs?: number;
}

export type RateVerdict =
  | { kind: 'pass' }
  /** Delivered although over the limit (a reply the hub waits for). */
  | { kind: 'pass_over' }
  /** Dropped; pause reading for pauseMs. `streakStart` true for the first drop of a streak. */
  | { kind: 'drop'; pauseMs: number; streakStart: boolean }
  /** Dropped, and the streak has lasted abuseMs: end the session. */
  | { kind: 'disconnect'; streakMs: number; droppedInStreak: number };

export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly ratePerSecond: number,
    readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.last = now;
  }

  get enabled(): boolean {
    return this.ratePerSecond > 0;
  }

  /** Tokens now (refilled to `now`, capped at the burst). */
  level(now: number): number {
    if (now > this.last) {
      this.tokens = Math.min(
        this.burst,
        this.tokens + ((now - this.last) * this.ratePerSecond) / 1000,
      );
      this.last = now;
    }
    return this.tokens;
  }

  has(cost: number, now: number): boolean {
    return !this.enabled || this.level(now) >= cost;
  }

  /** Takes `cost`, or everything left when that is less (never below zero). */
  take(cost: number, now: number): void {
    if (!this.enabled) return;
    this.tokens = Math.max(0, this.level(now) - cost);
  }

  /** Whether the bucket is full at `now` (off counts as full). */
  full(now: number): boolean {
    return !this.enabled || this.level(now) >= this.burst;
  }

  /** Milliseconds until the bucket holds `want` tokens (0 if it already does). */
  msUntil(want: number, now: number): number {
    if (!this.enabled) return 0;
    const missing = Math.min(want, this.burst) - this.level(now);
    return missing <= 0 ? 0 : Math.ceil((missing * 1000) / this.ratePerSecond);
  }
}

/** Whether any bucket of these options is on (a limiter would check anything). */
export function rateLimitEnabled(o: RateLimitOptions): boolean {
  return o.framesPerSecond > 0 || o.bytesPerSecond > 0;
}

export class DeviceRateLimiter {
  private readonly frames: TokenBucket;
  private readonly bytes: TokenBucket;
  private readonly quietMs: number;
  private readonly maxPauseMs: number;
  private streakStartAt: number | null = null;
  private lastDropAt = 0;
  private droppedInStreak = 0;

  constructor(
    private readonly o: RateLimitOptions,
    now: number,
  ) {
    this.frames = new TokenBucket(o.framesPerSecond, o.frameBurst, now);
    this.bytes = new TokenBucket(o.bytesPerSecond, o.byteBurst, now);
    this.maxPauseMs = o.maxPauseMs ?? 1000;
    this.quietMs = o.quietMs ?? 2 * this.maxPauseMs;
  }

  /**
   * Both buckets full and no streak open: the limiter is in the state a new one starts in, so the
   * session may drop it and build a fresh one at its next frame (issue 11: a fleet at rest holds
   * no limiter per device).
   */
  idleAt(now: number): boolean {
    const streakOpen = this.streakStartAt !== null && now - this.lastDropAt <= this.quietMs;
    return !streakOpen && this.frames.full(now) && this.bytes.full(now);
  }

  /**
   * Whether a frame of `bytes` would pass now, without taking anything. A frame larger than the
   * byte burst passes on a full bucket and empties it, so it still reaches the codec's own size
   * check (and its `too_large` count) instead of being refused forever.
   */
  wouldPass(bytes: number, now: number): boolean {
    return this.frames.has(1, now) && this.bytes.has(Math.min(bytes, this.bytes.burst), now);
  }

  /** Decides on one frame of `bytes`; `mustPass` for replies to the hub's own calls. */
  check(bytes: number, now: number, mustPass = false): RateVerdict {
    const fits = this.wouldPass(bytes, now);
    if (fits || mustPass) {
      // Buckets never go below zero: a reply the hub waited for, or one oversized frame, must
      // not cost the device its next frames too.
      this.frames.take(1, now);
      this.bytes.take(bytes, now);
      return fits ? { kind: 'pass' } : { kind: 'pass_over' };
    }
    const streakStart = this.streakStartAt === null || now - this.lastDropAt > this.quietMs;
    if (streakStart) {
      this.streakStartAt = now;
      this.droppedInStreak = 0;
    }
    this.lastDropAt = now;
    this.droppedInStreak++;
    const streakMs = now - (this.streakStartAt ?? now);
    if (streakMs >= this.o.abuseMs) {
      return { kind: 'disconnect', streakMs, droppedInStreak: this.droppedInStreak };
    }
    // Pause until the buckets are half full again: one read per pause instead of one per frame.
    const wait = Math.max(
      this.frames.msUntil(this.frames.burst / 2, now),
      this.bytes.msUntil(Math.max(bytes, this.bytes.burst / 2), now),
    );
    return { kind: 'drop', pauseMs: Math.min(this.maxPauseMs, Math.max(1, wait)), streakStart };
  }
}
