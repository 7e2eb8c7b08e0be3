import { describe, expect, it } from 'vitest';
import {
  DeviceRateLimiter,
  TokenBucket,
  type RateLimitOptions,
} from '../../../src/main/gateway/rate-limiter';

const OPTS: RateLimitOptions = {
  framesPerSecond: 100,
  frameBurst: 200,
  bytesPerSecond: 10_000,
  byteBurst: 20_000,
  abuseMs: 5_000,
};

/** Sends `n` frames of `bytes` at time `now`; returns the verdict kinds by count. */
function burst(
  l: DeviceRateLimiter,
  n: number,
  bytes: number,
  now: number,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const k = l.check(bytes, now).kind;
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

describe('TokenBucket', () => {
  it('starts full, refills at its rate, never above the burst', () => {
    const b = new TokenBucket(100, 200, 0);
    expect(b.level(0)).toBe(200);
    b.take(200, 0);
    expect(b.level(0)).toBe(0);
    expect(b.level(500)).toBe(50);
    expect(b.level(10_000)).toBe(200);
  });

  it('says how long until it holds enough', () => {
    const b = new TokenBucket(100, 200, 0);
    b.take(200, 0);
    expect(b.msUntil(1, 0)).toBe(10);
    expect(b.msUntil(100, 0)).toBe(1000);
    expect(b.msUntil(1000, 0)).toBe(2000); // capped at the burst
  });

  it('rate 0 is off: always has room', () => {
    const b = new TokenBucket(0, 0, 0);
    expect(b.enabled).toBe(false);
    expect(b.has(1e9, 0)).toBe(true);
  });
});

describe('DeviceRateLimiter', () => {
  it('passes the burst, then exactly the refill rate (frames at the edge)', () => {
    const l = new DeviceRateLimiter(OPTS, 0);
    expect(burst(l, 200, 10, 0)).toEqual({ pass: 200 });
    expect(l.check(10, 0).kind).toBe('drop');
    // 1 s later: 100 more frames, the 101st is dropped.
    expect(burst(l, 101, 10, 1000)).toEqual({ pass: 100, drop: 1 });
  });

  it('limits bytes as well as frames', () => {
    const l = new DeviceRateLimiter(OPTS, 0);
    // 20 frames of 1,000 bytes fill the 20,000-byte burst; the 21st is dropped.
    expect(burst(l, 21, 1000, 0)).toEqual({ pass: 20, drop: 1 });
    expect(burst(l, 11, 1000, 1000)).toEqual({ pass: 10, drop: 1 });
  });

  it('lets one frame larger than the byte burst through on a full bucket, which it empties', () => {
    const l = new DeviceRateLimiter(OPTS, 0);
    expect(l.check(50_000, 0).kind).toBe('pass');
    expect(l.check(100, 0).kind).toBe('drop');
    expect(l.check(100, 10).kind).toBe('pass');
    expect(l.check(50_000, 1000).kind).toBe('drop');
    expect(l.check(50_000, 2100).kind).toBe('pass');
  });

  it('never drops a frame that must pass, and does not put the device into debt for it', () => {
    const l = new DeviceRateLimiter(OPTS, 0);
    burst(l, 200, 10, 0);
    expect(l.check(10, 0).kind).toBe('drop');
    expect(l.check(4000, 0, true).kind).toBe('pass_over');
    // The budget is at zero, not below: 10 ms later one token is back.
    expect(l.check(10, 10).kind).toBe('pass');
  });

  it('asks for a pause until the buckets are half full, capped', () => {
    const l = new DeviceRateLimiter({ ...OPTS, maxPauseMs: 300 }, 0);
    burst(l, 200, 10, 0);
    const v = l.check(10, 0);
    expect(v).toEqual({ kind: 'drop', pauseMs: 300, streakStart: true });
    const l2 = new DeviceRateLimiter(OPTS, 0);
    burst(l2, 200, 10, 0);
    expect(l2.check(10, 0)).toEqual({ kind: 'drop', pauseMs: 1000, streakStart: true });
  });

  it('disconnects only after drops sustained for abuseMs, not for a short burst', () => {
    const l = new DeviceRateLimiter(OPTS, 0);
    // A burst over the limit, then quiet: the streak ends, nothing more.
    expect(burst(l, 300, 10, 0)).toEqual({ pass: 200, drop: 100 });
    expect(l.check(10, 3000).kind).toBe('pass');
    // Sustained flooding: 1,000 frames/s for 6 s.
    let first = -1;
    for (let t = 4000; t < 10_000; t += 1) {
      const v = l.check(10, t);
      if (v.kind === 'disconnect') {
        first = t;
        break;
      }
    }
    // Its streak started with the first drop (about 2 s into the burst at 4000 ms).
    expect(first).toBeGreaterThanOrEqual(4000 + 5000);
    expect(first).toBeLessThan(4000 + 5000 + 2000);
  });

  it('a streak survives the pauses it asked for (drops up to 2 pauses apart)', () => {
    const l = new DeviceRateLimiter({ ...OPTS, abuseMs: 3000 }, 0);
    burst(l, 200, 10, 0);
    const kinds: string[] = [];
    // One drop per second (the pause), with the refilled frames passing in between.
    for (let t = 0; t <= 3000; t += 1000) {
      burst(l, t === 0 ? 0 : 100, 10, t);
      kinds.push(l.check(10, t).kind);
    }
    expect(kinds).toEqual(['drop', 'drop', 'drop', 'disconnect']);
  });
});

describe('DeviceRateLimiter.idleAt (issue 11: a quiet device holds no limiter)', () => {
  const o = {
    framesPerSecond: 10,
    frameBurst: 5,
    bytesPerSecond: 1000,
    byteBurst: 500,
    abuseMs: 10_000,
  };

  it('is idle when new, busy after a frame until both buckets are full again', () => {
    const l = new DeviceRateLimiter(o, 0);
    expect(l.idleAt(0)).toBe(true);
    expect(l.check(100, 0).kind).toBe('pass');
    expect(l.idleAt(0)).toBe(false);
    expect(l.idleAt(99)).toBe(false); // one frame token back after 100 ms, bytes after 100 ms
    expect(l.idleAt(100)).toBe(true);
  });

  it('is not idle while a drop streak is open, even with full buckets', () => {
    const l = new DeviceRateLimiter({ ...o, quietMs: 5000 }, 0);
    for (let i = 0; i < 5; i++) l.check(1, 0);
    expect(l.check(1, 0).kind).toBe('drop');
    // Buckets are full again after 500 ms, but the streak lasts until quietMs after the drop.
    expect(l.idleAt(600)).toBe(false);
    expect(l.idleAt(5001)).toBe(true);
  });

  it('a fresh limiter decides like the idle one it replaces', () => {
    const idle = new DeviceRateLimiter(o, 0);
    for (let i = 0; i < 5; i++) idle.check(50, 0);
    expect(idle.idleAt(1000)).toBe(true);
    const fresh = new DeviceRateLimiter(o, 1000);
    for (let i = 0; i < 8; i++) {
      expect(fresh.check(80, 1000).kind).toBe(idle.check(80, 1000).kind);
    }
  });
});
