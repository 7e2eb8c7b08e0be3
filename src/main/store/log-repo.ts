/**
 * Stored notifications for `POST /logs` (PROTOCOL.md 7), with retention by count and by age.
 * Appends are group-committed and never awaited by the publisher: the notification stream must
 * not wait on the disk. Rows appended while a commit window is open share ONE queued write (one
 * closure, one promise, one SAVEPOINT for up to `LOG_BATCH_ROWS` rows, the prepared insert reused):
 * an OTA transfer adds a row per 2 KB chunk, and a queued write per row cost as much as the insert.
 */
import type { Db } from './database';
import type { GroupCommitter } from './group-commit';
import type { Json, LogEntry, Notification } from '../../shared/types';

interface Row {
  seq: number;
  ts: number;
  name: string;
  device_id: string;
  data: string;
}

export interface LogQuery {
  /** Skip this many of the newest matching entries (0 = up to the newest). */
  start: number;
  limit: number;
  device?: string;
  name?: string;
}

/** Rows one queued write inserts at most; the next rows start another. */
export const LOG_BATCH_ROWS = 512;

interface LogBatch {
  rows: [number, string, string, string][];
  /** Set once the committer ran the write: later rows need a new one. */
  ran: boolean;
  done: Promise<void>;
}

export class LogRepo {
  private open: LogBatch | null = null;
  private readonly insertStmt;
  private readonly countStmt;
  private readonly maxSeqStmt;
  private readonly pruneAgeStmt;
  private readonly pruneCountStmt;

  constructor(
    private readonly db: Db,
    private readonly committer: GroupCommitter,
  ) {
    this.insertStmt = db.prepare<[number, string, string, string]>(
      'INSERT INTO notifications (ts, name, device_id, data) VALUES (?, ?, ?, ?)',
    );
    this.countStmt = db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM notifications');
    this.maxSeqStmt = db.prepare<[], { m: number | null }>(
      'SELECT MAX(seq) AS m FROM notifications',
    );
    this.pruneAgeStmt = db.prepare<[number]>('DELETE FROM notifications WHERE ts < ?');
    this.pruneCountStmt = db.prepare<[number]>('DELETE FROM notifications WHERE seq <= ?');
  }

  /** `dataJson`: the data's JSON text when the caller has it already (notification-bus.ts). */
  append(n: Notification, nowMs: number, dataJson?: string): Promise<void> {
    const row: LogBatch['rows'][number] = [
      nowMs,
      n.name,
      n.id,
      dataJson ?? JSON.stringify(n.data ?? null),
    ];
    const open = this.open;
    if (open && !open.ran && open.rows.length < LOG_BATCH_ROWS) {
      open.rows.push(row);
      return open.done;
    }
    const batch: LogBatch = { rows: [row], ran: false, done: Promise.resolve() };
    // The committer may run the write before `write` returns (a full queue flushes at once):
    // `ran` tells the next append to start another batch.
    batch.done = this.committer.write(() => {
      batch.ran = true;
      for (const r of batch.rows) this.insertStmt.run(...r);
      // The committer keeps this write until its WAL flush is done; the rows need not wait with it.
      batch.rows = [];
    });
    this.open = batch;
    return batch.done;
  }

  /** Newest last: the `limit` entries just before the `start` newest ones that match. */
  query(q: LogQuery): LogEntry[] {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (q.device !== undefined) {
      where.push('device_id = ?');
      params.push(q.device);
    }
    if (q.name !== undefined) {
      // A trailing '*' selects a family of names, e.g. 'rpc.out.*'.
      if (q.name.endsWith('*')) {
        where.push("name LIKE ? ESCAPE '\\'");
        params.push(q.name.slice(0, -1).replace(/[\\%_]/g, (c) => '\\' + c) + '%');
      } else {
        where.push('name = ?');
        params.push(q.name);
      }
    }
    const sql =
      'SELECT seq, ts, name, device_id, data FROM notifications' +
      (where.length ? ' WHERE ' + where.join(' AND ') : '') +
      ' ORDER BY seq DESC LIMIT ? OFFSET ?';
    const rows = this.db.prepare<(string | number)[], Row>(sql).all(...params, q.limit, q.start);
    return rows.reverse().map((r) => ({
      seq: r.seq,
      timestamp: r.ts,
      name: r.name,
      id: r.device_id,
      data: JSON.parse(r.data) as Json,
    }));
  }

  count(): number {
    return this.countStmt.get()?.n ?? 0;
  }

  /** Applies retention; returns how many entries were removed. */
  prune(nowMs: number, maxAgeMs: number, maxEntries: number): number {
    let removed = this.pruneAgeStmt.run(nowMs - maxAgeMs).changes;
    const max = this.maxSeqStmt.get()?.m ?? 0;
    if (max > maxEntries) removed += this.pruneCountStmt.run(max - maxEntries).changes;
    return removed;
  }
}
