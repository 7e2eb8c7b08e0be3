/**
 * Prepared statements by query text, least recently used evicted past `max`. Preparing costs
 * more than running a small INSERT; a fleet uses a handful of ACL queries (DEVICE_ID substituted
 * makes one text per device and query), so the cache keeps the ingest path at one `run` per row.
 */
export class StatementCache<S> {
  private readonly map = new Map<string, S>();

  constructor(
    private readonly max: number,
    private readonly prepare: (sql: string) => S,
  ) {}

  /** The statement for `sql`, prepared on first use; throws what `prepare` throws (bad SQL). */
  get(sql: string): S {
    const hit = this.map.get(sql);
    if (hit !== undefined) {
      // Re-insert: a Map iterates in insertion order, so the first key is the least recent.
      this.map.delete(sql);
      this.map.set(sql, hit);
      return hit;
    }
    const stmt = this.prepare(sql);
    if (this.max <= 0) return stmt;
    this.map.set(sql, stmt);
    if (this.map.size > this.max) {
      const oldest = this.map.keys().next().value;
      if (oldest !== undefined) this.map.delete(oldest);
    }
    return stmt;
  }

  get size(): number {
    return this.map.size;
  }

  clear(): void {
    this.map.clear();
  }
}
