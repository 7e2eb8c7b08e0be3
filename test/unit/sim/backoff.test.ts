import { describe, expect, it } from 'vitest';
import { Backoff, DEFAULT_BACKOFF } from '../../../src/main/sim/backoff';
import { createPrng } from '../../../src/main/sim/prng';

describe('Backoff', () => {
  it('doubles from 1 s to 60 s like Mongoose OS and starts over after reset', () => {
    const b = new Backoff(DEFAULT_BACKOFF);
    const seq = Array.from({ length: 9 }, () => b.next());
    expect(seq).toEqual([1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]);
    b.reset();
    expect(b.next()).toBe(1000);
  });
  it('takes configurable bounds', () => {
    const b = new Backoff({ initialMs: 50, maxMs: 300 });
    expect(Array.from({ length: 5 }, () => b.next())).toEqual([50, 100, 200, 300, 300]);
  });
  it('jitter only shortens delays, within its fraction, repeatably', () => {
    const run = (): number[] => {
      const b = new Backoff({ initialMs: 1000, maxMs: 1000, jitter: 0.5 }, createPrng(1));
      return Array.from({ length: 50 }, () => b.next());
    };
    const a = run();
    expect(run()).toEqual(a);
    for (const v of a) {
      expect(v).toBeGreaterThanOrEqual(500);
      expect(v).toBeLessThanOrEqual(1000);
    }
    expect(new Set(a).size).toBeGreaterThan(10);
  });
  it('rejects nonsense bounds', () => {
    expect(() => new Backoff({ initialMs: 0, maxMs: 10 })).toThrow(RangeError);
    expect(() => new Backoff({ initialMs: 10, maxMs: 5 })).toThrow(RangeError);
  });
});
