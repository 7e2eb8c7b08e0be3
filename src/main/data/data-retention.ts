/**
 * Optional age-based retention of the `data` table (`data.retentionMaxAgeMs`, off by default):
 * every `retentionSweepIntervalMs` the rows whose `timestamp` is older than the age are deleted,
 * `retentionBatchRows` at a time, each batch its own group-commit write, so a big backlog never
 * holds the write lock long enough to delay device writes. Ages compare the `timestamp` text with
 * SQLite's own format (`YYYY-MM-DD HH:MM:SS`, UTC), the column's default.
 */
import type { AccountDb } from '../store/account-db';
import type { DataStats } from './data-stats';

export interface RetentionOptions {
  maxAgeMs: number;
  sweepIntervalMs: number;
  batchRows: number;
}

export class DataRetention {
  private timer: NodeJS.Timeout | null = null;
  private sweeping: Promise<number> | null = null;
  private stopped = false;
  private readonly deleteStmt;

  constructor(
    private readonly account: AccountDb,
    private readonly opts: RetentionOptions,
    private readonly stats: DataStats,
    private readonly onError: (err: unknown) => void,
  ) {
    this.deleteStmt = account.db.prepare<[string, number]>(
      'DELETE FROM data WHERE rowid IN (SELECT rowid FROM data WHERE timestamp < ? LIMIT ?)',
    );
  }

  start(): void {
    if (this.opts.maxAgeMs <= 0 || this.timer !== null) return;
    this.timer = setInterval(() => {
      if (this.sweeping === null) void this.sweep().catch(this.onError);
    }, this.opts.sweepIntervalMs);
    this.timer.unref();
  }

  /** Deletes every row older than the age, batch by batch; resolves with the rows deleted. */
  sweep(now = Date.now()): Promise<number> {
    const run = async (): Promise<number> => {
      const cutoff = sqliteTime(now - this.opts.maxAgeMs);
      let total = 0;
      for (;;) {
        if (this.stopped) return total;
        const n = await this.account.write(
          () => this.deleteStmt.run(cutoff, this.opts.batchRows).changes,
        );
        total += n;
        this.stats.retentionDeleted += n;
        if (n < this.opts.batchRows) return total;
      }
    };
    this.sweeping = run().finally(() => {
      this.sweeping = null;
    });
    return this.sweeping;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.sweeping?.catch(() => undefined);
  }
}

/** Unix ms as SQLite's CURRENT_TIMESTAMP text. */
export function sqliteTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}
