/**
 * How often and how many HTTP.Request calls the hub makes for devices (PROTOCOL.md 2): a token
 * bucket per device (one device cannot use the hub to hammer a server, nor starve its neighbours)
 * and a hub-wide cap on requests in flight (each holds a socket and up to the response cap in
 * memory). Pure: the clock is passed in.
 */
export interface HttpLimiterOptions {
  requestsPerMinute: number;
  burst: number;
  maxInFlight: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** Buckets kept before full (idle) ones are forgotten: a full bucket is the default state. */
const SWEEP_AT = 10_000;

export class HttpRequestLimiter {
  private readonly buckets = new Map<string, Bucket>();
  inFlight = 0;

  constructor(private readonly opts: HttpLimiterOptions) {}

  /** Takes one token of `device`'s bucket; false when it has none left. */
  take(device: string, nowMs: number): boolean {
    const perMs = this.opts.requestsPerMinute / 60_000;
    const b = this.buckets.get(device) ?? { tokens: this.opts.burst, at: nowMs };
    b.tokens = Math.min(this.opts.burst, b.tokens + (nowMs - b.at) * perMs);
    b.at = nowMs;
    if (b.tokens < 1) {
      this.buckets.set(device, b);
      return false;
    }
    b.tokens -= 1;
    this.buckets.set(device, b);
    if (this.buckets.size > SWEEP_AT) this.sweep(nowMs, perMs);
    return true;
  }

  /** Claims an in-flight slot; false at the cap. Pair with `release()`. */
  acquire(): boolean {
    if (this.inFlight >= this.opts.maxInFlight) return false;
    this.inFlight++;
    return true;
  }

  release(): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
  }

  private sweep(nowMs: number, perMs: number): void {
    for (const [id, b] of this.buckets) {
      if (b.tokens + (nowMs - b.at) * perMs >= this.opts.burst) this.buckets.delete(id);
    }
  }
}
