/**
 * Tells the in-memory copies of the registry (API keys, device rows; issue 11) that another
 * connection committed to the database: `fleetbench keys delete` or `devices remove` on a running
 * hub's data dir. `PRAGMA data_version` changes exactly then (https://sqlite.org/pragma.html#pragma_data_version),
 * but it opens a read transaction (file locks): about 1 us and two syscalls. Asked once per turn of
 * the event loop, that was still once per REST RPC under load (a turn carries one or two calls),
 * 1.1 us of the hub's 65 us a call at 2,000 devices (bench/RESULTS.md). So it is asked at most once
 * every `OUTSIDE_CHECK_MS`: another process's change is seen by every request that starts that
 * long after its commit. A caller that finds nothing (an unknown key or device, which the other
 * process may have just created) asks again at once with `current(true)`.
 */
import type { Db } from './database';

/** Longest an outside commit goes unseen by requests that find what they look for. */
export const OUTSIDE_CHECK_MS = 10;

export class OutsideWrites {
  private readonly stmt;
  private version = 0;
  private checkedAt = Number.NEGATIVE_INFINITY;

  constructor(
    db: Db,
    private readonly maxAgeMs = OUTSIDE_CHECK_MS,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.stmt = db.prepare<[], number>('PRAGMA data_version').pluck();
  }

  /**
   * A number that changes when another connection committed, read from SQLite when the last read
   * is `maxAgeMs` old, or now when `force` is true.
   */
  current(force = false): number {
    const t = this.now();
    if (force || t - this.checkedAt >= this.maxAgeMs) {
      this.version = this.stmt.get() ?? 0;
      this.checkedAt = t;
    }
    return this.version;
  }
}
