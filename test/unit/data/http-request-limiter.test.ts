/** Per-device token bucket and hub-wide in-flight cap of HTTP.Request (PROTOCOL.md 2). */
import { describe, expect, it } from 'vitest';
import { HttpRequestLimiter } from '../../../src/main/data/http-request-limiter';

describe('HttpRequestLimiter', () => {
  it('lets a device spend its burst, then one request per refill interval', () => {
    const l = new HttpRequestLimiter({ requestsPerMinute: 60, burst: 3, maxInFlight: 10 });
    expect([l.take('a', 0), l.take('a', 0), l.take('a', 0)]).toEqual([true, true, true]);
    expect(l.take('a', 0)).toBe(false);
    // Another device has its own bucket.
    expect(l.take('b', 0)).toBe(true);
    // 60/min = one per second: just under a second is not enough, a second is.
    expect(l.take('a', 999)).toBe(false);
    expect(l.take('a', 1000)).toBe(true);
    expect(l.take('a', 1000)).toBe(false);
  });

  it('refills no further than the burst', () => {
    const l = new HttpRequestLimiter({ requestsPerMinute: 60, burst: 2, maxInFlight: 10 });
    expect(l.take('a', 0)).toBe(true);
    const later = 3_600_000;
    expect([l.take('a', later), l.take('a', later), l.take('a', later)]).toEqual([
      true,
      true,
      false,
    ]);
  });

  it('caps requests in flight hub-wide (edge: exactly maxInFlight)', () => {
    const l = new HttpRequestLimiter({ requestsPerMinute: 60, burst: 2, maxInFlight: 2 });
    expect(l.acquire()).toBe(true);
    expect(l.acquire()).toBe(true);
    expect(l.acquire()).toBe(false);
    l.release();
    expect(l.acquire()).toBe(true);
    expect(l.inFlight).toBe(2);
  });
});
