import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../../src/renderer/lib/backoff';

describe('backoffDelay', () => {
  const o = { baseMs: 500, maxMs: 8000 };
  it('doubles per attempt with jitter between half and the full step', () => {
    expect(backoffDelay(1, o, () => 0)).toBe(250);
    expect(backoffDelay(1, o, () => 0.999999)).toBe(500);
    expect(backoffDelay(3, o, () => 0)).toBe(1000);
    expect(backoffDelay(3, o, () => 0.5)).toBe(1500);
  });
  it('is capped and never zero', () => {
    expect(backoffDelay(30, o, () => 0.999999)).toBe(8000);
    expect(backoffDelay(0, o, () => 0)).toBeGreaterThan(0);
  });
});
