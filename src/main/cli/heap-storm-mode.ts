/**
 * How `fleetbench serve` tunes V8's heap around a login storm (issue 11).
 *
 * This mode was made for a tight heap at rest (the old generation growing by 20% between full
 * collections, which held memory near 15 KiB per connected device): in a storm of thousands of
 * logins that setting costs CPU, as the live heap grows from ~14 to ~90 MB and at 20% a full
 * marking (on V8's helper threads, which share the cores with the logins) runs at every step of
 * the way, 8 or more in a 10,000-device storm. The resting factor is now V8's own (heap-tuning.ts);
 * what the mode still does for it is the same: a fixed factor during the storm, and the
 * collections after it, without which V8's factor left 32 KiB per device at rest.
 *
 * So while logins arrive in a storm the old generation may triple between full collections; once
 * they have calmed and no device waits for its session steps, the resting factor comes back and a
 * few full collections, spaced apart, give the storm's garbage and emptied pages back. Measured in
 * interleaved 10,000-device storms (bench/RESULTS.md): about a tenth less hub CPU, sessions open a
 * little sooner, 0.6 KiB more per device at rest, and a main-thread pause of ~85 ms for each of
 * the 3 collections after a storm.
 *
 * The core below is pure: it is given the login count and the step queue once per tick and says
 * what to do. `startHeapStormMode` runs it on a timer with V8's flags and collector.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { HEAP_GROWING_FLAG } from './heap-tuning';

export interface LoginLoad {
  /** Logins admitted since start. */
  logins: number;
  /** Devices waiting for their session steps. */
  stepsQueued: number;
}

export interface HeapStormOptions {
  tickMs: number;
  /** A tick with at least this many logins starts a storm. */
  stormLogins: number;
  /** A tick with fewer logins than this, and no device waiting for its steps, is calm... */
  calmLogins: number;
  /** ...and this many calm ticks in a row end the storm. */
  calmTicks: number;
  /** Full collections after a storm: the first at once, the next `collectEveryTicks` apart. */
  collections: number;
  collectEveryTicks: number;
}

/**
 * Every 0.1 s: a storm is 20 logins in one tick (200/s), noticed within a tick so that the first
 * full collection of the storm already sets the loose limit; calm is under 2 a tick for 1 s.
 */
export const HEAP_STORM_DEFAULTS: HeapStormOptions = {
  tickMs: 100,
  stormLogins: 20,
  calmLogins: 2,
  calmTicks: 10,
  collections: 3,
  collectEveryTicks: 20,
};

/**
 * The growing factor during a storm, in percent: the old generation may triple between full
 * collections. V8's own factor (0) varies with its estimate of the collector's speed, from 1.1x to
 * 4x; a fixed one makes the storm's collections and peak memory the same from storm to storm.
 */
export const STORM_HEAP_GROWING_PERCENT = 200;

/** `grow-freely`: the storm's growing factor; `grow-tightly`: the resting one; `collect`: a full GC. */
export type HeapAction = 'grow-freely' | 'grow-tightly' | 'collect';

export class HeapStormMode {
  private inStorm = false;
  private lastLogins: number | null = null;
  private calm = 0;
  private collectionsLeft = 0;
  private ticksToCollection = 0;

  constructor(private readonly opts: HeapStormOptions = HEAP_STORM_DEFAULTS) {}

  get storm(): boolean {
    return this.inStorm;
  }

  /** One tick: what to do now, in order. */
  tick(load: LoginLoad): HeapAction[] {
    const arrived = this.lastLogins === null ? 0 : load.logins - this.lastLogins;
    this.lastLogins = load.logins;
    if (!this.inStorm) {
      if (arrived >= this.opts.stormLogins) {
        this.inStorm = true;
        this.calm = 0;
        // A new storm before the last one's collections are done: they wait for its end.
        this.collectionsLeft = 0;
        return ['grow-freely'];
      }
      return this.nextCollection();
    }
    const calm = arrived < this.opts.calmLogins && load.stepsQueued === 0;
    this.calm = calm ? this.calm + 1 : 0;
    if (this.calm < this.opts.calmTicks) return [];
    this.inStorm = false;
    this.collectionsLeft = this.opts.collections;
    this.ticksToCollection = 0;
    return ['grow-tightly', ...this.nextCollection()];
  }

  private nextCollection(): HeapAction[] {
    if (this.collectionsLeft === 0) return [];
    if (this.ticksToCollection > 0) {
      this.ticksToCollection--;
      return [];
    }
    this.collectionsLeft--;
    this.ticksToCollection = this.opts.collectEveryTicks - 1;
    return ['collect'];
  }
}

export interface HeapEffects {
  /** Sets V8's heap growing percent. */
  setGrowingPercent(percent: number): void;
  /** A full garbage collection of this thread's heap. */
  collect(): void;
}

/**
 * V8's collector without `--expose-gc` on the command line: the flag set now applies to contexts
 * made from now on, and a new context's `gc` collects the whole isolate.
 */
export function fullCollector(): () => void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as unknown;
  if (typeof gc !== 'function') throw new Error('V8 gave no gc function');
  // Called without arguments: V8 11's gc(true) or gc({...}) is only a minor (young) collection.
  return () => void (gc as () => void)();
}

/**
 * The effects on this process's V8. A V8 that gives no collector (null) only has its growing
 * factor changed: the collections are an extra, never a reason to stop a serving hub.
 */
export function v8HeapEffects(collector: () => () => void = fullCollector): HeapEffects {
  let collect: (() => void) | null | undefined;
  return {
    setGrowingPercent: (percent) => setFlagsFromString(`${HEAP_GROWING_FLAG}=${percent}`),
    collect: () => {
      if (collect === undefined) {
        try {
          collect = collector();
        } catch {
          collect = null;
        }
      }
      collect?.();
    },
  };
}

/**
 * Runs the storm mode for a serving hub whose resting factor is `percent`. Returns its stop, which
 * also puts the resting factor back if a storm was on.
 */
export function startHeapStormMode(
  load: () => LoginLoad,
  percent: number,
  stormPercent = STORM_HEAP_GROWING_PERCENT,
  effects: HeapEffects = v8HeapEffects(),
  opts: HeapStormOptions = HEAP_STORM_DEFAULTS,
): () => void {
  const mode = new HeapStormMode(opts);
  const timer = setInterval(() => {
    for (const action of mode.tick(load())) {
      if (action === 'grow-freely') effects.setGrowingPercent(stormPercent);
      else if (action === 'grow-tightly') effects.setGrowingPercent(percent);
      else effects.collect();
    }
  }, opts.tickMs);
  // Never what keeps a stopping hub's process alive.
  timer.unref();
  return () => {
    clearInterval(timer);
    if (mode.storm) effects.setGrowingPercent(percent);
  };
}
