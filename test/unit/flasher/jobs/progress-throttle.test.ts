import { describe, expect, it } from 'vitest';
import { ProgressThrottle } from '../../../../src/main/flasher/jobs/progress-throttle';

describe('ProgressThrottle', () => {
  it('lets at most one update per interval per job through, plus the first and the last', () => {
    const t = new ProgressThrottle(100);
    const passed: number[] = [];
    for (let ms = 0; ms <= 1000; ms += 10) {
      if (t.take('j1', ms, ms, 1000)) passed.push(ms);
    }
    // 0, 100, ..., 900 by the interval and 1000 as the final update: 11 in one second.
    expect(passed).toEqual([0, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000]);
  });

  it('always passes the final update even inside the interval', () => {
    const t = new ProgressThrottle(100);
    expect(t.take('j', 0, 10, 100)).toBe(true);
    expect(t.take('j', 5, 50, 100)).toBe(false);
    expect(t.take('j', 6, 100, 100)).toBe(true);
  });

  it('keeps jobs apart and forgets finished ones', () => {
    const t = new ProgressThrottle(100);
    expect(t.take('a', 0, 1, 10)).toBe(true);
    expect(t.take('b', 1, 1, 10)).toBe(true);
    expect(t.take('a', 2, 2, 10)).toBe(false);
    expect(t.size).toBe(2);
    t.forget('a');
    expect(t.size).toBe(1);
    expect(t.take('a', 3, 3, 10)).toBe(true);
  });
});
