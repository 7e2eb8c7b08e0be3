/**
 * Counters for frames we dropped (PROTOCOL.md 2: "count it, log it, drop it"), with log lines
 * rate-limited so a device spamming junk cannot flood the log; plus the sessions the gateway
 * ended or refused on its own (rate limit, missed pongs, duplicate devices).
 */
export interface DropLogger {
  warn(obj: object, msg: string): void;
}

export class FrameStats {
  framesIn = 0;
  framesOut = 0;
  readonly dropped = new Map<string, number>();
  /** Replies to our calls delivered although their device was over its rate limit. */
  limitedReplies = 0;
  /** Sessions ended or refused by the hub, by reason. */
  readonly disconnects = new Map<string, number>();
  private logged = 0;
  private windowStart = Date.now();

  constructor(
    private readonly log: DropLogger,
    private readonly maxLogsPerMinute = 60,
  ) {}

  /** Counts a drop without a log line (the rate limiter logs once per streak instead). */
  count(reason: string): void {
    this.dropped.set(reason, (this.dropped.get(reason) ?? 0) + 1);
  }

  disconnect(reason: string): void {
    this.disconnects.set(reason, (this.disconnects.get(reason) ?? 0) + 1);
  }

  drop(deviceId: string, reason: string, detail: string): void {
    this.count(reason);
    const now = Date.now();
    if (now - this.windowStart > 60_000) {
      this.windowStart = now;
      this.logged = 0;
    }
    if (this.logged++ < this.maxLogsPerMinute) {
      this.log.warn(
        { device: deviceId, reason, detail: detail.slice(0, 200) },
        'dropped device frame',
      );
    }
  }

  droppedTotal(): number {
    let n = 0;
    for (const v of this.dropped.values()) n += v;
    return n;
  }

  snapshot(): {
    framesIn: number;
    framesOut: number;
    dropped: Record<string, number>;
    limitedReplies: number;
    disconnects: Record<string, number>;
  } {
    return {
      framesIn: this.framesIn,
      framesOut: this.framesOut,
      dropped: Object.fromEntries(this.dropped),
      limitedReplies: this.limitedReplies,
      disconnects: Object.fromEntries(this.disconnects),
    };
  }
}
