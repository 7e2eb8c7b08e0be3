/**
 * Tells the in-memory copies of the registry (API keys, device rows; issue 11) that another
 * connection committed to the database: `fleetbench keys delete` or `devices remove` on a running
 * hub's data dir. `PRAGMA data_version` changes exactly then (https://sqlite.org/pragma.html#pragma_data_version),
 * but it opens a read transaction (file locks: ~10 us, 8% of the hub's CPU when asked per request).
 * So it is asked once per turn of the event loop: every request that starts in a later turn than
 * the other connection's commit sees it, which is as immediate as a request racing a commit can be.
 */
import type { Db } from './database';

export class OutsideWrites {
  private readonly stmt;
  private version = 0;
  private fresh = false;

  constructor(db: Db) {
    this.stmt = db.prepare<[], number>('PRAGMA data_version').pluck();
  }

  /** A number that changes when another connection committed; the same within one loop turn. */
  current(): number {
    if (!this.fresh) {
      this.version = this.stmt.get() ?? 0;
      this.fresh = true;
      // Cleared after this turn's I/O callbacks: the next turn asks SQLite again.
      setImmediate(() => (this.fresh = false));
    }
    return this.version;
  }
}
