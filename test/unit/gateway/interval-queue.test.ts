import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { IntervalQueue, type IntervalMember } from '../../../src/main/gateway/interval-queue';

/** A member that records when it was due and schedules itself again `times` times. */
function member(q: IntervalQueue, log: number[], times = Infinity): IntervalMember {
  let left = times;
  const m: IntervalMember = {
    dueAt: 0,
    prevDue: null,
    nextDue: null,
    onDue() {
      log.push(Date.now());
      if (--left > 0) q.schedule(m);
    },
  };
  return m;
}

describe('IntervalQueue: one clock for every session, each on its own phase', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('each member is due exactly one interval after it was scheduled, whatever its phase', () => {
    const q = new IntervalQueue(200, () => Date.now());
    const a: number[] = [];
    const b: number[] = [];
    q.schedule(member(q, a, 3));
    vi.advanceTimersByTime(70);
    q.schedule(member(q, b, 3));
    vi.advanceTimersByTime(2000);
    expect(a).toEqual([200, 400, 600]);
    expect(b).toEqual([270, 470, 670]);
    expect(q.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('holds one timer for any number of members', () => {
    const q = new IntervalQueue(1000, () => Date.now());
    const log: number[] = [];
    for (let i = 0; i < 5000; i++) {
      q.schedule(member(q, log));
      vi.advanceTimersByTime(i % 7 === 0 ? 1 : 0);
    }
    expect(q.size).toBe(5000);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(1000);
    // Each was due once at its own time (scheduled 0-714 ms in, due 1000-1714 ms).
    expect(log.length).toBeGreaterThan(0);
    vi.advanceTimersByTime(1000);
    expect(log.length).toBe(5000 + log.filter((t) => t >= 2000).length);
    expect(vi.getTimerCount()).toBe(1);
  });

  it('a cancelled member is never due; cancelling the last one stops the timer', () => {
    const q = new IntervalQueue(100, () => Date.now());
    const a: number[] = [];
    const b: number[] = [];
    const ma = member(q, a);
    const mb = member(q, b);
    q.schedule(ma);
    q.schedule(mb);
    q.cancel(ma);
    q.cancel(ma); // twice is harmless
    vi.advanceTimersByTime(250);
    expect(a).toEqual([]);
    expect(b).toEqual([100, 200]);
    q.cancel(mb);
    expect(q.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('scheduling a queued member again moves it to the back, due an interval from now', () => {
    const q = new IntervalQueue(100, () => Date.now());
    const a: number[] = [];
    const b: number[] = [];
    const ma = member(q, a, 1);
    q.schedule(ma);
    q.schedule(member(q, b, 1));
    vi.advanceTimersByTime(50);
    q.schedule(ma);
    vi.advanceTimersByTime(200);
    expect(b).toEqual([100]);
    expect(a).toEqual([150]);
  });

  it('refuses an interval that is not positive', () => {
    expect(() => new IntervalQueue(0)).toThrow(RangeError);
  });
});
