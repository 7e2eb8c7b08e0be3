/**
 * Per-client-address rate limit for routes that answer without a key (`/newcustomer`,
 * `/invite`) or do expensive work before knowing the caller (HTTP Basic sign-in: one scrypt
 * each). A token bucket per address; the map is bounded (`maxAddresses`), forgetting the least
 * recently seen address first, so a spray of source addresses cannot grow memory without bound.
 */
import { HubError } from '../../shared/errors';
import { TokenBucket } from '../gateway/rate-limiter';

export class AddressRateLimit {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    private readonly perMinute: number,
    private readonly burst: number,
    private readonly maxAddresses: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes one token for `address`, or throws `rate_limited` (429) with the seconds to wait. */
  take(address: string): void {
    if (this.perMinute <= 0) return;
    const now = this.now();
    let bucket = this.buckets.get(address);
    if (bucket) {
      // Re-insert: Map order is then least recently seen first.
      this.buckets.delete(address);
    } else {
      bucket = new TokenBucket(this.perMinute / 60, this.burst, now);
      while (this.buckets.size >= this.maxAddresses) {
        const oldest = this.buckets.keys().next().value;
        if (oldest === undefined) break;
        this.buckets.delete(oldest);
      }
    }
    this.buckets.set(address, bucket);
    if (!bucket.has(1, now)) {
      const retryAfterS = Math.max(1, Math.ceil(bucket.msUntil(1, now) / 1000));
      throw new HubError('rate_limited', undefined, { retryAfterS });
    }
    bucket.take(1, now);
  }

  get size(): number {
    return this.buckets.size;
  }
}
