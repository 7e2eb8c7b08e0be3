import { describe, expect, it } from 'vitest';
import { DuplicateDamper } from '../../../src/main/gateway/duplicate-damper';

const T = { duplicateWindowMs: 30_000, duplicateHoldOffMs: 1000, duplicateHoldOffMaxMs: 8000 };

describe('DuplicateDamper', () => {
  it('never challenges a newcomer whose incumbent is a first login', () => {
    const d = new DuplicateDamper(T);
    expect(d.contested('a', null, 0)).toBe(false);
  });

  it('challenges a newcomer whose incumbent replaced another within the window', () => {
    const d = new DuplicateDamper(T);
    expect(d.contested('a', 1000, 1000 + 29_999)).toBe(true);
    expect(d.contested('a', 1000, 1000 + 30_000)).toBe(false);
  });

  it('doubles the hold-off per refusal up to the cap, and forgets a quiet fight', () => {
    const d = new DuplicateDamper(T);
    const offs = [0, 1, 2, 3, 4, 5].map((i) => d.refuse('a', i * 100));
    expect(offs).toEqual([1000, 2000, 4000, 8000, 8000, 8000]);
    // While the fight is on record, even an old replacement is challenged.
    expect(d.contested('a', -100_000, 500 + 16_000)).toBe(true);
    // Quiet for more than twice the cap: forgotten.
    expect(d.contested('a', -100_000, 500 + 16_001)).toBe(false);
    expect(d.refuse('a', 500 + 16_002)).toBe(1000);
    expect(d.refuse('b', 0)).toBe(1000); // per device
  });
});
