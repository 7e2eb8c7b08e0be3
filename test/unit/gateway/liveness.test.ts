import { describe, expect, it } from 'vitest';
import { MissedPongs } from '../../../src/main/gateway/liveness';

describe('MissedPongs (PROTOCOL.md 1: drop after 3 missed pongs)', () => {
  it('a silent peer gets exactly maxMissed pings, then is dropped', () => {
    for (const max of [1, 2, 3, 5]) {
      const m = new MissedPongs(max);
      const steps: string[] = [];
      for (let i = 0; i <= max; i++) steps.push(m.due());
      expect(steps).toEqual([...Array<string>(max).fill('ping'), 'drop']);
    }
  });

  it('any sign of life between two pings resets the count', () => {
    const m = new MissedPongs(3);
    expect(m.due()).toBe('ping');
    expect(m.due()).toBe('ping'); // 1 missed
    expect(m.due()).toBe('ping'); // 2 missed
    m.heard();
    expect(m.due()).toBe('ping');
    expect(m.missed).toBe(0);
    expect(m.due()).toBe('ping');
    expect(m.due()).toBe('ping');
    expect(m.due()).toBe('drop');
    expect(m.missed).toBe(3);
  });

  it('a peer that always answers is never dropped', () => {
    const m = new MissedPongs(3);
    for (let i = 0; i < 100; i++) {
      expect(m.due()).toBe('ping');
      m.heard();
    }
  });
});
