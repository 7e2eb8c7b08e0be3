/**
 * Runs the session steps (session-steps.ts) of a bounded number of devices at once, in login
 * order, and of fewer while logins are arriving.
 *
 * Why: a device is reachable (REST RPC, the dashboard's `online`) from its login on; its steps (a
 * durable shadow write, a Sys.GetInfo round trip, a shadow write of the reply, the spool drain)
 * are follow-ups. In a connect storm the hub is CPU-bound on its one event loop, and with every
 * session's steps started at once the last of 10,000 devices was admitted only when nearly all
 * steps had run too (issue 11, bench/RESULTS.md). So while logins arrive (one came within
 * `quietMs`) only `whileLoggingIn` devices run their steps, which keeps them moving without
 * starving them, and otherwise `running`: starting every waiting one the moment logins paused
 * flooded the loop and held up the next logins again.
 *
 * A step can also just wait for its device: a firmware that never answers `Sys.GetInfo` or
 * `FS.Rename` holds it for the 30 s call timeout. So a step keeps its place in the count for at
 * most `slotMs`; after that it goes on uncounted and the next device starts, and a fleet of such
 * devices is not queued behind their timeouts. A queued or running entry is one closure and one
 * small record.
 */
export interface StepQueueOptions {
  /** Devices counted as running their steps at once when no login is arriving. */
  running: number;
  /** ... while logins arrive. */
  whileLoggingIn: number;
  /** Logins count as arriving until this long after the last one. */
  quietMs: number;
  /** A step counts against the limit for at most this long. */
  slotMs: number;
  now?: () => number;
}

interface Started {
  at: number;
  /** Whether it still counts against the limit: not done, and within its slot. */
  counted: boolean;
}

export class StepQueue {
  /** Started steps, oldest first, until they are done or past their slot. */
  private started: Started[] = [];
  /** Index of the oldest entry of `started` still held: slicing the array at each end copied it. */
  private startedHead = 0;
  private counted = 0;
  private unfinished = 0;
  private waiting: (() => Promise<void>)[] = [];
  /** Index of the next task in `waiting`: shifting a 10,000-entry array per start is O(n). */
  private head = 0;
  private lastLoginAt = -Infinity;
  private timer: NodeJS.Timeout | null = null;
  private readonly now: () => number;

  constructor(private readonly opts: StepQueueOptions) {
    for (const key of ['running', 'whileLoggingIn'] as const) {
      const v = opts[key];
      if (!Number.isInteger(v) || v < 1) {
        throw new RangeError(`${key} must be a positive integer, got ${v}`);
      }
    }
    this.now = opts.now ?? (() => performance.now());
  }

  /** Tasks started and not yet finished (counted or not). */
  get active(): number {
    return this.unfinished;
  }

  /** Tasks waiting for their turn. */
  get queued(): number {
    return this.waiting.length - this.head;
  }

  /** A device logged in: for `quietMs`, steps yield to logins. */
  noteLogin(): void {
    this.lastLoginAt = this.now();
  }

  /** Runs `task` when its turn comes (now, if there is room). A rejection is ignored. */
  push(task: () => Promise<void>): void {
    this.waiting.push(task);
    this.pump();
  }

  /** Stops the timer (the hub is closing); queued tasks still start as running ones end. */
  close(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Starts waiting tasks while there is room; when there is none, looks again when there may be. */
  private pump(): void {
    const now = this.now();
    this.expire(now);
    const busy = now - this.lastLoginAt < this.opts.quietMs;
    const limit = busy ? this.opts.whileLoggingIn : this.opts.running;
    while (this.counted < limit && this.queued > 0) this.start(this.take(), now);
    if (this.queued === 0 || this.timer !== null) return;
    // Room comes when logins pause, or when the oldest counted step has had its slot.
    const oldest = this.started[this.startedHead];
    const slotEnd = oldest === undefined ? now : oldest.at + this.opts.slotMs;
    const quietEnd = busy ? this.lastLoginAt + this.opts.quietMs : Infinity;
    const wait = Math.max(1, Math.min(slotEnd, quietEnd) - now);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.pump();
    }, wait);
    // Never what keeps a stopping hub's process alive.
    this.timer.unref();
  }

  /** Drops finished steps and steps past their slot from the front of the count. */
  private expire(now: number): void {
    let i = this.startedHead;
    for (; i < this.started.length; i++) {
      const s = this.started[i] as Started;
      if (s.counted && now - s.at < this.opts.slotMs) break;
      this.uncount(s);
    }
    if (i === this.started.length) {
      this.started = [];
      this.startedHead = 0;
    } else if (i >= 1024 && i * 2 >= this.started.length) {
      this.started = this.started.slice(i);
      this.startedHead = 0;
    } else this.startedHead = i;
  }

  private uncount(s: Started): void {
    if (!s.counted) return;
    s.counted = false;
    this.counted--;
  }

  private take(): () => Promise<void> {
    const t = this.waiting[this.head] as () => Promise<void>;
    this.waiting[this.head++] = undefined as unknown as () => Promise<void>;
    if (this.head === this.waiting.length) {
      this.waiting = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.waiting.length) {
      this.waiting = this.waiting.slice(this.head);
      this.head = 0;
    }
    return t;
  }

  private start(task: () => Promise<void>, now: number): void {
    const s: Started = { at: now, counted: true };
    this.started.push(s);
    this.counted++;
    this.unfinished++;
    const done = (): void => {
      this.unfinished--;
      this.uncount(s);
      this.pump();
    };
    let p: Promise<void>;
    try {
      p = task();
    } catch {
      p = Promise.resolve();
    }
    p.then(done, done);
  }
}
