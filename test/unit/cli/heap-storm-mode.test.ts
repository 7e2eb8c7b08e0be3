import { describe, expect, it } from 'vitest';
import {
  HEAP_STORM_DEFAULTS,
  HeapStormMode,
  STORM_HEAP_GROWING_PERCENT,
  fullCollector,
  startHeapStormMode,
  v8HeapEffects,
  type HeapAction,
  type HeapStormOptions,
} from '../../../src/main/cli/heap-storm-mode';

const OPTS: HeapStormOptions = {
  tickMs: 10,
  stormLogins: 100,
  calmLogins: 10,
  calmTicks: 2,
  collections: 3,
  collectEveryTicks: 4,
};

/** Feeds the core one tick per entry of `arrivals` (logins that tick, steps queued). */
function run(mode: HeapStormMode, arrivals: [number, number][], start = 0): HeapAction[][] {
  let logins = start;
  return arrivals.map(([arrived, stepsQueued]) => {
    logins += arrived;
    return mode.tick({ logins, stepsQueued });
  });
}

const calmTicks = (n: number): [number, number][] => Array.from({ length: n }, () => [0, 0]);

describe('heap storm mode (issue 11: V8 grows freely in a login storm, tight at rest)', () => {
  it('defaults: a tick of 0.1 s, 200 logins/s are a storm, calm is 1 s, 3 collections 2 s apart', () => {
    expect(HEAP_STORM_DEFAULTS).toEqual({
      tickMs: 100,
      stormLogins: 20,
      calmLogins: 2,
      calmTicks: 10,
      collections: 3,
      collectEveryTicks: 20,
    });
    expect(STORM_HEAP_GROWING_PERCENT).toBe(200);
  });

  it('does nothing for logins below the storm threshold, however long they go on', () => {
    const mode = new HeapStormMode(OPTS);
    // The first tick only learns the count: a hub started with many devices already in is no storm.
    expect(mode.tick({ logins: 5000, stepsQueued: 0 })).toEqual([]);
    expect(
      run(
        mode,
        Array.from({ length: 50 }, () => [99, 500]),
        5000,
      ).flat(),
    ).toEqual([]);
    expect(mode.storm).toBe(false);
  });

  it('grows freely from the first storm tick until logins calm and no steps wait, then collects three times', () => {
    const mode = new HeapStormMode(OPTS);
    const out = run(mode, [
      [0, 0],
      [100, 80], // storm
      [400, 900],
      [5, 700], // few logins, but steps still wait: not calm
      [0, 0], // calm 1
      [50, 0], // logins again: the count starts over
      [9, 0], // calm 1
      [0, 0], // calm 2: the storm is over
      ...calmTicks(12),
    ]);
    expect(out[1]).toEqual(['grow-freely']);
    expect(out.slice(2, 7).flat()).toEqual([]);
    expect(out[7]).toEqual(['grow-tightly', 'collect']);
    // Then every 4th tick, two more; then nothing.
    const later = out.slice(8).map((a) => a.join(','));
    expect(later).toEqual(['', '', '', 'collect', '', '', '', 'collect', '', '', '', '']);
    expect(mode.storm).toBe(false);
  });

  it('a new storm cancels the collections left; the next calm starts them over', () => {
    const mode = new HeapStormMode(OPTS);
    const out = run(mode, [[0, 0], [200, 0], ...calmTicks(2), [0, 0], [300, 0], ...calmTicks(10)]);
    expect(out[3]).toEqual(['grow-tightly', 'collect']);
    expect(out[5]).toEqual(['grow-freely']);
    const after = out.slice(6).flat();
    expect(after).toEqual(['grow-tightly', 'collect', 'collect', 'collect']);
  });

  it('runs on a timer with the given effects, and its stop puts the tight factor back', async () => {
    const set: number[] = [];
    let collected = 0;
    let logins = 0;
    const stop = startHeapStormMode(
      () => ({ logins, stepsQueued: 0 }),
      20,
      200,
      { setGrowingPercent: (p) => set.push(p), collect: () => collected++ },
      OPTS,
    );
    await waitUntil(() => set.length === 0, 30);
    logins += 500;
    await waitUntil(() => set.length === 1);
    expect(set).toEqual([200]);
    // Calm: the tight factor and the collections.
    await waitUntil(() => collected === 3);
    expect(set).toEqual([200, 20]);
    // A storm cut short by the hub stopping: its stop restores the tight factor.
    logins += 500;
    await waitUntil(() => set.length === 3);
    stop();
    expect(set).toEqual([200, 20, 200, 20]);
    // Stopped: no more ticks.
    logins += 500;
    await new Promise((r) => setTimeout(r, 50));
    expect(set).toEqual([200, 20, 200, 20]);
  });

  it("collects the whole heap, old objects too (V8 11's gc(true) would only sweep the young)", async () => {
    const collect = fullCollector();
    let strong: { payload: number[] } | null = {
      payload: Array.from({ length: 1000 }, (_, i) => i),
    };
    const ref = new WeakRef(strong);
    // A WeakRef's target lives at least to the end of the job that made it.
    await new Promise((r) => setImmediate(r));
    collect(); // survives, and is now in the old generation
    expect(ref.deref()).toBeDefined();
    strong = null;
    await new Promise((r) => setImmediate(r));
    collect();
    expect(ref.deref()).toBeUndefined();
  });
  it('a V8 without a collector only loses the collections: the serving hub goes on', () => {
    let asked = 0;
    const effects = v8HeapEffects(() => {
      asked++;
      throw new Error('V8 gave no gc function');
    });
    expect(() => effects.collect()).not.toThrow();
    expect(() => effects.collect()).not.toThrow();
    // Asked once, not at every collection.
    expect(asked).toBe(1);
  });
});

async function waitUntil(done: () => boolean, atLeastMs = 0): Promise<void> {
  const start = performance.now();
  while (!done() || performance.now() - start < atLeastMs) {
    if (performance.now() - start > 5000) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}
