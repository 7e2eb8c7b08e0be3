import { describe, expect, it } from 'vitest';
import { absoluteTime, relativeTime } from '../../../src/renderer/lib/relative-time';

describe('relativeTime', () => {
  const now = 1_700_000_000_000;
  const ago = (s: number): number => now / 1000 - s;
  it('says never for 0 and reads naturally at each scale', () => {
    expect(relativeTime(0, now)).toBe('never');
    expect(relativeTime(ago(2), now)).toBe('just now');
    expect(relativeTime(ago(42), now)).toBe('42 s ago');
    expect(relativeTime(ago(5 * 60), now)).toBe('5 min ago');
    expect(relativeTime(ago(3 * 3600), now)).toBe('3 h ago');
    expect(relativeTime(ago(4 * 86400), now)).toBe('4 d ago');
    expect(relativeTime(ago(800 * 86400), now)).toBe('2 y ago');
  });
  it('treats clocks slightly ahead as now', () => {
    expect(relativeTime(ago(-30), now)).toBe('just now');
  });
  it('has no absolute time for never', () => {
    expect(absoluteTime(0)).toBe('');
    expect(absoluteTime(1)).not.toBe('');
  });
});
