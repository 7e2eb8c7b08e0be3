/**
 * Runs the session steps (session-steps.ts) of a bounded number of devices at once, in login
 * order, and fewer while logins are arriving.
 *
 * Why: a device is reachable (REST RPC, the dashboard's `online`) from its login on; its steps (a
 * durable shadow write, a Sys.GetInfo round trip, a shadow write of the reply, the spool drain)
 * are follow-ups. In a connect storm the hub is CPU-bound on its one event loop, and with every
 * session's steps started at once the last of 10,000 devices was admitted only when nearly all
 * steps had run too (issue 11, bench/RESULTS.md). So while logins arrive (one came within
 * `quietMs`) only `whileLoggingIn` devices run their steps, which keeps them moving without
 * starving them; once logins pause, up to `running` do, and the backlog is worked off at the pace
 * the hub commits it. A queued entry is one closure.
 */
export interface StepQueueOptions {
  /** Devices running their steps at once when no login is arriving. */
  running: number;
  /** ... while logins arrive. */
  whileLoggingIn: number;
  /** Logins count as arriving until this long after the last one. */
  quietMs: number;
  now?: () => number;
}

export class StepQueue {
  private running = 0;
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

  /** Tasks started and not yet finished. */
  get active(): number {
    return this.running;
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

  /** Stops the quiet timer (the hub is closing); tasks already queued still run as room comes. */
  close(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private limit(now: number): number {
    const busy = now - this.lastLoginAt < this.opts.quietMs;
    return busy ? this.opts.whileLoggingIn : this.opts.running;
  }

  /** Starts waiting tasks while there is room; if logins hold some back, looks again later. */
  private pump(): void {
    const now = this.now();
    const limit = this.limit(now);
    while (this.running < limit && this.queued > 0) this.start(this.take());
    if (this.queued > 0 && this.running < this.opts.running && this.timer === null) {
      const wait = Math.max(1, this.lastLoginAt + this.opts.quietMs - now);
      this.timer = setTimeout(() => {
        this.timer = null;
        this.pump();
      }, wait);
    }
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

  private start(task: () => Promise<void>): void {
    this.running++;
    const done = (): void => {
      this.running--;
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
