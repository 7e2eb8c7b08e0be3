/**
 * Per-device rows quota of the account database (PROTOCOL.md 5, `data.maxRowsPerDevice`): the
 * rows of table `data` whose `device_id` is the device's. Counting them at every insert would
 * cost an index scan per row, so each device has an in-memory count: seeded exactly (an index
 * count) at its first write after the hub started, raised by every row its writes add, and counted
 * exactly again only near the limit (at most once a second per device), because SQL clients may
 * delete or add rows behind the hub's back. Every method runs inside the write's transaction, so
 * an exact count sees the batch's own rows.
 */
import { HubError } from '../../shared/errors';
import type { Db } from '../store/database';

/** Near the limit = past this share of it: from there on the count is re-checked exactly. */
const NEAR = 0.9;
const RECHECK_MS = 1000;

interface Count {
  n: number;
  checkedAt: number;
}

export class RowQuota {
  private readonly counts = new Map<string, Count>();
  private readonly countStmt;

  constructor(
    db: Db,
    /** 0 = no quota. */
    private readonly max: number,
    private readonly now: () => number = Date.now,
  ) {
    this.countStmt = db
      .prepare<[string], number>('SELECT count(*) FROM data WHERE device_id = ?')
      .pluck();
  }

  /** Throws `data_rows_quota` when the device may not add a row now. */
  admit(deviceId: string): void {
    if (this.max <= 0) return;
    let c = this.counts.get(deviceId);
    const now = this.now();
    if (c === undefined) {
      c = { n: this.exact(deviceId), checkedAt: now };
      this.counts.set(deviceId, c);
    } else if (c.n >= this.max * NEAR && now - c.checkedAt >= RECHECK_MS) {
      c.n = this.exact(deviceId);
      c.checkedAt = now;
    }
    if (c.n >= this.max) {
      throw new HubError(
        'data_rows_quota',
        `device '${deviceId}' has ${c.n} rows in the account database, its quota is ${this.max}`,
      );
    }
  }

  /** Counts rows a write of the device added (an upper bound: `changes` of its statement). */
  added(deviceId: string, rows: number): void {
    const c = this.counts.get(deviceId);
    if (c !== undefined) c.n += rows;
  }

  /** Forgets every count (a batch was rolled back): the next write of each device counts again. */
  reset(): void {
    this.counts.clear();
  }

  private exact(deviceId: string): number {
    return this.countStmt.get(deviceId) ?? 0;
  }
}
