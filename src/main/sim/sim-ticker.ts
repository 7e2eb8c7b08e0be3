/**
 * One timer for the periodic work of a whole simulated fleet (task: "share one timer wheel for
 * periodic work"): thousands of devices reporting every few seconds must not mean thousands of
 * setIntervals. A hashed timer wheel: entries sit in the bucket of the tick they are due; each
 * tick visits one bucket. The interval runs only while some entry is scheduled, so a fleet with
 * periodic features off has no timer at all.
 */

/** Implemented by whatever the ticker calls; `kind` says which periodic job is due. */
export interface Tickable {
  onTick(kind: number): void;
}

export interface TickHandle {
  readonly intervalTicks: number;
  cancelled: boolean;
}

interface Entry extends TickHandle {
  target: Tickable;
  kind: number;
  due: number;
}

export interface SimTickerOptions {
  /** Tick length; periods are rounded to whole ticks. Default 100 ms. */
  resolutionMs?: number;
  /** Buckets in the wheel; entries further out wait extra rounds. Default 1024. */
  slots?: number;
}

export class SimTicker {
  readonly resolutionMs: number;
  private readonly buckets: Entry[][];
  private tick = 0;
  private live = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(opts: SimTickerOptions = {}) {
    this.resolutionMs = opts.resolutionMs ?? 100;
    const slots = opts.slots ?? 1024;
    this.buckets = Array.from({ length: slots }, () => []);
  }

  /** Entries currently scheduled. */
  get size(): number {
    return this.live;
  }

  /** True while the shared interval runs. */
  get running(): boolean {
    return this.timer !== null;
  }

  /**
   * Calls `target.onTick(kind)` every `intervalMs`, first after `firstDelayMs` (default one
   * period; fleets pass a random phase so devices do not all report in the same tick).
   */
  every(intervalMs: number, target: Tickable, kind: number, firstDelayMs = intervalMs): TickHandle {
    const intervalTicks = Math.max(1, Math.round(intervalMs / this.resolutionMs));
    const firstTicks = Math.max(1, Math.round(firstDelayMs / this.resolutionMs));
    const entry: Entry = {
      intervalTicks,
      cancelled: false,
      target,
      kind,
      due: this.tick + firstTicks,
    };
    this.place(entry);
    this.live++;
    if (this.timer === null) {
      this.timer = setInterval(() => this.advance(), this.resolutionMs);
      // The sockets of the devices keep the process alive, not this bookkeeping timer.
      this.timer.unref();
    }
    return entry;
  }

  cancel(handle: TickHandle): void {
    if (handle.cancelled) return;
    handle.cancelled = true;
    this.live--;
    if (this.live === 0) this.stopTimer();
  }

  /** Cancels everything. */
  stop(): void {
    for (const bucket of this.buckets) {
      for (const e of bucket) e.cancelled = true;
      bucket.length = 0;
    }
    this.live = 0;
    this.stopTimer();
  }

  /** One tick; public so tests can drive the wheel without waiting. */
  advance(): void {
    this.tick++;
    const bucket = this.buckets[this.tick % this.buckets.length];
    if (bucket === undefined || bucket.length === 0) return;
    const again: Entry[] = [];
    let keep = 0;
    for (let i = 0; i < bucket.length; i++) {
      const e = bucket[i];
      if (e === undefined || e.cancelled) continue;
      if (e.due > this.tick) {
        bucket[keep++] = e; // due in a later round of the wheel
        continue;
      }
      e.due += e.intervalTicks;
      again.push(e);
    }
    bucket.length = keep;
    for (const e of again) {
      // A handler may cancel itself or others; check before and after the call.
      if (e.cancelled) continue;
      e.target.onTick(e.kind);
      if (!e.cancelled) this.place(e);
    }
  }

  private place(e: Entry): void {
    this.buckets[e.due % this.buckets.length]?.push(e);
  }

  private stopTimer(): void {
    if (this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }
}
