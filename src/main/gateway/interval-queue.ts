/**
 * One clock for every session's liveness ping (issue 11: memory per device). Each session still
 * runs on its own phase, due exactly one interval after it was last scheduled (PROTOCOL.md 1: a
 * peer that misses `maxMissedPongs` pongs is dropped exactly then, whatever its connect time), but
 * the queue holds one timer in all instead of a Timeout and a closure per session.
 *
 * All members share one interval, so a member scheduled later is never due earlier: the queue is a
 * FIFO whose head is the next due, scheduling appends, and cancelling unlinks in O(1). The links
 * live on the members themselves, so a member costs three fields and no allocation.
 */
export interface IntervalMember {
  /** When the member is next due (the queue's clock); meaningful while queued. */
  dueAt: number;
  prevDue: IntervalMember | null;
  nextDue: IntervalMember | null;
  /** Called once when due; the member is no longer queued and may schedule itself again. */
  onDue(): void;
}

export class IntervalQueue {
  private head: IntervalMember | null = null;
  private tail: IntervalMember | null = null;
  private timer: NodeJS.Timeout | undefined;
  private firing = false;
  /** Members queued now. */
  size = 0;

  constructor(
    readonly intervalMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(intervalMs > 0)) throw new RangeError(`interval must be positive, got ${intervalMs}`);
  }

  /** Queues `m` to be due one interval from now (moving it to the back if it was queued). */
  schedule(m: IntervalMember): void {
    if (this.has(m)) this.unlink(m);
    m.dueAt = this.now() + this.intervalMs;
    m.prevDue = this.tail;
    m.nextDue = null;
    if (this.tail) this.tail.nextDue = m;
    else this.head = m;
    this.tail = m;
    this.size++;
    if (this.timer === undefined && !this.firing) this.arm();
  }

  /** Takes `m` out of the queue (a closed session); nothing if it is not queued. */
  cancel(m: IntervalMember): void {
    if (this.has(m)) this.unlink(m);
    if (this.head === null && this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  has(m: IntervalMember): boolean {
    return m.prevDue !== null || this.head === m;
  }

  private unlink(m: IntervalMember): void {
    if (m.prevDue) m.prevDue.nextDue = m.nextDue;
    else this.head = m.nextDue;
    if (m.nextDue) m.nextDue.prevDue = m.prevDue;
    else this.tail = m.prevDue;
    m.prevDue = null;
    m.nextDue = null;
    this.size--;
  }

  private arm(): void {
    if (this.head === null) return;
    const wait = Math.max(0, Math.ceil(this.head.dueAt - this.now()));
    this.timer = setTimeout(() => this.fire(), wait);
    // Sessions keep the process alive through their sockets, never through this clock.
    this.timer.unref();
  }

  private fire(): void {
    this.timer = undefined;
    // setTimeout counts whole milliseconds on a coarser clock: within 1 ms counts as due.
    const limit = this.now() + 1;
    this.firing = true;
    try {
      while (this.head !== null && this.head.dueAt <= limit) {
        const m = this.head;
        this.unlink(m);
        m.onDue(); // may schedule m again: it goes to the back, due a whole interval later
      }
    } finally {
      this.firing = false;
      if (this.timer === undefined) this.arm();
    }
  }
}
