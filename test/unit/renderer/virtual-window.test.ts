import { describe, expect, it } from 'vitest';
import {
  nextIndex,
  scrollTopToReveal,
  virtualWindow,
} from '../../../src/renderer/lib/virtual-window';

describe('virtualWindow', () => {
  it('renders only the rows in view plus overscan, whatever the list size', () => {
    const w = virtualWindow(0, 400, 40, 10_000, 5);
    expect(w.start).toBe(0);
    expect(w.end).toBe(16); // 10 visible + 1 partial + 5 overscan
    expect(w.totalHeight).toBe(400_000);
    const mid = virtualWindow(200_000, 400, 40, 10_000, 5);
    expect(mid.start).toBe(4995);
    expect(mid.end).toBe(5016);
    expect(mid.offsetTop).toBe(4995 * 40);
    expect(mid.end - mid.start).toBeLessThan(30);
  });

  it('clamps a scroll position past the end (list shrank under the viewport)', () => {
    const w = virtualWindow(1_000_000, 400, 40, 20, 2);
    expect(w.end).toBe(20);
    expect(w.start).toBe(8); // last 10 rows visible, minus overscan
  });

  it('handles empty lists, negative scroll and zero height', () => {
    expect(virtualWindow(0, 400, 40, 0)).toEqual({
      start: 0,
      end: 0,
      offsetTop: 0,
      totalHeight: 0,
    });
    expect(virtualWindow(-50, 400, 40, 3).start).toBe(0);
    const w = virtualWindow(0, 0, 40, 100, 0);
    expect(w.end - w.start).toBe(1);
  });
});

describe('scrollTopToReveal', () => {
  it('scrolls the least needed, or not at all', () => {
    expect(scrollTopToReveal(5, 0, 400, 40)).toBeNull();
    expect(scrollTopToReveal(10, 0, 400, 40)).toBe(40); // row 10 bottom = 440
    expect(scrollTopToReveal(2, 200, 400, 40)).toBe(80);
  });
});

describe('nextIndex', () => {
  it('moves with arrows, pages, Home and End and stays in range', () => {
    expect(nextIndex('ArrowDown', 0, 10, 5)).toBe(1);
    expect(nextIndex('ArrowDown', 9, 10, 5)).toBe(9);
    expect(nextIndex('ArrowUp', 0, 10, 5)).toBe(0);
    expect(nextIndex('PageDown', 2, 10, 5)).toBe(7);
    expect(nextIndex('PageUp', 2, 10, 5)).toBe(0);
    expect(nextIndex('Home', 7, 10, 5)).toBe(0);
    expect(nextIndex('End', 0, 10, 5)).toBe(9);
    expect(nextIndex('a', 0, 10, 5)).toBeNull();
    expect(nextIndex('ArrowDown', 0, 0, 5)).toBeNull();
  });
});
