/**
 * Group commit: writes queued within a short window share one transaction, so thousands of
 * durable changes per second cost one fsync per batch instead of one each. A caller's promise
 * resolves only after the COMMIT that holds its write, which is what lets the hub acknowledge a
 * change (REST reply, device ack) only once it is on disk (issue 2, "Store").
 *
 * Each write runs in its own SAVEPOINT (better-sqlite3 nests transactions that way), so one failing
 * write rolls back alone and rejects alone; the rest of the batch still commits.
 */
import type { Db } from './database';

interface Job {
  fn: () => unknown;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

export interface GroupCommitStats {
  batches: number;
  writes: number;
}

export class GroupCommitter {
  private queue: Job[] = [];
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  readonly stats: GroupCommitStats = { batches: 0, writes: 0 };

  constructor(
    private readonly db: Db,
    private readonly windowMs: number,
    /** A batch this large commits at once instead of waiting out the window. */
    private readonly maxBatch = 5000,
  ) {}

  write<T>(fn: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new Error('store is closed'));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      if (this.queue.length >= this.maxBatch) this.flush();
      else this.schedule();
    });
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => this.flush(), this.windowMs);
  }

  /** Commits everything queued now. Safe to call at any time. */
  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const jobs = this.queue;
    if (jobs.length === 0) return;
    this.queue = [];
    const outcomes: { ok: boolean; value: unknown }[] = [];
    try {
      this.db.transaction(() => {
        for (const job of jobs) {
          try {
            outcomes.push({ ok: true, value: this.db.transaction(job.fn)() });
          } catch (err) {
            outcomes.push({ ok: false, value: err });
          }
        }
      })();
    } catch (err) {
      for (const job of jobs) job.reject(err);
      return;
    }
    this.stats.batches++;
    this.stats.writes += jobs.length;
    jobs.forEach((job, i) => {
      const o = outcomes[i];
      if (o?.ok) job.resolve(o.value);
      else job.reject(o?.value);
    });
  }

  close(): void {
    this.flush();
    this.closed = true;
  }
}
