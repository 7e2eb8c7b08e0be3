import { afterEach, describe, expect, it } from 'vitest';
import { SimTicker, type Tickable } from '../../../src/main/sim/sim-ticker';

class Counter implements Tickable {
  readonly ticks: [number, number][] = [];
  constructor(private readonly ticker: { t: number }) {}
  onTick(kind: number): void {
    this.ticks.push([this.ticker.t, kind]);
  }
}

describe('SimTicker', () => {
  let ticker: SimTicker | null = null;
  afterEach(() => ticker?.stop());

  it('fires each entry at its period, across several wheel rounds', () => {
    ticker = new SimTicker({ resolutionMs: 10, slots: 8 });
    const clock = { t: 0 };
    const a = new Counter(clock);
    const b = new Counter(clock);
    ticker.every(30, a, 1); // every 3 ticks
    ticker.every(100, b, 2); // every 10 ticks: longer than the 8-slot wheel
    for (clock.t = 1; clock.t <= 40; clock.t++) ticker.advance();
    expect(a.ticks.map(([t]) => t)).toEqual([3, 6, 9, 12, 15, 18, 21, 24, 27, 30, 33, 36, 39]);
    expect(b.ticks).toEqual([
      [10, 2],
      [20, 2],
      [30, 2],
      [40, 2],
    ]);
  });

  it('honours the first delay (phase) and cancellation, and runs a timer only when needed', () => {
    ticker = new SimTicker({ resolutionMs: 10 });
    expect(ticker.running).toBe(false);
    const clock = { t: 0 };
    const a = new Counter(clock);
    const h = ticker.every(50, a, 0, 20);
    expect(ticker.running).toBe(true);
    for (clock.t = 1; clock.t <= 12; clock.t++) ticker.advance();
    expect(a.ticks.map(([t]) => t)).toEqual([2, 7, 12]);
    ticker.cancel(h);
    expect(ticker.size).toBe(0);
    expect(ticker.running).toBe(false);
    for (clock.t = 13; clock.t <= 30; clock.t++) ticker.advance();
    expect(a.ticks).toHaveLength(3);
  });

  it('serves many targets from one interval in real time', async () => {
    ticker = new SimTicker({ resolutionMs: 5 });
    const clock = { t: 0 };
    const targets = Array.from({ length: 1000 }, () => new Counter(clock));
    for (const t of targets) ticker.every(20, t, 0);
    await new Promise((r) => setTimeout(r, 120));
    expect(ticker.size).toBe(1000);
    expect(targets.every((t) => t.ticks.length >= 2)).toBe(true);
  });
});
